//! The one table of every AWS operation made with the operator's credentials: the calls
//! the tool makes itself, and the calls CloudFormation makes on the operator's behalf while it
//! creates, updates, deletes and drift-checks the template's resources. [`super::generate`] builds
//! the IAM policy from this table alone, so a new call is one new row here, and the policy, its
//! snapshot and the parliament check follow.
//!
//! Where the rows come from:
//! - the tool's own calls (docs/actions.md lists them per action), with the API → IAM action
//!   names of the Service Authorization Reference (they differ: `HeadBucket` is `s3:ListBucket`,
//!   `GetBucketEncryption` is `s3:GetEncryptionConfiguration`, `DeleteObjects` is `s3:DeleteObject` and, for versions,
//!   `s3:DeleteObjectVersion`…);
//! - CloudFormation's calls: the `handlers` (create/update/delete/read permissions) and `tagging`
//!   sections of the CloudFormation resource provider schemas of `AWS::S3::Bucket`,
//!   `AWS::S3::BucketPolicy`, `AWS::SSM::Parameter` and `AWS::EC2::VPCEndpoint` (as published in
//!   the CloudFormation registry; cfn-lint bundles them). Write-handler permissions are taken only
//!   for the properties the template sets. Read-handler permissions are taken whole: DetectStackDrift
//!   runs each resource's read handler with the caller's credentials, and the read handler reads
//!   every property, not only the ones the template sets.
//!
//! Left out on purpose, with the reason:
//! - `sts:GetCallerIdentity`: AWS documents that it needs no permission (and works even when denied);
//! - handler entries that are not IAM actions: `s3:DeleteBucketTagging` (the DeleteBucketTagging API
//!   is authorised by `s3:PutBucketTagging`), `s3:DeleteBucketEncryption`, `s3:DeleteBucketLifecycle`
//!   (authorised by `s3:PutEncryptionConfiguration` / `s3:PutLifecycleConfiguration`);
//! - write-handler permissions for bucket features the template never sets (ACLs, CORS, website,
//!   logging, notifications, replication and its `iam:PassRole`, analytics, inventory, metrics,
//!   intelligent tiering, object lock, metadata tables, S3 Tables, ABAC);
//! - VPC endpoint permissions for other endpoint kinds: `vpc-lattice:*` (service-network
//!   endpoints) and `vpce:AllowMultiRegion` (cross-region endpoints); ours is an S3 Gateway endpoint
//!   in the stack's own region.

/// An AWS service, with its IAM action prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    Sts,
    CloudFormation,
    S3,
    Ssm,
    Ec2,
}

impl Service {
    /// The IAM action prefix (`s3` in `s3:GetObject`).
    pub fn iam_prefix(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::CloudFormation => "cloudformation",
            Service::S3 => "s3",
            Service::Ssm => "ssm",
            Service::Ec2 => "ec2",
        }
    }
}

/// Who makes the call with the operator's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The tool itself, through the AWS SDK.
    Tool,
    /// CloudFormation, creating, updating or deleting a resource of the template.
    CloudFormation,
    /// CloudFormation reading a resource (read handler): drift detection and reads after writes.
    CloudFormationRead,
}

/// What an operation acts on; each scope is one statement of the policy, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Needs no IAM permission at all.
    NoPermission,
    /// The site's stacks: shared `{stem}-stack`, dedicated `{stem}-{S}-stack`, and test stacks.
    Stack,
    /// Tags CloudFormation puts on those stacks and their change sets when a change set carries
    /// stack tags (tag-on-create authorisation, `cloudformation:CreateAction`).
    StackTags,
    /// CloudFormation calls IAM authorises only on `*` (no resource-level permissions).
    CloudFormationAny,
    /// The site's buckets: `{stem}`, `{stem}-*`, and `bucket_name_override`.
    Bucket,
    /// Objects in those buckets.
    Object,
    /// The SSM parameters under `/s3-provisioner/{stem}`.
    Parameter,
    /// Creating or modifying the VPC endpoint: the endpoint plus the VPC and route tables it attaches to.
    VpcEndpointAttach,
    /// The VPC endpoint alone (delete, tags).
    VpcEndpoint,
    /// EC2 Describe calls: IAM authorises them only on `*`.
    Ec2Any,
}

