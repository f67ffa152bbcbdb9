//! Stack events and waiting: [`EventCursor`] remembers what was already reported,
//! [`stream_events`] returns only new events, [`wait_stack`] polls until the stack settles.

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types as sdk;
use serde::Serialize;
use time::OffsetDateTime;

use super::limit::CallLimiter;
use super::{
    ChangeSetHandle, ChangeSetKind, Poller, StackInfo, WaitTimeout, describe_stack,
    is_missing_stack,
};
use crate::aws::error::describe;

/// The resource type CloudFormation uses for the stack's own events.
const STACK_RESOURCE_TYPE: &str = "AWS::CloudFormation::Stack";

/// One stack event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackEvent {
    pub event_id: String,
    pub stack_name: String,
    /// When it happened (UTC), if CloudFormation said.
    #[serde(serialize_with = "rfc3339")]
    pub timestamp: Option<OffsetDateTime>,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// e.g. `CREATE_COMPLETE`, `UPDATE_FAILED`.
    pub status: String,
    pub reason: Option<String>,
}

impl StackEvent {
    /// Whether this event is about the stack itself rather than one of its resources.
    pub fn is_stack_event(&self) -> bool {
        self.resource_type == STACK_RESOURCE_TYPE && self.logical_id == self.stack_name
    }

    /// Whether this event reports a failure (`*_FAILED`).
    pub fn is_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
    }

    /// Whether this failure only says CloudFormation stopped the resource because another one
    /// failed ("Resource creation cancelled"): a consequence, not the cause.
    pub fn is_cancellation(&self) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|reason| reason.contains("cancelled") || reason.contains("canceled"))
    }
}

impl fmt::Display for StackEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.logical_id, self.resource_type, self.status
        )?;
        if let Some(reason) = &self.reason {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

#[allow(clippy::ref_option)] // serde's `serialize_with` passes `&Option<T>`.
fn rfc3339<S: serde::Serializer>(at: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    }) {
        Some(text) => s.serialize_some(&text),
        None => s.serialize_none(),
    }
}

fn stack_event(event: &sdk::StackEvent) -> StackEvent {
    StackEvent {
        event_id: event.event_id().unwrap_or_default().to_owned(),
        stack_name: event.stack_name().unwrap_or_default().to_owned(),
        timestamp: event
            .timestamp()
            .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok()),
        logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: event.resource_type().unwrap_or_default().to_owned(),
        physical_id: event.physical_resource_id().map(str::to_owned),
        status: event
            .resource_status()
            .map_or_else(String::new, |s| s.as_str().to_owned()),
        reason: event.resource_status_reason().map(str::to_owned),
    }
}

/// Where [`stream_events`] left off: the id of every event already returned and of the newest one
/// before the cursor started (CloudFormation pages newest first, so a page read while new events arrive can
/// repeat the last event of the page before; the ids keep each event reported once).
#[derive(Debug, Clone, Default)]
pub struct EventCursor {
    /// Stack name or id to read events of. Use the id when the stack may be deleted meanwhile.
    pub stack: String,
    /// Ids of the events in `seen` and of the newest event before the cursor started.
    seen_ids: HashSet<String>,
    /// Ignore events older than this (used when no event id is known yet).
    since: Option<OffsetDateTime>,
    /// Every event returned so far, oldest first (failure reasons are read from here).
    pub seen: Vec<StackEvent>,
    /// Skip the stack's own `REVIEW_IN_PROGRESS` events: the stack was made by the change set
    /// about to be executed, so those are its only earlier events.
    skip_review: bool,
    /// CloudFormation calls made through this cursor (events pages, and the stack descriptions
    /// of [`wait_stack`]): the cost of following one operation, logged at `-v`.
    pub api_calls: u32,
}

/// At most this many pages are read per poll; older events are history, not news.
const MAX_EVENT_PAGES: usize = 20;

impl EventCursor {
    /// A cursor positioned after the newest existing event (one `DescribeStackEvents` call), so
    /// only events of the operation about to start are reported. A missing stack has none.
    pub async fn after_latest(cfn: &Client, stack: &str) -> anyhow::Result<Self> {
        let mut cursor = EventCursor {
            stack: stack.to_owned(),
            ..EventCursor::default()
        };
        cursor.api_calls += 1;
        match cfn.describe_stack_events().stack_name(stack).send().await {
            Ok(page) => {
                // Older events are history: reaching the newest one ends every read.
                cursor.seen_ids.extend(
                    page.stack_events()
                        .first()
                        .and_then(|e| e.event_id())
                        .map(str::to_owned),
                );
            }
            Err(error) if is_missing_stack(&error) => {}
            Err(error) => {
                return Err(describe(error))
                    .with_context(|| format!("reading the events of stack {stack}"));
            }
        }
        Ok(cursor)
    }

