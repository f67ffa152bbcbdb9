//! One CloudFormation call budget per AWS account, shared by every run of a fleet.
//!
//! CloudFormation throttles per account and region (`Throttling: Rate exceeded`); the SDK's
//! retries only react after the fact, and 50 sites polling at once in one account exceed the
//! budget on their own. So every CloudFormation request attempt (retries included) first takes a
//! slot from its account's [`CallLimiter`]: at most [`CallLimiter::CALLS_PER_SEC`] calls in any
//! one second (a sliding window), on tokio's clock (a paused runtime runs it in virtual time).
//! The limiter sits in the CloudFormation client's HTTP connector ([`limited`]), so no call site
//! can forget it.
//!
//! A window rather than an even pace: one deployment makes a handful of calls, each waiting for
//! the answer to the one before, so within the budget they go out as soon as they are ready;
//! an even pace of 9 a second would hold every one of them ~110 ms behind the one before.
//!
//! Polls ([`is_poll`]: `DescribeStackEvents` and `DescribeChangeSet`, which only ask "done yet?")
//! never reserve a slot ahead: they take one only when it is free at once, after every call that
//! moves a deployment forward (creating or executing a change set, reading a stack) has had its
//! slot. When the account's budget is contended, polls are the calls that wait, so a fleet's polls
//! slow down to what the budget leaves instead of delaying every site's next step; an
//! uncontended run (one deployment) never waits at all.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::time::Instant;

/// A budget of calls per window shared by clones: a call goes out only when fewer than
/// `per_window` calls went out (or are reserved) in the window before it.
#[derive(Clone)]
pub struct CallLimiter {
    /// When the calls of the last window went out, and those reserved ahead, oldest first.
    slots: Arc<Mutex<VecDeque<Instant>>>,
    per_window: usize,
    window: Duration,
    /// Calls that had to wait for their slot, and the time they waited in all (`-v` figures).
    waited: Arc<Mutex<(u64, Duration)>>,
    /// The shortest stack operation of each kind (`CREATE`, `UPDATE`, `DELETE`) this account has
    /// completed in this run: a wait need not poll before an operation of that kind could end.
    shortest: Arc<Mutex<HashMap<String, Duration>>>,
}

impl fmt::Debug for CallLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLimiter")
            .field("per_window", &self.per_window)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Default for CallLimiter {
    fn default() -> Self {
        Self::new(Self::CALLS_PER_SEC)
    }
}

impl CallLimiter {
    /// CloudFormation calls in any one second, per account. AWS does not publish the limit; its
    /// read APIs start answering `Throttling` around 10 calls a second per account, so the fleet
    /// keeps below that with room for other tools in the same account.
    pub const CALLS_PER_SEC: u32 = 9;

    /// A limiter of at most `calls_per_sec` calls (at least 1) in any one second.
    pub fn new(calls_per_sec: u32) -> Self {
        CallLimiter {
            slots: Arc::default(),
            per_window: usize::try_from(calls_per_sec.max(1)).unwrap_or(usize::MAX),
            window: Duration::from_secs(1),
            waited: Arc::new(Mutex::new((0, Duration::ZERO))),
            shortest: Arc::default(),
        }
    }

    /// Wait for this call's slot: reserved at once, after every slot reserved before it, so
    /// calls that move a deployment forward go out in the order they asked.
    pub async fn acquire(&self) {
        let at = {
            let mut slots = locked(&self.slots);
            let now = Instant::now();
            let at = self.next_slot(&mut slots, now);
            slots.push_back(at);
            at
        };
        let now = Instant::now();
        if at > now {
            self.note_wait(at - now);
            tokio::time::sleep_until(at).await;
        }
    }

