//! Following stack operations: execute a change set or delete a stack, stream the events until
//! the stack settles, and explain a failure with the failing resource's own reason.

use anyhow::bail;

use super::{EventDisplay, reason_suffix};
use crate::aws::AwsClients;
use crate::aws::cfn::{
    self, ChangeSetHandle, ChangeSetKind, EventCursor, Poller, StackInfo, StackStatus,
    stack_name_of,
};
use crate::output::Output;

/// Execute a computed change set and follow the stack until it settles. Succeeds only when the
/// stack reached `CREATE_COMPLETE`/`UPDATE_COMPLETE`; otherwise lists every failed resource with
/// CloudFormation's reason and fails (exit 1) with the next step.
pub async fn execute_and_watch(
    out: &mut Output,
    aws: &AwsClients,
    handle: &ChangeSetHandle,
    poller: Poller,
) -> anyhow::Result<StackInfo> {
    let stack_name = &handle.stack_name;
    let mut cursor = EventCursor::before_execution(&aws.cfn, handle).await?;
    let what = match handle.kind {
        ChangeSetKind::Create => "creation",
        ChangeSetKind::Update => "update",
    };
    aws.journal.step(format!("deploying stack {stack_name}"));
    aws.journal.change_set_executing(what);
    cfn::execute_change_set(&aws.cfn, handle).await?;
    out.info(
        format!("Deploying stack {stack_name}"),
        &[("region", &aws.region)],
    );
    let settled = watch(out, aws, &mut cursor, poller).await;
    aws.journal.change_set_settled();
    aws.journal.stack_operation_settled();
    let settled = settled?;
    let expected = match handle.kind {
        ChangeSetKind::Create => "CREATE_COMPLETE",
        ChangeSetKind::Update => "UPDATE_COMPLETE",
    };
    let Some(stack) = settled else {
        bail!(
            "stack {stack_name} disappeared while it was being deployed; someone deleted it. Rerun to create it again"
        );
    };
    if stack.status_name == expected {
        return Ok(stack);
    }
    report_failures(out, &cursor);
    let bucket_taken = cursor.failures().iter().any(|event| {
        event.resource_type == "AWS::S3::Bucket"
            && event.reason.as_deref().is_some_and(|r| {
                // CloudFormation: "… already exists"; S3's BucketAlreadyExists text: "The
                // requested bucket name is not available".
                r.contains("already exists")
                    || r.contains("AlreadyExists")
                    || r.contains("bucket name is not available")
            })
    });
    if bucket_taken && handle.kind == ChangeSetKind::Create {
        bail!(
            "deploying stack {stack_name} failed: it is now {}, because its bucket name was taken while it was being created — most likely by another run deploying this same deployment at the same time. Check that run's stack with `aws cloudformation describe-stacks --stack-name {stack_name} --region {}` (and the bucket's tags); rerun with --force once it has finished: the rolled-back stack is then deleted and the deployment brought up to date",
            stack.status_name,
            aws.region
        );
    }
    // S3's 409 OperationAborted: the name was deleted a moment ago and S3 has not let go of it.
    // Retrying here would mean deleting and recreating the stack for as long as S3 takes (minutes,
    // rarely an hour), so the run stops and says when and how to resume.
    let failures = cursor.failures();
    let name_settling = failures.iter().find(|event| {
        event.resource_type == "AWS::S3::Bucket"
            && event.reason.as_deref().is_some_and(|r| {
                r.contains(crate::aws::empty::OPERATION_ABORTED)
                    || r.contains("conflicting conditional operation is currently in progress")
            })
    });
    if let Some(event) = name_settling
        && handle.kind == ChangeSetKind::Create
    {
        bail!(
            "deploying stack {stack_name} failed: it is now {}, because S3 would not create bucket {} yet (409 OperationAborted: a bucket of this name was deleted a short while ago and S3 is still finishing that). Nothing was created that holds data. The name becomes available again after a short while (usually minutes, rarely up to an hour): rerun the same command with --force then; the rolled-back stack is deleted and created again",
            stack.status_name,
            event
                .physical_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .unwrap_or(&event.logical_id),
        );
    }
    let next = match stack.status {
        StackStatus::RollbackComplete => {
            "fix the cause above, then rerun with --force: the rolled-back stack is deleted and created again"
        }
        StackStatus::Complete => {
            "the stack was rolled back to its previous state and still works; fix the cause above and rerun"
        }
        _ => "see the AWS CloudFormation console for the stack's events",
    };
    // The stack's own reason only names the resources ("The following resource(s) failed to
    // create: [Bucket]"); the cause is on the failed resource's own event.
    let cause = cursor.root_cause().map_or_else(String::new, |event| {
        format!(
            "; {} ({}) {}: {}",
            event.logical_id,
            event.resource_type,
            event.status,
            event.reason.as_deref().unwrap_or("no reason given")
        )
    });
    bail!(
        "deploying stack {stack_name} failed: it is now {}{}{cause}. Next step: {next}",
        stack.status_name,
        reason_suffix(stack.status_reason.as_deref())
    )
}

