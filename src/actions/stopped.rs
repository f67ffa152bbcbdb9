//! What an AWS action does when it is stopped early (Ctrl-C, or its `--timeout` deadline), and how
//! its AWS failures name the endpoint.
//!
//! The work was abandoned where it stood. From the run's journal this cleans up what is safe —
//! a change set that was never executed, and the empty `REVIEW_IN_PROGRESS` stack its creation
//! made — within [`CLEANUP_GRACE`], then builds the one error that says why the run stopped, what
//! it was doing (and which request did not answer), what state things are in, and the command
//! that resumes. A second Ctrl-C during the cleanup exits at once (see `crate::stop`).

use std::fmt::Write as _;
use std::time::Duration;

use crate::aws::AwsClients;
use crate::aws::cfn::{self, ChangeSetKind, StackStatus};
use crate::aws::error::{AwsError, AwsErrorKind};
use crate::aws::journal::Snapshot;
use crate::exit::Interrupted;
use crate::stop::StopReason;

use super::{Ctx, rerun_command};

/// The longest the cleanup after a stop may take: a few CloudFormation calls, each bounded by
/// the request timeouts; this only caps an endpoint that stopped answering altogether.
const CLEANUP_GRACE: Duration = Duration::from_secs(20);

/// Clean up after a stop and return the error that explains it (exit 130 for Ctrl-C, 1 for the
/// deadline).
pub(super) async fn clean_up_and_explain(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    reason: StopReason,
) -> anyhow::Error {
    let snapshot = aws.journal.snapshot();
    let cleanup = match tokio::time::timeout(CLEANUP_GRACE, clean_up(aws, &snapshot)).await {
        Ok(Ok(state)) => state,
        Ok(Err(error)) => format!(
            "cleaning up failed: {error:#}{}",
            leftover_hint(&snapshot, &aws.region)
        ),
        Err(_) => format!(
            "cleaning up did not finish within {} s{}",
            CLEANUP_GRACE.as_secs(),
            leftover_hint(&snapshot, &aws.region)
        ),
    };
    let resume = snapshot
        .resume
        .clone()
        .unwrap_or_else(|| rerun_command(ctx));
    let message = explain(reason, &snapshot, &cleanup, &resume);
    match reason {
        StopReason::Interrupted => Interrupted(message).into(),
        StopReason::DeadlineExceeded { .. } => anyhow::anyhow!(message),
    }
}

/// The stop message: why, while doing what (and which request hung), the state, how to resume.
fn explain(reason: StopReason, snapshot: &Snapshot, state: &str, resume: &str) -> String {
    let step = snapshot
        .step
        .as_deref()
        .unwrap_or("starting the AWS action");
    let mut message = match reason {
        StopReason::Interrupted => format!("interrupted (Ctrl-C) while {step}"),
        StopReason::DeadlineExceeded { limit } => {
            format!(
                "gave up after {} s (--timeout {}) while {step}",
                limit.as_secs(),
                limit.as_secs()
            )
        }
    };
    if !snapshot.in_flight.is_empty() {
        let requests: Vec<String> = snapshot.in_flight.iter().map(ToString::to_string).collect();
        let verb = match reason {
            StopReason::Interrupted => "waiting for an answer to",
            StopReason::DeadlineExceeded { .. } => "no answer from AWS to",
        };
        let _ = write!(message, "; {verb} {}", requests.join(", "));
    }
    message.push_str(". ");
    message.push_str(state);
    if let Some(progress) = &snapshot.progress {
        message.push_str(". ");
        message.push_str(progress);
    }
    let hint = match reason {
        StopReason::DeadlineExceeded { .. } if !snapshot.in_flight.is_empty() => {
            ". Check that the endpoint is reachable (AWS_ENDPOINT_URL, proxy, network), then resume with: "
        }
        StopReason::DeadlineExceeded { .. } => {
            ". Raise --timeout if the work needs longer; resume with: "
        }
        StopReason::Interrupted => ". To resume: ",
    };
    message.push_str(hint);
    message.push_str(resume);
    message
}

