//! Readable AWS errors: an SDK error rendered as `Code: message` (plus the request id when there
//! is one), and the classification callers branch on.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Turn an SDK error into an `anyhow::Error` that reads `Code: message`, instead of the SDK's
/// nested "service error" display.
#[allow(clippy::needless_pass_by_value)] // Used as `.map_err(describe)`.
pub fn describe<E, R>(error: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let text = match &error {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("UnknownError");
            let message = inner.message().unwrap_or("no message");
            match inner
                .meta()
                .extra("aws_request_id")
                .or_else(|| inner.meta().extra("s3_extended_request_id"))
            {
                Some(id) => format!("{code}: {message} (request id {id})"),
                None => format!("{code}: {message}"),
            }
        }
        SdkError::TimeoutError(_) => "the request to AWS timed out".to_owned(),
        // Connection problems: the full source chain says why (DNS, refused, TLS).
        other => format!("could not reach AWS: {}", DisplayErrorContext(other)),
    };
    anyhow::anyhow!(text)
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