/// Print each failed resource with CloudFormation's reason (from the events seen).
fn report_failures(out: &mut Output, cursor: &EventCursor) {
    let failures = cursor.failures();
    if failures.is_empty() {
        return;
    }
    out.error("failed resources:");
    for event in failures {
        out.error(format!(
            "  {} ({}) {}: {}",
            event.logical_id,
            event.resource_type,
            event.status,
            event.reason.as_deref().unwrap_or("no reason given")
        ));
    }
}

/// Follow a stack operation: stream its events (redrawn on a TTY, one line each otherwise) until
/// the stack settles. Running out of `--timeout` is a [`cfn::WaitTimeout`]; a stop (Ctrl-C, the
/// action deadline) is handled by the action layer, which says the operation continues in
/// CloudFormation. `None` means the stack is gone.
pub async fn watch(
    out: &mut Output,
    aws: &AwsClients,
    cursor: &mut EventCursor,
    poller: Poller,
) -> anyhow::Result<Option<StackInfo>> {
    let mut display = EventDisplay::new(out);
    let stack = cursor.stack.clone();
    let result = {
        let mut on_event = |event: &cfn::StackEvent| display.show(out, event);
        cfn::wait_stack(
            &aws.cfn,
            cursor,
            &aws.region,
            poller,
            &aws.cfn_limiter,
            &mut on_event,
        )
        .await
    };
    display.finish(out);
    out.debug(
        "stopped following the stack",
        &[
            ("stack", &stack_name_of(&stack)),
            ("cloudformation_calls", &cursor.api_calls),
            ("events", &cursor.seen.len()),
        ],
    );
    result
}

/// Say that `stack` is busy and follow the operation running on it until the stack settles
/// (see [`watch`]). The caller describes the stack again to decide what to do next.
pub async fn wait_for_operation(
    out: &mut Output,
    aws: &AwsClients,
    stack: &StackInfo,
    poller: Poller,
) -> anyhow::Result<()> {
    out.info(
        format!(
            "Stack {} is busy ({}); waiting for that operation to finish",
            stack.name, stack.status_name
        ),
        &[],
    );
    aws.journal.step(format!(
        "waiting for the running operation on stack {} ({})",
        stack.name, stack.status_name
    ));
    let mut cursor = EventCursor::after_latest(&aws.cfn, &stack.stack_id).await?;
    watch(out, aws, &mut cursor, poller).await?;
    Ok(())
}

/// `DeleteStack` (by id, so the final `DELETE_COMPLETE` stays visible) and follow it; fails with
/// the resources that could not be deleted when the stack ends `DELETE_FAILED`.
pub async fn delete_stack_and_wait(
    out: &mut Output,
    aws: &AwsClients,
    stack: &StackInfo,
    poller: Poller,
) -> anyhow::Result<()> {
    let mut cursor = EventCursor::after_latest(&aws.cfn, &stack.stack_id).await?;
    aws.journal.step(format!("deleting stack {}", stack.name));
    aws.journal.stack_operation_started(&stack.name, "deletion");
    cfn::delete_stack(&aws.cfn, &stack.stack_id).await?;
    out.info(
        format!("Deleting stack {}", stack.name),
        &[("region", &aws.region)],
    );
    let settled = watch(out, aws, &mut cursor, poller).await;
    aws.journal.stack_operation_settled();
    match settled? {
        None => Ok(()),
        Some(settled) if settled.status == StackStatus::DeleteComplete => Ok(()),
        Some(settled) => {
            report_failures(out, &cursor);
            bail!(
                "deleting stack {} failed: it is now {}{}. Remove what blocks it (see above) and rerun",
                stack.name,
                settled.status_name,
                reason_suffix(settled.status_reason.as_deref())
            )
        }
    }
}
