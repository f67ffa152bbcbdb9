//! The `BucketPolicy` resource (`AWS::S3::BucketPolicy`): deny every request that does not use TLS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::template::model::{Expr, ResourceType};

/// The condition key that is false for plain-HTTP requests.
pub const SECURE_TRANSPORT_KEY: &str = "aws:SecureTransport";
/// `Sid` of the TLS-only statement.
pub const DENY_INSECURE_TRANSPORT_SID: &str = "DenyInsecureTransport";

/// Properties of `AWS::S3::BucketPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicyProperties {
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}

impl ResourceType for BucketPolicyProperties {
    const TYPE: &'static str = "AWS::S3::BucketPolicy";
}

/// A resource policy document whose resources may be intrinsic functions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

/// One policy statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: &'static str,
    pub effect: &'static str,
    pub principal: &'static str,
    pub action: &'static str,
    pub resource: Vec<Expr>,
    /// Operator → key → value, e.g. `Bool: {aws:SecureTransport: "false"}`.
    pub condition: BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>,
}

/// The TLS-only policy of the bucket with logical ID `bucket`: deny `s3:*` to everyone when
/// `aws:SecureTransport` is false, on the bucket and every object in it.
pub fn bucket_policy_properties(bucket: &str) -> BucketPolicyProperties {
    BucketPolicyProperties {
        bucket: Expr::reference(bucket),
        policy_document: PolicyDocument {
            version: "2012-10-17",
            statement: vec![Statement {
                sid: DENY_INSECURE_TRANSPORT_SID,
                effect: "Deny",
                principal: "*",
                action: "s3:*",
                resource: vec![
                    Expr::get_att(bucket, "Arn"),
                    Expr::sub(format!("${{{bucket}.Arn}}/*")),
                ],
                condition: BTreeMap::from([(
                    "Bool",
                    BTreeMap::from([(SECURE_TRANSPORT_KEY, "false")]),
                )]),
            }],
        },
    }
}
