//! Change sets: create ([`start_change_set`]), wait until computed
//! ([`wait_change_set`] → [`ChangeSetOutcome`]), execute and delete. "No changes" is an outcome,
//! not an error.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    self as sdk, ChangeSetStatus, ChangeSetType, DeploymentMode, Tag,
};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Poller, WaitTimeout, is_missing_stack};
use crate::aws::error::{code, describe};

/// Whether a change set creates a new stack or updates an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeSetKind {
    /// The stack does not exist; CreateChangeSet makes it in `REVIEW_IN_PROGRESS`.
    Create,
    Update,
}

/// What to put in a change set.
#[derive(Debug, Clone)]
pub struct ChangeSetRequest<'a> {
    pub stack_name: &'a str,
    pub template_body: &'a str,
    /// Stack tags (propagated by CloudFormation to every resource that supports tags).
    pub tags: &'a BTreeMap<String, String>,
    pub kind: ChangeSetKind,
    /// Shown in the console next to the change set.
    pub description: &'a str,
    /// Ask for a drift-aware change set (`DeploymentMode=REVERT_DRIFT`): it also puts properties
    /// changed outside CloudFormation back to the template's values. Updates only.
    pub revert_drift: bool,
}

/// A change set that CloudFormation accepted: what [`start_change_set`] returns, and what
/// [`delete_change_set`] and [`execute_change_set`] take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSetHandle {
    /// Change-set ARN.
    pub id: String,
    /// Stack ARN (for a CREATE change set: the new `REVIEW_IN_PROGRESS` stack).
    pub stack_id: String,
    pub stack_name: String,
    pub kind: ChangeSetKind,
    /// CloudFormation computed it as a drift-aware change set (DescribeChangeSet reported
    /// `DeploymentMode` `REVERT_DRIFT`). Known once [`wait_change_set`] has read it; an endpoint
    /// that ignores the mode leaves it false.
    pub drift_aware: bool,
}

/// How a change set turned out once CloudFormation finished computing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    /// Computed, with at least one change; can be executed.
    Ready(ChangeSetDetails),
    /// The stack already matches: nothing to do. The (failed) change set still exists; delete it.
    NoChanges(ChangeSetHandle),
    /// CloudFormation rejected it (invalid template, missing permission …). Delete it.
    Failed {
        handle: ChangeSetHandle,
        reason: String,
    },
}

impl ChangeSetOutcome {
    /// The change set, whichever way it turned out.
    pub fn handle(&self) -> &ChangeSetHandle {
        match self {
            ChangeSetOutcome::Ready(details) => &details.handle,
            ChangeSetOutcome::NoChanges(handle) | ChangeSetOutcome::Failed { handle, .. } => handle,
        }
    }
}

/// A computed change set and its resource changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSetDetails {
    pub handle: ChangeSetHandle,
    pub changes: Vec<ResourceChange>,
}

/// What a change set does to a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeAction {
    Add,
    Modify,
    Remove,
    Import,
    Dynamic,
    /// An action this version does not know, by its AWS name.
    Other(String),
}

/// Whether a modification replaces the resource (a new physical resource, the old one deleted
/// or, with `Retain`, left behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replacement {
    No,
    Conditional,
    Yes,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub action: ChangeAction,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// Set for modifications.
    pub replacement: Option<Replacement>,
    pub details: Vec<PropertyChange>,
    /// Drift-aware change sets only: the resource's drift (`MODIFIED`, `IN_SYNC`, `DELETED` …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_status: Option<String>,
}

impl ResourceChange {
    /// Whether applying this change would delete or replace something.
    pub fn is_destructive(&self) -> bool {
        matches!(self.action, ChangeAction::Remove)
            || matches!(
                self.replacement,
                Some(Replacement::Yes | Replacement::Conditional)
            )
    }
}