    /// The cursor to follow the execution of `handle`'s change set: for an update, after the
    /// newest existing event ([`EventCursor::after_latest`]); for a creation, every event but the
    /// stack's `REVIEW_IN_PROGRESS` (the change set made the stack, and that is its only earlier
    /// event), so no call is needed.
    pub async fn before_execution(cfn: &Client, handle: &ChangeSetHandle) -> anyhow::Result<Self> {
        match handle.kind {
            ChangeSetKind::Update => Self::after_latest(cfn, &handle.stack_id).await,
            ChangeSetKind::Create => Ok(EventCursor {
                stack: handle.stack_id.clone(),
                skip_review: true,
                ..EventCursor::default()
            }),
        }
    }

    /// A cursor that reports events from `since` on (no call needed).
    pub fn since(stack: &str, since: OffsetDateTime) -> Self {
        EventCursor {
            stack: stack.to_owned(),
            since: Some(since),
            ..EventCursor::default()
        }
    }

    /// The failure events seen so far (resource `*_FAILED` with their reasons), oldest first.
    pub fn failures(&self) -> Vec<&StackEvent> {
        self.seen.iter().filter(|e| e.is_failure()).collect()
    }

    /// The failure that caused the others: the oldest failed resource whose reason is its own
    /// (not "Resource creation cancelled", not the stack's summary "The following resource(s)
    /// failed to create: \[Bucket\]"). CloudFormation gives the real reason only on that
    /// resource's own event.
    pub fn root_cause(&self) -> Option<&StackEvent> {
        let resources = || {
            self.seen
                .iter()
                .filter(|e| e.is_failure() && !e.is_stack_event())
        };
        resources()
            .find(|e| !e.is_cancellation())
            .or_else(|| resources().next())
    }
}

/// `DescribeStackEvents` since the cursor: the new events, oldest first, each exactly once.
///
/// CloudFormation answers newest first, a page at a time (`NextToken`), and the events of one
/// operation may span pages. This follows the pages until it reaches an event already reported
/// (or one from before the cursor's start), skipping an event a later page repeats (pages shift
/// when events arrive between two reads). A stack that does not exist has no events.
pub async fn stream_events(
    cfn: &Client,
    cursor: &mut EventCursor,
) -> anyhow::Result<Vec<StackEvent>> {
    let mut fresh = Vec::new();
    let mut skipped = Vec::new();
    let mut token = None;
    'pages: for _ in 0..MAX_EVENT_PAGES {
        cursor.api_calls += 1;
        let page = match cfn
            .describe_stack_events()
            .stack_name(&cursor.stack)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => page,
            Err(error) if is_missing_stack(&error) => break,
            Err(error) => {
                return Err(describe(error))
                    .with_context(|| format!("reading the events of stack {}", cursor.stack));
            }
        };
        for event in page.stack_events() {
            let event = stack_event(event);
            if cursor.seen_ids.contains(&event.event_id) {
                // Everything older was reported by an earlier call.
                break 'pages;
            }
            if fresh
                .iter()
                .any(|e: &StackEvent| e.event_id == event.event_id)
            {
                // Repeated across a page boundary.
                continue;
            }
            if let (Some(since), Some(at)) = (cursor.since, event.timestamp)
                && at < since
            {
                break 'pages;
            }
            if cursor.skip_review && event.is_stack_event() && event.status == "REVIEW_IN_PROGRESS"
            {
                // Before the execution: later reads stop here.
                skipped.push(event.event_id);
                continue;
            }
            fresh.push(event);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    fresh.reverse();
    cursor.seen_ids.extend(skipped);
    cursor
        .seen_ids
        .extend(fresh.iter().map(|e| e.event_id.clone()));
    cursor.seen.extend(fresh.iter().cloned());
    Ok(fresh)
}

/// Every how many polls [`wait_stack`] checks `DescribeStacks` even without a stack-level event
/// (a safety net: events are the cheap signal, the stack status is the truth) …
const DESCRIBE_EVERY: u32 = 6;

/// … but not more often than this: a fleet whose polls are spaced by the CloudFormation budget
/// would otherwise spend a call a site on it (the polls of one long wait stay far apart anyway).
const DESCRIBE_AFTER: Duration = Duration::from_mins(1);

