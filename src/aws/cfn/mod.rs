//! CloudFormation primitives as domain types: stacks ([`describe_stack`] → [`StackInfo`] with a
//! classified [`StackStatus`]), change sets ([`start_change_set`], [`wait_change_set`] →
//! [`ChangeSetOutcome`]), stack events ([`EventCursor`], [`stream_events`]) and waiting
//! ([`wait_stack`], driven by an injectable [`Poller`]).
//!
//! "Stack does not exist" and "no changes" are normal outcomes (`None`, [`ChangeSetOutcome::NoChanges`]),
//! not errors, so callers stay idempotent. Nothing here prints, asks or decides policy (ownership,
//! confirmation, what to do in which state): that is the deployment engine's job
//! (`ops::engine`). Every AWS error is rendered `Code: message` with context naming the stack.

mod change_set;
mod events;
pub mod limit;

pub use change_set::*;
pub use events::*;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{self as sdk, TemplateStage};
use serde::Serialize;
// Tokio's clock, not the OS's: a paused test runtime (and the fleet simulation) then drives
// every wait in virtual time.
use tokio::time::Instant;

use super::error::describe;

/// How often to poll a long-running CloudFormation operation, and for how long (STYLE 12).
///
/// The first poll happens at once; after it the interval starts at `first` and doubles up to
/// `max_interval`. Waiting gives up after `max_wait` (`--timeout`). Every pause and deadline is
/// kept on tokio's clock, so a test (or the fleet simulation) on a paused runtime runs the
/// production schedule in virtual time; [`Poller::immediate`] polls back to back instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poller {
    /// Interval after the first (immediate) poll.
    pub first: Duration,
    /// Longest interval between polls.
    pub max_interval: Duration,
    /// Give up after this long.
    pub max_wait: Duration,
}

/// The longest pause between two polls of a stack operation.
const STACK_POLL_CAP: Duration = Duration::from_secs(10);

impl Poller {
    /// Stack operations: ≈0.5 s at first, backing off to 10 s, so a stack that takes a minute
    /// costs about 10 polls (a fleet of 50 such stacks in one account then stays within
    /// CloudFormation's call budget: `examples/fleet_sim.rs`).
    pub fn stack(max_wait: Duration) -> Self {
        Poller {
            first: Duration::from_millis(500),
            max_interval: STACK_POLL_CAP,
            max_wait,
        }
    }

    /// Change-set creation: usually done within a second or two, so the first pause is short
    /// (≈0.2 s: on a real network a change set for a small template is often computed by then)
    /// and the backoff stops at 2 s.
    pub fn change_set(max_wait: Duration) -> Self {
        Poller {
            first: Duration::from_millis(200),
            max_interval: Duration::from_secs(2),
            max_wait,
        }
    }

    /// No sleeping at all (tests): poll back to back until `max_wait` has passed.
    pub fn immediate(max_wait: Duration) -> Self {
        Poller {
            first: Duration::ZERO,
            max_interval: Duration::ZERO,
            max_wait,
        }
    }

    /// The successive sleep intervals: `first`, doubling, capped at `max_interval`.
    pub(crate) fn intervals(self) -> impl Iterator<Item = Duration> + Send + 'static {
        std::iter::successors(Some(self.first), move |previous| {
            Some((*previous * 2).min(self.max_interval))
        })
    }

    /// Start one wait under this schedule.
    pub(crate) fn start(self) -> PollClock {
        PollClock {
            max_wait: self.max_wait,
            started: Instant::now(),
            intervals: Box::new(self.intervals()),
        }
    }
}

/// One wait under a [`Poller`]: whether it has run out of time, and the next pause. Every
/// polling loop (stack operations, change sets, drift detection) keeps its time with one.
pub(crate) struct PollClock {
    max_wait: Duration,
    started: Instant,
    intervals: Box<dyn Iterator<Item = Duration> + Send>,
}

impl PollClock {
    /// Whether the wait has used up the poller's `max_wait`.
    pub(crate) fn expired(&self) -> bool {
        self.started.elapsed() >= self.max_wait
    }

    /// How long the wait has lasted.
    pub(crate) fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whole seconds waited so far.
    pub(crate) fn waited_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Sleep for the next interval of the schedule.
    pub(crate) async fn pause(&mut self) {
        let interval = self.next_interval();
        sleep(interval).await;
    }

    /// The next interval of the schedule.
    pub(crate) fn next_interval(&mut self) -> Duration {
        // The schedule never ends; the fallback only keeps this total.
        self.intervals.next().unwrap_or(Duration::ZERO)
    }

    /// What is left of the poller's `max_wait`.
    pub(crate) fn remaining(&self) -> Duration {
        self.max_wait.saturating_sub(self.started.elapsed())
    }
}

