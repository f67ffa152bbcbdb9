//! Exit codes and the one place where an outcome or an error becomes a process exit code.
//!
//! Actions return `Ok(ExitStatus)` for normal outcomes (success, drift found, changes pending) and
//! `Err(anyhow::Error)` for failures. [`status_for_error`] classifies an error by the typed errors
//! in its chain: config and usage problems are 2, safety refusals are 4, interruptions are 130, and
//! everything else (AWS, I/O) is 1.

use std::process::ExitCode;

/// Every exit code the tool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitStatus {
    /// 0: success; in sync; no changes.
    Success,
    /// 1: runtime failure: AWS error, stack operation failed, I/O error.
    Failure,
    /// 2: usage error, invalid config or template; nothing was changed.
    Usage,
    /// 3: drift detected, or changes pending with `--detailed-exitcode`.
    Differences,
    /// 4: refused for safety.
    Refused,
    /// 130: interrupted by Ctrl-C.
    Interrupted,
}

impl ExitStatus {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Differences => 3,
            ExitStatus::Refused => 4,
            ExitStatus::Interrupted => 130,
        }
    }

    /// Severity order for fleets: the worst status of all runs is the exit code.
    /// Interrupted > failure > refused > usage > differences > success.
    pub fn severity(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Differences => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Refused => 3,
            ExitStatus::Failure => 4,
            ExitStatus::Interrupted => 5,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// A usage problem that is not a config-file problem: bad option combination, missing template
/// file, stale template, name too long. Exit 2; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A refusal for safety: `--force` needed, wrong AWS account, resource not owned by this tool,
/// or a change that would remove something during an additive action. Exit 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The person at the terminal answered "no" (or typed something else than asked). Exit 4, like a
/// refusal, but it is the outcome the person chose, so it is reported as a plain line, not as an
/// error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotConfirmed(pub String);

/// Ctrl-C while waiting. The message says what state things are in and how to resume. Exit 130.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// The exit status for an error: the first typed error found in its chain decides.
pub fn status_for_error(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if cause.is::<crate::config::Error>()
            || cause.is::<UsageError>()
            || cause.is::<crate::naming::NameError>()
        {
            return ExitStatus::Usage;
        }
        if cause.is::<Refusal>() || cause.is::<NotConfirmed>() {
            return ExitStatus::Refused;
        }
        if cause.is::<Interrupted>() {
            return ExitStatus::Interrupted;
        }
    }
    ExitStatus::Failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn typed_errors_map_to_their_codes_through_context() {
        let refused: anyhow::Result<()> = Err(Refusal("wrong account".into()).into());
        let refused = refused.context("deploying").unwrap_err();
        assert_eq!(status_for_error(&refused), ExitStatus::Refused);
        assert_eq!(
            status_for_error(&UsageError("x".into()).into()),
            ExitStatus::Usage
        );
        assert_eq!(
            status_for_error(&Interrupted("x".into()).into()),
            ExitStatus::Interrupted
        );
        assert_eq!(
            status_for_error(&anyhow::anyhow!("io")),
            ExitStatus::Failure
        );
    }

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            ExitStatus::Success,
            ExitStatus::Failure,
            ExitStatus::Usage,
            ExitStatus::Differences,
            ExitStatus::Refused,
            ExitStatus::Interrupted,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 130]);
    }
}
