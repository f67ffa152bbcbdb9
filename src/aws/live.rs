//! The live check's reads (check-drift's steps 2 and 3): the bucket's settings through S3
//! Get* calls, the deployment's SSM parameters, the solutions present under `solutions/` and which
//! folder markers exist. Read-only; returns plain [`crate::drift::state`] data and never judges it
//! (that is [`crate::drift::compare`]'s job).
//!
//! "Not configured" answers (`NoSuchTagSet`, `NoSuchBucketPolicy`, `NoSuchLifecycleConfiguration`,
//! …) are states, not errors: a bucket whose public access block was deleted must show up as
//! drift, not as a failed run.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::error::{code, describe};
use super::s3::HeadBucket;
use crate::blueprint::SOLUTIONS_PREFIX;
use crate::drift::state::{
    BucketState, EncryptionRule, LifecycleRuleState, ParameterState, PublicAccessBlock,
    TransitionRule,
};

/// How many HeadObject calls run at once when looking for folder markers.
const MARKER_LOOKUPS_IN_FLIGHT: usize = 16;

/// HeadBucket: `true` if the bucket exists and is reachable, `false` on 404. A bucket owned by
/// another account (403) or in another region (301) is an error that says so.
pub async fn bucket_exists(s3: &Client, bucket: &str) -> anyhow::Result<bool> {
    match super::s3::head_bucket(s3, bucket).await {
        Ok(HeadBucket::Exists) => Ok(true),
        Ok(HeadBucket::Missing) => Ok(false),
        Ok(HeadBucket::Forbidden) => Err(anyhow::anyhow!(
            "bucket {bucket} exists but these credentials may not read it (HeadBucket: 403 Forbidden); it may belong to another AWS account, or the credentials lack s3:ListBucket on it"
        )),
        Ok(HeadBucket::OtherRegion(region)) => Err(anyhow::anyhow!(
            "bucket {bucket} is in {region}, not in the config's region; check environment.region"
        )),
        Err(error) => Err(describe(error))
            .with_context(|| format!("checking that bucket {bucket} exists (HeadBucket)")),
    }
}

/// Every setting of `bucket` the template manages, read concurrently.
pub async fn read_bucket(s3: &Client, bucket: &str) -> anyhow::Result<BucketState> {
    let (
        versioning,
        encryption,
        public_access_block,
        object_ownership,
        lifecycle_rules,
        tags,
        policy,
    ) = tokio::try_join!(
        // Boxed: seven SDK request futures side by side would make every caller's future huge.
        Box::pin(versioning(s3, bucket)),
        Box::pin(encryption(s3, bucket)),
        Box::pin(public_access_block(s3, bucket)),
        Box::pin(object_ownership(s3, bucket)),
        Box::pin(lifecycle_rules(s3, bucket)),
        Box::pin(tags(s3, bucket)),
        Box::pin(policy(s3, bucket)),
    )?;
    Ok(BucketState {
        versioning,
        encryption,
        public_access_block,
        object_ownership,
        lifecycle_rules,
        tags,
        policy,
    })
}

/// `Err` unless `error` is the "not configured" answer `absent_code`, which becomes `Ok(default)`.
fn absent_or<T, E>(
    error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    absent_code: &str,
    default: T,
    what: &str,
    bucket: &str,
) -> anyhow::Result<T>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if code(&error) == Some(absent_code) {
        Ok(default)
    } else {
        Err(describe(error)).with_context(|| format!("reading the {what} of bucket {bucket}"))
    }
}

async fn versioning(s3: &Client, bucket: &str) -> anyhow::Result<Option<String>> {
    let output = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .map_err(describe)
        .with_context(|| format!("reading the versioning status of bucket {bucket}"))?;
    Ok(output.status().map(|s| s.as_str().to_owned()))
}

