//! The `Bucket` resource (`AWS::S3::Bucket`) and its tags: secure by default, every setting written
//! explicitly so drift detection covers it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::lifecycle::{LifecycleConfiguration, lifecycle_configuration};
use crate::config::ValidConfig;
use crate::naming::Deployment;
use crate::template::model::{ResourceType, Tag};

/// Tag naming the deployment that owns a bucket or stack; the ownership check (`ownership`) reads
/// the same constant, so the tag written and the tag checked cannot differ.
pub use crate::ownership::DEPLOYMENT_TAG;
/// Tag marking resources managed by the tool.
pub const MANAGED_BY_TAG: &str = "s3-provisioner:managed-by";
/// Value of [`MANAGED_BY_TAG`].
pub const MANAGED_BY_VALUE: &str = "s3-provisioner";
/// Tag carrying the suffix of a test deployment.
pub const TEST_ID_TAG: &str = "s3-provisioner:test-id";

/// The server-side encryption algorithm of every bucket (SSE-S3).
pub const SSE_ALGORITHM: &str = "AES256";

/// Properties of `AWS::S3::Bucket`, in the order the template shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketProperties {
    pub bucket_name: String,
    pub versioning_configuration: VersioningConfiguration,
    pub bucket_encryption: BucketEncryption,
    pub public_access_block_configuration: PublicAccessBlockConfiguration,
    pub ownership_controls: OwnershipControls,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_configuration: Option<LifecycleConfiguration>,
    pub tags: Vec<Tag>,
}

impl ResourceType for BucketProperties {
    const TYPE: &'static str = "AWS::S3::Bucket";
}

/// `VersioningConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    pub status: VersioningStatus,
}

/// Versioning is always written explicitly: `Suspended` rather than absent, so drift detection
/// notices a bucket whose versioning was switched on by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
}

impl VersioningStatus {
    /// The status for the config's `versioning` flag.
    pub fn from_flag(versioning: bool) -> Self {
        if versioning {
            VersioningStatus::Enabled
        } else {
            VersioningStatus::Suspended
        }
    }

    /// The CloudFormation / S3 spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }
}

/// `BucketEncryption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<ServerSideEncryptionRule>,
}

/// One `ServerSideEncryptionConfiguration` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerSideEncryptionRule {
    pub server_side_encryption_by_default: ServerSideEncryptionByDefault,
    pub bucket_key_enabled: bool,
}

/// `ServerSideEncryptionByDefault`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSideEncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: &'static str,
}

/// `PublicAccessBlockConfiguration`: the tool always sets all four to true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockConfiguration {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

/// `OwnershipControls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipControlsRule>,
}

/// One ownership rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControlsRule {
    pub object_ownership: &'static str,
}

/// The bucket's properties for `config` and `deployment`.
pub fn bucket_properties(config: &ValidConfig, deployment: &Deployment) -> BucketProperties {
    BucketProperties {
        bucket_name: deployment.bucket_name.clone(),
        versioning_configuration: VersioningConfiguration {
            status: VersioningStatus::from_flag(config.s3.versioning),
        },
        bucket_encryption: BucketEncryption {
            server_side_encryption_configuration: vec![ServerSideEncryptionRule {
                server_side_encryption_by_default: ServerSideEncryptionByDefault {
                    sse_algorithm: SSE_ALGORITHM,
                },
                bucket_key_enabled: true,
            }],
        },
        public_access_block_configuration: PublicAccessBlockConfiguration {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        },
        ownership_controls: OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: "BucketOwnerEnforced",
            }],
        },
        lifecycle_configuration: lifecycle_configuration(
            config.s3.lifecycle_policy,
            config.s3.versioning,
        ),
        tags: bucket_tags(config, deployment)
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect(),
    }
}

/// The bucket's tags (= the stack's tags), sorted by key: the config's tags plus the tool's own.
/// The tool version is deliberately not a tag, so upgrading the tool does not churn every bucket.
pub fn bucket_tags(config: &ValidConfig, deployment: &Deployment) -> Vec<(String, String)> {
    let mut tags: BTreeMap<String, String> = config.s3.tags.clone();
    // Config validation rejects keys in the tool's namespace; inserting last makes the tool's
    // values win regardless.
    tags.insert(DEPLOYMENT_TAG.to_owned(), deployment.name.clone());
    tags.insert(MANAGED_BY_TAG.to_owned(), MANAGED_BY_VALUE.to_owned());
    if let Some(test_id) = &deployment.test_id {
        tags.insert(TEST_ID_TAG.to_owned(), test_id.clone());
    }
    tags.into_iter().collect()
}