/// A wait that ran out of time. The operation itself continues inside CloudFormation.
#[derive(Debug, thiserror::Error)]
#[error(
    "gave up waiting for {what} of stack {stack} after {waited_secs} s (still {status}; --timeout {limit_secs} s). The operation continues inside CloudFormation: check it with `aws cloudformation describe-stacks --stack-name {stack} --region {region}` and rerun when it has finished, or raise --timeout"
)]
pub struct WaitTimeout {
    pub what: &'static str,
    pub stack: String,
    pub region: String,
    pub status: String,
    pub waited_secs: u64,
    pub limit_secs: u64,
}

/// A stack status, classified by what the tool can do with a stack in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackStatus {
    /// Settled and updatable: `CREATE_COMPLETE`, `UPDATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`,
    /// `IMPORT_COMPLETE`, `IMPORT_ROLLBACK_COMPLETE`.
    Complete,
    /// An operation is running (`*_IN_PROGRESS` except `REVIEW_IN_PROGRESS`): wait for it.
    InProgress,
    /// Creation failed and was rolled back: the stack can only be deleted.
    RollbackComplete,
    /// Creation failed without rollback: the stack can only be deleted.
    CreateFailed,
    /// Created by a CREATE change set that was never executed: no resources, only deletable.
    ReviewInProgress,
    /// Deleted (seen only when describing by stack id).
    DeleteComplete,
    /// Stuck and needs a person: `UPDATE_ROLLBACK_FAILED`, `DELETE_FAILED`, `ROLLBACK_FAILED`,
    /// `UPDATE_FAILED`, `IMPORT_ROLLBACK_FAILED`, or a status this version does not know.
    Failed,
}

impl StackStatus {
    /// Classify the SDK's status.
    pub fn classify(status: &sdk::StackStatus) -> Self {
        Self::classify_name(status.as_str())
    }

    /// Classify a status name such as `UPDATE_ROLLBACK_COMPLETE`.
    pub fn classify_name(name: &str) -> Self {
        match name {
            "ROLLBACK_COMPLETE" => StackStatus::RollbackComplete,
            "CREATE_FAILED" => StackStatus::CreateFailed,
            "REVIEW_IN_PROGRESS" => StackStatus::ReviewInProgress,
            "DELETE_COMPLETE" => StackStatus::DeleteComplete,
            _ if name.ends_with("_IN_PROGRESS") => StackStatus::InProgress,
            _ if name.ends_with("_COMPLETE") => StackStatus::Complete,
            _ => StackStatus::Failed,
        }
    }

    /// Whether an operation is still running, so a waiter must keep polling.
    pub fn is_in_progress(self) -> bool {
        self == StackStatus::InProgress
    }
}

/// The stack output the template declares for the bucket's name. The stack, not the config, says
/// which bucket exists: the config may have been edited since.
pub const BUCKET_NAME_OUTPUT: &str = "BucketName";

/// What `DescribeStacks` says about one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackInfo {
    /// The stack ARN; stays valid (and describable) after deletion.
    pub stack_id: String,
    pub name: String,
    /// The classification of [`StackInfo::status_name`].
    pub status: StackStatus,
    /// The raw status, e.g. `UPDATE_ROLLBACK_COMPLETE`.
    pub status_name: String,
    pub status_reason: Option<String>,
    /// Outputs by key (`BucketName`, `BucketArn`, …).
    pub outputs: BTreeMap<String, String>,
    /// Stack tags by key.
    pub tags: BTreeMap<String, String>,
}

impl StackInfo {
    /// The value of tag `key`, if the stack has it.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// The value of output `key`, if the stack has it.
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs.get(key).map(String::as_str)
    }

    /// The bucket the stack made (its [`BUCKET_NAME_OUTPUT`] output), if it reports one.
    pub fn bucket_name(&self) -> Option<&str> {
        self.output(BUCKET_NAME_OUTPUT)
    }
}

/// `DescribeStacks` for one stack by name or id. A missing stack is `Ok(None)`.
pub async fn describe_stack(cfn: &Client, stack: &str) -> anyhow::Result<Option<StackInfo>> {
    let response = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(response) => response,
        Err(error) if is_missing_stack(&error) => return Ok(None),
        Err(error) => {
            return Err(describe(error)).with_context(|| format!("describing stack {stack}"));
        }
    };
    Ok(response.stacks().first().map(stack_info))
}

fn stack_info(stack: &sdk::Stack) -> StackInfo {
    let status_name = stack
        .stack_status()
        .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned());
    StackInfo {
        stack_id: stack.stack_id().unwrap_or_default().to_owned(),
        name: stack.stack_name().unwrap_or_default().to_owned(),
        status: StackStatus::classify_name(&status_name),
        status_name,
        status_reason: stack.stack_status_reason().map(str::to_owned),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        tags: stack
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
    }
}

