//! The `VpcEndpoint` resource (`AWS::EC2::VPCEndpoint`): an S3 gateway endpoint in the site's VPC,
//! present only when the config names a VPC.

use serde::Serialize;

use crate::config::VpcSettings;
use crate::template::model::{Expr, ResourceType};

/// Properties of `AWS::EC2::VPCEndpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcEndpointProperties {
    pub vpc_endpoint_type: &'static str,
    pub service_name: Expr,
    pub vpc_id: String,
    pub route_table_ids: Vec<String>,
}

impl ResourceType for VpcEndpointProperties {
    const TYPE: &'static str = "AWS::EC2::VPCEndpoint";
}

/// The S3 service name of the stack's own region. The stack is always created in the config's
/// region, so `${AWS::Region}` is that region, and cfn-lint checks the pseudo-parameter form
/// without region-specific service lists.
pub const S3_SERVICE_NAME: &str = "com.amazonaws.${AWS::Region}.s3";

/// The gateway endpoint for `vpc`, attached to its route tables in config order.
pub fn vpc_endpoint_properties(vpc: &VpcSettings) -> VpcEndpointProperties {
    VpcEndpointProperties {
        vpc_endpoint_type: "Gateway",
        service_name: Expr::sub(S3_SERVICE_NAME),
        vpc_id: vpc.vpc_id.clone(),
        route_table_ids: vpc.route_table_ids.clone(),
    }
}
