//! What CloudFormation's own drift detection reported, as plain data: [`crate::aws::drift`] fills
//! it in, [`super::compare::stack_findings`] turns it into findings. Kept here, beside the live
//! state ([`super::state`]), so every type drift compares lives in one place and `drift` needs
//! nothing of `aws`.

use serde::Serialize;

/// One property of a resource that differs from its template (`PropertyDifferences`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDrift {
    /// JSON-pointer-like path, e.g. `/VersioningConfiguration/Status`.
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub difference: String,
}

/// A stack resource that CloudFormation found modified or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    pub differences: Vec<PropertyDrift>,
}

/// How CloudFormation drift detection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum StackDriftOutcome {
    /// Detection finished: `IN_SYNC` (no resources) or `DRIFTED` (the drifted resources).
    Completed {
        /// `IN_SYNC`, `DRIFTED`, `NOT_CHECKED` or `UNKNOWN`.
        stack_status: String,
        resources: Vec<ResourceDrift>,
    },
    /// `DETECTION_FAILED`: CloudFormation could not check (some of) the stack.
    DetectionFailed { reason: String },
    /// Detection did not finish within the maximum wait.
    TimedOut {
        detection_id: String,
        waited_secs: u64,
    },
    /// The endpoint does not implement drift detection (local emulators).
    Unavailable { reason: String },
}

impl StackDriftOutcome {
    /// A short line for people.
    pub fn summary(&self) -> String {
        match self {
            StackDriftOutcome::Completed {
                stack_status,
                resources,
            } => match resources.len() {
                0 => format!("CloudFormation drift detection: {stack_status}"),
                n => format!(
                    "CloudFormation drift detection: {stack_status} ({n} resource(s) drifted)"
                ),
            },
            StackDriftOutcome::DetectionFailed { reason } => {
                format!("CloudFormation drift detection failed (DETECTION_FAILED): {reason}")
            }
            StackDriftOutcome::TimedOut {
                detection_id,
                waited_secs,
            } => format!(
                "CloudFormation drift detection did not finish within {waited_secs} s (detection id {detection_id}); raise --timeout or check later with `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {detection_id}`"
            ),
            StackDriftOutcome::Unavailable { reason } => format!(
                "CloudFormation drift detection is not available at this endpoint; continuing with the live checks ({reason})"
            ),
        }
    }
}
