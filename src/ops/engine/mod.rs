//! The deployment engine: bring one deployment's stack to a template through a change set, the
//! way prep-master, create-bucket and test-deploy do it (docs/design.md has the stack-state table).
//!
//! [`deploy`] reads the stack's state and decides (update, recreate, wait, refuse), checks the
//! bucket name, shows the change set, asks (`--force` / TTY / refuse), executes, streams events,
//! and explains failures. The building blocks are public for the other AWS actions:
//! [`ensure_owned`] (the ownership rule), [`watch`] (live events, Ctrl-C, time-out),
//! [`wait_for_operation`], [`delete_stack_and_wait`], [`compute_change_set`],
//! [`discard_change_set`] and [`changes::change_lines`].
//!
//! This module decides and talks to the user; following a running operation (executing,
//! deleting, streaming events, explaining a failure) is in `follow`; `aws::cfn` and `aws::s3`
//! only call AWS.

pub mod bucket_name;
pub mod changes;
mod follow;
mod progress;
pub mod replacement;
pub mod revert;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::aws::AwsClients;
use crate::aws::cfn::{
    self, ChangeSetDetails, ChangeSetHandle, ChangeSetKind, ChangeSetOutcome, ChangeSetRequest,
    Poller, ResourceChange, StackInfo, StackStatus,
};
use crate::aws::empty;
use crate::aws::s3::HeadBucket;
use crate::exit::Refusal;
use crate::naming::Deployment;
use crate::output::{Output, Style};
use crate::ownership::{self, DEPLOYMENT_TAG, Owner};

pub use follow::{delete_stack_and_wait, execute_and_watch, wait_for_operation, watch};
pub use progress::EventDisplay;

/// How long and how often to poll while deploying (STYLE 12). The waits keep tokio's clock, so
/// tests run [`Waits::for_timeout`] on paused (virtual) time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// Waiting for CloudFormation to compute a change set.
    pub change_set: Poller,
    /// Waiting for a stack operation (`--timeout`).
    pub stack: Poller,
}

impl Waits {
    /// The production schedule with `--timeout` as the longest wait for each operation.
    pub fn for_timeout(timeout: Duration) -> Self {
        Waits {
            change_set: Poller::change_set(timeout),
            stack: Poller::stack(timeout),
        }
    }

    /// Back-to-back polls, for tests against mocks and emulators.
    pub fn immediate(max_wait: Duration) -> Self {
        Waits {
            change_set: Poller::immediate(max_wait),
            stack: Poller::immediate(max_wait),
        }
    }
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct DeployRequest<'a> {
    pub deployment: &'a Deployment,
    /// The rendered template (YAML).
    pub template_body: &'a str,
    /// Stack tags (the bucket's tags, including [`DEPLOYMENT_TAG`]).
    pub tags: BTreeMap<String, String>,
    /// `--force`: go ahead without asking.
    pub force: bool,
    /// `--revert-drift`: update through a drift-aware change set, which also puts properties
    /// changed outside CloudFormation back to the template's values (see [`revert`]).
    pub revert_drift: bool,
}

/// What [`deploy`] did to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackAction {
    Created,
    Updated,
    /// A failed or abandoned stack was deleted and created again.
    Recreated,
    /// The stack already matched the template.
    UpToDate,
}

impl StackAction {
    /// Past-tense description for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            StackAction::Created => "created",
            StackAction::Updated => "updated",
            StackAction::Recreated => "deleted and created again",
            StackAction::UpToDate => "already up to date",
        }
    }
}

/// The deployed stack.
#[derive(Debug, Clone, Serialize)]
pub struct Deployed {
    pub stack_name: String,
    pub stack_id: String,
    pub action: StackAction,
    /// Final stack status, e.g. `CREATE_COMPLETE`.
    pub status: String,
    pub outputs: BTreeMap<String, String>,
    /// The changes that were applied (empty when up to date).
    pub changes: Vec<ResourceChange>,
}