/// One changed property (or tag set, or metadata) of a resource. Values are known only when
/// CloudFormation supports `IncludePropertyValues` for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyChange {
    /// `Properties`, `Tags`, `Metadata` ….
    pub attribute: String,
    /// The property name, e.g. `VersioningConfiguration`.
    pub name: Option<String>,
    /// JSON-pointer-like path to the changed value, e.g. `/Properties/Tags/1/Value`.
    pub path: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// `Never`, `Conditionally`, `Always`.
    pub requires_recreation: Option<String>,
    /// Drift-aware change sets only, for a property changed outside CloudFormation: its live
    /// value (then also `before`) and the value the last deployment gave it. `after` is the
    /// template's value it is put back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<PropertyDrift>,
}

/// A property's drift, as a drift-aware change set reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDrift {
    /// The live value.
    pub actual: Option<String>,
    /// The value of the previous deployment.
    pub previous: Option<String>,
}

/// A unique, valid change-set name (`[A-Za-z][-A-Za-z0-9]*`): the tool prefix, the time and a
/// random suffix, so concurrent runs never collide.
pub fn change_set_name() -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    format!("s3-provisioner-{now}-{:06x}", fastrand::u32(..0x0100_0000))
}

/// `CreateChangeSet` named `name` (from [`change_set_name`]) without waiting: returns as soon as
/// CloudFormation accepted the request. The caller chooses the name first so that it can clean
/// up a change set whose request was abandoned mid-flight.
pub async fn start_change_set(
    cfn: &Client,
    request: &ChangeSetRequest<'_>,
    name: &str,
) -> anyhow::Result<ChangeSetHandle> {
    let tags: Vec<Tag> = request
        .tags
        .iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect();
    let response = cfn
        .create_change_set()
        .stack_name(request.stack_name)
        .change_set_name(name)
        .change_set_type(match request.kind {
            ChangeSetKind::Create => ChangeSetType::Create,
            ChangeSetKind::Update => ChangeSetType::Update,
        })
        .template_body(request.template_body)
        .set_tags(Some(tags))
        .description(request.description)
        .set_deployment_mode(request.revert_drift.then_some(DeploymentMode::RevertDrift))
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("creating a change set for stack {}", request.stack_name))?;
    Ok(ChangeSetHandle {
        id: response.id().unwrap_or_default().to_owned(),
        stack_id: response.stack_id().unwrap_or_default().to_owned(),
        stack_name: request.stack_name.to_owned(),
        kind: request.kind,
        drift_aware: false,
    })
}

/// Poll `DescribeChangeSet` until the change set is computed, then read every page of its
/// changes with property values. "The submitted information didn't contain changes" is
/// [`ChangeSetOutcome::NoChanges`], not a failure.
pub async fn wait_change_set(
    cfn: &Client,
    mut handle: ChangeSetHandle,
    region: &str,
    poller: Poller,
) -> anyhow::Result<ChangeSetOutcome> {
    let mut clock = poller.start();
    loop {
        let page = describe_change_set_page(cfn, &handle, None).await?;
        handle.drift_aware = page.deployment_mode() == Some(&DeploymentMode::RevertDrift);
        let status = page.status().cloned();
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                let changes = read_changes(cfn, &handle, page).await?;
                return Ok(ChangeSetOutcome::Ready(ChangeSetDetails {
                    handle,
                    changes,
                }));
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = page.status_reason().unwrap_or("no reason given").to_owned();
                return Ok(if is_no_changes_reason(&reason) {
                    ChangeSetOutcome::NoChanges(handle)
                } else {
                    ChangeSetOutcome::Failed { handle, reason }
                });
            }
            other => {
                if clock.expired() {
                    return Err(WaitTimeout {
                        what: "the change set",
                        stack: handle.stack_name.clone(),
                        region: region.to_owned(),
                        status: other
                            .map_or_else(|| "UNKNOWN".to_owned(), |s| s.as_str().to_owned()),
                        waited_secs: clock.waited_secs(),
                        limit_secs: poller.max_wait.as_secs(),
                    }
                    .into());
                }
                clock.pause().await;
            }
        }
    }
}

fn is_no_changes_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

