//! CloudFormation drift detection (check-drift's step 1): DetectStackDrift, waiting on
//! DescribeStackDriftDetectionStatus with an injectable [`Poller`], then DescribeStackResourceDrifts
//! for the resources that were modified or deleted.
//!
//! Every way detection can end is a normal outcome ([`StackDriftOutcome`]), not an error: the
//! caller still runs its live checks and decides the exit code. That includes an endpoint that says
//! plainly that it does not implement the API (HTTP 501, or the error code `NotImplemented`: local
//! emulators), which is reported as [`StackDriftOutcome::Unavailable`]. Anything else that fails is
//! an `Err`: an HTTP 500 (`InternalFailure`) is AWS failing this once, not a missing feature, so it
//! is retried on [`DETECT_RETRY`] and then reported, never taken for "no drift detection here".

use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};

use super::cfn::Poller;
use super::error::{Backoff, code, describe, is_retryable_code};

/// How DetectStackDrift is retried when AWS fails it (HTTP 5xx, `InternalFailure`, throttling):
/// four attempts, 1 s, 2 s and 4 s apart, so a passing fault costs seconds and a lasting one ends
/// check-drift within about ten. The SDK's own retries are off for this call, so this is the only
/// schedule.
pub const DETECT_RETRY: Backoff = Backoff {
    attempts: 4,
    first_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(4),
};

pub use crate::drift::reported::{PropertyDrift, ResourceDrift, StackDriftOutcome};

/// Run CloudFormation drift detection on `stack` and collect the drifted resources.
pub async fn detect_stack_drift(
    cfn: &Client,
    stack: &str,
    poller: Poller,
) -> anyhow::Result<StackDriftOutcome> {
    let detection_id = start_detection(cfn, stack, DETECT_RETRY).await?;
    let detection_id = match detection_id {
        Started::Id(id) => id,
        Started::Unavailable(reason) => return Ok(StackDriftOutcome::Unavailable { reason }),
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

/// How DetectStackDrift answered.
enum Started {
    Id(String),
    /// The endpoint said it does not implement drift detection.
    Unavailable(String),
}

/// DetectStackDrift, retried on `retry` while AWS fails it ([`is_transient`]). A clear "not
/// implemented" is [`Started::Unavailable`]; any other error, or a failure that outlasts the
/// retries, is an `Err` that names the call and what to do.
async fn start_detection(cfn: &Client, stack: &str, retry: Backoff) -> anyhow::Result<Started> {
    let attempts = retry.attempts.max(1);
    for attempt in 1..=attempts {
        let started = cfn
            .detect_stack_drift()
            .stack_name(stack)
            .customize()
            .config_override(
                aws_sdk_cloudformation::config::Builder::default()
                    .retry_config(RetryConfig::disabled()),
            )
            .send()
            .await;
        let error = match started {
            Ok(output) => {
                return Ok(Started::Id(
                    output
                        .stack_drift_detection_id()
                        .unwrap_or_default()
                        .to_owned(),
                ));
            }
            Err(error) if is_unavailable(&error) => {
                return Ok(Started::Unavailable(answer(&error)));
            }
            Err(error) => error,
        };
        if !is_transient(&error) {
            return Err(describe(error))
                .with_context(|| format!("starting drift detection of stack {stack}"));
        }
        if attempt == attempts {
            let answered = answer(&error);
            return Err(describe(error)).with_context(|| {
                format!(
                    "CloudFormation drift detection of stack {stack} could not be started: {answered} on each of {attempts} attempts. That is a failure inside AWS, not a sign of drift, and the stack was not compared with its template; rerun check-drift in a few minutes (the AWS Health Dashboard shows whether CloudFormation has an outage in the region)"
                )
            });
        }
        super::cfn::sleep(retry.delay_after(attempt)).await;
    }
    unreachable!("the last attempt returns")
}

/// Whether an error means "this endpoint has no drift detection": HTTP 501 Not Implemented
/// (whatever the code: LocalStack says `InternalFailure`), or the error code `NotImplemented`.
/// An HTTP 500 is not: AWS answers it (`InternalFailure`) when a call fails on its side.
fn is_unavailable<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    let status = error.raw_response().map(|r| r.status().as_u16());
    status == Some(501) || code(error) == Some("NotImplemented")
}

/// Whether AWS answered that it failed the call this time: a server error (HTTP 5xx other than
/// 501), `InternalFailure`, or throttling. (An endpoint that cannot be reached, or credentials
/// that do not load, are described as such at once by [`describe`].)
fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    let status = error.raw_response().map(|r| r.status().as_u16());
    status.is_some_and(|s| (500..600).contains(&s))
        || code(error).is_some_and(|c| c == "InternalFailure" || is_retryable_code(c))
}

/// "DetectStackDrift answered HTTP 501 NotImplemented", for the messages.
fn answer<E: ProvideErrorMetadata>(error: &SdkError<E>) -> String {
    let status = error.raw_response().map_or_else(
        || "no HTTP status".to_owned(),
        |r| format!("HTTP {}", r.status().as_u16()),
    );
    match code(error) {
        Some(code) => format!("DetectStackDrift answered {status} {code}"),
        None => format!("DetectStackDrift answered {status}"),
    }
}