impl Deployed {
    /// The bucket the stack reports (its `BucketName` output), or `derived` (the name the
    /// deployment's naming gives) before the stack has outputs.
    pub fn bucket_name(&self, derived: &str) -> String {
        self.outputs
            .get(crate::aws::cfn::BUCKET_NAME_OUTPUT)
            .cloned()
            .unwrap_or_else(|| derived.to_owned())
    }
}

/// How many running operations [`deploy`] waits for before giving up.
const MAX_BUSY_WAITS: usize = 3;

/// Create or update the stack of `request.deployment` so it runs `request.template_body`.
///
/// Existing stack states: `*_COMPLETE` → update through a change set;
/// `ROLLBACK_COMPLETE`, `CREATE_FAILED`, `REVIEW_IN_PROGRESS` → delete and create again (after
/// confirmation); `*_IN_PROGRESS` → wait, then decide again; anything else → exit 1 with the
/// next step. A stack or bucket that is not ours is refused (exit 4); an empty bucket of ours that
/// no stack manages (kept by `Retain` when a first creation rolled back) is deleted after
/// confirmation, one that holds data never is. An empty change set is
/// "already up to date". A refused or failed change set is deleted (with the `REVIEW_IN_PROGRESS`
/// stack a CREATE change set made), so a refusal leaves nothing behind.
pub async fn deploy(
    out: &mut Output,
    aws: &AwsClients,
    request: &DeployRequest<'_>,
    waits: Waits,
) -> anyhow::Result<Deployed> {
    let existing = cfn::describe_stack(&aws.cfn, &request.deployment.stack_name).await?;
    let looked_up = LookedUp {
        stack: existing,
        bucket: None,
    };
    deploy_from(out, aws, request, waits, looked_up).await
}

/// What the caller read before [`deploy_from`], at the same time as the account check (reads
/// only, so they need not wait for it): round trips less before the first change.
#[derive(Debug, Clone, Default)]
pub struct LookedUp {
    /// `DescribeStacks` of the deployment's stack.
    pub stack: Option<StackInfo>,
    /// `HeadBucket` of the deployment's bucket name, when it answered; used only while nothing
    /// has happened since (the stack was missing from the start), else it is read again.
    pub bucket: Option<HeadBucket>,
}

