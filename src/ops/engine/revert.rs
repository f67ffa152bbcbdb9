//! `--revert-drift`: deploying through a drift-aware change set (`DeploymentMode=REVERT_DRIFT`),
//! which also puts properties changed outside CloudFormation back to the template's values.
//!
//! An endpoint that does not know the mode must never turn `--revert-drift` into a plain
//! deployment: a plain change set of an unchanged template is empty, so the run would say
//! "already up to date" while the drift stays. Either CloudFormation refuses the request
//! ([`is_unsupported_request`]) or it computes a change set that does not report the mode
//! ([`ChangeSetHandle::drift_aware`]); both are [`unsupported`] (exit 1, nothing changed).

use crate::aws::cfn::ChangeSetHandle;

/// Whether CloudFormation's refusal of a CreateChangeSet that asked for `REVERT_DRIFT` is about
/// the mode itself (an endpoint or region without drift-aware change sets).
pub fn is_unsupported_request(error: &anyhow::Error) -> bool {
    let text = format!("{error:#}").to_ascii_lowercase();
    [
        "deploymentmode",
        "deployment mode",
        "revert_drift",
        "drift-aware",
    ]
    .iter()
    .any(|word| text.contains(word))
}

/// The error for an endpoint without drift-aware change sets: what happened, that nothing was
/// changed, and what to do instead.
pub fn unsupported(stack_name: &str, region: &str, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "--revert-drift: the CloudFormation endpoint for {region} does not support drift-aware change sets (DeploymentMode REVERT_DRIFT): {what}. Nothing was changed on stack {stack_name}, and no plain deployment was made instead, since that would leave the drifted settings as they are. Run it against AWS CloudFormation itself, or put the settings back by hand (S3 console or `aws s3api`) and confirm with --action check-drift"
    )
}

/// [`unsupported`] for a change set that came back without the mode.
pub fn not_drift_aware(handle: &ChangeSetHandle, region: &str) -> anyhow::Error {
    unsupported(
        &handle.stack_name,
        region,
        "the change set it computed does not report that mode, so it would only apply template changes",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_about_the_mode_are_told_from_other_refusals() {
        let about_mode = anyhow::anyhow!(
            "ValidationError: 1 validation error detected: Value 'REVERT_DRIFT' at 'deploymentMode' failed to satisfy constraint"
        )
        .context("creating a change set for stack s");
        assert!(is_unsupported_request(&about_mode));
        let unknown_parameter =
            anyhow::anyhow!("InvalidParameterValue: Unknown parameter DeploymentMode");
        assert!(is_unsupported_request(&unknown_parameter));
        let other = anyhow::anyhow!("ValidationError: Template format error: unresolved resource");
        assert!(!is_unsupported_request(&other));
    }

    #[test]
    fn the_message_says_nothing_changed_and_no_plain_deployment_was_made() {
        let message = format!("{:#}", unsupported("s-stack", "us-west-1", "it refused"));
        assert!(
            message.contains("does not support drift-aware change sets"),
            "{message}"
        );
        assert!(
            message.contains("Nothing was changed on stack s-stack"),
            "{message}"
        );
        assert!(
            message.contains("no plain deployment was made"),
            "{message}"
        );
    }
}