async fn encryption(s3: &Client, bucket: &str) -> anyhow::Result<Vec<EncryptionRule>> {
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(output) => Ok(output
            .server_side_encryption_configuration()
            .map(aws_sdk_s3::types::ServerSideEncryptionConfiguration::rules)
            .unwrap_or_default()
            .iter()
            .map(|rule| {
                let default = rule.apply_server_side_encryption_by_default();
                EncryptionRule {
                    algorithm: default
                        .map_or_else(String::new, |d| d.sse_algorithm().as_str().to_owned()),
                    kms_key_id: default
                        .and_then(|d| d.kms_master_key_id())
                        .map(str::to_owned),
                    bucket_key_enabled: rule.bucket_key_enabled().unwrap_or(false),
                }
            })
            .collect()),
        Err(error) => absent_or(
            error,
            "ServerSideEncryptionConfigurationNotFoundError",
            Vec::new(),
            "default encryption",
            bucket,
        ),
    }
}

async fn public_access_block(
    s3: &Client,
    bucket: &str,
) -> anyhow::Result<Option<PublicAccessBlock>> {
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(output) => Ok(output
            .public_access_block_configuration()
            .map(|c| PublicAccessBlock {
                block_public_acls: c.block_public_acls().unwrap_or(false),
                block_public_policy: c.block_public_policy().unwrap_or(false),
                ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
            })),
        Err(error) => absent_or(
            error,
            "NoSuchPublicAccessBlockConfiguration",
            None,
            "public access block",
            bucket,
        ),
    }
}

async fn object_ownership(s3: &Client, bucket: &str) -> anyhow::Result<Option<String>> {
    match s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => Ok(output
            .ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|rule| rule.object_ownership().as_str().to_owned())),
        Err(error) => absent_or(
            error,
            "OwnershipControlsNotFoundError",
            None,
            "ownership controls",
            bucket,
        ),
    }
}

async fn lifecycle_rules(s3: &Client, bucket: &str) -> anyhow::Result<Vec<LifecycleRuleState>> {
    match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(output) => Ok(output.rules().iter().map(lifecycle_rule).collect()),
        Err(error) => absent_or(
            error,
            "NoSuchLifecycleConfiguration",
            Vec::new(),
            "lifecycle configuration",
            bucket,
        ),
    }
}

/// A live rule in the comparison's vocabulary; settings the tool never writes go to `other`.
fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> LifecycleRuleState {
    let mut other = Vec::new();
    let filter = rule.filter();
    #[allow(deprecated)] // The legacy top-level Prefix is still what some rules carry.
    let legacy_prefix = rule.prefix();
    let prefix = filter
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(legacy_prefix)
        .map(str::to_owned);
    if let Some(filter) = filter {
        if let Some(tag) = filter.tag() {
            other.push(format!("Filter.Tag={}={}", tag.key(), tag.value()));
        }
        if let Some(and) = filter.and() {
            for tag in and.tags() {
                other.push(format!("Filter.And.Tag={}={}", tag.key(), tag.value()));
            }
        }
        let sizes = [
            ("ObjectSizeGreaterThan", filter.object_size_greater_than()),
            ("ObjectSizeLessThan", filter.object_size_less_than()),
        ];
        for (name, size) in sizes {
            if let Some(size) = size {
                other.push(format!("Filter.{name}={size}"));
            }
        }
    }
    let expiration = rule.expiration();
    if let Some(date) = expiration.and_then(|e| e.date()) {
        other.push(format!("Expiration.Date={date}"));
    }
    if let Some(true) =
        expiration.and_then(aws_sdk_s3::types::LifecycleExpiration::expired_object_delete_marker)
    {
        other.push("Expiration.ExpiredObjectDeleteMarker=true".to_owned());
    }
    let transitions = rule
        .transitions()
        .iter()
        .map(|t| {
            if let Some(date) = t.date() {
                other.push(format!("Transition.Date={date}"));
            }
            TransitionRule {
                storage_class: t.storage_class().map_or("", |c| c.as_str()).to_owned(),
                days: i64::from(t.days().unwrap_or(0)),
            }
        })
        .collect();
    let noncurrent_transitions = rule
        .noncurrent_version_transitions()
        .iter()
        .map(|t| {
            if let Some(newer) = t.newer_noncurrent_versions() {
                other.push(format!(
                    "NoncurrentVersionTransition.NewerNoncurrentVersions={newer}"
                ));
            }
            TransitionRule {
                storage_class: t.storage_class().map_or("", |c| c.as_str()).to_owned(),
                days: i64::from(t.noncurrent_days().unwrap_or(0)),
            }
        })
        .collect();
    let noncurrent_expiration = rule.noncurrent_version_expiration();
    if let Some(newer) = noncurrent_expiration
        .and_then(aws_sdk_s3::types::NoncurrentVersionExpiration::newer_noncurrent_versions)
    {
        other.push(format!(
            "NoncurrentVersionExpiration.NewerNoncurrentVersions={newer}"
        ));
    }
    LifecycleRuleState {
        id: rule.id().unwrap_or_default().to_owned(),
        status: rule.status().as_str().to_owned(),
        prefix,
        abort_incomplete_multipart_days: rule
            .abort_incomplete_multipart_upload()
            .and_then(aws_sdk_s3::types::AbortIncompleteMultipartUpload::days_after_initiation)
            .map(i64::from),
        transitions,
        expiration_days: expiration
            .and_then(aws_sdk_s3::types::LifecycleExpiration::days)
            .map(i64::from),
        noncurrent_transitions,
        noncurrent_expiration_days: noncurrent_expiration
            .and_then(aws_sdk_s3::types::NoncurrentVersionExpiration::noncurrent_days)
            .map(i64::from),
        other,
    }
}

