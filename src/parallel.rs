//! [`parallel_map`]: the one work queue for independent simulations (sweep cells, tune
//! evaluations, plan's candidate fleets through [`parallel_map_all`]) on a fixed number of
//! scoped threads, with one stop rule and one panic policy.
//!
//! - Results come back in item order whatever the thread timing, so callers stay deterministic.
//! - A raised [`StopFlag`] starts no further item; items already running finish (or notice the
//!   flag themselves) and the ones never started come back as `None`.
//! - A panic is a bug, not a result: the panicking item is caught, no further item starts, the
//!   items in flight finish, and the call returns [`WorkerPanic`] naming the item and the panic
//!   message — the process is not torn down, so the caller can still clean up its folder.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::stop::StopFlag;

/// A worker panicked on item `index`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a worker thread panicked on item {index}: {message}")]
pub struct WorkerPanic {
    /// The item's index.
    pub index: usize,
    /// The panic's message.
    pub message: String,
}

/// `work(index, item)` for every item on up to `jobs` threads, until `stop` is raised;
/// `on_done(index, &result)` runs on the worker as each item finishes (progress output).
/// Items never started (after a stop) are `None`.
pub fn parallel_map<T, R>(
    items: &[T],
    jobs: usize,
    stop: &StopFlag,
    work: &(dyn Fn(usize, &T) -> R + Sync),
    on_done: &(dyn Fn(usize, &R) + Sync),
) -> Result<Vec<Option<R>>, WorkerPanic>
where
    T: Sync,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let abandoned = AtomicBool::new(false);
    let panic: Mutex<Option<WorkerPanic>> = Mutex::new(None);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                while !stop.is_raised() && !abandoned.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    match catch_unwind(AssertUnwindSafe(|| work(index, item))) {
                        Ok(result) => {
                            on_done(index, &result);
                            if let Ok(mut slot) = slots[index].lock() {
                                *slot = Some(result);
                            }
                        }
                        Err(payload) => {
                            abandoned.store(true, Ordering::Relaxed);
                            let message = payload
                                .downcast_ref::<&str>()
                                .map(|text| (*text).to_string())
                                .or_else(|| payload.downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "(no message)".to_string());
                            if let Ok(mut first) = panic.lock() {
                                // Keep the lowest index, so the report does not depend on timing.
                                if first.as_ref().is_none_or(|seen| seen.index > index) {
                                    *first = Some(WorkerPanic { index, message });
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(panic) = panic.into_inner().ok().flatten() {
        return Err(panic);
    }
    Ok(slots
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect())
}

/// `work(item)` for every item on up to `jobs` threads, with no stop of its own (for callers
/// whose items must all run, and whose work notices a stop itself), results in item order.
pub fn parallel_map_all<T, R>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, WorkerPanic>
where
    T: Sync,
    R: Send,
{
    let outcomes = parallel_map(
        items,
        jobs,
        &StopFlag::new(),
        &|_, item| work(item),
        &|_, _| {},
    )?;
    outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| {
            // Without a stop or a panic every item runs; kept as an error rather than a panic.
            outcome.ok_or_else(|| WorkerPanic {
                index,
                message: "the item never ran".to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..50).collect();
        for jobs in [1, 3, 8] {
            let out = parallel_map(&items, jobs, &StopFlag::new(), &|_, x| x * x, &|_, _| {})
                .expect("no panic");
            let squares: Vec<u64> = out.into_iter().map(|r| r.expect("ran")).collect();
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_raised_stop_starts_nothing_more() {
        let stop = StopFlag::new();
        let items: Vec<u32> = (0..20).collect();
        let out = parallel_map(
            &items,
            1,
            &stop,
            &|index, _| {
                if index == 4 {
                    stop.raise();
                }
                index
            },
            &|_, _| {},
        )
        .expect("no panic");
        assert_eq!(out.iter().filter(|r| r.is_some()).count(), 5);
        assert!(out[5..].iter().all(Option::is_none));
    }

    #[test]
    fn a_panic_is_reported_with_its_item_and_message() {
        let items: Vec<u32> = (0..10).collect();
        let error = parallel_map(
            &items,
            2,
            &StopFlag::new(),
            &|index, _| {
                if index == 3 {
                    panic!("cell three is broken");
                }
                index
            },
            &|_, _| {},
        )
        .unwrap_err();
        assert_eq!(error.index, 3);
        assert_eq!(error.message, "cell three is broken");
    }
}
