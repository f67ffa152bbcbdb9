//! S3 primitives the deploying actions need: what is under a bucket name ([`head_bucket`],
//! [`bucket_tags`]), folder markers ([`create_missing_markers`]) and the uploaded template
//! ([`put_template`]). These return what S3 said; whether a bucket is ours is decided by
//! `ownership`, and the actions phrase the refusals.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::primitives::ByteStream;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::error::{Backoff, code, describe, is_retryable_code};

/// Content type of uploaded templates.
pub const TEMPLATE_CONTENT_TYPE: &str = "application/x-yaml";

/// What HeadBucket says about a bucket name, classified by HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadBucket {
    /// 200: the bucket exists here and these credentials may read it.
    Exists,
    /// 404: no bucket has this name.
    Missing,
    /// 403: the bucket exists but these credentials may not read it (usually another account's).
    Forbidden,
    /// 301: the bucket is in another region (the one S3 names, or "another region").
    OtherRegion(String),
}

/// HeadBucket, classified. Any other answer (5xx, network) is the SDK error, for the caller to
/// describe with its own context.
pub async fn head_bucket(
    s3: &Client,
    bucket: &str,
) -> Result<HeadBucket, SdkError<HeadBucketError, HttpResponse>> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(HeadBucket::Exists),
        Err(SdkError::ServiceError(service)) => match service.raw().status().as_u16() {
            404 => Ok(HeadBucket::Missing),
            403 => Ok(HeadBucket::Forbidden),
            301 => Ok(HeadBucket::OtherRegion(
                service
                    .raw()
                    .headers()
                    .get("x-amz-bucket-region")
                    .unwrap_or("another region")
                    .to_owned(),
            )),
            _ => Err(SdkError::ServiceError(service)),
        },
        Err(error) => Err(error),
    }
}

/// The bucket's tags (GetBucketTagging); a bucket without tags has none (`NoSuchTagSet`).
pub async fn bucket_tags(s3: &Client, bucket: &str) -> anyhow::Result<BTreeMap<String, String>> {
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(tagging) => Ok(tagging
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()),
        Err(error) if code(&error) == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
        Err(error) => {
            Err(describe(error)).with_context(|| format!("reading the tags of bucket {bucket}"))
        }
    }
}

/// Whether the bucket holds nothing at all: no object, no old version, no delete marker
/// (one ListObjectVersions call with `max-keys=1`).
pub async fn bucket_is_empty(s3: &Client, bucket: &str) -> anyhow::Result<bool> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("checking whether bucket {bucket} is empty"))?;
    Ok(page.versions().is_empty() && page.delete_markers().is_empty())
}

/// How many folder markers were created and how many were there already.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MarkerReport {
    /// Markers created by this run, sorted.
    pub created: Vec<String>,
    /// Markers that already existed.
    pub already_present: usize,
}

/// Create the zero-byte folder markers among `keys` that do not exist yet, `concurrency` at a
/// time. Existing objects are never overwritten, so reruns are cheap and idempotent.
///
/// Existence is read by listing, not by one HEAD per key: the deepest marker that every other key
/// lies under or above (`solutions/S/` for a blueprint) is listed with ListObjectsV2 (all pages);
/// each marker above it (`solutions/`) costs one single-key listing. Each put is conditional
/// (`If-None-Match: *`), so a marker another run created meanwhile is counted as already present
/// instead of being written twice, and a throttled put is retried on `backoff`.
pub async fn create_missing_markers(
    s3: &Client,
    bucket: &str,
    keys: &[String],
    concurrency: usize,
    backoff: Backoff,
) -> anyhow::Result<MarkerReport> {
    let (root, ancestors) = listing_plan(keys);
    let mut existing = BTreeSet::new();
    if let Some(root) = &root {
        let listing = list_all(s3, bucket, root, None)
            .await
            .with_context(|| format!("listing s3://{bucket}/{root}"))?;
        existing.extend(listing.keys);
    }
    for ancestor in &ancestors {
        if marker_exists(s3, bucket, ancestor).await? {
            existing.insert(ancestor.clone());
        }
    }
    let missing: Vec<String> = keys
        .iter()
        .filter(|k| !existing.contains(*k))
        .cloned()
        .collect();
    let already_present = keys.len() - missing.len();
    put_markers(s3, bucket, &missing, already_present, concurrency, backoff).await
}