impl Scope {
    /// Whether operations in this scope happen only when the config has a VPC endpoint.
    pub fn needs_vpc(self) -> bool {
        matches!(
            self,
            Scope::VpcEndpointAttach | Scope::VpcEndpoint | Scope::Ec2Any
        )
    }
}

/// One AWS operation made with the operator's credentials.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub service: Service,
    /// The API operation name, as in the service's API reference (`HeadBucket`).
    pub api: &'static str,
    /// The IAM actions it needs (`s3:ListBucket`); empty for [`Scope::NoPermission`].
    pub actions: &'static [&'static str],
    pub scope: Scope,
    pub caller: Caller,
}

const fn op(
    service: Service,
    api: &'static str,
    actions: &'static [&'static str],
    scope: Scope,
    caller: Caller,
) -> Operation {
    Operation {
        service,
        api,
        actions,
        scope,
        caller,
    }
}

use Caller::{CloudFormation as Cfn, CloudFormationRead as CfnRead, Tool};
use Scope::{
    Bucket, CloudFormationAny, Ec2Any, NoPermission, Object, Parameter, Stack, StackTags,
    VpcEndpoint, VpcEndpointAttach,
};
use Service::{CloudFormation, Ec2, S3, Ssm, Sts};

/// Every AWS operation the tool and CloudFormation make with the operator's credentials.
/// Add a row when the tool starts calling a new operation.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    // --- The tool's own calls (docs/actions.md) ---
    // Account check before anything else; AWS documents that it needs no permission.
    op(Sts, "GetCallerIdentity", &[], NoPermission, Tool),
    op(CloudFormation, "DescribeStacks", &["cloudformation:DescribeStacks"], Stack, Tool),
    op(CloudFormation, "CreateChangeSet", &["cloudformation:CreateChangeSet"], Stack, Tool),
    // Stack tags passed to CreateChangeSet are authorised as TagResource/UntagResource on the stack
    // and its change set, with cloudformation:CreateAction naming the call.
    op(CloudFormation, "CreateChangeSet (stack tags)", &["cloudformation:TagResource", "cloudformation:UntagResource"], StackTags, Tool),
    op(CloudFormation, "ExecuteChangeSet (stack tags)", &["cloudformation:TagResource", "cloudformation:UntagResource"], StackTags, Tool),
    op(CloudFormation, "DescribeChangeSet", &["cloudformation:DescribeChangeSet"], Stack, Tool),
    op(CloudFormation, "ExecuteChangeSet", &["cloudformation:ExecuteChangeSet"], Stack, Tool),
    op(CloudFormation, "DeleteChangeSet", &["cloudformation:DeleteChangeSet"], Stack, Tool),
    op(CloudFormation, "ListChangeSets", &["cloudformation:ListChangeSets"], Stack, Tool),
    op(CloudFormation, "DescribeStackEvents", &["cloudformation:DescribeStackEvents"], Stack, Tool),
    op(CloudFormation, "DescribeStackResources", &["cloudformation:DescribeStackResources"], Stack, Tool),
    op(CloudFormation, "ListStackResources", &["cloudformation:ListStackResources"], Stack, Tool),
    op(CloudFormation, "GetTemplate", &["cloudformation:GetTemplate"], Stack, Tool),
    op(CloudFormation, "DeleteStack", &["cloudformation:DeleteStack"], Stack, Tool),
    op(CloudFormation, "ValidateTemplate", &["cloudformation:ValidateTemplate"], CloudFormationAny, Tool),
    // DetectStackDrift fans out to per-resource detection, authorised as DetectStackResourceDrift.
    op(CloudFormation, "DetectStackDrift", &["cloudformation:DetectStackDrift", "cloudformation:DetectStackResourceDrift"], Stack, Tool),
    // Called with a detection id, not a stack: IAM authorises it only on `*`.
    op(CloudFormation, "DescribeStackDriftDetectionStatus", &["cloudformation:DescribeStackDriftDetectionStatus"], CloudFormationAny, Tool),
    op(CloudFormation, "DescribeStackResourceDrifts", &["cloudformation:DescribeStackResourceDrifts"], Stack, Tool),
    op(S3, "HeadBucket", &["s3:ListBucket"], Bucket, Tool),
    op(S3, "GetBucketLocation", &["s3:GetBucketLocation"], Bucket, Tool),
    op(S3, "ListObjectsV2", &["s3:ListBucket"], Bucket, Tool),
    op(S3, "PutObject", &["s3:PutObject"], Object, Tool),
    op(S3, "HeadObject", &["s3:GetObject"], Object, Tool),
    op(S3, "GetObject", &["s3:GetObject"], Object, Tool),
    op(S3, "ListObjectVersions", &["s3:ListBucketVersions"], Bucket, Tool),
    op(S3, "DeleteObjects", &["s3:DeleteObject", "s3:DeleteObjectVersion"], Object, Tool),
    op(S3, "ListMultipartUploads", &["s3:ListBucketMultipartUploads"], Bucket, Tool),
    op(S3, "AbortMultipartUpload", &["s3:AbortMultipartUpload"], Object, Tool),
    op(S3, "GetBucketVersioning", &["s3:GetBucketVersioning"], Bucket, Tool),
    op(S3, "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], Bucket, Tool),
    op(S3, "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], Bucket, Tool),
    op(S3, "GetBucketOwnershipControls", &["s3:GetBucketOwnershipControls"], Bucket, Tool),
    op(S3, "GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"], Bucket, Tool),
    op(S3, "GetBucketTagging", &["s3:GetBucketTagging"], Bucket, Tool),
    op(S3, "GetBucketPolicy", &["s3:GetBucketPolicy"], Bucket, Tool),
    op(S3, "GetObjectLockConfiguration", &["s3:GetBucketObjectLockConfiguration"], Bucket, Tool),
    // tear-down: why Object Lock keeps a version (its retention and legal hold).
    op(S3, "GetObjectRetention", &["s3:GetObjectRetention"], Object, Tool),
    op(S3, "GetObjectLegalHold", &["s3:GetObjectLegalHold"], Object, Tool),
    op(S3, "DeleteBucket", &["s3:DeleteBucket"], Bucket, Tool),
    op(Ssm, "GetParameter", &["ssm:GetParameter"], Parameter, Tool),
    op(Ssm, "GetParameters", &["ssm:GetParameters"], Parameter, Tool),

    // --- CloudFormation: AWS::S3::Bucket, write handlers, for the properties the template sets ---
    op(S3, "CreateBucket", &["s3:CreateBucket"], Bucket, Cfn),
    op(S3, "PutBucketVersioning", &["s3:PutBucketVersioning"], Bucket, Cfn),
    op(S3, "PutBucketEncryption", &["s3:PutEncryptionConfiguration"], Bucket, Cfn),
    op(S3, "PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"], Bucket, Cfn),
    op(S3, "PutBucketOwnershipControls", &["s3:PutBucketOwnershipControls"], Bucket, Cfn),
    // Kept for every preset: switching to `none` removes the configuration (DeleteBucketLifecycle).
    op(S3, "PutBucketLifecycleConfiguration", &["s3:PutLifecycleConfiguration"], Bucket, Cfn),
    op(S3, "DeleteBucketLifecycle", &["s3:PutLifecycleConfiguration"], Bucket, Cfn),
    // Tags: the schema's `tagging.permissions`. PutBucketTagging is the classic path; the S3 Control
    // tagging API (TagResource, also required by CreateBucket with tags) is the newer one.
    op(S3, "PutBucketTagging", &["s3:PutBucketTagging"], Bucket, Cfn),
    op(S3, "DeleteBucketTagging", &["s3:PutBucketTagging"], Bucket, Cfn),
    op(S3, "TagResource", &["s3:TagResource"], Bucket, Cfn),
    op(S3, "UntagResource", &["s3:UntagResource"], Bucket, Cfn),
    // Test deployments (DeletionPolicy: Delete): the delete handler checks and removes the bucket.
    op(S3, "ListObjectsV2", &["s3:ListBucket"], Bucket, Cfn),
    op(S3, "DeleteBucket", &["s3:DeleteBucket"], Bucket, Cfn),

    // --- CloudFormation: AWS::S3::Bucket, read handler (drift detection reads the whole bucket) ---
    op(S3, "GetBucketAccelerateConfiguration", &["s3:GetAccelerateConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"], Bucket, CfnRead),
    op(S3, "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], Bucket, CfnRead),
    op(S3, "ListBucketAnalyticsConfigurations", &["s3:GetAnalyticsConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketCors", &["s3:GetBucketCORS"], Bucket, CfnRead),
    op(S3, "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], Bucket, CfnRead),
    op(S3, "ListBucketInventoryConfigurations", &["s3:GetInventoryConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketLogging", &["s3:GetBucketLogging"], Bucket, CfnRead),
    op(S3, "ListBucketMetricsConfigurations", &["s3:GetMetricsConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketNotificationConfiguration", &["s3:GetBucketNotification"], Bucket, CfnRead),
    op(S3, "GetBucketVersioning", &["s3:GetBucketVersioning"], Bucket, CfnRead),
    op(S3, "GetBucketReplication", &["s3:GetReplicationConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketWebsite", &["s3:GetBucketWebsite"], Bucket, CfnRead),
    op(S3, "GetObjectLockConfiguration", &["s3:GetBucketObjectLockConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketTagging", &["s3:GetBucketTagging"], Bucket, CfnRead),
    op(S3, "ListTagsForResource", &["s3:ListTagsForResource"], Bucket, CfnRead),
    op(S3, "GetBucketAbac", &["s3:GetBucketAbac"], Bucket, CfnRead),
    op(S3, "GetBucketOwnershipControls", &["s3:GetBucketOwnershipControls"], Bucket, CfnRead),
    op(S3, "ListBucketIntelligentTieringConfigurations", &["s3:GetIntelligentTieringConfiguration"], Bucket, CfnRead),
    op(S3, "GetBucketMetadataTableConfiguration", &["s3:GetBucketMetadataTableConfiguration"], Bucket, CfnRead),
    op(S3, "HeadBucket", &["s3:ListBucket"], Bucket, CfnRead),

    // --- CloudFormation: AWS::S3::BucketPolicy (create, update, delete, read) ---
    op(S3, "PutBucketPolicy", &["s3:PutBucketPolicy"], Bucket, Cfn),
    op(S3, "DeleteBucketPolicy", &["s3:DeleteBucketPolicy"], Bucket, Cfn),
    op(S3, "GetBucketPolicy", &["s3:GetBucketPolicy"], Bucket, CfnRead),

    // --- CloudFormation: AWS::SSM::Parameter (String; stack tags propagate to it) ---
    op(Ssm, "PutParameter", &["ssm:PutParameter"], Parameter, Cfn),
    op(Ssm, "DeleteParameter", &["ssm:DeleteParameter"], Parameter, Cfn),
    op(Ssm, "AddTagsToResource", &["ssm:AddTagsToResource"], Parameter, Cfn),
    op(Ssm, "RemoveTagsFromResource", &["ssm:RemoveTagsFromResource"], Parameter, Cfn),
    op(Ssm, "GetParameters", &["ssm:GetParameters"], Parameter, CfnRead),
    op(Ssm, "ListTagsForResource", &["ssm:ListTagsForResource"], Parameter, CfnRead),

    // --- CloudFormation: AWS::EC2::VPCEndpoint (only with s3.vpc_id; stack tags propagate to it) ---
    op(Ec2, "CreateVpcEndpoint", &["ec2:CreateVpcEndpoint"], VpcEndpointAttach, Cfn),
    op(Ec2, "ModifyVpcEndpoint", &["ec2:ModifyVpcEndpoint"], VpcEndpointAttach, Cfn),
    op(Ec2, "DeleteVpcEndpoints", &["ec2:DeleteVpcEndpoints"], VpcEndpoint, Cfn),
    op(Ec2, "CreateTags", &["ec2:CreateTags"], VpcEndpoint, Cfn),
    op(Ec2, "DeleteTags", &["ec2:DeleteTags"], VpcEndpoint, Cfn),
    op(Ec2, "DescribeVpcEndpoints", &["ec2:DescribeVpcEndpoints"], Ec2Any, CfnRead),
    op(Ec2, "DescribeVpcs", &["ec2:DescribeVpcs"], Ec2Any, CfnRead),
    op(Ec2, "DescribeSubnets", &["ec2:DescribeSubnets"], Ec2Any, CfnRead),
    op(Ec2, "DescribeSecurityGroups", &["ec2:DescribeSecurityGroups"], Ec2Any, CfnRead),
];
