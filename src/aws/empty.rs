//! Emptying a bucket for tear-down: every object version and delete marker, every
//! incomplete multipart upload, and the bucket itself.
//!
//! Listing and deleting overlap: ListObjectVersions pages (1,000 entries each) feed DeleteObjects
//! batches of up to 1,000 keys in Quiet mode, several batches in flight. Keys S3 answers with
//! `SlowDown` / `InternalError` inside a 200 response (the SDK cannot retry those) are retried
//! with backoff; every other per-key error is collected with its key and version and reported,
//! never dropped. A request that fails outright for a reason other than throttling (AccessDenied,
//! NoSuchBucket…) stops the run: every further batch would fail the same way.
//!
//! Nothing here decides whether a bucket may be emptied (ownership, confirmation, Object Lock
//! policy): that is `ops::tear_down`'s job. Counters are shared atomics so a caller that stops
//! waiting (Ctrl-C) can still say how far it got.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;

use super::error::{Backoff, code, describe, is_retryable_code};

/// The most keys DeleteObjects takes in one request (an S3 limit).
pub const MAX_BATCH: usize = 1000;

/// How emptying runs: batches in flight and the retry schedule for throttled keys (STYLE 12:
/// injectable, so tests pass zero delays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptySettings {
    /// DeleteObjects requests running at once.
    pub batches_in_flight: usize,
    /// Attempts per key, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for EmptySettings {
    /// Eight batches (8,000 keys) in flight; a throttled key is retried on the [`Backoff::BULK`]
    /// schedule (the one folder markers use too) before it is reported.
    fn default() -> Self {
        EmptySettings {
            batches_in_flight: 8,
            attempts: Backoff::BULK.attempts,
            first_delay: Backoff::BULK.first_delay,
            max_delay: Backoff::BULK.max_delay,
        }
    }
}

/// Running totals, readable while emptying runs and after it was abandoned.
#[derive(Debug, Default)]
pub struct Counters {
    /// Versions and delete markers listed so far.
    pub listed: AtomicU64,
    /// Versions and delete markers deleted so far.
    pub deleted: AtomicU64,
    /// Keys given up on.
    pub failed: AtomicU64,
    /// Set once the last page has been listed (the total is then known).
    pub listing_done: std::sync::atomic::AtomicBool,
}

impl Counters {
    /// `(deleted, listed, listing_done)` right now.
    pub fn snapshot(&self) -> (u64, u64, bool) {
        (
            self.deleted.load(Ordering::Relaxed),
            self.listed.load(Ordering::Relaxed),
            self.listing_done.load(Ordering::Relaxed),
        )
    }
}

/// A version S3 would not delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFailure {
    pub key: String,
    pub version_id: Option<String>,
    pub code: String,
    pub message: String,
}

impl KeyFailure {
    /// Whether S3 refused because of Object Lock (retention or legal hold).
    pub fn is_object_lock(&self) -> bool {
        self.code == "AccessDenied" && self.message.to_ascii_lowercase().contains("object lock")
    }
}

/// What one emptying pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EmptyReport {
    pub listed: u64,
    pub deleted: u64,
    /// Keys that could not be deleted, with S3's reason.
    pub failures: Vec<KeyFailure>,
}

