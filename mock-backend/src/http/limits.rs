//! What a client may make a server hold, and for how long — shared by the mock and the
//! throttlebox gateway: the wait for a request head, the wait for a request body, the bytes of
//! request bodies all connections may hold at once (the body budget), and reading one body
//! under all of them. A refusal says why, so each server answers it in AOAI's error shape
//! ([`refusal_answer`]) instead of holding memory or a descriptor for as long as a client likes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::HeaderMap;
use hyper::body::Body;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HeaderValue, TRANSFER_ENCODING};

use super::errors;

/// Default [`Limits::header_timeout`]: also how long an idle keep-alive connection is kept,
/// so it must stay above the clients' idle timeout (30 s).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`Limits::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`Limits::body_budget`]: 256 MiB.
pub const DEFAULT_BODY_BUDGET: u64 = 256 << 20;
/// Largest request head (request line and headers) a server buffers; beyond it, 431 (414 for
/// a request line over hyper's 64 KiB URI limit).
pub const MAX_HEAD_BYTES: usize = 128 << 10;
/// Prompt text above which the mock counts tokens off the request threads, one prompt at a
/// time (a megabyte of text is about half a second of BPE).
pub const LARGE_PROMPT_BYTES: usize = 64 << 10;
/// The `retry-after` (seconds) of a refusal for lack of body budget.
pub const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// The bounds a server puts on what its clients control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a request head, from the moment the connection starts waiting for one
    /// (idle keep-alive included); then the connection is closed.
    pub header_timeout: Duration,
    /// Longest wait for a whole request body, from the moment the server starts reading it;
    /// then 408 and the connection is closed.
    pub body_timeout: Duration,
    /// Bytes of request bodies all connections may hold at once; a body that would go beyond
    /// it is refused with 503 and `retry-after`.
    pub body_budget: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            body_budget: DEFAULT_BODY_BUDGET,
        }
    }
}

/// Bodies up to this size are small: a quarter of the budget is kept for them alone, so large
/// bodies, however many, never lock ordinary requests out.
pub const SMALL_BODY: u64 = 64 << 10;

/// The bytes of request bodies held across every connection of a server.
#[derive(Debug)]
pub struct BodyBudget {
    limit: u64,
    used: AtomicU64,
    /// Woken whenever `used` changes (cheap with no one waiting), for [`BodyBudget::until`].
    changed: tokio::sync::Notify,
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            limit,
            used: AtomicU64::new(0),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// Wait until the bytes held satisfy `condition` (an operator's or a test's view of a state
    /// no message on the wire announces); woken by every change, no polling.
    pub async fn until(&self, condition: impl Fn(u64) -> bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a change between the check and the wait wakes it.
            changed.as_mut().enable();
            if condition(self.in_use()) {
                return;
            }
            changed.await;
        }
    }

    /// Bytes held now.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Take `bytes` more for a body that will then hold `body` bytes in all.
    fn take(&self, bytes: u64, body: u64) -> bool {
        let ceiling = if body <= SMALL_BODY {
            self.limit
        } else {
            self.limit - self.limit / 4
        };
        let taken = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|total| *total <= ceiling)
            })
            .is_ok();
        if taken {
            self.changed.notify_waiters();
        }
        taken
    }
}

/// Bytes taken from a [`BodyBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<BodyBudget>,
    held: u64,
}

impl Reservation {
    /// An empty reservation on `budget`.
    pub fn on(budget: &Arc<BodyBudget>) -> Reservation {
        Reservation {
            budget: Arc::clone(budget),
            held: 0,
        }
    }

    /// Hold at least `bytes` in all; false (nothing taken) when the budget has no room.
    pub fn hold(&mut self, bytes: u64) -> bool {
        let more = bytes.saturating_sub(self.held);
        if more == 0 || self.budget.take(more, bytes) {
            self.held += more;
            true
        } else {
            false
        }
    }

    /// Bytes held.
    pub fn held(&self) -> u64 {
        self.held
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.held > 0 {
            self.budget.used.fetch_sub(self.held, Ordering::AcqRel);
            self.budget.changed.notify_waiters();
        }
    }
}

/// Why a request body was not read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Over the per-request limit (declared or counted).
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body budget has no room for it.
    OverBudget,
    /// Not all there within the body timeout.
    TimedOut(Duration),
    /// Broken framing (a bad chunk size line and the like).
    Malformed(String),
    /// The client closed the connection before the end.
    Cut,
}

/// Read the `body` of a request with `headers` whole: at most `limit` bytes (a declared
/// `content-length` above it is refused before reading), holding the bytes received in `budget`
/// for as long as the returned [`Reservation`] lives, within `timeout`. The budget counts what
/// has arrived, not what a head promises: a client cannot book memory it does not send.
pub async fn read_body<B>(
    headers: &HeaderMap,
    body: B,
    limit: u64,
    budget: &Arc<BodyBudget>,
    timeout: Duration,
) -> Result<(Bytes, Reservation), BodyRefusal>
where
    B: Body<Data = Bytes, Error = hyper::Error> + Unpin,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(BodyRefusal::TooLarge { limit });
    }
    let mut reservation = Reservation::on(budget);
    let reading = collect(body, limit, &mut reservation);
    match tokio::time::timeout(timeout, reading).await {
        Ok(Ok(bytes)) => Ok((bytes, reservation)),
        Ok(Err(refusal)) => Err(refusal),
        Err(_) => Err(BodyRefusal::TimedOut(timeout)),
    }
}

