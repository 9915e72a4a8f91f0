//! Sub-millisecond sleeps inside the async runtime, for the load engine's scheduler: tokio's
//! timer wheel rounds every deadline up to a whole millisecond, so on Linux a `timerfd`
//! registered with the runtime's I/O driver wakes the scheduler task at the intended
//! microsecond instead (elsewhere: tokio's timer). The scheduler then spawns each request on
//! its own worker, where it runs next — no thread hand-off per send. (The timerfd's expiry is
//! exact: Linux applies no timer slack to it.)

use std::time::Duration;

/// A reusable one-shot timer.
pub(crate) struct PreciseSleep {
    #[cfg(target_os = "linux")]
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

impl PreciseSleep {
    /// A timer registered with the current runtime.
    pub fn new() -> std::io::Result<PreciseSleep> {
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{TimerfdClockId, TimerfdFlags, timerfd_create};
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )?;
            // SAFETY: `fd` is an open timerfd that the AsyncFd owns (an `OwnedFd`, closed
            // only when the AsyncFd drops it), so it stays valid and names the same file for
            // the AsyncFd's whole life — the contract `register` asks for.
            let fd =
                unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(std::io::Error::from)?;
            Ok(PreciseSleep { fd })
        }
        #[cfg(not(target_os = "linux"))]
        {
            Ok(PreciseSleep {})
        }
    }

    /// Sleep for `wall` of wall time.
    pub async fn sleep(&self, wall: Duration) -> std::io::Result<()> {
        if wall.is_zero() {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            use rustix::time::{Itimerspec, TimerfdTimerFlags, Timespec, timerfd_settime};
            let value = Timespec {
                tv_sec: wall.as_secs() as _,
                tv_nsec: wall.subsec_nanos() as _,
            };
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            timerfd_settime(
                self.fd.get_ref(),
                TimerfdTimerFlags::empty(),
                &Itimerspec {
                    it_interval: zero,
                    it_value: value,
                },
            )?;
            loop {
                let mut ready = self.fd.readable().await?;
                let mut expirations = [0u8; 8];
                match rustix::io::read(self.fd.get_ref(), &mut expirations) {
                    Ok(_) => return Ok(()),
                    Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                    Err(error) => return Err(error.into()),
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            tokio::time::sleep(wall).await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::clock::LiveClock;

    #[tokio::test]
    async fn a_sleep_never_ends_early_and_the_timer_can_be_rearmed() {
        let clock = LiveClock::start(1.0);
        let timer = PreciseSleep::new().expect("timer");
        for wall in [Duration::from_micros(300), Duration::from_millis(3)] {
            let before = clock.now();
            timer.sleep(wall).await.expect("slept");
            assert!(clock.now() - before >= wall, "woke before {wall:?}");
        }
        timer.sleep(Duration::ZERO).await.expect("no wait");
    }
}
