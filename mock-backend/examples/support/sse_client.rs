//! The benchmark clients' shared part: one HTTP/1.1 connection (hyper's low-level client) that
//! sends a streaming chat request and counts the SSE `data:` events of the response as they
//! arrive, across frame boundaries.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// A chat body that streams `max_tokens` tokens (the deployment's completion length decides).
pub fn stream_body(max_tokens: u32) -> Bytes {
    Bytes::from(format!(
        r#"{{"messages":[{{"role":"user","content":"Count the streamed events."}}],"max_tokens":{max_tokens},"stream":true}}"#
    ))
}

/// `/openai/deployments/<deployment>/chat/completions?api-version=2024-10-21`.
pub fn chat_path(deployment: &str) -> String {
    format!("/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21")
}

/// A keep-alive connection to `addr`; its driver runs on a spawned task.
pub async fn connect(addr: SocketAddr) -> std::io::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Send one POST of `body` to `path`; returns the response head with its streaming body.
pub async fn post(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    path: &str,
    body: Bytes,
) -> Result<Response<Incoming>, hyper::Error> {
    sender.ready().await?;
    let request = Request::post(path)
        .header("host", addr.to_string())
        .header("api-key", "bench")
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request");
    sender.send_request(request).await
}

/// Counts `data: ` at the start of a line over a byte stream split anywhere.
#[derive(Debug, Default)]
pub struct EventCounter {
    /// Bytes of `\ndata: ` matched so far (a stream starts as if after a newline).
    matched: usize,
    started: bool,
    /// Events seen.
    pub events: u64,
    /// Body bytes seen.
    pub bytes: u64,
}

const MARK: &[u8] = b"\ndata: ";

impl EventCounter {
    /// Feed the next piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        if !self.started {
            self.started = true;
            self.matched = 1;
        }
        self.bytes += piece.len() as u64;
        for &byte in piece {
            if byte == MARK[self.matched] {
                self.matched += 1;
                if self.matched == MARK.len() {
                    self.events += 1;
                    self.matched = 0;
                }
            } else {
                self.matched = usize::from(byte == b'\n');
            }
        }
    }
}

/// Read the next data frame of `body` into `counter`; `Ok(false)` at the end of the body.
pub async fn read_frame(
    body: &mut Incoming,
    counter: &mut EventCounter,
) -> Result<bool, hyper::Error> {
    match body.frame().await {
        None => Ok(false),
        Some(frame) => {
            if let Some(data) = frame?.data_ref() {
                counter.feed(data);
            }
            Ok(true)
        }
    }
}