/// [`deploy`] from what the caller looked up.
pub async fn deploy_from(
    out: &mut Output,
    aws: &AwsClients,
    request: &DeployRequest<'_>,
    waits: Waits,
    looked_up: LookedUp,
) -> anyhow::Result<Deployed> {
    let LookedUp {
        stack: mut existing,
        bucket: mut bucket_seen,
    } = looked_up;
    // A stack to wait for or to delete first: the bucket may have changed by the time it matters.
    if existing.is_some() {
        bucket_seen = None;
    }
    let deployment = request.deployment;
    let stack_name = deployment.stack_name.as_str();
    let mut recreated = false;
    let mut busy_waits = 0;
    while let Some(stack) = &existing {
        ensure_owned(stack, deployment)?;
        match stack.status {
            StackStatus::Complete => break,
            StackStatus::InProgress => {
                if busy_waits == MAX_BUSY_WAITS {
                    bail!(
                        "stack {stack_name} is still busy ({}) after waiting for {MAX_BUSY_WAITS} operations; rerun when `aws cloudformation describe-stacks --stack-name {stack_name} --region {}` shows it settled",
                        stack.status_name,
                        aws.region
                    );
                }
                busy_waits += 1;
                wait_for_operation(out, aws, stack, waits.stack).await?;
                existing = cfn::describe_stack(&aws.cfn, stack_name).await?;
            }
            StackStatus::ReviewInProgress if cfn::has_change_sets(&aws.cfn, stack_name).await? => {
                // A change set awaits execution: another run is deploying right now. Deleting
                // its stack would pull the deployment from under it.
                bail!(
                    "stack {stack_name} is REVIEW_IN_PROGRESS with a change set waiting to be executed: most likely another run deploying this same deployment right now (or one that was stopped before it could clean up). Nothing was changed by this run. Check it with `aws cloudformation list-change-sets --stack-name {stack_name} --region {}`, and rerun once that run has finished (or after deleting its change set)",
                    aws.region
                );
            }
            StackStatus::RollbackComplete
            | StackStatus::CreateFailed
            | StackStatus::ReviewInProgress => {
                out.warn(format!(
                    "stack {stack_name} is {}{}: it holds no working deployment and can only be deleted",
                    stack.status_name,
                    reason_suffix(stack.status_reason.as_deref())
                ));
                aws.journal.step(format!(
                    "waiting for confirmation to delete stack {stack_name}"
                ));
                out.confirm(
                    request.force,
                    &format!(
                        "Delete stack {stack_name} ({}) and create it again?",
                        stack.status_name
                    ),
                )
                .await?;
                // What was read before may be stale by now: another run may have executed its
                // change set on the REVIEW_IN_PROGRESS stack since (its change sets are then
                // gone) or started a new one. Delete only a stack that is still this shell.
                let fresh = cfn::describe_stack(&aws.cfn, stack_name).await?;
                if !still_the_same_shell(aws, stack, fresh.as_ref()).await? {
                    existing = fresh;
                    continue;
                }
                delete_stack_and_wait(out, aws, stack, waits.stack).await?;
                recreated = true;
                existing = None;
            }
            StackStatus::DeleteComplete => existing = None,
            StackStatus::Failed => bail!(stuck_stack_message(stack, &aws.region)),
        }
    }

    // A new bucket name (new stack, or a stack moving to another name) must be free.
    if bucket_name::creates_bucket(existing.as_ref(), deployment) {
        check_bucket_is_free(out, aws, deployment, request.force, bucket_seen).await?;
    }

    let kind = if existing.is_some() {
        ChangeSetKind::Update
    } else {
        ChangeSetKind::Create
    };
    if request.revert_drift && kind == ChangeSetKind::Create {
        out.info(
            format!(
                "--revert-drift: stack {stack_name} holds no deployment yet, so nothing can have drifted; it is created from the template"
            ),
            &[],
        );
    }
    let change_set_request = ChangeSetRequest {
        stack_name,
        template_body: request.template_body,
        tags: &request.tags,
        kind,
        description: if request.revert_drift {
            "s3-provisioner deployment (reverting drift)"
        } else {
            "s3-provisioner deployment"
        },
        revert_drift: request.revert_drift && kind == ChangeSetKind::Update,
    };
    out.info(
        format!("Computing the changes to stack {stack_name}"),
        &[("region", &aws.region)],
    );
    let outcome = compute_change_set(out, aws, &change_set_request, waits.change_set).await?;
    let details = match outcome {
        ChangeSetOutcome::Ready(details) => details,
        ChangeSetOutcome::NoChanges(handle) => {
            discard_change_set(out, aws, &handle).await;
            let stack = existing.context("CloudFormation reported no changes for a new stack")?;
            let drift = if change_set_request.revert_drift {
                ", and CloudFormation found no drifted property to put back"
            } else {
                ""
            };
            out.info(
                format!(
                    "Stack {stack_name} is already up to date ({}){drift}",
                    stack.status_name
                ),
                &[],
            );
            return Ok(Deployed {
                stack_name: stack.name,
                stack_id: stack.stack_id,
                action: StackAction::UpToDate,
                status: stack.status_name,
                outputs: stack.outputs,
                changes: Vec::new(),
            });
        }
        ChangeSetOutcome::Failed { handle, reason } => {
            discard_change_set(out, aws, &handle).await;
            bail!(
                "CloudFormation rejected the change set for stack {stack_name}: {reason}. Nothing was changed; check the template with --action validate-prov-template"
            );
        }
    };

    show_plan(out, &details, existing.as_ref(), &request.tags);
    if let Err(refusal) =
        replacement::refuse_bucket_replacement(aws, &details, deployment, request.template_body)
            .await
    {
        discard_change_set(out, aws, &details.handle).await;
        return Err(refusal);
    }
    if !request.force && out.is_interactive() {
        // A person is about to be asked: show whose account this is and, for an update, what
        // the template change is, as show-changes would.
        show_before_asking(out, aws, existing.as_ref(), request.template_body).await;
    }
    let question = match kind {
        ChangeSetKind::Create => format!(
            "Create stack {stack_name} with bucket {} in {}?",
            deployment.bucket_name, aws.region
        ),
        ChangeSetKind::Update => format!(
            "Apply {} change(s) to stack {stack_name}?",
            details.changes.len()
        ),
    };
    aws.journal.step(format!(
        "waiting for confirmation to deploy stack {stack_name}"
    ));
    if let Err(refusal) = out.confirm(request.force, &question).await {
        discard_change_set(out, aws, &details.handle).await;
        out.info("The change set was deleted; nothing was changed", &[]);
        return Err(refusal);
    }

    let stack = execute_and_watch(out, aws, &details.handle, waits.stack).await?;
    let action = match (kind, recreated) {
        (ChangeSetKind::Create, true) => StackAction::Recreated,
        (ChangeSetKind::Create, false) => StackAction::Created,
        (ChangeSetKind::Update, _) => StackAction::Updated,
    };
    Ok(Deployed {
        stack_name: stack.name,
        stack_id: stack.stack_id,
        action,
        status: stack.status_name,
        outputs: stack.outputs,
        changes: details.changes,
    })
}

