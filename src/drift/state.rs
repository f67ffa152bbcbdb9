//! The observable state of a deployment's bucket and parameters, as plain data. The live check
//! ([`crate::aws::live`]) reads it from S3 and SSM; [`super::expected`] derives the same shape from
//! the generated template; [`super::compare`] diffs the two. No AWS types here, so the comparison
//! stays pure and testable.

use std::collections::BTreeMap;

/// One default-encryption rule (`ServerSideEncryptionConfiguration` entry).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EncryptionRule {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    pub algorithm: String,
    /// The KMS key, for KMS algorithms.
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

/// The four public access block flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// What a bucket without a public access block configuration behaves like.
    pub const NONE: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: false,
        block_public_policy: false,
        ignore_public_acls: false,
        restrict_public_buckets: false,
    };

    /// The flags with their CloudFormation property names, in template order.
    pub fn flags(&self) -> [(&'static str, bool); 4] {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
    }
}

/// A storage-class transition after a number of days (current or noncurrent versions).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransitionRule {
    pub storage_class: String,
    pub days: i64,
}

/// One lifecycle rule, reduced to the settings the tool writes. Anything else a live rule carries
/// (tag filters, expiration dates, object-size filters…) is listed in `other`, so a hand-edited
/// rule never compares equal by accident.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct LifecycleRuleState {
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    /// The key prefix the rule applies to (`Filter.Prefix` or the legacy top-level `Prefix`).
    pub prefix: Option<String>,
    pub abort_incomplete_multipart_days: Option<i64>,
    pub transitions: Vec<TransitionRule>,
    pub expiration_days: Option<i64>,
    pub noncurrent_transitions: Vec<TransitionRule>,
    pub noncurrent_expiration_days: Option<i64>,
    /// Settings outside the tool's vocabulary, each as `Name=value`.
    pub other: Vec<String>,
}

/// The bucket's settings, as read with S3 Get* calls (or as the template says they should be).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct BucketState {
    /// `Enabled`, `Suspended`, or `None` for a bucket that was never versioned.
    pub versioning: Option<String>,
    /// Default-encryption rules (empty: none configured).
    pub encryption: Vec<EncryptionRule>,
    /// `None`: no public access block configuration on the bucket.
    pub public_access_block: Option<PublicAccessBlock>,
    /// `BucketOwnerEnforced`, …; `None`: no ownership controls.
    pub object_ownership: Option<String>,
    /// Lifecycle rules (empty: no lifecycle configuration).
    pub lifecycle_rules: Vec<LifecycleRuleState>,
    /// Bucket tags, without the `aws:` tags AWS itself adds.
    pub tags: BTreeMap<String, String>,
    /// The bucket policy document, parsed; `None`: no policy attached.
    pub policy: Option<serde_json::Value>,
}

/// An SSM parameter the deployment should have, with the value found (`None`: missing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParameterState {
    /// Logical ID in the template (`BucketNameParameter`).
    pub logical_id: &'static str,
    /// Parameter name (`/s3-provisioner/{deployment}/bucket-name`).
    pub name: String,
    pub value: Option<String>,
}
