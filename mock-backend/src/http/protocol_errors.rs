//! AOAI-shaped bodies for the answers hyper writes by itself. When a request head cannot be
//! parsed, hyper answers 400, 414 or 431 with an empty body and closes the connection, before
//! any service sees the request. [`ErrorBodies`] wraps a connection's socket and, when hyper
//! writes exactly such a head (one of those statuses, `connection: close`, `content-length:
//! 0`, the whole write), sends it with a JSON error body instead. Every other byte passes
//! through untouched: the servers' own error answers always carry a body, so none of them
//! matches.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::errors;

/// The statuses hyper answers a malformed head with, and what the body says.
const AUTOMATIC: [(&[u8], &str, &str); 3] = [
    (
        b"HTTP/1.1 400 ",
        "400",
        "The request line or headers are not valid HTTP/1.1.",
    ),
    (b"HTTP/1.1 414 ", "414", "The request URI is too long."),
    (
        b"HTTP/1.1 431 ",
        "431",
        "The request headers are too large.",
    ),
];

/// A socket whose bodiless automatic 400/414/431 answers get an AOAI error body.
pub struct ErrorBodies<T> {
    inner: T,
    /// A rewritten answer still to be written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ErrorBodies<T> {
    /// Wrap `inner`.
    pub fn new(inner: T) -> ErrorBodies<T> {
        ErrorBodies {
            inner,
            pending: None,
        }
    }
}

/// The answer to send instead of `head`, when `head` is one of hyper's automatic ones.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let (_, code, message) = AUTOMATIC
        .iter()
        .find(|(prefix, _, _)| head.starts_with(prefix))?;
    let text = std::str::from_utf8(head).ok()?;
    let lines = text.strip_suffix("\r\n\r\n")?;
    if lines.contains("\r\n\r\n") {
        return None;
    }
    let mut empty = false;
    let mut closing = false;
    let mut kept = Vec::new();
    for line in lines.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower == "content-length: 0" {
            empty = true;
        } else {
            closing |= lower == "connection: close";
            kept.push(line);
        }
    }
    if !(empty && closing) {
        return None;
    }
    let body = errors::gateway(code, message);
    let mut out = kept.join("\r\n");
    out.push_str(&format!(
        "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

impl<T: AsyncWrite + Unpin> ErrorBodies<T> {
    /// Write what is pending; Ready(Ok) once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
            if *written == bytes.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ErrorBodies<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ErrorBodies<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        if let Some(answer) = rewrite(buf) {
            this.pending = Some((answer, 0));
            // Taken whole: what is left goes out on the next write, flush or shutdown.
            let _ = this.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        // An automatic answer is a head alone: it arrives as one slice.
        if let [only] = bufs.iter().filter(|b| !b.is_empty()).collect::<Vec<_>>()[..]
            && let Some(answer) = rewrite(only)
        {
            this.pending = Some((answer, 0));
            let _ = this.drain(cx)?;
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bodiless_closing_answers_are_rewritten() {
        let automatic = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 01:33:45 GMT\r\n\r\n";
        let answer = String::from_utf8(rewrite(automatic).expect("rewritten")).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("\r\ndate: "), "other headers kept: {head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "431");
        for kept in [
            // A body follows (a server's own 400).
            &b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 12\r\n\r\n"[..],
            // Not closing: not a parse-error answer.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            // Other statuses.
            b"HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            // Head and more in one write.
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\nHTTP/1.1",
            b"data: {}\n\n",
        ] {
            assert_eq!(rewrite(kept), None, "{}", String::from_utf8_lossy(kept));
        }
    }
}
