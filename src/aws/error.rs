//! Readable AWS errors: an SDK error becomes an [`AwsError`] that says in one line what went
//! wrong and what to do — `Code: message` for AWS's own answers, and plain advice for the failures
//! people meet most (no credentials, an expired SSO session, an endpoint that cannot be reached or
//! does not answer, access denied). The SDK's full error chain is kept for `-v`.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What kind of failure an [`AwsError`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// AWS answered with an error code (`NoSuchBucket`, `ValidationError`, …).
    Service { code: String },
    /// AWS refused the credentials' permissions (`AccessDenied` and its spellings).
    AccessDenied,
    /// No usable credentials: none found, an expired SSO session, a broken profile.
    Credentials,
    /// The endpoint could not be reached (DNS, connection refused, TLS).
    Unreachable,
    /// The endpoint did not answer in time (see `aws::TIMEOUTS`).
    TimedOut,
    /// Anything else (a response the SDK could not read, …).
    Other,
}

/// An AWS call that failed, described for people.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    /// `service:Operation`, e.g. `s3:PutObject`.
    pub operation: String,
    pub kind: AwsErrorKind,
    /// The one-line description (what went wrong, and what to do where that is known).
    pub message: String,
    /// The SDK's own rendering of the whole error chain, for `-v`.
    pub details: String,
}

/// Turn an SDK error into an `anyhow::Error` holding an [`AwsError`]. Callers add context naming
/// what they were doing (`uploading template to s3://b/k`).
#[allow(clippy::needless_pass_by_value)] // Used as `.map_err(describe)`.
pub fn describe<E, R>(error: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let operation = operation_name::<E>();
    let details = format!("{}", DisplayErrorContext(&error));
    let (kind, message) = match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("UnknownError").to_owned();
            let text = inner.message().unwrap_or("no message");
            let request = inner
                .meta()
                .extra("aws_request_id")
                .or_else(|| inner.meta().extra("s3_extended_request_id"))
                .map_or_else(String::new, |id| format!(" (request id {id})"));
            if is_access_denied(&code) {
                (
                    AwsErrorKind::AccessDenied,
                    format!(
                        "access denied for {operation}: {code}: {text}{request}. The credentials lack this permission: grant it (the policy written by --action create-policy covers every call the tool makes), or use other credentials"
                    ),
                )
            } else {
                (
                    AwsErrorKind::Service { code: code.clone() },
                    format!("{code}: {text}{request}"),
                )
            }
        }
        SdkError::TimeoutError(_) => (
            AwsErrorKind::TimedOut,
            format!("no answer to {operation} in time"),
        ),
        SdkError::DispatchFailure(failure) => {
            if let Some(advice) = credentials_advice(&error) {
                (AwsErrorKind::Credentials, advice)
            } else if failure.is_timeout() {
                (
                    AwsErrorKind::TimedOut,
                    format!("no answer to {operation} in time ({})", innermost(&error)),
                )
            } else {
                (
                    AwsErrorKind::Unreachable,
                    format!("could not reach AWS for {operation}: {}", innermost(&error)),
                )
            }
        }
        _ => (
            AwsErrorKind::Other,
            format!("{operation} failed: {}", innermost(&error)),
        ),
    };
    anyhow::Error::new(AwsError {
        operation,
        kind,
        message,
        details,
    })
}

/// Whether `error` (with its context chain) is AWS's answer `code`, e.g. `NoSuchBucket`.
pub fn has_code(error: &anyhow::Error, code: &str) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<AwsError>()
            .is_some_and(|e| matches!(&e.kind, AwsErrorKind::Service { code: c } if c == code))
    })
}

/// The error code of an SDK error (`NoSuchBucket`, `ValidationError`, `Throttling` …), if any.
pub fn code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// Error codes that mean "slow down and try again": throttling and transient server errors. The
/// SDK retries these itself; calls made by the thousand (DeleteObjects batches, folder markers)
/// retry them once more per key on the [`Backoff::BULK`] schedule, so one busy second does not
/// fail a whole tear-down or deployment.
pub const RETRYABLE_CODES: [&str; 7] = [
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestTimeout",
];

