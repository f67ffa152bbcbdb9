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
    on_event: &mut (dyn FnMut(&StackEvent) + Send),
) -> anyhow::Result<Option<StackInfo>> {
    let mut clock = poller.start();
    let mut polls: u32 = 0;
    let mut last_status = String::from("UNKNOWN");
    loop {
        let fresh = stream_events(cfn, cursor).await?;
        for event in &fresh {
            on_event(event);
        }
        let ended = fresh
            .iter()
            .any(|e| e.is_stack_event() && !e.status.ends_with("_IN_PROGRESS"));
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
                Some(info) if !info.status.is_in_progress() => return Ok(Some(info)),
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
        clock.pause().await;
    }
}