/// Delete what this run made and never used; describe what keeps running.
async fn clean_up(aws: &AwsClients, snapshot: &Snapshot) -> anyhow::Result<String> {
    let mut state = Vec::new();
    let mut changed = snapshot.progress.is_some();
    let mut unexecuted = false;
    if let Some(pending) = &snapshot.change_set {
        // An ExecuteChangeSet that was sent may or may not have arrived: ask.
        let executed = pending.executing
            && cfn::change_set_executed(&aws.cfn, &pending.name, &pending.stack_name).await?
                != Some(false);
        if !executed {
            unexecuted = true;
            let existed =
                cfn::delete_change_set_named(&aws.cfn, &pending.name, &pending.stack_name).await?;
            let shell = pending.kind == ChangeSetKind::Create
                && delete_review_shell(aws, &pending.stack_name).await?;
            if existed || shell {
                state.push(format!(
                    "The change set for stack {} was deleted before it was executed{}",
                    pending.stack_name,
                    if shell {
                        " (with the empty REVIEW_IN_PROGRESS stack it made)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    if let Some(operation) = snapshot.stack_operation.as_ref().filter(|_| !unexecuted) {
        changed = true;
        let name = &operation.stack_name;
        state.push(format!(
            "The {} of stack {name} continues in CloudFormation: check it with `aws cloudformation describe-stacks --stack-name {name} --region {} --query 'Stacks[0].StackStatus'`; resume once it has finished",
            operation.what, aws.region
        ));
    }
    if !changed {
        state.push("Nothing was changed".to_owned());
    }
    Ok(state.join(". "))
}

/// Delete the empty stack a CREATE change set made, when nothing else uses it: it must still be
/// `REVIEW_IN_PROGRESS` (no resources) and hold no other change set (another run's).
async fn delete_review_shell(aws: &AwsClients, stack_name: &str) -> anyhow::Result<bool> {
    let Some(stack) = cfn::describe_stack(&aws.cfn, stack_name).await? else {
        return Ok(false);
    };
    if stack.status != StackStatus::ReviewInProgress
        || cfn::has_change_sets(&aws.cfn, stack_name).await?
    {
        return Ok(false);
    }
    cfn::delete_stack(&aws.cfn, &stack.stack_id).await?;
    Ok(true)
}

/// What to check by hand when the cleanup itself could not finish.
fn leftover_hint(snapshot: &Snapshot, region: &str) -> String {
    match &snapshot.change_set {
        Some(pending) if !pending.executing => format!(
            "; change set {} of stack {} may be left: delete it with `aws cloudformation delete-change-set --stack-name {} --change-set-name {} --region {region}`",
            pending.name, pending.stack_name, pending.stack_name, pending.name
        ),
        _ => String::new(),
    }
}

/// For a failure to reach AWS, or an answer that never came, add the endpoint the request went to
/// (as recorded by the run's journal), so the message says where to look.
pub(super) fn name_endpoint(error: anyhow::Error, aws: &AwsClients) -> anyhow::Error {
    let operation = error.chain().find_map(|cause| {
        cause
            .downcast_ref::<AwsError>()
            .filter(|e| matches!(e.kind, AwsErrorKind::Unreachable | AwsErrorKind::TimedOut))
            .map(|e| e.operation.clone())
    });
    let Some(operation) = operation else {
        return error;
    };
    match aws.journal.endpoint_of_last_failure(&operation) {
        Some(endpoint) => error.context(format!(
            "AWS endpoint {endpoint} could not be reached or did not answer {operation}; check that it is reachable (AWS_ENDPOINT_URL, proxy, network)"
        )),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::journal::{InFlight, PendingChangeSet};

    #[test]
    fn a_deadline_names_the_request_that_did_not_answer_and_the_resume_command() {
        let snapshot = Snapshot {
            step: Some("checking which AWS account the credentials belong to".into()),
            in_flight: vec![InFlight {
                operation: "sts:GetCallerIdentity".into(),
                endpoint: "http://127.0.0.1:9".into(),
            }],
            ..Snapshot::default()
        };
        let text = explain(
            StopReason::DeadlineExceeded {
                limit: Duration::from_secs(5),
            },
            &snapshot,
            "Nothing was changed",
            "s3-provisioner --config c.yaml --action show-changes",
        );
        assert_eq!(
            text,
            "gave up after 5 s (--timeout 5) while checking which AWS account the credentials belong to; no answer from AWS to sts:GetCallerIdentity at http://127.0.0.1:9. Nothing was changed. Check that the endpoint is reachable (AWS_ENDPOINT_URL, proxy, network), then resume with: s3-provisioner --config c.yaml --action show-changes"
        );
    }

    #[test]
    fn an_interrupt_names_the_step_the_state_and_the_resume_command() {
        let snapshot = Snapshot {
            step: Some("computing the changes to stack s".into()),
            change_set: Some(PendingChangeSet {
                name: "cs".into(),
                stack_name: "s".into(),
                kind: ChangeSetKind::Create,
                executing: false,
            }),
            ..Snapshot::default()
        };
        let text = explain(
            StopReason::Interrupted,
            &snapshot,
            "The change set for stack s was deleted before it was executed",
            "s3-provisioner --config c.yaml --action prep-master --force",
        );
        assert!(
            text.starts_with(
                "interrupted (Ctrl-C) while computing the changes to stack s. The change set"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "To resume: s3-provisioner --config c.yaml --action prep-master --force"
            )
        );
    }
}
