//! SSE throughput client: `connections` keep-alive connections each send streaming chat requests
//! back to back for `seconds`, counting `data:` events as they arrive. Prints one line:
//! `events=… streams=… seconds=… events_per_sec=… mbytes_per_sec=…`.
//!
//! `cargo run --release -p aoai-mock --example sse_rate -- --addr 127.0.0.1:PORT --deployment chat-stream`
// A benchmark client measures wall-clock time; it is no part of the simulated shells.
#![allow(clippy::disallowed_types)]

#[path = "support/sse_client.rs"]
mod sse_client;

use clap::Parser;
use sse_client::EventCounter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Listener address of the mock (or of the reference server).
    #[arg(long)]
    addr: SocketAddr,
    /// Deployment to stream from.
    #[arg(long, default_value = "chat-stream")]
    deployment: String,
    /// Concurrent streams (one connection each).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measurement length.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Worker threads of the client runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Totals {
    events: AtomicU64,
    bytes: AtomicU64,
    streams: AtomicU64,
}

async fn stream_loop(
    args: Arc<Args>,
    totals: Arc<Totals>,
    deadline: Instant,
) -> std::io::Result<()> {
    let mut sender = sse_client::connect(args.addr).await?;
    let path = sse_client::chat_path(&args.deployment);
    let body = sse_client::stream_body(4096);
    while Instant::now() < deadline {
        let response = sse_client::post(&mut sender, args.addr, &path, body.clone())
            .await
            .map_err(std::io::Error::other)?;
        if !response.status().is_success() {
            return Err(std::io::Error::other(format!(
                "status {}",
                response.status()
            )));
        }
        let mut incoming = response.into_body();
        let mut counter = EventCounter::default();
        while sse_client::read_frame(&mut incoming, &mut counter)
            .await
            .map_err(std::io::Error::other)?
        {
            if Instant::now() >= deadline {
                break;
            }
        }
        totals.events.fetch_add(counter.events, Ordering::Relaxed);
        totals.bytes.fetch_add(counter.bytes, Ordering::Relaxed);
        totals.streams.fetch_add(1, Ordering::Relaxed);
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args = Arc::new(Args::parse());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let totals = Arc::new(Totals::default());
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(args.seconds);
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| tokio::spawn(stream_loop(args.clone(), totals.clone(), deadline)))
            .collect();
        let mut failures = 0;
        for task in tasks {
            if let Ok(Err(error)) | Err(error) = task.await.map_err(std::io::Error::other) {
                failures += 1;
                eprintln!("stream failed: {error}");
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let events = totals.events.load(Ordering::Relaxed);
        let bytes = totals.bytes.load(Ordering::Relaxed);
        println!(
            "events={events} streams={} seconds={seconds:.2} events_per_sec={:.0} mbytes_per_sec={:.1} failed_connections={failures}",
            totals.streams.load(Ordering::Relaxed),
            events as f64 / seconds,
            bytes as f64 / seconds / 1e6
        );
        Ok(())
    })
}