    /// Wait for a slot that is free now (a poll): unlike [`CallLimiter::acquire`], nothing is
    /// reserved ahead, so every call that reserved its slot meanwhile goes first.
    pub async fn acquire_when_idle(&self) {
        let started = Instant::now();
        loop {
            let free_at = {
                let mut slots = locked(&self.slots);
                let now = Instant::now();
                let at = self.next_slot(&mut slots, now);
                if at <= now {
                    slots.push_back(now);
                    None
                } else {
                    Some(at)
                }
            };
            match free_at {
                None => break,
                Some(at) => tokio::time::sleep_until(at).await,
            }
        }
        let waited = started.elapsed();
        if !waited.is_zero() {
            self.note_wait(waited);
        }
    }

    /// The earliest instant from `now`, and after every slot reserved so far, at which one more
    /// call keeps every window within the budget; forgets the calls that have left the window.
    fn next_slot(&self, slots: &mut VecDeque<Instant>, now: Instant) -> Instant {
        while slots.front().is_some_and(|sent| *sent + self.window <= now) {
            slots.pop_front();
        }
        let after_reserved = slots.back().map_or(now, |last| (*last).max(now));
        match slots.len().checked_sub(self.per_window) {
            // The call must leave the window of the `per_window`-th latest slot.
            Some(index) => (slots[index] + self.window).max(after_reserved),
            None => after_reserved,
        }
    }

    fn note_wait(&self, waited: Duration) {
        let mut total = locked(&self.waited);
        total.0 += 1;
        total.1 += waited;
    }

    /// Note that a stack operation of `kind` (`CREATE`, …) in this account completed after
    /// `took`.
    pub fn note_operation(&self, kind: &str, took: Duration) {
        let mut shortest = locked(&self.shortest);
        let entry = shortest.entry(kind.to_owned()).or_insert(took);
        *entry = (*entry).min(took);
    }

    /// The shortest completed stack operation of `kind` in this account so far, if any.
    pub fn shortest_operation(&self, kind: &str) -> Option<Duration> {
        locked(&self.shortest).get(kind).copied()
    }

    /// How many calls waited for their slot, and how long in all.
    pub fn waited(&self) -> (u64, Duration) {
        *locked(&self.waited)
    }
}

/// The CloudFormation limiters of one process, one per account: a fleet run hands the same
/// registry to every site, so sites of one account share one budget.
#[derive(Debug, Clone, Default)]
pub struct CallLimits {
    accounts: Arc<Mutex<HashMap<String, CallLimiter>>>,
    /// No budget at all (the fleet simulation's "without a limiter" figures).
    unlimited: bool,
}

impl CallLimits {
    /// Limits that never make a call wait.
    pub fn unlimited() -> Self {
        CallLimits {
            unlimited: true,
            ..CallLimits::default()
        }
    }

    /// The limiter of `account` (created on first use).
    pub fn for_account(&self, account: &str) -> CallLimiter {
        if self.unlimited {
            return CallLimiter::new(u32::MAX);
        }
        locked(&self.accounts)
            .entry(account.to_owned())
            .or_default()
            .clone()
    }
}

/// `inner`, with every request attempt waiting for a slot of `limiter` first.
pub fn limited(inner: SharedHttpClient, limiter: CallLimiter) -> SharedHttpClient {
    SharedHttpClient::new(LimitedClient { inner, limiter })
}

#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
    limiter: CallLimiter,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: CallLimiter,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        let poll = is_poll(&request);
        HttpConnectorFuture::new(async move {
            if poll {
                limiter.acquire_when_idle().await;
            } else {
                limiter.acquire().await;
            }
            inner.call(request).await
        })
    }
}

/// The CloudFormation actions that only ask whether an operation has finished (the waits'
/// polls), read from the query-protocol body (`Action=…&…`).
pub const POLL_ACTIONS: [&str; 2] = ["DescribeStackEvents", "DescribeChangeSet"];

/// Whether `request` is a poll ([`POLL_ACTIONS`]).
pub fn is_poll(request: &HttpRequest) -> bool {
    let Some(body) = request.body().bytes() else {
        return false;
    };
    let Ok(body) = std::str::from_utf8(body) else {
        return false;
    };
    body.split('&')
        .find_map(|field| field.strip_prefix("Action="))
        .is_some_and(|action| POLL_ACTIONS.contains(&action))
}