/// Wait until the stack's operation has finished, reporting each new event to `on_event`.
///
/// Each poll is one `DescribeStackEvents` call; `DescribeStacks` is called only when a stack-level
/// event says the operation ended (and every few polls as a safety net), so a waited stack costs
/// about one call per poll. Returns the settled stack, or `None` once it is gone (deleted: pass
/// the stack id in the cursor to get `DELETE_COMPLETE` instead). Times out with [`WaitTimeout`].
pub async fn wait_stack(
    cfn: &Client,
    cursor: &mut EventCursor,
    region: &str,
    poller: Poller,
    learned: &CallLimiter,
    on_event: &mut (dyn FnMut(&StackEvent) + Send),
) -> anyhow::Result<Option<StackInfo>> {
    let mut clock = poller.start();
    let mut polls: u32 = 0;
    let mut last_status = String::from("UNKNOWN");
    // The kind of operation waited for (`CREATE`, `UPDATE`, `DELETE`), from its first
    // stack-level event.
    let mut operation: Option<String> = None;
    loop {
        let fresh = stream_events(cfn, cursor).await?;
        for event in &fresh {
            on_event(event);
        }
        let ended = fresh
            .iter()
            .any(|e| e.is_stack_event() && !e.status.ends_with("_IN_PROGRESS"));
        if operation.is_none() {
            operation = fresh
                .iter()
                .find(|e| e.is_stack_event() && e.status.ends_with("_IN_PROGRESS"))
                .and_then(|e| e.status.split('_').next())
                .map(str::to_owned);
        }
        if let Some(stack_event) = fresh.iter().rev().find(|e| e.is_stack_event()) {
            last_status.clone_from(&stack_event.status);
        }
        polls += 1;
        // Not on the first poll: right after an operation starts the stack is always busy.
        // Back-to-back polls (tests) keep no time: the count alone decides there.
        let described_late = clock.waited() >= DESCRIBE_AFTER || poller.max_interval.is_zero();
        if ended || (polls.is_multiple_of(DESCRIBE_EVERY) && described_late) {
            cursor.api_calls += 1;
            match describe_stack(cfn, &cursor.stack).await? {
                None => return Ok(None),
                Some(info) if !info.status.is_in_progress() => {
                    if let Some(kind) = &operation
                        && info.status_name == format!("{kind}_COMPLETE")
                    {
                        learned.note_operation(kind, clock.waited());
                    }
                    return Ok(Some(info));
                }
                Some(info) => last_status = info.status_name,
            }
        }
        if clock.expired() {
            return Err(WaitTimeout {
                what: "the operation",
                stack: super::stack_name_of(&cursor.stack).to_owned(),
                region: region.to_owned(),
                status: last_status,
                waited_secs: clock.waited_secs(),
                limit_secs: poller.max_wait.as_secs(),
            }
            .into());
        }
        let pause = learned_pause(
            clock.next_interval(),
            clock.waited(),
            operation
                .as_deref()
                .and_then(|kind| learned.shortest_operation(kind)),
        );
        tokio::time::sleep(pause.min(clock.remaining())).await;
    }
}

/// How close to the end of the shortest operation of its kind seen in this account a wait first
/// polls again (a margin for operations a little faster than that one).
const LEARNED_LEAD: f64 = 0.9;

/// Polls after the learned point come at most this far apart, so the end is seen soon.
const LEARNED_POLL: Duration = Duration::from_secs(2);

/// The pause before the next poll of a wait that has lasted `waited`, given the schedule's next
/// interval and the shortest completed operation of its kind in this account. A fleet's sites
/// do the same operation, so once one has finished, the others need not spend the account's call
/// budget asking before theirs could: they sleep until shortly before that point, then poll
/// often. Without such a figure (the first of its kind, every single run) the schedule is
/// unchanged. An operation at least [`LEARNED_LEAD`] as long as the shortest one is seen at most
/// [`LEARNED_POLL`] late; a faster one is seen at the lead point, and then shortens the lead of
/// the waits after it.
fn learned_pause(scheduled: Duration, waited: Duration, shortest: Option<Duration>) -> Duration {
    let Some(shortest) = shortest else {
        return scheduled;
    };
    let lead = shortest.mul_f64(LEARNED_LEAD);
    match lead.checked_sub(waited) {
        Some(until_lead) if scheduled < until_lead => until_lead,
        _ => scheduled.min(LEARNED_POLL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn without_a_learned_duration_the_schedule_is_unchanged() {
        for (scheduled, waited) in [(secs(1), secs(0)), (secs(10), secs(45))] {
            assert_eq!(learned_pause(scheduled, waited, None), scheduled);
        }
    }

    #[test]
    fn a_learned_duration_skips_the_polls_before_it_then_polls_often() {
        let shortest = Some(secs(60));
        // 0.9 x 60 s = 54 s: the first pause sleeps straight to it …
        assert_eq!(learned_pause(secs(1), secs(1), shortest), secs(53));
        assert_eq!(learned_pause(secs(8), secs(15), shortest), secs(39));
        // … and from there the polls come at most 2 s apart, sooner if the schedule says so.
        assert_eq!(learned_pause(secs(10), secs(54), shortest), secs(2));
        assert_eq!(
            learned_pause(Duration::from_millis(500), secs(54), shortest),
            Duration::from_millis(500)
        );
        // A pause that reaches the lead point anyway stays as short as it was, at most 2 s.
        assert_eq!(learned_pause(secs(10), secs(50), shortest), secs(2));
    }

    #[test]
    fn the_learned_duration_is_the_shortest_of_its_kind_in_the_account() {
        let limiter = CallLimiter::default();
        assert_eq!(limiter.shortest_operation("CREATE"), None);
        limiter.note_operation("CREATE", secs(70));
        limiter.note_operation("CREATE", secs(60));
        limiter.note_operation("CREATE", secs(65));
        limiter.note_operation("DELETE", secs(20));
        assert_eq!(limiter.shortest_operation("CREATE"), Some(secs(60)));
        assert_eq!(limiter.shortest_operation("DELETE"), Some(secs(20)));
        assert_eq!(limiter.shortest_operation("UPDATE"), None);
        // Shared by every clone (every site of the account).
        let site = limiter.clone();
        site.note_operation("UPDATE", secs(5));
        assert_eq!(limiter.shortest_operation("UPDATE"), Some(secs(5)));
    }
}
