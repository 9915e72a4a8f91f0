//! The calling application's side of one request, as a pure state machine: the OpenAI SDK's
//! retry loop (which answers it retries, how long it waits — [`ClientRetryPolicy::delay`] —
//! and within which timeout) and the error class the request ends with. It owns those
//! decisions and nothing else: the shells send the tries, time them and fill the records.
//!
//! Like [`crate::balance::Strategy`], it takes `now` and an RNG and never waits: a shell calls
//! [`Client::begin`], sends a try, hands each try's [`ClientAnswer`] to
//! [`Client::on_answer`] and follows the [`ClientStep`] it returns — send the next try at a
//! given time, or end the request. The simulator drives it in virtual time, the live load
//! engine on the wall clock; both draw its jitter from
//! [`crate::seed::streams::CLIENT_RETRY`].

use std::time::Duration;

use crate::balance::retry::client::ClientRetryPolicy;
use crate::balance::{Observation, Status};
use crate::metrics::ErrorClass;
use crate::seed::SimRng;

/// The client's settings: the SDK's retry rules and the per-call timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    retry: ClientRetryPolicy,
    timeout: Duration,
}

/// One request's life so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLife {
    started: Duration,
    retries: u32,
    next_try: Duration,
}

impl ClientLife {
    /// When the first try was sent (the request's actual start).
    pub fn started(&self) -> Duration {
        self.started
    }

    /// Retries made so far (the `x-stainless-retry-count` of the next try).
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

/// What one try brought back, as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClientAnswer {
    /// A 2xx whose body was read to the end.
    Success {
        /// The HTTP status.
        status: u16,
    },
    /// A 2xx whose body stopped early: the connection failed, or the client timeout fired
    /// (`timed_out`). The SDK raises; it does not retry a half-read stream.
    Cut {
        /// The HTTP status.
        status: u16,
        /// The client's own deadline cut it.
        timed_out: bool,
    },
    /// No usable answer: an HTTP error status, a connection failure or a timeout
    /// (`observation`); `exhausted` when the balancer answered by itself, every backend out.
    Failure {
        /// Status and retry headers, as parsed off the wire.
        observation: Observation,
        /// The balancer answered without trying a backend.
        exhausted: bool,
    },
    /// The try could not be sent at all (the request could not be built): no retry helps.
    Unsendable,
}

impl ClientAnswer {
    /// A failure seen as `observation`.
    pub fn failure(observation: Observation) -> ClientAnswer {
        ClientAnswer::Failure {
            observation,
            exhausted: false,
        }
    }

    /// The status the caller sees (0 without an HTTP answer) and the error class of this
    /// answer, were it the last: of the request, or of one attempt.
    pub fn failure_class(&self) -> (u16, ErrorClass) {
        match self {
            ClientAnswer::Success { status } => (*status, ErrorClass::None),
            ClientAnswer::Cut { status, timed_out } => {
                let error = if *timed_out {
                    ErrorClass::Timeout
                } else {
                    ErrorClass::ConnectError
                };
                (*status, error)
            }
            ClientAnswer::Unsendable => (0, ErrorClass::ClientError),
            ClientAnswer::Failure {
                observation,
                exhausted,
            } => {
                let error = match observation.status {
                    Status::Timeout => ErrorClass::Timeout,
                    _ if *exhausted => ErrorClass::Exhausted,
                    Status::ConnectError => ErrorClass::ConnectError,
                    Status::Http(code) => ErrorClass::from_status(code),
                };
                (observation.status.code().unwrap_or(0), error)
            }
        }
    }
}

/// What the shell does next for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStep {
    /// Send the next try now.
    Send,
    /// Send the next try at this time.
    WaitUntil(Duration),
    /// Stop retrying: the request ends failed with this status (0: no HTTP answer) and class.
    GiveUp {
        /// The status the caller sees.
        status: u16,
        /// Why it failed.
        error: ErrorClass,
    },
    /// The request ended with a 2xx (its body possibly cut: then `error` says how).
    Done {
        /// The status the caller sees.
        status: u16,
        /// `None` for a whole body.
        error: ErrorClass,
    },
}

