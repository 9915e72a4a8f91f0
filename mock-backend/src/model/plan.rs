//! The response plan of an admitted request: when headers go out, when each content chunk is
//! emitted, how long it all takes, how many tokens, and which fault to act out. Offsets are
//! from admission. The chunk times are a compact schedule (first token + fixed inter-token
//! latency + chunking + an optional stall), so planning never allocates.

use super::DeploymentId;
use super::faults::Disruption;
use std::time::Duration;

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model stopped on its own.
    Stop,
    /// `max_tokens` (or the context window) was reached.
    Length,
    /// The completion tripped the content filter.
    ContentFilter,
}

impl FinishReason {
    /// As it appears in bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
        }
    }
}

/// When each content chunk (of one choice) is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSchedule {
    /// Offset of the first token.
    pub first_token: Duration,
    /// Time between tokens.
    pub itl: Duration,
    /// Tokens per choice.
    pub tokens: u32,
    /// Tokens per content event (1 = per-token streaming).
    pub tokens_per_chunk: u32,
    /// A pause of `.1` before chunk `.0` (and all later ones).
    pub stall: Option<(u32, Duration)>,
}

impl ChunkSchedule {
    /// Number of content events.
    #[inline]
    pub fn chunks(&self) -> u32 {
        self.tokens.div_ceil(self.tokens_per_chunk.max(1))
    }

    /// Tokens carried by chunk `k`.
    pub fn tokens_in(&self, k: u32) -> u32 {
        let per = self.tokens_per_chunk.max(1);
        self.tokens.saturating_sub(k * per).min(per)
    }

    /// Tokens emitted by the end of chunk `k` (inclusive).
    #[inline]
    pub fn tokens_through(&self, k: u32) -> u32 {
        ((k + 1) * self.tokens_per_chunk.max(1)).min(self.tokens)
    }

    /// Offset at which chunk `k` is emitted: when its last token is generated, capped at
    /// [`super::MAX_PLANNED`]. This is the saturating `Duration` sum capped at `MAX_PLANNED`,
    /// computed in `u64` nanoseconds: every term is non-negative, so a term at or over the cap
    /// (taken as the cap) or a sum past `u64` (saturating) gives the cap, and below it the sum
    /// is exact. No `u128` work: the simulator asks for a TTFT on every body end.
    #[inline]
    pub fn offset(&self, k: u32) -> Duration {
        self.offset_after(self.tokens_through(k).saturating_sub(1), k)
    }

    /// [`ChunkSchedule::offset`] of chunk `k`, whose last token is token `last_token`.
    #[inline]
    fn offset_after(&self, last_token: u32, k: u32) -> Duration {
        let stall = match self.stall {
            Some((at, pause)) if k >= at => capped_nanos(pause),
            _ => 0,
        };
        let nanos = capped_nanos(self.first_token)
            .saturating_add(capped_nanos(self.itl).saturating_mul(u64::from(last_token)))
            .saturating_add(stall);
        if nanos >= MAX_PLANNED_NANOS {
            super::MAX_PLANNED
        } else {
            Duration::from_nanos(nanos)
        }
    }

    /// Offset of the first content token (the first-token offset when there are none).
    #[inline]
    pub fn ttft(&self) -> Duration {
        if self.tokens_per_chunk <= 1 && self.stall.is_none() && self.tokens > 0 {
            // Per-token chunks without a stall (the usual plan): the first chunk is the first
            // token, so its offset is the first-token offset, capped (no chunk arithmetic).
            return self.first_token.min(super::MAX_PLANNED);
        }
        if self.chunks() == 0 {
            self.end()
        } else {
            self.offset(0)
        }
    }

    /// Offset of the last chunk (the first-token offset when there are none).
    #[inline]
    pub fn end(&self) -> Duration {
        if self.tokens_per_chunk <= 1 {
            // Per-token chunks: the last one ends with the last token (no division).
            return match self.tokens {
                0 => self.first_token,
                n => self.offset_after(n - 1, n - 1),
            };
        }
        match self.chunks() {
            0 => self.first_token,
            n => self.offset(n - 1),
        }
    }
}

/// [`super::MAX_PLANNED`] in nanoseconds.
const MAX_PLANNED_NANOS: u64 = super::MAX_PLANNED.as_secs() * 1_000_000_000;

/// `duration` in nanoseconds, or [`MAX_PLANNED_NANOS`] when it is at least the cap (a sum with
/// such a term is capped whatever the term's size).
#[inline]
fn capped_nanos(duration: Duration) -> u64 {
    if duration.as_secs() >= super::MAX_PLANNED.as_secs() {
        MAX_PLANNED_NANOS
    } else {
        duration.as_secs() * 1_000_000_000 + u64::from(duration.subsec_nanos())
    }
}

/// Handle for [`super::Fleet::complete`]: what the deployment needs to settle the request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ticket {
    /// Deployment that served.
    pub deployment: DeploymentId,
    /// PTU estimate charged at admission (0 for standard).
    pub ptu_estimate: f64,
    /// Standard estimate charged at admission (0 for PTU).
    pub estimate: u64,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Cached prompt tokens.
    pub cached_tokens: u32,
    /// Planned completion tokens (all choices).
    pub completion_tokens: u32,
}

