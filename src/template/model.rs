//! Serde types for the parts of a CloudFormation template this tool writes.
//!
//! Field order in these structs is the key order in the YAML, so the output is deterministic
//! without sorting. Intrinsic functions are typed ([`Expr`]) and always written in long form
//! (`Ref`, `Fn::GetAtt`, `Fn::Sub`), which every YAML parser reads; never as `!Ref` short tags.

use serde::{Deserialize, Serialize};

use super::resources::{
    BucketPolicyProperties, BucketProperties, SsmParameterProperties, VpcEndpointProperties,
};

/// The only template format version CloudFormation knows.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// A whole template.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    pub description: String,
    pub metadata: Metadata,
    pub resources: Resources,
    pub outputs: Outputs,
}

/// Top-level `Metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    #[serde(rename = "S3Provisioner")]
    pub s3_provisioner: TemplateMetadata,
}

/// `Metadata.S3Provisioner`: who generated the template, for what, from which config. Read back by
/// `validate-prov-template` (stale check), `upload-template` and `show-changes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplateMetadata {
    /// Always `s3-provisioner`.
    pub tool: String,
    /// The tool version that generated the template (kept out of tags on purpose: a new tool
    /// version must not make every stack's tags change).
    pub tool_version: String,
    /// Deployment name.
    pub deployment: String,
    pub solution: String,
    /// `shared` or `dedicated`.
    pub pattern: String,
    /// sha256 of the normalised config ([`crate::config::ValidConfig::normalised_sha256`]).
    #[serde(rename = "ConfigSha256")]
    pub config_sha256: String,
    /// The test suffix of a test deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_id: Option<String>,
}

/// The resources, in a fixed order; the field names are the logical IDs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resources {
    pub bucket: Resource<BucketProperties>,
    pub bucket_policy: Resource<BucketPolicyProperties>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint: Option<Resource<VpcEndpointProperties>>,
    pub bucket_name_parameter: Resource<SsmParameterProperties>,
    pub bucket_arn_parameter: Resource<SsmParameterProperties>,
}

impl Resources {
    /// The logical IDs present, in template order.
    pub fn logical_ids(&self) -> Vec<&'static str> {
        let mut ids = vec![super::BUCKET, super::BUCKET_POLICY];
        if self.vpc_endpoint.is_some() {
            ids.push(super::VPC_ENDPOINT);
        }
        ids.extend([super::BUCKET_NAME_PARAMETER, super::BUCKET_ARN_PARAMETER]);
        ids
    }
}

/// Properties of one resource type, which knows its CloudFormation type name.
pub trait ResourceType {
    /// e.g. `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// One resource: type, the two retention policies (only where they matter) and properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource<P> {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<RetentionPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<RetentionPolicy>,
    pub properties: P,
}

impl<P: ResourceType> Resource<P> {
    /// A resource without retention policies (CloudFormation's default: delete with the stack).
    pub fn new(properties: P) -> Self {
        Resource {
            kind: P::TYPE,
            deletion_policy: None,
            update_replace_policy: None,
            properties,
        }
    }

    /// The same resource with `DeletionPolicy` and `UpdateReplacePolicy` both set to `policy`.
    #[must_use]
    pub fn retained_as(mut self, policy: RetentionPolicy) -> Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values the tool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RetentionPolicy {
    /// Keep the resource when the stack deletes or replaces it (real deployments' buckets).
    Retain,
    /// Delete it (test deployments).
    Delete,
}

/// A string-valued property: a literal or a long-form intrinsic function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Expr {
    Literal(String),
    Ref {
        #[serde(rename = "Ref")]
        target: String,
    },
    GetAtt {
        #[serde(rename = "Fn::GetAtt")]
        target: [String; 2],
    },
    Sub {
        #[serde(rename = "Fn::Sub")]
        template: String,
    },
}

impl Expr {
    /// `Ref: logical_id`.
    pub fn reference(logical_id: &str) -> Self {
        Expr::Ref {
            target: logical_id.to_owned(),
        }
    }

    /// `Fn::GetAtt: [logical_id, attribute]`.
    pub fn get_att(logical_id: &str, attribute: &str) -> Self {
        Expr::GetAtt {
            target: [logical_id.to_owned(), attribute.to_owned()],
        }
    }

    /// `Fn::Sub: template`.
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub {
            template: template.into(),
        }
    }
}

/// A `{Key, Value}` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// The outputs, in a fixed order; the field names are the output names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Outputs {
    pub bucket_name: Output,
    pub bucket_arn: Output,
    pub bucket_regional_domain_name: Output,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_id: Option<Output>,
}

/// One stack output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: &'static str,
    pub value: Expr,
}
