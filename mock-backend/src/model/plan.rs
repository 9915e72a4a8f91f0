//! The response plan of an admitted request: when headers go out, when each content chunk is
//! emitted, how long it all takes, how many tokens, and which fault to act out. Offsets are
//! from admission. The chunk times are a compact schedule (first token + fixed inter-token
//! latency + chunking + an optional stall), so planning never allocates.

use super::DeploymentId;
use super::faults::Disruption;
use super::time::{MAX_PLANNED_NANOS, saturating_nanos};
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

/// When each content chunk (of one choice) is emitted. Offsets are kept in `u64` nanoseconds
/// (saturating at `u64::MAX`, about 584 years): the latency draw is in nanoseconds already, and
/// every chunk offset is a nanosecond sum, so no `Duration` is split and recombined per plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSchedule {
    /// Offset of the first token, nanoseconds.
    first_token: u64,
    /// Time between tokens, nanoseconds.
    itl: u64,
    /// Tokens per choice.
    pub tokens: u32,
    /// Tokens per content event (1 = per-token streaming).
    pub tokens_per_chunk: u32,
    /// A pause of `.1` nanoseconds before chunk `.0` (and all later ones).
    stall: Option<(u32, u64)>,
}

impl ChunkSchedule {
    /// The schedule of `tokens` tokens from `first_token` on, `itl` apart, `tokens_per_chunk`
    /// to an event, with an optional pause of `.1` before chunk `.0`.
    pub fn new(
        first_token: Duration,
        itl: Duration,
        tokens: u32,
        tokens_per_chunk: u32,
        stall: Option<(u32, Duration)>,
    ) -> ChunkSchedule {
        ChunkSchedule::from_nanos(
            saturating_nanos(first_token),
            saturating_nanos(itl),
            tokens,
            tokens_per_chunk,
            stall.map(|(at, pause)| (at, saturating_nanos(pause))),
        )
    }

    /// [`ChunkSchedule::new`] with the offsets in nanoseconds.
    #[inline]
    pub fn from_nanos(
        first_token: u64,
        itl: u64,
        tokens: u32,
        tokens_per_chunk: u32,
        stall: Option<(u32, u64)>,
    ) -> ChunkSchedule {
        ChunkSchedule {
            first_token,
            itl,
            tokens,
            tokens_per_chunk,
            stall,
        }
    }

    /// Offset of the first token.
    pub fn first_token(&self) -> Duration {
        Duration::from_nanos(self.first_token)
    }

    /// Time between tokens.
    pub fn itl(&self) -> Duration {
        Duration::from_nanos(self.itl)
    }

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
    /// is exact.
    #[inline]
    pub fn offset(&self, k: u32) -> Duration {
        Duration::from_nanos(self.offset_nanos(k))
    }

    /// [`ChunkSchedule::offset`] in nanoseconds.
    #[inline]
    pub fn offset_nanos(&self, k: u32) -> u64 {
        self.offset_after(self.tokens_through(k).saturating_sub(1), k)
    }

    /// [`ChunkSchedule::offset_nanos`] of chunk `k`, whose last token is token `last_token`.
    #[inline]
    fn offset_after(&self, last_token: u32, k: u32) -> u64 {
        let stall = match self.stall {
            Some((at, pause)) if k >= at => capped(pause),
            _ => 0,
        };
        capped(self.first_token)
            .saturating_add(capped(self.itl).saturating_mul(u64::from(last_token)))
            .saturating_add(stall)
            .min(MAX_PLANNED_NANOS)
    }

    /// Offset of the first content token (the first-token offset when there are none).
    #[inline]
    pub fn ttft(&self) -> Duration {
        Duration::from_nanos(self.ttft_nanos())
    }

    /// [`ChunkSchedule::ttft`] in nanoseconds.
    #[inline]
    pub fn ttft_nanos(&self) -> u64 {
        if self.tokens_per_chunk <= 1 && self.stall.is_none() && self.tokens > 0 {
            // Per-token chunks without a stall (the usual plan): the first chunk is the first
            // token, so its offset is the first-token offset, capped (no chunk arithmetic).
            return capped(self.first_token);
        }
        if self.chunks() == 0 {
            self.end_nanos()
        } else {
            self.offset_nanos(0)
        }
    }

    /// Offset of the last chunk (the first-token offset when there are none).
    #[inline]
    pub fn end(&self) -> Duration {
        Duration::from_nanos(self.end_nanos())
    }

    /// [`ChunkSchedule::end`] in nanoseconds.
    #[inline]
    pub fn end_nanos(&self) -> u64 {
        if self.tokens_per_chunk <= 1 {
            // Per-token chunks: the last one ends with the last token (no division).
            return match self.tokens {
                0 => self.first_token,
                n => self.offset_after(n - 1, n - 1),
            };
        }
        match self.chunks() {
            0 => self.first_token,
            n => self.offset_nanos(n - 1),
        }
    }
}

/// `nanos`, or [`MAX_PLANNED_NANOS`] when it is at least the cap (a sum with such a term is
/// capped whatever the term's size).
#[inline]
fn capped(nanos: u64) -> u64 {
    nanos.min(MAX_PLANNED_NANOS)
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
        let s = ChunkSchedule::new(ms(100), ms(10), 5, 1, None);
        assert_eq!(s.chunks(), 5);
        assert_eq!(
            (0..5).map(|k| s.offset(k)).collect::<Vec<_>>(),
            [ms(100), ms(110), ms(120), ms(130), ms(140)]
        );
        assert_eq!(s.end(), ms(140));
    }

    #[test]
    fn merged_chunks_go_out_when_their_last_token_is_ready_and_stalls_shift_the_rest() {
        let s = ChunkSchedule::new(ms(100), ms(10), 10, 4, Some((1, ms(500))));
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
        let reference =
            |s: &ChunkSchedule,
             (first_token, itl, stall): (Duration, Duration, Option<(u32, Duration)>),
             k: u32| {
                let last_token = s.tokens_through(k).saturating_sub(1);
                let stall = match stall {
                    Some((at, pause)) if k >= at => pause,
                    _ => Duration::ZERO,
                };
                first_token
                    .saturating_add(itl.saturating_mul(last_token))
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
                        let s = ChunkSchedule::new(first_token, itl, tokens, 3, stall);
                        for k in [0, 1, 2, 500, u32::MAX / 3 - 1] {
                            assert_eq!(
                                s.offset(k),
                                reference(&s, (first_token, itl, stall), k),
                                "{s:?} chunk {k}"
                            );
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
                            let s = ChunkSchedule::new(
                                first_token,
                                itl,
                                tokens,
                                tokens_per_chunk,
                                stall,
                            );
                            let (ttft, end) = match s.chunks() {
                                0 => (s.first_token(), s.first_token()),
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
        let s = ChunkSchedule::new(ms(80), ms(10), 0, 1, None);
        assert_eq!((s.chunks(), s.end()), (0, ms(80)));
    }
}
