//! CloudFormation drift detection (SPEC §9 check-drift, step 1): DetectStackDrift, waiting on
//! DescribeStackDriftDetectionStatus with an injectable [`Poller`], then DescribeStackResourceDrifts
//! for the resources that were modified or deleted.
//!
//! Every way detection can end is a normal outcome ([`StackDriftOutcome`]), not an error: the
//! caller still runs its live checks and decides the exit code. That includes an endpoint that does
//! not implement the API at all (local emulators answer HTTP 500/501), which is reported as
//! [`StackDriftOutcome::Unavailable`]. Only a failing AWS call is an `Err`.

use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};

use super::cfn::Poller;
use super::error::{code, describe};

/// How DetectStackDrift itself is retried. An endpoint without drift detection answers HTTP 500,
/// which the SDK treats as transient; the client's eight attempts with full backoff would stall
/// check-drift for a minute before saying "not available". Three quick attempts still ride out a
/// real transient failure or throttling burst.
const DETECT_ATTEMPTS: u32 = 3;
const DETECT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);

pub use crate::drift::reported::{PropertyDrift, ResourceDrift, StackDriftOutcome};

/// Run CloudFormation drift detection on `stack` and collect the drifted resources.
pub async fn detect_stack_drift(
    cfn: &Client,
    stack: &str,
    poller: Poller,
) -> anyhow::Result<StackDriftOutcome> {
    let started = cfn
        .detect_stack_drift()
        .stack_name(stack)
        .customize()
        .config_override(
            aws_sdk_cloudformation::config::Builder::default().retry_config(
                RetryConfig::standard()
                    .with_max_attempts(DETECT_ATTEMPTS)
                    .with_initial_backoff(DETECT_INITIAL_BACKOFF),
            ),
        )
        .send()
        .await;
    let detection_id = match started {
        Ok(output) => output
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_owned(),
        Err(error) if is_unavailable(&error) => {
            return Ok(StackDriftOutcome::Unavailable {
                reason: unavailable_reason(&error),
            });
        }
        Err(error) => {
            return Err(describe(error))
                .with_context(|| format!("starting drift detection of stack {stack}"));
        }
    };

    let mut clock = poller.start();
    let status = loop {
        let status = cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&detection_id)
            .send()
            .await
            .map_err(describe)
            .with_context(|| format!("reading the drift detection status of stack {stack}"))?;
        if status.detection_status() != Some(&StackDriftDetectionStatus::DetectionInProgress) {
            break status;
        }
        if clock.expired() {
            return Ok(StackDriftOutcome::TimedOut {
                detection_id,
                waited_secs: clock.waited_secs(),
            });
        }
        clock.pause().await;
    };

    if status.detection_status() == Some(&StackDriftDetectionStatus::DetectionFailed) {
        return Ok(StackDriftOutcome::DetectionFailed {
            reason: status
                .detection_status_reason()
                .unwrap_or("no reason given")
                .to_owned(),
        });
    }
    let stack_status = status
        .stack_drift_status()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned();
    let resources = resource_drifts(cfn, stack).await?;
    Ok(StackDriftOutcome::Completed {
        stack_status,
        resources,
    })
}

/// DescribeStackResourceDrifts (all pages), only resources that were modified or deleted.
async fn resource_drifts(cfn: &Client, stack: &str) -> anyhow::Result<Vec<ResourceDrift>> {
    let mut resources = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .describe_stack_resource_drifts()
            .stack_name(stack)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
            .set_next_token(token)
            .send()
            .await
            .map_err(describe)
            .with_context(|| format!("reading the drifted resources of stack {stack}"))?;
        for drift in page.stack_resource_drifts() {
            resources.push(ResourceDrift {
                logical_id: drift.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: drift.physical_resource_id().map(str::to_owned),
                resource_type: drift.resource_type().unwrap_or_default().to_owned(),
                status: drift
                    .stack_resource_drift_status()
                    .map_or("UNKNOWN", |s| s.as_str())
                    .to_owned(),
                differences: drift
                    .property_differences()
                    .iter()
                    .map(|d| PropertyDrift {
                        path: d.property_path().unwrap_or_default().to_owned(),
                        expected: d.expected_value().unwrap_or_default().to_owned(),
                        actual: d.actual_value().unwrap_or_default().to_owned(),
                        difference: d
                            .difference_type()
                            .map_or("NOT_EQUAL", |t| t.as_str())
                            .to_owned(),
                    })
                    .collect(),
            });
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(resources)
}

/// Whether an error means "this endpoint has no drift detection": HTTP 501, or HTTP 500 that is
/// `NotImplemented`/`InternalFailure` or not an AWS error document at all (an emulator's HTML
/// error page).
fn is_unavailable<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    let status = error.raw_response().map(|r| r.status().as_u16());
    match status {
        Some(501) => true,
        Some(500) => matches!(
            code(error),
            None | Some("NotImplemented" | "InternalFailure")
        ),
        _ => false,
    }
}

fn unavailable_reason<E: ProvideErrorMetadata>(error: &SdkError<E>) -> String {
    let status = error.raw_response().map_or(0, |r| r.status().as_u16());
    match code(error) {
        Some(code) => format!("DetectStackDrift answered HTTP {status} {code}"),
        None => format!("DetectStackDrift answered HTTP {status}"),
    }
}
