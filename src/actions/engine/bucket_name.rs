//! The bucket-name pre-check, shared by the deploying actions and show-changes so a preview
//! says what deploying will really do: before CloudFormation is asked to create a bucket (a new
//! stack, or a stack whose bucket would get another name), the name must be free, or an empty
//! leftover of this very deployment. Anything else — another account's bucket, one in another
//! region, one in this account that is untagged or another deployment's — is refused (exit 4) by
//! [`s3::check_bucket_name`]; a leftover of ours that holds data is an error with the way out.

use anyhow::bail;

use crate::aws::AwsClients;
use crate::aws::cfn::StackInfo;
use crate::aws::s3::{self, BucketCheck};
use crate::naming::Deployment;

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
) -> anyhow::Result<NewBucket> {
    let bucket = &deployment.bucket_name;
    match s3::check_bucket_name(&aws.s3, bucket, &deployment.name, &aws.region).await? {
        BucketCheck::Free => Ok(NewBucket::Free),
        BucketCheck::Ours if s3::bucket_is_empty(&aws.s3, bucket).await? => {
            Ok(NewBucket::EmptyLeftover)
        }
        BucketCheck::Ours => bail!(
            "bucket {bucket} already exists and holds data (tagged for deployment {}), but stack {} does not manage it: it was kept when its stack was deleted (DeletionPolicy Retain). CloudFormation cannot take it over, and this tool never deletes data on its own. Remove it with --action tear-down --force (this deletes its contents), or choose another name with s3.bucket_name_override",
            deployment.name,
            deployment.stack_name
        ),
    }
}
