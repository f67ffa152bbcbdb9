//! The `BucketNameParameter` and `BucketArnParameter` resources (`AWS::SSM::Parameter`): the SSM
//! paths (README "Names"), so other stacks and tools can find the bucket.

use serde::Serialize;

use crate::template::model::{Expr, ResourceType};

/// Properties of `AWS::SSM::Parameter`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SsmParameterProperties {
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub value: Expr,
    pub description: String,
}

impl ResourceType for SsmParameterProperties {
    const TYPE: &'static str = "AWS::SSM::Parameter";
}

/// A `String` parameter at `name` holding `value`.
pub fn string_parameter(name: String, value: Expr, description: String) -> SsmParameterProperties {
    SsmParameterProperties {
        name,
        kind: "String",
        value,
        description,
    }
}