/// Delete every object version and delete marker in `bucket`. `on_batch` is called after each
/// finished batch (for progress display); `counters` is updated as listing and deleting go.
pub async fn delete_all_versions(
    s3: &Client,
    bucket: &str,
    settings: EmptySettings,
    counters: &Counters,
    on_batch: &mut (dyn FnMut(&Counters) + Send),
) -> anyhow::Result<EmptyReport> {
    // The entry a page ends with is the marker the next page is listed from. It is held back
    // and deleted with the next page, so it still exists when it is used as a marker: S3 does not
    // need that, but emulators that look the marker version up (moto) would otherwise return an
    // empty page and end the listing early.
    let start = Listing {
        markers: Some((None, None)),
        held: None,
    };
    let pages = stream::try_unfold(start, |listing| async move {
        let Some((key_marker, version_marker)) = listing.markers else {
            return Ok(None);
        };
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .max_keys(i32::try_from(MAX_BATCH).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(describe)
            .with_context(|| format!("listing the object versions of bucket {bucket}"))?;
        let mut ids = Vec::with_capacity(page.versions().len() + page.delete_markers().len() + 1);
        let entries = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        for (key, version_id) in entries {
            let Some(key) = key else { continue };
            ids.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version_id.map(str::to_owned))
                    .build()
                    .context("building a DeleteObjects key")?,
            );
        }
        counters
            .listed
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        ids.extend(listing.held);
        let next = if page.is_truncated() == Some(true) {
            let markers = (
                page.next_key_marker().map(str::to_owned),
                page.next_version_id_marker().map(str::to_owned),
            );
            let held = ids
                .iter()
                .position(|id| {
                    Some(id.key()) == markers.0.as_deref()
                        && id.version_id() == markers.1.as_deref()
                })
                .map(|at| ids.swap_remove(at));
            Listing {
                markers: Some(markers),
                held,
            }
        } else {
            counters.listing_done.store(true, Ordering::Relaxed);
            Listing {
                markers: None,
                held: None,
            }
        };
        anyhow::Ok(Some((ids, next)))
    });
    let batches = pages
        .map_ok(|ids| {
            let chunks: Vec<anyhow::Result<Vec<ObjectIdentifier>>> =
                ids.chunks(MAX_BATCH).map(|c| Ok(c.to_vec())).collect();
            stream::iter(chunks)
        })
        .try_flatten()
        .map_ok(|batch| delete_batch(s3, bucket, batch, settings))
        .try_buffer_unordered(settings.batches_in_flight.max(1));
    futures_util::pin_mut!(batches);

    let mut failures = Vec::new();
    while let Some(outcome) = batches.try_next().await? {
        counters
            .deleted
            .fetch_add(outcome.deleted, Ordering::Relaxed);
        counters
            .failed
            .fetch_add(outcome.failures.len() as u64, Ordering::Relaxed);
        failures.extend(outcome.failures);
        on_batch(counters);
    }
    counters.listing_done.store(true, Ordering::Relaxed);
    failures.sort_by(|a, b| (&a.key, &a.version_id).cmp(&(&b.key, &b.version_id)));
    let (deleted, listed, _) = counters.snapshot();
    Ok(EmptyReport {
        listed,
        deleted,
        failures,
    })
}

/// Where the version listing is: the markers of the next page (`None` when done) and the marker
/// entry held back from the previous page.
struct Listing {
    markers: Option<(Option<String>, Option<String>)>,
    held: Option<ObjectIdentifier>,
}

/// What one DeleteObjects batch achieved.
struct BatchOutcome {
    deleted: u64,
    failures: Vec<KeyFailure>,
}

