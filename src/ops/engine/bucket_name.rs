//! The bucket-name pre-check, shared by the deploying actions and show-changes so a preview
//! says what deploying will really do: before CloudFormation is asked to create a bucket (a new
//! stack, or a stack whose bucket would get another name), the name must be free, or an empty
//! leftover of this very deployment. Anything else — another account's bucket, one in another
//! region, one in this account that is untagged or another deployment's — is refused (exit 4);
//! a leftover of ours that holds data is an error with the way out.

use anyhow::{Context, bail};

use crate::aws::AwsClients;
use crate::aws::cfn::StackInfo;
use crate::aws::error::describe;
use crate::aws::s3::{self, HeadBucket};
use crate::exit::Refusal;
use crate::naming::Deployment;
use crate::ownership::{self, DEPLOYMENT_TAG, Owner};

/// What deploying will find under the deployment's bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewBucket {
    /// No bucket has the name: CloudFormation creates it.
    Free,
    /// An empty bucket of this deployment that no stack manages: deleted (after confirmation),
    /// then created again by CloudFormation.
    EmptyLeftover,
}

/// Whether deploying makes CloudFormation create a bucket: there is no stack (or only a shell
/// that is deleted first), or the stack's bucket has another name than the config's.
pub fn creates_bucket(existing: Option<&StackInfo>, deployment: &Deployment) -> bool {
    match existing {
        None => true,
        Some(stack) if super::holds_no_deployment(stack) => true,
        Some(stack) => stack
            .bucket_name()
            .is_some_and(|current| current != deployment.bucket_name),
    }
}

/// Check the deployment's bucket name before a bucket is created (see the module comment).
pub async fn check_new_bucket(
    aws: &AwsClients,
    deployment: &Deployment,
    seen: Option<HeadBucket>,
) -> anyhow::Result<NewBucket> {
    let bucket = &deployment.bucket_name;
    if !bucket_is_ours(aws, deployment, seen).await? {
        return Ok(NewBucket::Free);
    }
    if s3::bucket_is_empty(&aws.s3, bucket).await? {
        return Ok(NewBucket::EmptyLeftover);
    }
    bail!(
        "bucket {bucket} already exists and holds data (tagged for deployment {}), but stack {} does not manage it: it was kept when its stack was deleted (DeletionPolicy Retain). CloudFormation cannot take it over, and this tool never deletes data on its own. Remove it with --action tear-down --force (this deletes its contents), or choose another name with s3.bucket_name_override",
        deployment.name,
        deployment.stack_name
    )
}

/// HeadBucket (unless `seen` holds its answer already), then (when it exists)
/// GetBucketTagging: `false` when no bucket has the name, `true` when the bucket is this
/// deployment's. Anything else — another account's bucket (403),
/// a bucket in another region (301), a bucket here without our tag or with another deployment's —
/// is a [`Refusal`].
async fn bucket_is_ours(
    aws: &AwsClients,
    deployment: &Deployment,
    seen: Option<HeadBucket>,
) -> anyhow::Result<bool> {
    let bucket = &deployment.bucket_name;
    let region = &aws.region;
    let head = match seen {
        Some(head) => head,
        None => s3::head_bucket(&aws.s3, bucket)
            .await
            .map_err(describe)
            .with_context(|| {
                format!("checking whether bucket name {bucket} is free (HeadBucket)")
            })?,
    };
    match head {
        HeadBucket::Exists => {}
        HeadBucket::Missing => return Ok(false),
        HeadBucket::Forbidden => {
            return Err(Refusal(format!(
                "bucket name `{bucket}` is already taken by another AWS account (HeadBucket: 403 Forbidden); nothing was changed. Bucket names are global: choose another with s3.bucket_name_override"
            ))
            .into());
        }
        HeadBucket::OtherRegion(elsewhere) => {
            return Err(Refusal(format!(
                "bucket `{bucket}` already exists in {elsewhere}, not in the config's region {region}; nothing was changed. Choose another name with s3.bucket_name_override, or fix environment.region"
            ))
            .into());
        }
    }
    let tags = s3::bucket_tags(&aws.s3, bucket).await?;
    match ownership::owner(|key| tags.get(key).map(String::as_str), &deployment.name) {
        Owner::Ours => Ok(true),
        Owner::Other(owner) => Err(Refusal(format!(
            "bucket `{bucket}` belongs to deployment `{owner}` (tag {DEPLOYMENT_TAG}), not to `{}`; nothing was changed. Use that deployment's config, or choose another name with s3.bucket_name_override",
            deployment.name
        ))
        .into()),
        Owner::Untagged => Err(Refusal(format!(
            "bucket `{bucket}` already exists in this account but is not managed by s3-provisioner (no {DEPLOYMENT_TAG} tag); refusing to take it over, nothing was changed. Choose another name with s3.bucket_name_override"
        ))
        .into()),
    }
}
