//! A lingering close. When a server answers before reading the whole request — a 413 on the
//! head, a 408, a 503 for a full body budget, a 400 for broken framing — and then closes, the
//! bytes the client is still sending arrive at a closed socket, the kernel answers them with a
//! reset, and a reset can destroy the answer before the client has read it. [`Lingering`] makes
//! a socket's shutdown send its FIN and then read and discard what the client still sends,
//! until the client closes too or a bound is reached ([`LINGER_TIME`], [`LINGER_BYTES`]), so
//! the answer arrives. The same thing nginx's `lingering_close` does.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Longest a closing connection keeps reading what its client still sends.
pub const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes a closing connection reads and discards.
pub const LINGER_BYTES: u64 = 16 << 20;

enum Closing {
    /// Not asked to shut down yet.
    Open,
    /// Draining after the FIN, until the deadline.
    Draining {
        deadline: Pin<Box<Sleep>>,
        read: u64,
    },
    /// Done.
    Closed,
}

/// A socket whose shutdown lingers (see the module docs).
pub struct Lingering<T> {
    inner: T,
    closing: Closing,
}

impl<T> Lingering<T> {
    /// Wrap `inner`.
    pub fn new(inner: T) -> Lingering<T> {
        Lingering {
            inner,
            closing: Closing::Open,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Lingering<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.closing {
                Closing::Open => {
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    this.closing = Closing::Draining {
                        deadline: Box::pin(tokio::time::sleep(LINGER_TIME)),
                        read: 0,
                    };
                }
                Closing::Draining { deadline, read } => {
                    if deadline.as_mut().poll(cx).is_ready() || *read >= LINGER_BYTES {
                        this.closing = Closing::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 8192];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf)) {
                        Ok(()) if !buf.filled().is_empty() => *read += buf.filled().len() as u64,
                        // The client closed too, or the connection is gone: nothing to protect.
                        _ => this.closing = Closing::Closed,
                    }
                }
                Closing::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_shutdown_reads_what_the_peer_still_sends_until_it_closes() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = Lingering::new(server);
        let closing = tokio::spawn(async move {
            server.write_all(b"HTTP/1.1 413").await.expect("answer");
            server.shutdown().await.expect("lingering shutdown");
        });
        // The client still sends more than the pipe holds: only a draining server lets it.
        client.write_all(&[b'x'; 1024]).await.expect("drained");
        let mut answer = [0u8; 12];
        client
            .read_exact(&mut answer)
            .await
            .expect("the answer arrives");
        assert_eq!(&answer, b"HTTP/1.1 413");
        drop(client);
        closing
            .await
            .expect("the shutdown ends when the client closes");
    }
}