/// `CreateChangeSet`, then wait until CloudFormation has computed it. The change set is recorded
/// in the run's journal before it is requested, so a run stopped at any point (Ctrl-C, deadline)
/// still deletes it; when waiting fails it is deleted here. A returned outcome's change set still
/// exists: the caller executes or discards it.
pub async fn compute_change_set(
    out: &mut Output,
    aws: &AwsClients,
    request: &ChangeSetRequest<'_>,
    poller: Poller,
) -> anyhow::Result<ChangeSetOutcome> {
    let name = cfn::change_set_name();
    aws.journal.step(format!(
        "computing the changes to stack {}",
        request.stack_name
    ));
    aws.journal
        .change_set_requested(&name, request.stack_name, request.kind);
    let handle = match cfn::start_change_set(&aws.cfn, request, &name).await {
        Ok(handle) => handle,
        Err(error) => {
            // CloudFormation refused the request: no change set (and no stack) was made.
            aws.journal.change_set_settled();
            if request.revert_drift && revert::is_unsupported_request(&error) {
                return Err(revert::unsupported(
                    request.stack_name,
                    &aws.region,
                    &format!("it refused the request ({error:#})"),
                ));
            }
            let stack_taken = request.kind == ChangeSetKind::Create
                && crate::aws::error::has_code(&error, "AlreadyExistsException");
            if stack_taken {
                return Err(error.context(format!(
                    "stack {} was created by someone else a moment ago — most likely another run deploying this same deployment; nothing was changed by this run. Check it with `aws cloudformation describe-stacks --stack-name {} --region {}` and rerun once it has finished",
                    request.stack_name, request.stack_name, aws.region
                )));
            }
            return Err(error);
        }
    };
    match cfn::wait_change_set(&aws.cfn, handle.clone(), &aws.region, poller).await {
        Ok(outcome) if request.revert_drift && !outcome.handle().drift_aware => {
            // Never a plain deployment in its place: delete it before saying so.
            discard_change_set(out, aws, outcome.handle()).await;
            Err(revert::not_drift_aware(outcome.handle(), &aws.region))
        }
        Ok(outcome) => Ok(outcome),
        Err(error) => {
            discard_change_set(out, aws, &handle).await;
            Err(error)
        }
    }
}

