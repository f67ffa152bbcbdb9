//! CloudFormation drift detection in the states emulators cannot produce, with aws-smithy-mocks:
//! a DRIFTED stack with property differences (expected and actual values reported), a detection
//! that fails (DETECTION_FAILED), one that does not finish in time, and an endpoint without the
//! API. No real sleeping: the tests run on paused (virtual) tokio time, so the production polling
//! schedule (`Poller::stack`) and the SDK's retry back-off run in full while the clock only jumps.

use std::time::Duration;

use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::types::{
    DifferenceType, PropertyDifference, StackDriftDetectionStatus, StackDriftStatus,
    StackResourceDrift, StackResourceDriftStatus,
};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
use aws_smithy_types::DateTime;
use s3_provisioner::aws::cfn::Poller;
use s3_provisioner::aws::drift::{PropertyDrift, StackDriftOutcome, detect_stack_drift};
use s3_provisioner::drift::{self, compare};

type Cfn = aws_sdk_cloudformation::Client;

const STACK: &str = "edge-prod-b001-us-west-1-s3-stack";
const DETECTION: &str = "d1e2f3";

fn cfn(rules: &[&Rule]) -> Cfn {
    let interceptor = rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |interceptor, rule| interceptor.with_rule(rule),
    );
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new("us-west-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "mock",
        ))
        .http_client(create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Cfn::from_conf(config)
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

#[tokio::test(start_paused = true)]
async fn an_endpoint_without_drift_detection_is_unavailable_not_an_error() {
    // What moto answers: an HTML error page with HTTP 500.
    let html = mock!(Cfn::detect_stack_drift)
        .sequence()
        .http_status(
            500,
            Some("<!doctype html><title>500 Internal Server Error</title>".to_owned()),
        )
        .repeatedly()
        .build();
    let client = cfn(&[&html]);
    let outcome = detect_stack_drift(&client, STACK, Poller::stack(Duration::from_mins(1)))
        .await
        .unwrap();
    assert!(
        matches!(&outcome, StackDriftOutcome::Unavailable { reason } if reason.contains("HTTP 500")),
        "{outcome:?}"
    );
    assert!(
        outcome.summary().starts_with(
            "CloudFormation drift detection is not available at this endpoint; continuing with the live checks"
        )
    );
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