async fn describe_change_set_page(
    cfn: &Client,
    handle: &ChangeSetHandle,
    next_token: Option<String>,
) -> anyhow::Result<aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput>
{
    cfn.describe_change_set()
        .change_set_name(&handle.id)
        .stack_name(&handle.stack_id)
        .include_property_values(true)
        .set_next_token(next_token)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("reading the change set for stack {}", handle.stack_name))
}

async fn read_changes(
    cfn: &Client,
    handle: &ChangeSetHandle,
    first: aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
) -> anyhow::Result<Vec<ResourceChange>> {
    let mut changes: Vec<ResourceChange> =
        first.changes().iter().filter_map(resource_change).collect();
    let mut token = first.next_token().map(str::to_owned);
    while let Some(next) = token {
        let page = describe_change_set_page(cfn, handle, Some(next)).await?;
        changes.extend(page.changes().iter().filter_map(resource_change));
        token = page.next_token().map(str::to_owned);
    }
    Ok(changes)
}

fn resource_change(change: &sdk::Change) -> Option<ResourceChange> {
    let rc = change.resource_change()?;
    let action = match rc.action() {
        Some(sdk::ChangeAction::Add) => ChangeAction::Add,
        Some(sdk::ChangeAction::Modify) => ChangeAction::Modify,
        Some(sdk::ChangeAction::Remove) => ChangeAction::Remove,
        Some(sdk::ChangeAction::Import) => ChangeAction::Import,
        Some(sdk::ChangeAction::Dynamic) => ChangeAction::Dynamic,
        Some(other) => ChangeAction::Other(other.as_str().to_owned()),
        None => ChangeAction::Other("UNKNOWN".to_owned()),
    };
    // A value this version does not know is taken as "may replace": it is read to guard data.
    let replacement = rc.replacement().map(|r| match r {
        sdk::Replacement::True => Replacement::Yes,
        sdk::Replacement::False => Replacement::No,
        _ => Replacement::Conditional,
    });
    // `PolicyAction: ReplaceAnd…` says "replaced" even where `Replacement` is missing.
    let replacement = match rc.policy_action() {
        Some(
            sdk::PolicyAction::ReplaceAndDelete
            | sdk::PolicyAction::ReplaceAndRetain
            | sdk::PolicyAction::ReplaceAndSnapshot,
        ) => Some(Replacement::Yes),
        _ => replacement,
    };
    let details = rc
        .details()
        .iter()
        .filter_map(|detail| {
            let target = detail.target()?;
            Some(PropertyChange {
                attribute: target
                    .attribute()
                    .map_or_else(|| "Properties".to_owned(), |a| a.as_str().to_owned()),
                name: target.name().map(str::to_owned),
                path: target.path().map(str::to_owned),
                before: target.before_value().map(str::to_owned),
                after: target.after_value().map(str::to_owned),
                requires_recreation: target.requires_recreation().map(|r| r.as_str().to_owned()),
                drift: target.drift().map(|drift| PropertyDrift {
                    actual: drift.actual_value().map(str::to_owned),
                    previous: drift.previous_value().map(str::to_owned),
                }),
            })
        })
        .collect();
    Some(ResourceChange {
        action,
        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
        physical_id: rc.physical_resource_id().map(str::to_owned),
        replacement,
        details,
        drift_status: rc
            .resource_drift_status()
            .map(|status| status.as_str().to_owned()),
    })
}

/// `ExecuteChangeSet`: start the stack operation. Follow it with [`super::wait_stack`].
pub async fn execute_change_set(cfn: &Client, handle: &ChangeSetHandle) -> anyhow::Result<()> {
    cfn.execute_change_set()
        .change_set_name(&handle.id)
        .stack_name(&handle.stack_id)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("executing the change set for stack {}", handle.stack_name))?;
    Ok(())
}