async fn collect<B>(
    mut body: B,
    limit: u64,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyRefusal>
where
    B: Body<Data = Bytes, Error = hyper::Error> + Unpin,
{
    let mut bytes = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| classify(&error))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = (bytes.len() + data.len()) as u64;
        if total > limit {
            return Err(BodyRefusal::TooLarge { limit });
        }
        if !reservation.hold(total) {
            return Err(BodyRefusal::OverBudget);
        }
        if bytes.is_empty() {
            bytes = BytesMut::from(data);
        } else {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes.freeze())
}

/// A body error: the client went away (end of file, reset), or sent broken framing.
fn classify(error: &hyper::Error) -> BodyRefusal {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                    BodyRefusal::Malformed(io.to_string())
                }
                _ => BodyRefusal::Cut,
            };
        }
        source = current.source();
    }
    BodyRefusal::Cut
}

/// Whether a request with `headers` carries a body (a declared length above zero, or chunks).
pub fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok())
            .is_some_and(|length| length > 0)
}

/// Mark a response `connection: close`: it answers a request whose body was not read to the
/// end, so the connection closes after it. Without the mark a pooling client would take the
/// connection back, send its next request on it, and meet a closed socket.
pub fn close_after(headers: &mut HeaderMap) {
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
}

/// How a server answers a refusal: status, AOAI-shaped JSON body, and the `retry-after`
/// seconds to send; None for [`BodyRefusal::Cut`] (nobody is left to answer).
pub fn refusal_answer(refusal: &BodyRefusal) -> Option<(u16, String, Option<u64>)> {
    Some(match refusal {
        BodyRefusal::TooLarge { limit } => (413, errors::too_large(*limit), None),
        BodyRefusal::OverBudget => (
            503,
            errors::gateway(
                "ServiceUnavailable",
                &format!(
                    "The server is receiving too many request bodies at once. Please retry after {BUSY_RETRY_AFTER_SECONDS} second."
                ),
            ),
            Some(BUSY_RETRY_AFTER_SECONDS),
        ),
        BodyRefusal::TimedOut(after) => (
            408,
            errors::gateway(
                "RequestTimeout",
                &format!(
                    "The request body did not arrive within {}.",
                    crate::duration::format(*after)
                ),
            ),
            None,
        ),
        BodyRefusal::Malformed(detail) => (
            400,
            errors::gateway(
                "InvalidRequestFraming",
                &format!("The request body is not valid HTTP/1.1 framing: {detail}."),
            ),
            None,
        ),
        BodyRefusal::Cut => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = BodyBudget::new(100);
        let mut first = Reservation::on(&budget);
        assert!(first.hold(60));
        assert!(first.hold(40), "already held");
        assert_eq!(budget.in_use(), 60);
        assert!(first.hold(100), "growing to the limit");
        let mut second = Reservation::on(&budget);
        assert!(!second.hold(1), "nothing left");
        assert_eq!(second.held(), 0);
        drop(first);
        assert_eq!(budget.in_use(), 0);
        assert!(second.hold(100));
        assert!(!second.hold(101));
        assert_eq!(budget.in_use(), 100);
    }

    #[test]
    fn large_bodies_leave_a_quarter_of_the_budget_to_small_ones() {
        let budget = BodyBudget::new(1 << 20);
        let mut large = Reservation::on(&budget);
        assert!(large.hold(700 << 10));
        assert!(
            !large.hold(800 << 10),
            "large bodies stop at three quarters"
        );
        let mut other_large = Reservation::on(&budget);
        assert!(!other_large.hold(100 << 10));
        let small: Vec<Reservation> = (0..5)
            .map(|_| {
                let mut small = Reservation::on(&budget);
                assert!(small.hold(SMALL_BODY), "small ones still fit");
                small
            })
            .collect();
        assert_eq!(budget.in_use(), (700 << 10) + 5 * SMALL_BODY);
        let mut one_more = Reservation::on(&budget);
        assert!(
            !one_more.hold(SMALL_BODY),
            "and the whole budget still bounds them"
        );
        drop(small);
    }

    #[test]
    fn every_refusal_but_a_cut_is_answered_in_aoais_shape() {
        for refusal in [
            BodyRefusal::TooLarge { limit: 10 },
            BodyRefusal::OverBudget,
            BodyRefusal::TimedOut(Duration::from_secs(3)),
            BodyRefusal::Malformed("bad chunk size".into()),
        ] {
            let (status, body, _) = refusal_answer(&refusal).expect("answered");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            assert!(json["error"]["code"].is_string(), "{status} {body}");
            assert!(json["error"]["message"].is_string(), "{status} {body}");
        }
        assert_eq!(
            refusal_answer(&BodyRefusal::OverBudget).map(|a| (a.0, a.2)),
            Some((503, Some(BUSY_RETRY_AFTER_SECONDS)))
        );
        assert_eq!(refusal_answer(&BodyRefusal::Cut), None);
    }
}