impl Client {
    /// A client retrying by `retry`, giving up on a call after `timeout`.
    pub fn new(retry: ClientRetryPolicy, timeout: Duration) -> Client {
        Client { retry, timeout }
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A request whose first try goes out at `now`.
    pub fn begin(&self, now: Duration) -> ClientLife {
        ClientLife {
            started: now,
            retries: 0,
            next_try: now,
        }
    }

    /// What to do at `now`: send once the next try is due, else wait for it.
    pub fn next(&self, now: Duration, life: &ClientLife) -> ClientStep {
        if now >= life.next_try {
            ClientStep::Send
        } else {
            ClientStep::WaitUntil(life.next_try)
        }
    }

    /// The try's `answer` arrived at `now`: retry (at the returned time) or end the request.
    // Inlined: most answers are whole successes, which end the request with nothing to decide
    // (what `settle` makes of them too), so the caller skips the call and its register saves.
    #[inline]
    pub fn on_answer(
        &self,
        now: Duration,
        life: &mut ClientLife,
        answer: &ClientAnswer,
        rng: &mut SimRng,
    ) -> ClientStep {
        if let ClientAnswer::Success { status } = *answer {
            return ClientStep::Done {
                status,
                error: ErrorClass::None,
            };
        }
        self.settle(now, life, answer, rng)
    }

    /// [`Self::on_answer`] for any answer: out of line, as few answers need it.
    #[inline(never)]
    fn settle(
        &self,
        now: Duration,
        life: &mut ClientLife,
        answer: &ClientAnswer,
        rng: &mut SimRng,
    ) -> ClientStep {
        let (status, error) = answer.failure_class();
        let observation = match answer {
            ClientAnswer::Success { .. } | ClientAnswer::Cut { .. } => {
                return ClientStep::Done { status, error };
            }
            ClientAnswer::Unsendable => return ClientStep::GiveUp { status, error },
            ClientAnswer::Failure { observation, .. } => observation,
        };
        let elapsed = now.saturating_sub(life.started);
        match self.retry.delay(life.retries, observation, rng) {
            Some(wait) if elapsed + wait < self.timeout => {
                life.retries += 1;
                life.next_try = now + wait;
                ClientStep::WaitUntil(life.next_try)
            }
            _ => ClientStep::GiveUp { status, error },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::stream;

    fn client(max_retries: u32, timeout: Duration) -> Client {
        let retry = ClientRetryPolicy {
            max_retries,
            ..ClientRetryPolicy::default()
        };
        Client::new(retry, timeout)
    }

    #[test]
    fn a_server_wait_is_honoured_and_the_next_try_is_due_then() {
        let client = client(2, Duration::from_secs(600));
        let mut rng = stream(1, "t");
        let mut life = client.begin(Duration::ZERO);
        let at = Duration::from_secs(3);
        let answer = ClientAnswer::failure(Observation::http(429).with_retry_after_ms(250));
        let step = client.on_answer(at, &mut life, &answer, &mut rng);
        let due = at + Duration::from_millis(250);
        assert_eq!(step, ClientStep::WaitUntil(due));
        assert_eq!(life.retries(), 1);
        assert_eq!(client.next(at, &life), ClientStep::WaitUntil(due));
        assert_eq!(client.next(due, &life), ClientStep::Send);
    }

    #[test]
    fn a_retry_that_would_end_past_the_timeout_gives_up() {
        let client = client(2, Duration::from_secs(10));
        let mut rng = stream(1, "t");
        let mut life = client.begin(Duration::ZERO);
        let answer = ClientAnswer::failure(Observation::http(429).with_retry_after_secs(5));
        let step = client.on_answer(Duration::from_secs(6), &mut life, &answer, &mut rng);
        assert_eq!(
            step,
            ClientStep::GiveUp {
                status: 429,
                error: ErrorClass::Throttled
            }
        );
        assert_eq!(life.retries(), 0);
    }

    #[test]
    fn the_class_of_a_final_failure_follows_the_answer() {
        let client = client(0, Duration::from_secs(600));
        let mut rng = stream(1, "t");
        let mut end = |answer: ClientAnswer| {
            let mut life = client.begin(Duration::ZERO);
            client.on_answer(Duration::ZERO, &mut life, &answer, &mut rng)
        };
        let give_up = |status, error| ClientStep::GiveUp { status, error };
        assert_eq!(
            end(ClientAnswer::failure(Observation::new(Status::Timeout))),
            give_up(0, ErrorClass::Timeout)
        );
        assert_eq!(
            end(ClientAnswer::failure(Observation::new(
                Status::ConnectError
            ))),
            give_up(0, ErrorClass::ConnectError)
        );
        assert_eq!(
            end(ClientAnswer::Failure {
                observation: Observation::http(429),
                exhausted: true
            }),
            give_up(429, ErrorClass::Exhausted)
        );
        assert_eq!(
            end(ClientAnswer::failure(Observation::http(503))),
            give_up(503, ErrorClass::ServerError)
        );
        assert_eq!(
            end(ClientAnswer::Unsendable),
            give_up(0, ErrorClass::ClientError)
        );
        assert_eq!(
            end(ClientAnswer::Cut {
                status: 200,
                timed_out: false
            }),
            ClientStep::Done {
                status: 200,
                error: ErrorClass::ConnectError
            }
        );
    }

    #[test]
    fn the_success_fast_path_answers_as_the_general_path() {
        use rand::Rng;
        let client = client(2, Duration::from_secs(600));
        let (mut a, mut b) = (stream(1, "t"), stream(1, "t"));
        for status in [100, 200, 201, 204, 299, 302, 399] {
            let answer = ClientAnswer::Success { status };
            let (mut fast, mut slow) = (client.begin(Duration::ZERO), client.begin(Duration::ZERO));
            let now = Duration::from_secs(4);
            assert_eq!(
                client.on_answer(now, &mut fast, &answer, &mut a),
                client.settle(now, &mut slow, &answer, &mut b)
            );
            assert_eq!(fast, slow);
        }
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }
}
