//! Engine decisions that need no AWS; the AWS paths are tested in `tests/it/deploy_mocks.rs`
//! (aws-smithy-mocks) and `tests/it/deploy_moto.rs` (moto).

use std::collections::BTreeMap;

use super::*;
use crate::aws::cfn::stack_name_of;
use crate::exit::{ExitStatus, status_for_error};
use crate::naming::Pattern;

fn deployment() -> Deployment {
    Deployment {
        name: "edge-prod-b001-us-west-1-s3".into(),
        pattern: Pattern::Shared,
        solution: "master-solution".into(),
        stack_name: "edge-prod-b001-us-west-1-s3-stack".into(),
        bucket_name: "edge-prod-b001-us-west-1-s3".into(),
        test_id: None,
    }
}

fn stack(status_name: &str, tags: &[(&str, &str)]) -> StackInfo {
    StackInfo {
        stack_id: "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/1".into(),
        name: "edge-prod-b001-us-west-1-s3-stack".into(),
        status: StackStatus::classify_name(status_name),
        status_name: status_name.into(),
        status_reason: None,
        outputs: BTreeMap::new(),
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[test]
fn the_tag_the_engine_checks_is_the_one_the_template_writes() {
    assert_eq!(DEPLOYMENT_TAG, crate::template::DEPLOYMENT_TAG);
}

#[test]
fn only_stacks_tagged_for_this_deployment_are_ours() {
    let ours = stack(
        "UPDATE_COMPLETE",
        &[(DEPLOYMENT_TAG, "edge-prod-b001-us-west-1-s3")],
    );
    assert!(ensure_owned(&ours, &deployment()).is_ok());
    for foreign in [
        stack("UPDATE_COMPLETE", &[]),
        stack(
            "UPDATE_COMPLETE",
            &[(DEPLOYMENT_TAG, "edge-prod-b001-us-west-1-s3-x")],
        ),
    ] {
        let error = ensure_owned(&foreign, &deployment()).unwrap_err();
        assert_eq!(status_for_error(&error), ExitStatus::Refused, "{error}");
        assert!(error.to_string().contains("nothing was changed"));
    }
}

#[test]
fn stuck_stacks_name_their_state_and_the_next_step() {
    let message = stuck_stack_message(&stack("UPDATE_ROLLBACK_FAILED", &[]), "us-west-1");
    assert!(message.contains("is UPDATE_ROLLBACK_FAILED"), "{message}");
    assert!(
        message.contains("aws cloudformation continue-update-rollback --stack-name edge-prod-b001-us-west-1-s3-stack --region us-west-1"),
        "{message}"
    );
    let message = stuck_stack_message(&stack("DELETE_FAILED", &[]), "us-west-1");
    assert!(message.contains("--action tear-down --force"), "{message}");
    let message = stuck_stack_message(&stack("ROLLBACK_FAILED", &[]), "us-west-1");
    assert!(
        message.contains("never held a working deployment")
            && message.contains("aws cloudformation delete-stack --stack-name edge-prod-b001-us-west-1-s3-stack --region us-west-1")
            && message.ends_with("then rerun: the stack is created again"),
        "{message}"
    );
}

#[test]
fn stack_names_are_read_from_stack_ids() {
    assert_eq!(
        stack_name_of("arn:aws:cloudformation:us-west-1:123456789012:stack/my-stack/uuid"),
        "my-stack"
    );
    assert_eq!(stack_name_of("my-stack"), "my-stack");
}