/// Whether `fresh` (the stack read again just before deleting it) is still the shell `seen`: the
/// same stack, in the same status and, for `REVIEW_IN_PROGRESS`, still without a change set.
async fn still_the_same_shell(
    aws: &AwsClients,
    seen: &StackInfo,
    fresh: Option<&StackInfo>,
) -> anyhow::Result<bool> {
    let Some(fresh) = fresh else {
        return Ok(false);
    };
    if fresh.stack_id != seen.stack_id || fresh.status_name != seen.status_name {
        return Ok(false);
    }
    Ok(fresh.status != StackStatus::ReviewInProgress
        || !cfn::has_change_sets(&aws.cfn, &fresh.name).await?)
}

/// Whether `stack` is a shell with no working deployment in it (a change set never executed,
/// a first creation that failed): deploying deletes it and creates it again, and there is
/// nothing in it to compare or preview.
pub fn holds_no_deployment(stack: &StackInfo) -> bool {
    matches!(
        stack.status,
        StackStatus::RollbackComplete | StackStatus::CreateFailed | StackStatus::ReviewInProgress
    )
}

/// Refuse (exit 4) unless `stack` is this deployment's ([`ownership::owner`]).
pub fn ensure_owned(stack: &StackInfo, deployment: &Deployment) -> anyhow::Result<()> {
    match ownership::owner(|key| stack.tag(key), &deployment.name) {
        Owner::Ours => Ok(()),
        Owner::Other(owner) => Err(Refusal(format!(
            "stack {} belongs to deployment `{owner}` (tag {DEPLOYMENT_TAG}), not to `{}`; refusing to change it, nothing was changed. Check --config and --solution",
            stack.name, deployment.name
        ))
        .into()),
        Owner::Untagged => Err(Refusal(format!(
            "stack {} exists but was not created by s3-provisioner (it has no {DEPLOYMENT_TAG} tag); refusing to change it, nothing was changed. Rename the deployment (company_prefix, tenant_id) or remove that stack yourself",
            stack.name
        ))
        .into()),
    }
}

/// The bucket-name pre-check ([`bucket_name::check_new_bucket`]); an empty leftover bucket of
/// ours is deleted after confirmation so CloudFormation can create it again. A bucket that holds
/// data is never touched.
async fn check_bucket_is_free(
    out: &mut Output,
    aws: &AwsClients,
    deployment: &Deployment,
    force: bool,
    seen: Option<HeadBucket>,
) -> anyhow::Result<()> {
    let bucket = &deployment.bucket_name;
    match bucket_name::check_new_bucket(aws, deployment, seen).await? {
        bucket_name::NewBucket::Free => Ok(()),
        bucket_name::NewBucket::EmptyLeftover => {
            out.warn(format!(
                "bucket {bucket} is left over from an earlier deployment attempt: it is tagged for {} but no stack manages it, and it is empty",
                deployment.name
            ));
            out.confirm(
                force,
                &format!(
                    "Delete the empty bucket {bucket} so that stack {} can create it again?",
                    deployment.stack_name
                ),
            )
            .await?;
            // DeleteBucket: S3 refuses a bucket that is not empty, so this can never lose data;
            // a 409 OperationAborted (the name still settling) is retried.
            empty::delete_bucket(&aws.s3, bucket).await?;
            out.info(format!("Deleted the empty leftover bucket {bucket}"), &[]);
            Ok(())
        }
    }
}

/// Print the change set about to be applied, with the stack-tag changes (progress stream: the
/// summary is the result).
fn show_plan(
    out: &mut Output,
    details: &ChangeSetDetails,
    existing: Option<&StackInfo>,
    tags: &BTreeMap<String, String>,
) {
    let heading = if existing.is_none() {
        format!("Stack {} will be created with:", details.handle.stack_name)
    } else {
        format!("Changes to stack {}:", details.handle.stack_name)
    };
    out.info(out.paint(Style::Bold, heading), &[]);
    for line in changes::change_lines(out, &details.changes) {
        out.info(line, &[]);
    }
    if let Some(stack) = existing {
        let tag_changes = changes::tag_changes(&stack.tags, tags);
        if !tag_changes.is_empty() {
            out.info(out.paint(Style::Bold, "Stack tag changes:"), &[]);
            for line in changes::tag_lines(out, &tag_changes) {
                out.info(line, &[]);
            }
        }
    }
}

