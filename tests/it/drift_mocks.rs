//! CloudFormation drift detection in the states emulators cannot produce, with aws-smithy-mocks:
//! a DRIFTED stack with property differences (expected and actual values reported), a detection
//! that fails (DETECTION_FAILED), one that does not finish in time, an endpoint without the API
//! (HTTP 501), and AWS failing the call (HTTP 500, retried, then an error). No real sleeping: the
//! tests run on paused (virtual) tokio time, so the production polling schedule (`Poller::stack`)
//! and the retry back-off run in full while the clock only jumps.

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::types::{
    DifferenceType, PropertyDifference, StackDriftDetectionStatus, StackDriftStatus,
    StackResourceDrift, StackResourceDriftStatus,
};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::DateTime;
use s3_provisioner::aws::cfn::Poller;
use s3_provisioner::aws::drift::{PropertyDrift, StackDriftOutcome, detect_stack_drift};
use s3_provisioner::drift::{self, compare};

use crate::support::mocks::{self, STACK};

type Cfn = aws_sdk_cloudformation::Client;

const DETECTION: &str = "d1e2f3";

fn cfn(rules: &[&Rule]) -> Cfn {
    mocks::cfn(rules, None)
}

fn detect_rule() -> Rule {
    mock!(Cfn::detect_stack_drift)
        .match_requests(|req| req.stack_name() == Some(STACK))
        .then_output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id(DETECTION)
                .build()
        })
}

fn status(detection: StackDriftDetectionStatus) -> DescribeStackDriftDetectionStatusOutput {
    DescribeStackDriftDetectionStatusOutput::builder()
        .stack_id(STACK)
        .stack_drift_detection_id(DETECTION)
        .detection_status(detection)
        .timestamp(DateTime::from_secs(0))
        .build()
}

fn difference(
    path: &str,
    expected: &str,
    actual: &str,
    kind: DifferenceType,
) -> PropertyDifference {
    PropertyDifference::builder()
        .property_path(path)
        .expected_value(expected)
        .actual_value(actual)
        .difference_type(kind)
        .build()
}

fn resource(logical_id: &str, kind: &str, status: StackResourceDriftStatus) -> StackResourceDrift {
    StackResourceDrift::builder()
        .stack_id(STACK)
        .logical_resource_id(logical_id)
        .resource_type(kind)
        .stack_resource_drift_status(status)
        .timestamp(DateTime::from_secs(0))
        .build()
}