/// Put the markers `keys` (conditional puts: one that exists is counted as present, never
/// overwritten), `concurrency` at once, adding to `already_present` markers known to exist.
/// Without a listing first: for a bucket this run has just created.
pub async fn put_markers(
    s3: &Client,
    bucket: &str,
    keys: &[String],
    mut already_present: usize,
    concurrency: usize,
    backoff: Backoff,
) -> anyhow::Result<MarkerReport> {
    let missing: Vec<&String> = keys.iter().collect();
    let total = keys.len() + already_present;
    let results: Vec<(&String, anyhow::Result<MarkerPut>)> = stream::iter(missing)
        .map(|key| async move { (key, put_marker(s3, bucket, key, backoff).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut created = Vec::new();
    let mut failures = Vec::new();
    for (key, result) in results {
        match result {
            Ok(MarkerPut::Created) => created.push(key.clone()),
            Ok(MarkerPut::AlreadyPresent) => already_present += 1,
            Err(error) => failures.push(format!("{key}: {error}")),
        }
    }
    if !failures.is_empty() {
        failures.sort();
        anyhow::bail!(
            "could not create {} of {} folder markers in s3://{bucket} ({} created): {}. Rerun the same command to create the rest",
            failures.len(),
            total - already_present,
            created.len(),
            failures.join("; ")
        );
    }
    created.sort();
    Ok(MarkerReport {
        created,
        already_present,
    })
}

/// How one conditional marker put ended.
enum MarkerPut {
    Created,
    /// The key existed (412 Precondition Failed): another run made it first.
    AlreadyPresent,
}

/// One zero-byte PutObject with `If-None-Match: *`, retried on `backoff` when S3 says to slow
/// down or that a concurrent conditional write is still in progress (409).
async fn put_marker(
    s3: &Client,
    bucket: &str,
    key: &str,
    backoff: Backoff,
) -> anyhow::Result<MarkerPut> {
    let attempts = backoff.attempts.max(1);
    for attempt in 1..=attempts {
        let result = s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(b""))
            .content_length(0)
            .if_none_match("*")
            .send()
            .await;
        let Err(error) = result else {
            return Ok(MarkerPut::Created);
        };
        let status = error.raw_response().map(|r| r.status().as_u16());
        if status == Some(412) || code(&error) == Some("PreconditionFailed") {
            return Ok(MarkerPut::AlreadyPresent);
        }
        let retryable =
            code(&error).is_some_and(|c| is_retryable_code(c) || c == "ConditionalRequestConflict");
        if !retryable || attempt == attempts {
            return Err(describe(error));
        }
        super::cfn::sleep(backoff.delay_after(attempt)).await;
    }
    unreachable!("the last attempt returns")
}

/// Split marker keys into the listing root (the deepest key that every other key is under or
/// above) and the keys above it.
fn listing_plan(keys: &[String]) -> (Option<String>, Vec<String>) {
    let root = keys
        .iter()
        .filter(|candidate| {
            keys.iter()
                .all(|k| k.starts_with(candidate.as_str()) || candidate.starts_with(k.as_str()))
        })
        .max_by_key(|candidate| candidate.len())
        .cloned();
    match root {
        Some(root) => {
            let ancestors = keys
                .iter()
                .filter(|k| k.len() < root.len() && root.starts_with(k.as_str()))
                .cloned()
                .collect();
            (Some(root), ancestors)
        }
        // No common root: check each key on its own.
        None => (None, keys.to_vec()),
    }
}

/// What every page of one ListObjectsV2 listing held.
#[derive(Debug, Default)]
pub struct Listing {
    /// Object keys.
    pub keys: Vec<String>,
    /// Common prefixes (only with a delimiter).
    pub prefixes: Vec<String>,
}

/// Every page of ListObjectsV2 under `prefix`, grouped by `delimiter` when one is given. Errors
/// are described but carry no context: the caller says what it was listing for.
pub async fn list_all(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
) -> anyhow::Result<Listing> {
    let mut listing = Listing::default();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_owned))
            .set_continuation_token(token)
            .send()
            .await
            .map_err(describe)?;
        listing.keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
        listing.prefixes.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .map(str::to_owned),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return Ok(listing);
        }
    }
}

/// Whether the object `key` exists, with one single-key listing (`key` sorts first under its own
/// prefix, and the delimiter keeps deeper keys out).
async fn marker_exists(s3: &Client, bucket: &str, key: &str) -> anyhow::Result<bool> {
    let page = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(key)
        .delimiter("/")
        .max_keys(1)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("checking for s3://{bucket}/{key}"))?;
    Ok(page.contents().iter().any(|o| o.key() == Some(key)))
}

/// PutObject of a template (content type [`TEMPLATE_CONTENT_TYPE`]) with user metadata.
/// Returns the object's ETag, if S3 sent one.
pub async fn put_template(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: &str,
    metadata: &BTreeMap<String, String>,
) -> anyhow::Result<Option<String>> {
    let metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
    let response = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(TEMPLATE_CONTENT_TYPE)
        .set_metadata(Some(metadata))
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("uploading template to s3://{bucket}/{key}"))?;
    Ok(response.e_tag().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blueprint_markers_are_listed_under_the_solution_folder() {
        let keys = crate::blueprint::marker_keys("recommendation-engine");
        let (root, ancestors) = listing_plan(&keys);
        assert_eq!(root.as_deref(), Some("solutions/recommendation-engine/"));
        assert_eq!(ancestors, ["solutions/"]);
    }

    #[test]
    fn unrelated_keys_are_checked_one_by_one() {
        let keys = vec!["a/".to_owned(), "b/".to_owned()];
        assert_eq!(listing_plan(&keys), (None, keys.clone()));
    }
}
