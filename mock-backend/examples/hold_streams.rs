//! Memory under many open streams: opens `streams` streaming chat requests (one connection
//! each, at most `connecting` handshakes at a time) against a slow deployment, waits until every
//! one has received its first SSE event, then reads the server's VmRSS / VmHWM from
//! `/proc/<pid>/status`, prints them and exits (closing every stream). Bounded by `timeout`.
//!
//! `cargo run --release -p aoai-mock --example hold_streams -- --addr 127.0.0.1:PORT --pid PID`
// A benchmark client measures wall-clock time; it is no part of the simulated shells.
#![allow(clippy::disallowed_types)]

#[path = "support/sse_client.rs"]
mod sse_client;

use clap::Parser;
use sse_client::EventCounter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

#[derive(Parser)]
struct Args {
    /// Listener address of the mock.
    #[arg(long)]
    addr: SocketAddr,
    /// Process id of the mock (its /proc/<pid>/status is read).
    #[arg(long)]
    pid: u32,
    /// Slow-streaming deployment.
    #[arg(long, default_value = "chat-slow")]
    deployment: String,
    /// Streams to hold open at once.
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    /// Connection handshakes in progress at a time (stays under the listen backlog).
    #[arg(long, default_value_t = 256)]
    connecting: usize,
    /// Give up (exit 1) if not every stream is open by then, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// `VmRSS` and `VmHWM` of `pid` in kB.
fn memory_kb(pid: u32) -> std::io::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no {name} in /proc/{pid}/status")))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Open one stream, report when its first event arrived, then keep reading until the end.
async fn hold(args: Arc<Args>, gate: Arc<Semaphore>, opened: mpsc::Sender<Result<(), String>>) {
    let first_event = async {
        let permit = gate.acquire().await.map_err(|e| e.to_string())?;
        let mut sender = sse_client::connect(args.addr)
            .await
            .map_err(|e| e.to_string())?;
        let path = sse_client::chat_path(&args.deployment);
        let response =
            sse_client::post(&mut sender, args.addr, &path, sse_client::stream_body(4096))
                .await
                .map_err(|e| e.to_string())?;
        drop(permit);
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let mut body = response.into_body();
        let mut counter = EventCounter::default();
        while counter.events == 0 {
            if !sse_client::read_frame(&mut body, &mut counter)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err("stream ended before its first event".to_string());
            }
        }
        Ok((sender, body, counter))
    };
    match first_event.await {
        Err(error) => {
            let _ = opened.send(Err(error)).await;
        }
        Ok((_sender, mut body, mut counter)) => {
            let _ = opened.send(Ok(())).await;
            while let Ok(true) = sse_client::read_frame(&mut body, &mut counter).await {}
        }
    }
}

fn main() -> std::io::Result<()> {
    let args = Arc::new(Args::parse());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (idle_rss, _) = memory_kb(args.pid)?;
        let gate = Arc::new(Semaphore::new(args.connecting));
        let (opened, mut reports) = mpsc::channel(1024);
        for _ in 0..args.streams {
            tokio::spawn(hold(args.clone(), gate.clone(), opened.clone()));
        }
        drop(opened);
        let started = tokio::time::Instant::now();
        let all_open = async {
            let (mut open, mut failed) = (0usize, 0usize);
            while let Some(report) = reports.recv().await {
                match report {
                    Ok(()) => open += 1,
                    Err(error) => {
                        if failed == 0 {
                            eprintln!("first failure: {error}");
                        }
                        failed += 1;
                    }
                }
                if open + failed == args.streams {
                    break;
                }
            }
            (open, failed)
        };
        let (open, failed) = tokio::time::timeout(Duration::from_secs(args.timeout), all_open)
            .await
            .map_err(|_| std::io::Error::other("not every stream opened before --timeout"))?;
        let ramp = started.elapsed().as_secs_f64();
        let (rss, hwm) = memory_kb(args.pid)?;
        println!(
            "streams_open={open} failed={failed} ramp_seconds={ramp:.1} idle_rss_mb={:.1} rss_mb={:.1} hwm_mb={:.1} per_stream_kb={:.1}",
            idle_rss as f64 / 1024.0,
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0,
            (rss.saturating_sub(idle_rss)) as f64 / open.max(1) as f64
        );
        if failed > 0 {
            return Err(std::io::Error::other(format!("{failed} streams failed to open")));
        }
        Ok(())
    })
}