/// Delete one batch, retrying throttled keys (and throttled requests) with backoff.
async fn delete_batch(
    s3: &Client,
    bucket: &str,
    batch: Vec<ObjectIdentifier>,
    settings: EmptySettings,
) -> anyhow::Result<BatchOutcome> {
    let total = batch.len() as u64;
    let mut pending = batch;
    let mut failures = Vec::new();
    let mut delay = settings.first_delay;
    for attempt in 1..=settings.attempts.max(1) {
        let last = attempt == settings.attempts.max(1);
        let delete = Delete::builder()
            .set_objects(Some(pending.clone()))
            .quiet(true)
            .build()
            .context("building a DeleteObjects request")?;
        match s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
        {
            Ok(output) => {
                let mut retry = Vec::new();
                for error in output.errors() {
                    let key = error.key().unwrap_or_default();
                    // Some S3 implementations leave VersionId out of the error: when the batch
                    // holds one version of that key, it is that one.
                    let version_id = error.version_id().map(str::to_owned).or_else(|| {
                        let mut versions = pending.iter().filter(|id| id.key() == key);
                        match (versions.next(), versions.next()) {
                            (Some(only), None) => only.version_id().map(str::to_owned),
                            _ => None,
                        }
                    });
                    let failure = KeyFailure {
                        key: key.to_owned(),
                        version_id,
                        code: error.code().unwrap_or("UnknownError").to_owned(),
                        message: error.message().unwrap_or("no message").to_owned(),
                    };
                    if !last && is_retryable_code(&failure.code) {
                        retry.extend(
                            pending
                                .iter()
                                .find(|id| {
                                    id.key() == failure.key
                                        && id.version_id() == failure.version_id.as_deref()
                                })
                                .cloned(),
                        );
                    } else {
                        failures.push(failure);
                    }
                }
                if retry.is_empty() {
                    break;
                }
                pending = retry;
            }
            Err(error) if !last && code(&error).is_some_and(is_retryable_code) => {
                // The whole request was throttled even after the SDK's own retries: back off.
            }
            Err(error) => {
                return Err(describe(error)).with_context(|| {
                    format!(
                        "deleting {} object version(s) from bucket {bucket} (DeleteObjects)",
                        pending.len()
                    )
                });
            }
        }
        super::cfn::sleep(delay).await;
        delay = (delay * 2).min(settings.max_delay);
    }
    Ok(BatchOutcome {
        deleted: total - failures.len() as u64,
        failures,
    })
}

/// Abort every incomplete multipart upload in `bucket` (their parts would keep the bucket from
/// being deleted and cost storage). Returns how many were aborted.
pub async fn abort_multipart_uploads(
    s3: &Client,
    bucket: &str,
    in_flight: usize,
) -> anyhow::Result<u64> {
    let mut aborted = 0;
    let mut key_marker = None;
    let mut upload_marker = None;
    loop {
        let page = s3
            .list_multipart_uploads()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_upload_id_marker(upload_marker)
            .send()
            .await
            .map_err(describe)
            .with_context(|| format!("listing incomplete multipart uploads in bucket {bucket}"))?;
        let uploads: Vec<(String, String)> = page
            .uploads()
            .iter()
            .filter_map(|u| Some((u.key()?.to_owned(), u.upload_id()?.to_owned())))
            .collect();
        let results: Vec<anyhow::Result<()>> = stream::iter(uploads)
            .map(|(key, upload_id)| async move {
                match s3
                    .abort_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(error) if code(&error) == Some("NoSuchUpload") => Ok(()),
                    Err(error) => Err(describe(error)).with_context(|| {
                        format!("aborting the multipart upload of s3://{bucket}/{key}")
                    }),
                }
            })
            .buffer_unordered(in_flight.max(1))
            .collect()
            .await;
        for result in results {
            result?;
            aborted += 1;
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        upload_marker = page.next_upload_id_marker().map(str::to_owned);
    }
    Ok(aborted)
}

/// Whether `bucket` still holds any object version, delete marker or incomplete upload.
pub async fn is_empty(s3: &Client, bucket: &str) -> anyhow::Result<bool> {
    if !super::s3::bucket_is_empty(s3, bucket).await? {
        return Ok(false);
    }
    let uploads = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .max_uploads(1)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("checking bucket {bucket} for incomplete multipart uploads"))?;
    Ok(uploads.uploads().is_empty())
}

/// The bucket's Object Lock default retention, when Object Lock is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectLock {
    /// `GOVERNANCE` or `COMPLIANCE`, when a default retention is set.
    pub mode: Option<String>,
    /// Default retention, e.g. `30 days`.
    pub period: Option<String>,
}

