//! Stopping early, the same way everywhere: Ctrl-C and the action deadline (`--timeout`).
//!
//! [`Interrupts`] is installed once per process: the first Ctrl-C asks every running action to
//! stop (each then starts nothing new, cleans up what is safe, says what state things are in and
//! how to resume, writes its report and exits 130); a second Ctrl-C exits at once. [`Stop`] is one
//! action's view of that plus its own deadline: the action layer races its work against
//! [`Stop::stopped`], so a stalled request or a wait can never outlive either.
//!
//! Time is tokio's, so tests can drive deadlines on paused (virtual) time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Why an action was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C (SIGINT).
    Interrupted,
    /// The action ran out of its `--timeout`.
    DeadlineExceeded {
        /// The `--timeout` that ran out.
        limit: Duration,
    },
}

/// The process-wide Ctrl-C state: a flag every [`Stop`] watches.
#[derive(Debug, Clone)]
pub struct Interrupts {
    interrupted: watch::Receiver<bool>,
}

impl Interrupts {
    /// Listen for Ctrl-C for the rest of the process. The first one sets the flag and prints a
    /// notice (through `notice`, so output stays in the output module); the second exits the
    /// process at once with 130. Must be called inside a tokio runtime.
    pub fn install(notice: fn(&str)) -> Self {
        let (sender, interrupted) = watch::channel(false);
        let count = Arc::new(AtomicU32::new(0));
        tokio::spawn(async move {
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    // No signal handling on this platform: Ctrl-C keeps its default behaviour.
                    return;
                }
                if count.fetch_add(1, Ordering::SeqCst) == 0 {
                    notice(
                        "Ctrl-C: stopping — nothing new is started; cleaning up and writing the report (press Ctrl-C again to exit at once)",
                    );
                    let _ = sender.send(true);
                } else {
                    notice("second Ctrl-C: exiting at once, without cleanup or report");
                    std::process::exit(130);
                }
            }
        });
        Interrupts { interrupted }
    }

    /// A flag nobody sets (tests, and runs that must not react to the terminal).
    pub fn never() -> Self {
        let (sender, interrupted) = watch::channel(false);
        // Keep the channel open so `changed()` waits forever instead of failing.
        std::mem::forget(sender);
        Interrupts { interrupted }
    }

    /// A flag the caller sets, for tests of interruption.
    pub fn manual() -> (Self, watch::Sender<bool>) {
        let (sender, interrupted) = watch::channel(false);
        (Interrupts { interrupted }, sender)
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }
}

/// One action's stop condition: Ctrl-C, or its deadline.
#[derive(Debug, Clone)]
pub struct Stop {
    interrupts: Interrupts,
    deadline: Option<(Instant, Duration)>,
}

impl Stop {
    /// Stop on Ctrl-C or `limit` from now.
    pub fn new(interrupts: Interrupts, limit: Duration) -> Self {
        Stop {
            interrupts,
            deadline: Some((Instant::now() + limit, limit)),
        }
    }

    /// Stop only on Ctrl-C.
    pub fn without_deadline(interrupts: Interrupts) -> Self {
        Stop {
            interrupts,
            deadline: None,
        }
    }

    /// A stop that never comes (tests).
    pub fn never() -> Self {
        Stop::without_deadline(Interrupts::never())
    }

    /// Why to stop now, if there is a reason.
    pub fn reason(&self) -> Option<StopReason> {
        if self.interrupts.is_interrupted() {
            return Some(StopReason::Interrupted);
        }
        match self.deadline {
            Some((at, limit)) if Instant::now() >= at => {
                Some(StopReason::DeadlineExceeded { limit })
            }
            _ => None,
        }
    }

    /// The time left before the deadline (`None` without one).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }

    /// Resolves when the action must stop, with the reason.
    pub async fn stopped(&self) -> StopReason {
        let mut interrupted = self.interrupts.interrupted.clone();
        let ctrl_c = async move {
            while !*interrupted.borrow_and_update() {
                if interrupted.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        let deadline = async {
            match self.deadline {
                Some((at, limit)) => {
                    tokio::time::sleep_until(at).await;
                    StopReason::DeadlineExceeded { limit }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = ctrl_c => StopReason::Interrupted,
            reason = deadline => reason,
        }
    }

    /// Run `work` unless the action must stop first (`Err` with the reason).
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T, StopReason> {
        if let Some(reason) = self.reason() {
            return Err(reason);
        }
        tokio::select! {
            biased;
            reason = self.stopped() => Err(reason),
            result = work => Ok(result),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_work_that_never_ends() {
        let stop = Stop::new(Interrupts::never(), Duration::from_secs(5));
        let started = Instant::now();
        let result = stop.run(std::future::pending::<()>()).await;
        assert_eq!(
            result,
            Err(StopReason::DeadlineExceeded {
                limit: Duration::from_secs(5)
            })
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(
            stop.reason(),
            Some(StopReason::DeadlineExceeded {
                limit: Duration::from_secs(5)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ctrl_c_stops_work_at_once_and_finished_work_is_kept() {
        let (interrupts, ctrl_c) = Interrupts::manual();
        let stop = Stop::new(interrupts, Duration::from_mins(1));
        assert_eq!(stop.run(async { 7 }).await, Ok(7));
        let waiting = stop.run(tokio::time::sleep(Duration::from_secs(30)));
        let press = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            ctrl_c.send(true).unwrap();
        };
        let (result, ()) = tokio::join!(waiting, press);
        assert_eq!(result, Err(StopReason::Interrupted));
        // Once pressed, nothing new starts.
        assert_eq!(stop.run(async { 7 }).await, Err(StopReason::Interrupted));
    }
}