/// The bucket's tags without the `aws:` tags AWS itself puts on CloudFormation-created resources
/// (`aws:cloudformation:stack-name`, …): those are not the config's to manage.
async fn tags(s3: &Client, bucket: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut tags = super::s3::bucket_tags(s3, bucket).await?;
    tags.retain(|key, _| !key.starts_with("aws:"));
    Ok(tags)
}

async fn policy(s3: &Client, bucket: &str) -> anyhow::Result<Option<serde_json::Value>> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(output) => {
            let text = output.policy().unwrap_or_default();
            let document: serde_json::Value = serde_json::from_str(text).with_context(|| {
                format!("the policy attached to bucket {bucket} is not valid JSON")
            })?;
            Ok(Some(crate::drift::policy_json::normalise_policy(&document)))
        }
        Err(error) => absent_or(error, "NoSuchBucketPolicy", None, "bucket policy", bucket),
    }
}

/// GetParameter for each expected parameter; a missing one has no value.
pub async fn read_parameters(
    ssm: &aws_sdk_ssm::Client,
    expected: &[ParameterState],
) -> anyhow::Result<Vec<ParameterState>> {
    let mut found = Vec::with_capacity(expected.len());
    for parameter in expected {
        let value = match ssm.get_parameter().name(&parameter.name).send().await {
            Ok(output) => output
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_owned),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_ssm::operation::get_parameter::GetParameterError::is_parameter_not_found) =>
            {
                None
            }
            Err(error) => {
                return Err(describe(error))
                    .with_context(|| format!("reading SSM parameter {}", parameter.name));
            }
        };
        found.push(ParameterState {
            value,
            ..parameter.clone()
        });
    }
    Ok(found)
}

/// The solutions present under `solutions/`: the first path segment of every key, found with a
/// delimited listing (one entry per solution, however many objects it holds).
pub async fn solutions(s3: &Client, bucket: &str) -> anyhow::Result<Vec<String>> {
    let listing = super::s3::list_all(s3, bucket, SOLUTIONS_PREFIX, Some("/"))
        .await
        .with_context(|| format!("listing the solutions in bucket {bucket}"))?;
    Ok(crate::blueprint::solutions_in(
        listing.prefixes.iter().map(String::as_str),
    ))
}

/// Which of `keys` exist (HeadObject each, several at a time). Cost is bounded by the blueprint,
/// not by how much data the solutions hold.
pub async fn existing_keys(
    s3: &Client,
    bucket: &str,
    keys: &BTreeSet<String>,
) -> anyhow::Result<BTreeSet<String>> {
    let found: Vec<Option<String>> = stream::iter(keys)
        .map(|key| async move {
            match s3.head_object().bucket(bucket).key(key).send().await {
                Ok(_) => Ok(Some(key.clone())),
                Err(SdkError::ServiceError(service)) if service.raw().status().as_u16() == 404 => {
                    Ok(None)
                }
                Err(error) => Err(describe(error))
                    .with_context(|| format!("looking for folder marker s3://{bucket}/{key}")),
            }
        })
        .buffer_unordered(MARKER_LOOKUPS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}