/// How an admitted request plays out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponsePlan {
    /// Settle with [`super::Fleet::complete`].
    pub ticket: Ticket,
    /// Prompt tokens (billing).
    pub prompt_tokens: u32,
    /// Completion tokens over all choices (billing).
    pub completion_tokens: u32,
    /// Choices (`max(n, best_of, 1)`).
    pub choices: u32,
    /// Why generation ends.
    pub finish_reason: FinishReason,
    /// Time waited for a service slot (part of TTFT).
    pub queue_wait: Duration,
    /// Offset at which status and headers are sent: for streams when the first event is
    /// flushed, otherwise at the end.
    pub headers_at: Duration,
    /// Content chunk times (one choice; every choice shares them).
    pub schedule: ChunkSchedule,
    /// Offset of the last byte.
    pub total: Duration,
    /// Fault to act out.
    pub disruption: Disruption,
    /// Streamed.
    pub stream: bool,
}

impl ResponsePlan {
    /// Offset of the first content token (TTFT as a streaming client sees it).
    #[inline]
    pub fn ttft(&self) -> Duration {
        self.schedule.ttft()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn per_token_chunks_follow_the_itl() {
        let s = ChunkSchedule {
            first_token: ms(100),
            itl: ms(10),
            tokens: 5,
            tokens_per_chunk: 1,
            stall: None,
        };
        assert_eq!(s.chunks(), 5);
        assert_eq!(
            (0..5).map(|k| s.offset(k)).collect::<Vec<_>>(),
            [ms(100), ms(110), ms(120), ms(130), ms(140)]
        );
        assert_eq!(s.end(), ms(140));
    }

    #[test]
    fn merged_chunks_go_out_when_their_last_token_is_ready_and_stalls_shift_the_rest() {
        let s = ChunkSchedule {
            first_token: ms(100),
            itl: ms(10),
            tokens: 10,
            tokens_per_chunk: 4,
            stall: Some((1, ms(500))),
        };
        assert_eq!(s.chunks(), 3);
        assert_eq!(
            (0..3).map(|k| s.tokens_in(k)).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        assert_eq!(
            (0..3).map(|k| s.offset(k)).collect::<Vec<_>>(),
            [ms(130), ms(670), ms(690)]
        );
        assert_eq!(s.tokens_through(2), 10);
    }

    #[test]
    fn offsets_equal_the_saturating_duration_sum_capped_at_max_planned() {
        let reference = |s: &ChunkSchedule, k: u32| {
            let last_token = s.tokens_through(k).saturating_sub(1);
            let stall = match s.stall {
                Some((at, pause)) if k >= at => pause,
                _ => Duration::ZERO,
            };
            s.first_token
                .saturating_add(s.itl.saturating_mul(last_token))
                .saturating_add(stall)
                .min(crate::model::MAX_PLANNED)
        };
        let durations = [
            Duration::ZERO,
            Duration::new(0, 1),
            Duration::new(1, 999_999_999),
            Duration::from_millis(37),
            crate::model::MAX_PLANNED - Duration::new(0, 1),
            crate::model::MAX_PLANNED,
            Duration::new(u64::MAX / 3, 7),
            Duration::MAX,
        ];
        for first_token in durations {
            for itl in durations {
                for stall in [
                    None,
                    Some((0, Duration::MAX)),
                    Some((1, Duration::new(2, 5))),
                ] {
                    for tokens in [0, 1, 2, 1000, u32::MAX] {
                        let s = ChunkSchedule {
                            first_token,
                            itl,
                            tokens,
                            tokens_per_chunk: 3,
                            stall,
                        };
                        for k in [0, 1, 2, 500, u32::MAX / 3 - 1] {
                            assert_eq!(s.offset(k), reference(&s, k), "{s:?} chunk {k}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_per_token_shortcuts_equal_the_chunk_arithmetic() {
        let durations = [
            Duration::ZERO,
            Duration::new(0, 999_999_999),
            ms(731),
            crate::model::MAX_PLANNED - Duration::new(0, 1),
            crate::model::MAX_PLANNED,
            Duration::MAX,
        ];
        for first_token in durations {
            for itl in durations {
                for stall in [
                    None,
                    Some((0, ms(5))),
                    Some((1, ms(7))),
                    Some((3, Duration::MAX)),
                ] {
                    for tokens in [0, 1, 2, 3, 17, 1000, u32::MAX / 4] {
                        for tokens_per_chunk in [0, 1, 2, 4] {
                            let s = ChunkSchedule {
                                first_token,
                                itl,
                                tokens,
                                tokens_per_chunk,
                                stall,
                            };
                            let (ttft, end) = match s.chunks() {
                                0 => (s.first_token, s.first_token),
                                n => (s.offset(0), s.offset(n - 1)),
                            };
                            assert_eq!((s.ttft(), s.end()), (ttft, end), "{s:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn no_tokens_means_no_chunks() {
        let s = ChunkSchedule {
            first_token: ms(80),
            itl: ms(10),
            tokens: 0,
            tokens_per_chunk: 1,
            stall: None,
        };
        assert_eq!((s.chunks(), s.end()), (0, ms(80)));
    }
}