/// GetObjectLockConfiguration: `Some` when Object Lock is enabled on `bucket`.
pub async fn object_lock(s3: &Client, bucket: &str) -> anyhow::Result<Option<ObjectLock>> {
    match s3
        .get_object_lock_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => {
            let Some(config) = output.object_lock_configuration() else {
                return Ok(None);
            };
            if config
                .object_lock_enabled()
                .map(aws_sdk_s3::types::ObjectLockEnabled::as_str)
                != Some("Enabled")
            {
                return Ok(None);
            }
            let retention = config.rule().and_then(|r| r.default_retention());
            Ok(Some(ObjectLock {
                mode: retention
                    .and_then(|r| r.mode())
                    .map(|m| m.as_str().to_owned()),
                period: retention.and_then(|r| {
                    r.days()
                        .map(|d| format!("{d} days"))
                        .or_else(|| r.years().map(|y| format!("{y} years")))
                }),
            }))
        }
        Err(error) if code(&error) == Some("ObjectLockConfigurationNotFoundError") => Ok(None),
        Err(error) => Err(describe(error))
            .with_context(|| format!("reading the Object Lock configuration of bucket {bucket}")),
    }
}

/// Why a locked version cannot be deleted: its retention (mode and date) and legal hold, as far
/// as S3 tells. Best effort, one attempt each: an unreadable detail is left out (S3's own message
/// is used instead), never an error.
pub async fn lock_reason(s3: &Client, bucket: &str, failure: &KeyFailure) -> String {
    let once = || aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled());
    let mut reasons = Vec::new();
    if let Ok(retention) = s3
        .get_object_retention()
        .bucket(bucket)
        .key(&failure.key)
        .set_version_id(failure.version_id.clone())
        .customize()
        .config_override(once())
        .send()
        .await
        && let Some(retention) = retention.retention()
    {
        let mode = retention.mode().map_or("retention", |m| m.as_str());
        match retention.retain_until_date() {
            Some(until) => reasons.push(format!("{mode} retention until {until}")),
            None => reasons.push(format!("{mode} retention")),
        }
    }
    if let Ok(hold) = s3
        .get_object_legal_hold()
        .bucket(bucket)
        .key(&failure.key)
        .set_version_id(failure.version_id.clone())
        .customize()
        .config_override(once())
        .send()
        .await
        && hold
            .legal_hold()
            .and_then(|h| h.status())
            .is_some_and(|s| s.as_str() == "ON")
    {
        reasons.push("legal hold ON".to_owned());
    }
    if reasons.is_empty() {
        failure.message.clone()
    } else {
        reasons.join(", ")
    }
}

/// DeleteBucket. A bucket that is already gone is fine (idempotent). S3's 409 `OperationAborted`
/// ("A conflicting conditional operation is currently in progress against this resource") means
/// another operation on the bucket (often its own deletion, still settling) has not finished: the
/// call is retried on [`Backoff::BULK`], then fails saying so.
pub async fn delete_bucket(s3: &Client, bucket: &str) -> anyhow::Result<()> {
    delete_bucket_with(s3, bucket, Backoff::BULK).await
}

/// [`delete_bucket`] with another retry schedule (tests).
pub async fn delete_bucket_with(s3: &Client, bucket: &str, retry: Backoff) -> anyhow::Result<()> {
    let attempts = retry.attempts.max(1);
    for attempt in 1..=attempts {
        match s3.delete_bucket().bucket(bucket).send().await {
            Ok(_) => return Ok(()),
            Err(error) if code(&error) == Some("NoSuchBucket") => return Ok(()),
            Err(error) if code(&error) == Some(OPERATION_ABORTED) && attempt < attempts => {}
            Err(error) if code(&error) == Some(OPERATION_ABORTED) => {
                return Err(describe(error)).with_context(|| {
                    format!(
                        "deleting bucket {bucket}: S3 is still busy with another operation on it (409 OperationAborted, on each of {attempts} attempts), usually a deletion or creation of the same name that has not settled yet. It settles after a short while (minutes, rarely up to an hour): rerun the same command then"
                    )
                });
            }
            Err(error) => {
                return Err(describe(error)).with_context(|| format!("deleting bucket {bucket}"));
            }
        }
        super::cfn::sleep(retry.delay_after(attempt)).await;
    }
    unreachable!("the last attempt returns")
}

/// S3's answer while a conflicting operation on the same bucket name is still in progress.
pub const OPERATION_ABORTED: &str = "OperationAborted";