/// Before a question: the account and region the change goes to and, for an update, the diff of
/// the deployed and the new template. The diff is best effort: a failure to read the deployed
/// template is a warning, never a reason not to ask.
async fn show_before_asking(
    out: &mut Output,
    aws: &AwsClients,
    existing: Option<&StackInfo>,
    template_body: &str,
) {
    if let Some((account, caller)) = aws.journal.identity() {
        out.info(
            format!("AWS account {account}, region {} (as {caller})", aws.region),
            &[],
        );
    }
    let Some(stack) = existing else { return };
    match cfn::get_template(&aws.cfn, &stack.name).await {
        Ok(deployed) => {
            let diff = changes::template_diff(&deployed.unwrap_or_default(), template_body);
            if !diff.is_empty() {
                out.info(
                    out.paint(Style::Bold, "Template diff (deployed → new):"),
                    &[],
                );
                for line in diff.lines() {
                    out.info(line, &[]);
                }
            }
        }
        Err(error) => out.warn(format!("{error:#}; the template diff is not shown")),
    }
}

/// Delete a change set that will not be executed, and for a CREATE change set also the empty
/// `REVIEW_IN_PROGRESS` stack it made. Cleanup failures are warnings naming what was left.
pub async fn discard_change_set(out: &mut Output, aws: &AwsClients, handle: &ChangeSetHandle) {
    if let Err(error) = cfn::delete_change_set(&aws.cfn, handle).await {
        out.warn(format!("{error:#}"));
    }
    if handle.kind == ChangeSetKind::Create
        && let Err(error) = cfn::delete_stack(&aws.cfn, &handle.stack_id).await
    {
        out.warn(format!(
            "{error:#}; the empty stack {} (REVIEW_IN_PROGRESS) was left behind: delete it with `aws cloudformation delete-stack --stack-name {} --region {}`",
            handle.stack_name, handle.stack_name, aws.region
        ));
    }
    aws.journal.change_set_settled();
}

/// What to do about a stack that is stuck in a failed state (exit 1).
fn stuck_stack_message(stack: &StackInfo, region: &str) -> String {
    let name = &stack.name;
    let next = match stack.status_name.as_str() {
        "UPDATE_ROLLBACK_FAILED" => format!(
            "let CloudFormation finish the rollback with `aws cloudformation continue-update-rollback --stack-name {name} --region {region}` (skipping resources it cannot roll back if needed), then rerun"
        ),
        // Only a first creation ends here, so the stack never held a working deployment; like
        // DELETE_FAILED it can only be deleted, but the bucket (Retain) stays, so the deletion
        // is CloudFormation's own, not tear-down's (which would empty the bucket).
        "ROLLBACK_FAILED" => format!(
            "it never held a working deployment (its creation failed and the rollback could not remove everything). See what blocked the rollback with `aws cloudformation describe-stack-events --stack-name {name} --region {region}`, fix that, delete the stack with `aws cloudformation delete-stack --stack-name {name} --region {region}`, then rerun: the stack is created again"
        ),
        "DELETE_FAILED" => format!(
            "remove what blocked the deletion (see the stack's events) and delete it with --action tear-down --force, or `aws cloudformation delete-stack --stack-name {name} --region {region}`, then rerun"
        ),
        _ => format!(
            "inspect it with `aws cloudformation describe-stack-events --stack-name {name} --region {region}`, repair or delete it, then rerun"
        ),
    };
    format!(
        "stack {name} is {}{}; it cannot be updated in this state. Next step: {next}",
        stack.status_name,
        reason_suffix(stack.status_reason.as_deref())
    )
}

/// ` (reason)`, or nothing when CloudFormation gave none.
fn reason_suffix(reason: Option<&str>) -> String {
    // CloudFormation's reasons often end in a space ("… failed to create: [Bucket]. ").
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map_or_else(String::new, |r| format!(" ({r})"))
}

#[cfg(test)]
mod tests;