/// Whether `code` is one of [`RETRYABLE_CODES`].
pub fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

/// The retry schedule of bulk S3 work, on top of the SDK's own retries (injectable, so tests pass
/// zero delays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time up to `max_delay`.
    pub first_delay: std::time::Duration,
    pub max_delay: std::time::Duration,
}

impl Backoff {
    /// Six attempts, backing off from 0.2 s to 3 s (about 6 s in all).
    pub const BULK: Backoff = Backoff {
        attempts: 6,
        first_delay: std::time::Duration::from_millis(200),
        max_delay: std::time::Duration::from_secs(3),
    };

    /// No waiting between attempts (tests).
    pub const IMMEDIATE: Backoff = Backoff {
        attempts: 6,
        first_delay: std::time::Duration::ZERO,
        max_delay: std::time::Duration::ZERO,
    };

    /// The pause after failed attempt `attempt` (1-based).
    pub fn delay_after(self, attempt: u32) -> std::time::Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// The codes AWS services use for a missing permission.
fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "Forbidden"
    )
}

/// `service:Operation` from the SDK's error type, e.g.
/// `aws_sdk_s3::operation::put_object::PutObjectError` → `s3:PutObject`.
fn operation_name<E>() -> String {
    let type_name = std::any::type_name::<E>();
    let service = type_name
        .split("::")
        .next()
        .and_then(|krate| krate.strip_prefix("aws_sdk_"))
        .unwrap_or("aws");
    let operation = type_name
        .rsplit("::")
        .next()
        .and_then(|last| last.strip_suffix("Error"))
        .unwrap_or(type_name);
    format!("{service}:{operation}")
}

/// The deepest cause in the chain: the one that says what actually happened ("Connection
/// refused (os error 111)"), without the SDK's wrapping layers.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Advice for a credentials failure, when the error chain holds one.
fn credentials_advice(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    use aws_credential_types::provider::error::CredentialsError;
    let mut credentials = None;
    let mut chain_text = String::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if credentials.is_none() {
            credentials = current.downcast_ref::<CredentialsError>();
        }
        chain_text.push_str(&current.to_string());
        chain_text.push('\n');
        cause = current.source();
    }
    let credentials = credentials?;
    let lower = chain_text.to_ascii_lowercase();
    let profile = std::env::var("AWS_PROFILE").unwrap_or_default();
    let profile_arg = if profile.is_empty() {
        "--profile NAME".to_owned()
    } else {
        format!("--profile {profile}")
    };
    if lower.contains("sso") {
        return Some(format!(
            "the AWS SSO session of the profile has expired or was never started: run `aws sso login {profile_arg}` and rerun (the SDK said: {})",
            innermost(credentials)
        ));
    }
    if matches!(credentials, CredentialsError::CredentialsNotLoaded(_))
        || lower.contains("imds")
        || lower.contains("instance metadata")
    {
        return Some(
            "no AWS credentials found: the tool looked in the AWS_* environment variables, the shared config and credentials files (~/.aws), web identity, the container and the instance metadata. Pass --profile NAME (or set AWS_PROFILE), export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or with Docker mount your AWS files: -v ~/.aws:/home/s3user/.aws:ro".to_owned(),
        );
    }
    Some(format!(
        "the AWS credentials could not be loaded: {}. Check {profile_arg} and ~/.aws/config",
        innermost(credentials)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_service_and_api() {
        assert_eq!(
            operation_name::<aws_sdk_s3::operation::put_object::PutObjectError>(),
            "s3:PutObject"
        );
        assert_eq!(
            operation_name::<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError>(),
            "sts:GetCallerIdentity"
        );
    }
}