/// CloudFormation reports a missing stack as `ValidationError: Stack with id X does not exist`.
pub(crate) fn is_missing_stack<E, R>(error: &aws_sdk_cloudformation::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata,
{
    match error {
        aws_sdk_cloudformation::error::SdkError::ServiceError(service) => {
            service.err().code() == Some("ValidationError")
                && service
                    .err()
                    .message()
                    .is_some_and(|m| m.contains("does not exist"))
        }
        _ => false,
    }
}

/// The deployed template body (`GetTemplate`, original stage), or `None` when the stack does
/// not exist or has no template yet (`REVIEW_IN_PROGRESS`).
pub async fn get_template(cfn: &Client, stack: &str) -> anyhow::Result<Option<String>> {
    match cfn
        .get_template()
        .stack_name(stack)
        .template_stage(TemplateStage::Original)
        .send()
        .await
    {
        Ok(response) => Ok(response
            .template_body()
            .filter(|body| !body.is_empty() && *body != "{}")
            .map(str::to_owned)),
        Err(error) if is_missing_stack(&error) => Ok(None),
        Err(error) => {
            Err(describe(error)).with_context(|| format!("reading the template of stack {stack}"))
        }
    }
}

/// `DeleteStack` by name or id. Idempotent: deleting a missing stack succeeds (AWS does the same).
pub async fn delete_stack(cfn: &Client, stack: &str) -> anyhow::Result<()> {
    match cfn.delete_stack().stack_name(stack).send().await {
        Ok(_) => Ok(()),
        Err(error) if is_missing_stack(&error) => Ok(()),
        Err(error) => Err(describe(error)).with_context(|| format!("deleting stack {stack}")),
    }
}

/// The stack name inside a stack id (`arn:…:stack/NAME/uuid`), or the text itself: commands
/// suggested to people read better with names.
pub fn stack_name_of(stack: &str) -> &str {
    stack
        .strip_prefix("arn:")
        .and_then(|rest| rest.split('/').nth(1))
        .unwrap_or(stack)
}

/// Sleep between polls; a zero interval still yields.
pub(crate) async fn sleep(interval: Duration) {
    if interval.is_zero() {
        // Still yield, so a zero-interval loop cannot starve a racing Ctrl-C handler.
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_by_what_can_be_done() {
        for (name, class) in [
            ("CREATE_COMPLETE", StackStatus::Complete),
            ("UPDATE_COMPLETE", StackStatus::Complete),
            ("UPDATE_ROLLBACK_COMPLETE", StackStatus::Complete),
            ("IMPORT_ROLLBACK_COMPLETE", StackStatus::Complete),
            ("CREATE_IN_PROGRESS", StackStatus::InProgress),
            (
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                StackStatus::InProgress,
            ),
            ("DELETE_IN_PROGRESS", StackStatus::InProgress),
            ("REVIEW_IN_PROGRESS", StackStatus::ReviewInProgress),
            ("ROLLBACK_COMPLETE", StackStatus::RollbackComplete),
            ("CREATE_FAILED", StackStatus::CreateFailed),
            ("DELETE_COMPLETE", StackStatus::DeleteComplete),
            ("UPDATE_ROLLBACK_FAILED", StackStatus::Failed),
            ("DELETE_FAILED", StackStatus::Failed),
            ("ROLLBACK_FAILED", StackStatus::Failed),
            ("SOMETHING_NEW", StackStatus::Failed),
        ] {
            assert_eq!(StackStatus::classify_name(name), class, "{name}");
        }
        assert_eq!(
            StackStatus::classify(&sdk::StackStatus::UpdateRollbackInProgress),
            StackStatus::InProgress
        );
    }

    /// The wait keeps tokio's time, so a paused runtime runs the production schedule in virtual
    /// time: a minute-long wait is 10 pauses (0.5 + 1 + 2 + 4 + 8 s, then 10 s each), not a busy loop
    /// that an OS clock (which a paused runtime does not move) would never let expire.
    #[tokio::test(start_paused = true)]
    async fn a_wait_runs_its_schedule_in_virtual_time() {
        let started = Instant::now();
        let mut clock = Poller::stack(Duration::from_mins(1)).start();
        let mut pauses = 0;
        while !clock.expired() {
            clock.pause().await;
            pauses += 1;
            assert!(pauses <= 10, "the wait did not expire on the virtual clock");
        }
        assert_eq!(pauses, 10);
        assert_eq!(started.elapsed(), Duration::from_millis(65_500));
        assert_eq!(clock.waited_secs(), 65);
    }

    #[test]
    fn polling_backs_off_from_half_a_second_to_the_cap() {
        let intervals: Vec<u64> = Poller::stack(Duration::from_mins(1))
            .intervals()
            .take(6)
            .map(|d| u64::try_from(d.as_millis()).unwrap())
            .collect();
        assert_eq!(intervals, [500, 1000, 2000, 4000, 8000, 10_000]);
        let change_set: Vec<u64> = Poller::change_set(Duration::from_mins(1))
            .intervals()
            .take(6)
            .map(|d| u64::try_from(d.as_millis()).unwrap())
            .collect();
        assert_eq!(change_set, [200, 400, 800, 1600, 2000, 2000]);
        assert!(
            Poller::immediate(Duration::from_secs(1))
                .intervals()
                .take(3)
                .all(|d| d.is_zero())
        );
    }
}