/// `DeleteChangeSet`. Idempotent: a change set that is already gone is fine.
pub async fn delete_change_set(cfn: &Client, handle: &ChangeSetHandle) -> anyhow::Result<()> {
    match cfn
        .delete_change_set()
        .change_set_name(&handle.id)
        .stack_name(&handle.stack_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(error)
            if code(&error) == Some("ChangeSetNotFound") || is_missing_stack(&error) =>
        {
            Ok(())
        }
        Err(error) => Err(describe(error)).with_context(|| {
            format!(
                "deleting change set {} of stack {}; delete it with `aws cloudformation delete-change-set --change-set-name {}`",
                handle.id, handle.stack_name, handle.id
            )
        }),
    }
}

/// `DeleteChangeSet` by name within `stack_name` (the journal's record of a change set whose
/// creation may not have been answered). Returns whether one was deleted; a change set or stack
/// that does not exist is `Ok(false)`.
pub async fn delete_change_set_named(
    cfn: &Client,
    name: &str,
    stack_name: &str,
) -> anyhow::Result<bool> {
    match cfn
        .delete_change_set()
        .change_set_name(name)
        .stack_name(stack_name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(error)
            if code(&error) == Some("ChangeSetNotFound")
                || code(&error) == Some("ChangeSetNotFoundException")
                || is_missing_stack(&error) =>
        {
            Ok(false)
        }
        Err(error) => Err(describe(error)).with_context(|| {
            format!(
                "deleting change set {name} of stack {stack_name}; delete it with `aws cloudformation delete-change-set --stack-name {stack_name} --change-set-name {name}`"
            )
        }),
    }
}

/// Whether change set `name` of `stack_name` has been (or is being) executed: `Ok(None)` when
/// it no longer exists.
pub async fn change_set_executed(
    cfn: &Client,
    name: &str,
    stack_name: &str,
) -> anyhow::Result<Option<bool>> {
    match cfn
        .describe_change_set()
        .change_set_name(name)
        .stack_name(stack_name)
        .send()
        .await
    {
        Ok(output) => Ok(Some(!matches!(
            output.execution_status(),
            Some(sdk::ExecutionStatus::Available | sdk::ExecutionStatus::Unavailable) | None
        ))),
        Err(error)
            if code(&error) == Some("ChangeSetNotFound")
                || code(&error) == Some("ChangeSetNotFoundException")
                || is_missing_stack(&error) =>
        {
            Ok(None)
        }
        Err(error) => Err(describe(error))
            .with_context(|| format!("reading change set {name} of stack {stack_name}")),
    }
}

/// How many change sets `stack_name` still has (ListChangeSets, first page is enough to tell
/// "none" from "some").
pub async fn has_change_sets(cfn: &Client, stack_name: &str) -> anyhow::Result<bool> {
    match cfn.list_change_sets().stack_name(stack_name).send().await {
        Ok(output) => Ok(!output.summaries().is_empty()),
        Err(error) if is_missing_stack(&error) => Ok(false),
        Err(error) => Err(describe(error))
            .with_context(|| format!("listing the change sets of stack {stack_name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_set_names_are_valid_and_unique() {
        let a = change_set_name();
        let b = change_set_name();
        assert_ne!(a, b);
        assert!(a.len() <= 128);
        assert!(a.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn no_changes_reasons_are_recognised() {
        assert!(is_no_changes_reason(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(is_no_changes_reason("No updates are to be performed."));
        assert!(!is_no_changes_reason(
            "Template format error: unsupported structure."
        ));
    }

    #[test]
    fn destructive_changes_are_removals_and_replacements() {
        let change = |action, replacement| ResourceChange {
            action,
            logical_id: "Bucket".into(),
            resource_type: "AWS::S3::Bucket".into(),
            physical_id: None,
            replacement,
            details: vec![],
            drift_status: None,
        };
        assert!(change(ChangeAction::Remove, None).is_destructive());
        assert!(change(ChangeAction::Modify, Some(Replacement::Yes)).is_destructive());
        assert!(change(ChangeAction::Modify, Some(Replacement::Conditional)).is_destructive());
        assert!(!change(ChangeAction::Modify, Some(Replacement::No)).is_destructive());
        assert!(!change(ChangeAction::Add, None).is_destructive());
    }
}