#[tokio::test(start_paused = true)]
async fn a_drifted_stack_reports_every_difference_with_expected_and_actual_values() {
    let detect = detect_rule();
    let progress = mock!(Cfn::describe_stack_drift_detection_status)
        .sequence()
        .output(|| status(StackDriftDetectionStatus::DetectionInProgress))
        .output(|| {
            let mut done = status(StackDriftDetectionStatus::DetectionComplete);
            done.stack_drift_status = Some(StackDriftStatus::Drifted);
            done.drifted_stack_resource_count = Some(2);
            done
        })
        .build();
    // Two pages: the bucket's differences, then the deleted policy.
    let drifts = mock!(Cfn::describe_stack_resource_drifts)
        .sequence()
        .output(|| {
            let mut bucket = resource(
                "Bucket",
                "AWS::S3::Bucket",
                StackResourceDriftStatus::Modified,
            );
            bucket.physical_resource_id = Some("edge-prod-b001-us-west-1-s3".to_owned());
            bucket.property_differences = Some(vec![
                difference(
                    "/VersioningConfiguration/Status",
                    "Enabled",
                    "Suspended",
                    DifferenceType::NotEqual,
                ),
                difference(
                    "/Tags/2",
                    "{\"Key\":\"Owner\",\"Value\":\"data-science\"}",
                    "null",
                    DifferenceType::Remove,
                ),
            ]);
            DescribeStackResourceDriftsOutput::builder()
                .stack_resource_drifts(bucket)
                .next_token("page-2")
                .build()
        })
        .output(|| {
            DescribeStackResourceDriftsOutput::builder()
                .stack_resource_drifts(resource(
                    "BucketPolicy",
                    "AWS::S3::BucketPolicy",
                    StackResourceDriftStatus::Deleted,
                ))
                .build()
        })
        .build();
    let client = cfn(&[&detect, &progress, &drifts]);

    let outcome = detect_stack_drift(&client, STACK, Poller::stack(Duration::from_mins(1)))
        .await
        .unwrap();
    let StackDriftOutcome::Completed {
        stack_status,
        resources,
    } = &outcome
    else {
        panic!("expected a completed detection, got {outcome:?}");
    };
    assert_eq!(stack_status, "DRIFTED");
    assert_eq!(progress.num_calls(), 2);
    assert_eq!(drifts.num_calls(), 2);
    assert_eq!(resources.len(), 2);
    assert_eq!(
        resources[0].differences[0],
        PropertyDrift {
            path: "/VersioningConfiguration/Status".to_owned(),
            expected: "Enabled".to_owned(),
            actual: "Suspended".to_owned(),
            difference: "NOT_EQUAL".to_owned(),
        }
    );
    assert_eq!(resources[1].status, "DELETED");
    assert_eq!(
        outcome.summary(),
        "CloudFormation drift detection: DRIFTED (2 resource(s) drifted)"
    );

    let findings = compare::stack_findings(&outcome);
    insta::assert_snapshot!(drift::table(&findings).join("\n"), @r#"
    RESOURCE      PROPERTY                         EXPECTED                                ACTUAL     SOURCE
    Bucket        /VersioningConfiguration/Status  Enabled                                 Suspended  cloudformation
    Bucket        /Tags/2                          {"Key":"Owner","Value":"data-science"}  (absent)   cloudformation
    BucketPolicy  (resource)                       present                                 deleted    cloudformation
    "#);
}

#[tokio::test(start_paused = true)]
async fn detection_failed_is_reported_as_such() {
    let detect = detect_rule();
    let failed = mock!(Cfn::describe_stack_drift_detection_status).then_output(|| {
        let mut failed = status(StackDriftDetectionStatus::DetectionFailed);
        failed.detection_status_reason =
            Some("Failed to detect drift on resource [Bucket]: Access Denied".to_owned());
        failed
    });
    let client = cfn(&[&detect, &failed]);
    let outcome = detect_stack_drift(&client, STACK, Poller::stack(Duration::from_mins(1)))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        StackDriftOutcome::DetectionFailed {
            reason: "Failed to detect drift on resource [Bucket]: Access Denied".to_owned()
        }
    );
    assert!(outcome.summary().starts_with(
        "CloudFormation drift detection failed (DETECTION_FAILED): Failed to detect drift"
    ));
    assert!(compare::stack_findings(&outcome).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_detection_that_never_finishes_times_out() {
    let detect = detect_rule();
    let busy = mock!(Cfn::describe_stack_drift_detection_status)
        .then_output(|| status(StackDriftDetectionStatus::DetectionInProgress));
    let client = cfn(&[&detect, &busy]);
    let outcome = detect_stack_drift(&client, STACK, Poller::stack(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        StackDriftOutcome::TimedOut {
            detection_id: DETECTION.to_owned(),
            waited_secs: 0
        }
    );
    assert!(busy.num_calls() >= 1);
    assert!(outcome.summary().contains("did not finish within 0 s"));
    assert!(
        outcome
            .summary()
            .contains("describe-stack-drift-detection-status --stack-drift-detection-id d1e2f3")
    );
}

/// What an emulator without drift detection answers: moto (through the launcher) and
/// LocalStack 4.9.2 both say HTTP 501; LocalStack with the code `InternalFailure`.
const NOT_IMPLEMENTED: [(&str, &str); 2] = [
    (
        "501 NotImplemented",
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>NotImplemented</Code><Message>DetectStackDrift is not implemented by the local AWS emulator (moto)</Message></Error><RequestId>s3p-moto</RequestId></ErrorResponse>",
    ),
    (
        "501 InternalFailure",
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>InternalFailure</Code><Message>The API action 'DetectStackDrift' for service 'cloudformation' is either not available in your current license plan or has not yet been emulated by LocalStack.</Message></Error><RequestId>9f1b</RequestId></ErrorResponse>",
    ),
];

/// What AWS answers when a call fails on its side (CommonErrors: `InternalFailure`, HTTP 500),
/// and an HTTP 500 that is no AWS error document at all (a proxy's error page).
const FAILED_INSIDE_AWS: [(&str, &str); 2] = [
    (
        "500 InternalFailure",
        "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>The request processing has failed because of an unknown error, exception or failure.</Message></Error><RequestId>6b1d7c0e-1f0a-4c51-9a3e-2f1d9e0c7a11</RequestId></ErrorResponse>",
    ),
    (
        "500",
        "<!doctype html><title>500 Internal Server Error</title>",
    ),
];

#[tokio::test(start_paused = true)]
async fn an_endpoint_without_drift_detection_is_unavailable_not_an_error() {
    for (answer, body) in NOT_IMPLEMENTED {
        let not_implemented = mock!(Cfn::detect_stack_drift)
            .sequence()
            .http_status(501, Some(body.to_owned()))
            .repeatedly()
            .build();
        let client = cfn(&[&not_implemented]);
        let outcome = detect_stack_drift(&client, STACK, Poller::immediate(Duration::from_mins(1)))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            StackDriftOutcome::Unavailable {
                reason: format!("DetectStackDrift answered HTTP {answer}")
            }
        );
        assert_eq!(not_implemented.num_calls(), 1, "{answer}: not retried");
        assert!(outcome.summary().starts_with(
            "CloudFormation drift detection is not available at this endpoint; continuing with the live checks"
        ));
    }
}

/// A `NotImplemented` code means the same whatever the status.
#[tokio::test]
async fn the_code_not_implemented_is_unavailable_too() {
    let not_implemented = mock!(Cfn::detect_stack_drift)
        .sequence()
        .http_status(
            400,
            Some("<ErrorResponse><Error><Type>Sender</Type><Code>NotImplemented</Code><Message>not here</Message></Error></ErrorResponse>".to_owned()),
        )
        .build();
    let client = cfn(&[&not_implemented]);
    let outcome = detect_stack_drift(&client, STACK, Poller::stack(Duration::from_mins(1)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StackDriftOutcome::Unavailable { reason } if reason == "DetectStackDrift answered HTTP 400 NotImplemented"),
        "{outcome:?}"
    );
}

/// An HTTP 500 is AWS failing the call, not a missing feature: retried on the drift retry
/// schedule (virtual time: 1 + 2 + 4 s between four attempts), then an error naming the call and
/// what to do — never "unavailable", which would let check-drift say "in sync".
#[tokio::test(start_paused = true)]
async fn a_failure_inside_aws_is_retried_then_an_error_not_unavailable() {
    for (answer, body) in FAILED_INSIDE_AWS {
        let failing = mock!(Cfn::detect_stack_drift)
            .sequence()
            .http_status(500, Some(body.to_owned()))
            .repeatedly()
            .build();
        let client = cfn(&[&failing]);
        let started = tokio::time::Instant::now();
        let error = detect_stack_drift(&client, STACK, Poller::immediate(Duration::from_mins(1)))
            .await
            .unwrap_err();
        assert_eq!(failing.num_calls(), 4, "{answer}");
        assert_eq!(started.elapsed(), Duration::from_secs(7), "{answer}");
        let text = format!("{error:#}");
        assert!(
            text.starts_with(&format!(
                "CloudFormation drift detection of stack {STACK} could not be started: DetectStackDrift answered HTTP {answer} on each of 4 attempts."
            )),
            "{text}"
        );
        assert!(
            text.contains("rerun check-drift in a few minutes"),
            "{text}"
        );
    }
}

/// A failure that passes: the retry starts the detection, which ends COMPLETE and IN_SYNC with
/// no drifted resource (DescribeStackResourceDrifts filtered to MODIFIED/DELETED lists none).
#[tokio::test(start_paused = true)]
async fn a_passing_failure_is_retried_and_an_in_sync_stack_is_in_sync() {
    let detect = mock!(Cfn::detect_stack_drift)
        .sequence()
        .http_status(500, Some(FAILED_INSIDE_AWS[0].1.to_owned()))
        .output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id(DETECTION)
                .build()
        })
        .build();
    let complete = mock!(Cfn::describe_stack_drift_detection_status).then_output(|| {
        let mut done = status(StackDriftDetectionStatus::DetectionComplete);
        done.stack_drift_status = Some(StackDriftStatus::InSync);
        done.drifted_stack_resource_count = Some(0);
        done
    });
    let none_drifted = mock!(Cfn::describe_stack_resource_drifts)
        .then_output(|| DescribeStackResourceDriftsOutput::builder().build());
    let client = cfn(&[&detect, &complete, &none_drifted]);
    let outcome = detect_stack_drift(&client, STACK, Poller::immediate(Duration::from_mins(1)))
        .await
        .unwrap();
    assert_eq!(detect.num_calls(), 2);
    assert_eq!(
        outcome,
        StackDriftOutcome::Completed {
            stack_status: "IN_SYNC".to_owned(),
            resources: Vec::new()
        }
    );
    assert_eq!(outcome.summary(), "CloudFormation drift detection: IN_SYNC");
    assert!(compare::stack_findings(&outcome).is_empty());
}

#[tokio::test(start_paused = true)]
async fn other_errors_are_errors() {
    let denied = mock!(Cfn::detect_stack_drift)
        .sequence()
        .http_status(
            403,
            Some(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>"
                    .to_owned(),
            ),
        )
        .build();
    let client = cfn(&[&denied]);
    let error = detect_stack_drift(&client, STACK, Poller::stack(Duration::from_mins(1)))
        .await
        .unwrap_err();
    let text = format!("{error:#}");
    assert!(
        text.contains("starting drift detection of stack") && text.contains("AccessDenied"),
        "{text}"
    );
}