/// The guarded value, also after a panic elsewhere (the data is plain counters and instants,
/// always consistent).
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each of `calls` spawned forward calls got its slot, in ms from now.
    async fn slots_of(limiter: &CallLimiter, calls: usize) -> Vec<u64> {
        let started = Instant::now();
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    u64::try_from(started.elapsed().as_millis()).unwrap()
                })
            })
            .collect();
        let mut at = Vec::new();
        for task in tasks {
            at.push(task.await.unwrap());
        }
        at
    }

    #[tokio::test(start_paused = true)]
    async fn no_second_holds_more_than_the_budget() {
        let limiter = CallLimiter::default();
        let at = slots_of(&limiter, 30).await;
        let expected: Vec<u64> = (0..30).map(|call| call / 9 * 1000).collect();
        assert_eq!(at, expected);
        for (first, start) in at.iter().enumerate() {
            let in_window = at[first..].iter().filter(|t| **t < start + 1000).count();
            assert!(
                in_window <= 9,
                "{in_window} calls in the second from {start} ms"
            );
        }
        assert_eq!(limiter.waited().0, 21);
    }

    #[tokio::test(start_paused = true)]
    async fn one_deployments_calls_never_wait() {
        // Each call waits for the answer to the one before (45 ms on a real network): an even
        // pace of 9 a second would hold each ~65 ms more.
        let limiter = CallLimiter::default();
        let started = Instant::now();
        for _ in 0..8 {
            limiter.acquire().await;
            tokio::time::sleep(Duration::from_millis(45)).await;
        }
        assert_eq!(started.elapsed(), Duration::from_millis(8 * 45));
        assert_eq!(limiter.waited(), (0, Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_allows_a_full_window_again() {
        let limiter = CallLimiter::new(2);
        slots_of(&limiter, 3).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(slots_of(&limiter, 2).await, [0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_waits_for_the_calls_that_reserved_their_slot() {
        let limiter = CallLimiter::new(1);
        let started = Instant::now();
        limiter.acquire().await;
        let poll = tokio::spawn({
            let limiter = limiter.clone();
            async move {
                limiter.acquire_when_idle().await;
                started.elapsed()
            }
        });
        tokio::task::yield_now().await;
        // Three calls that move deployments forward arrive after the poll asked: they go first.
        assert_eq!(slots_of(&limiter, 3).await, [1000, 2000, 3000]);
        assert_eq!(poll.await.unwrap(), Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_lets_a_poll_through_at_once() {
        let limiter = CallLimiter::default();
        let started = Instant::now();
        limiter.acquire_when_idle().await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(limiter.waited(), (0, Duration::ZERO));
    }

    #[test]
    fn polls_are_told_by_their_action() {
        let request =
            |body: &'static str| HttpRequest::new(aws_smithy_types::body::SdkBody::from(body));
        assert!(is_poll(&request(
            "Action=DescribeStackEvents&Version=2010-05-15&StackName=s"
        )));
        assert!(is_poll(&request(
            "Action=DescribeChangeSet&Version=2010-05-15"
        )));
        assert!(!is_poll(&request(
            "Action=DescribeStacks&Version=2010-05-15&StackName=s"
        )));
        assert!(!is_poll(&request(
            "Action=ExecuteChangeSet&Version=2010-05-15"
        )));
        assert!(!is_poll(&request("")));
    }

    #[test]
    fn sites_of_one_account_share_a_limiter() {
        let limits = CallLimits::default();
        let a = limits.for_account("111111111111");
        let b = limits.for_account("111111111111");
        let c = limits.for_account("222222222222");
        assert!(Arc::ptr_eq(&a.slots, &b.slots));
        assert!(!Arc::ptr_eq(&a.slots, &c.slots));
    }
}
