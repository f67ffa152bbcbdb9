//! Checks of the resources around the bucket: the TLS-only bucket policy, the VPC endpoint, the
//! SSM parameters and the outputs.

use serde_yaml::Value;

use super::{Expected, Findings, is_false, properties};
use crate::template::yaml::{is_get_att, is_ref_to, scalar_text, show};
use crate::template::{
    BUCKET, BUCKET_ARN_PARAMETER, BUCKET_NAME_PARAMETER, BUCKET_POLICY, BucketPolicyProperties,
    ResourceType, SECURE_TRANSPORT_KEY, SsmParameterProperties, VPC_ENDPOINT,
    VpcEndpointProperties,
};

pub(super) fn check_bucket_policy(
    resource: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let Some(resource) = resource else {
        findings.regenerate(
            BUCKET_POLICY,
            "",
            "is missing: nothing denies requests over plain HTTP (aws:SecureTransport false)",
        );
        return;
    };
    let Some(props) = properties(
        BUCKET_POLICY,
        resource,
        BucketPolicyProperties::TYPE,
        findings,
    ) else {
        return;
    };
    let bucket_name = expected.deployment.bucket_name.as_str();
    let bucket = props.get("Bucket");
    if !bucket.is_some_and(|b| is_ref_to(b, BUCKET) || b.as_str() == Some(bucket_name)) {
        findings.regenerate(
            BUCKET_POLICY,
            "Bucket",
            format!("is {}, expected {{Ref: {BUCKET}}}", show(bucket)),
        );
    }
    let statements: Vec<&Value> = match props.get("PolicyDocument").and_then(|d| d.get("Statement"))
    {
        Some(Value::Sequence(list)) => list.iter().collect(),
        Some(single @ Value::Mapping(_)) => vec![single],
        _ => Vec::new(),
    };
    let arn = expected.deployment.bucket_arn();
    if !statements
        .iter()
        .any(|s| denies_insecure_transport(s, bucket_name, &arn))
    {
        findings.regenerate(
            BUCKET_POLICY,
            "PolicyDocument.Statement",
            format!(
                "has no statement denying s3:* to every principal when {SECURE_TRANSPORT_KEY} is false on the bucket and its objects: requests over plain HTTP would be allowed"
            ),
        );
    }
    for (index, statement) in statements.iter().enumerate() {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        if allows && is_everyone(statement.get("Principal")) {
            findings.add(
                BUCKET_POLICY,
                &format!("PolicyDocument.Statement[{index}]"),
                "allows access to every principal (\"*\"): the bucket would be public",
                format!(
                    "remove the statement, or regenerate the template: {}",
                    findings.command
                ),
            );
        }
    }
}

/// Deny, everyone, `s3:*`, `aws:SecureTransport` false, on the bucket and its objects.
fn denies_insecure_transport(statement: &Value, bucket_name: &str, arn: &str) -> bool {
    let deny = statement.get("Effect").and_then(Value::as_str) == Some("Deny");
    let all_actions = strings(statement.get("Action"))
        .iter()
        .any(|a| a == "s3:*" || a == "*");
    let insecure = is_false(
        statement
            .get("Condition")
            .and_then(|c| c.get("Bool"))
            .and_then(|b| b.get(SECURE_TRANSPORT_KEY)),
    );
    let resources: Vec<&Value> = match statement.get("Resource") {
        Some(Value::Sequence(list)) => list.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    };
    let objects = format!("{arn}/*");
    let on_bucket = resources.iter().any(|r| {
        is_get_att(r, BUCKET, "Arn")
            || r.as_str() == Some(arn)
            || sub_of(r) == Some(format!("${{{BUCKET}.Arn}}"))
    });
    let on_objects = resources.iter().any(|r| {
        r.as_str() == Some(objects.as_str())
            || matches!(
                sub_of(r).as_deref(),
                Some(s) if s == format!("${{{BUCKET}.Arn}}/*") || s == format!("arn:${{AWS::Partition}}:s3:::{bucket_name}/*")
            )
    });
    deny && all_actions
        && insecure
        && on_bucket
        && on_objects
        && is_everyone(statement.get("Principal"))
}

fn sub_of(value: &Value) -> Option<String> {
    value
        .get("Fn::Sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `"*"`, `{AWS: "*"}` or a list holding `"*"`.
fn is_everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::Mapping(map)) => map
            .get("AWS")
            .is_some_and(|aws| strings(Some(aws)).iter().any(|p| p == "*")),
        other => strings(other).iter().any(|p| p == "*"),
    }
}

/// A string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Sequence(list)) => list.iter().filter_map(scalar_text).collect(),
        Some(single) => scalar_text(single).into_iter().collect(),
        None => Vec::new(),
    }
}

pub(super) fn check_vpc_endpoint(
    resource: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let vpc = expected.config.s3.vpc.as_ref();
    let (vpc, resource) = match (vpc, resource) {
        // An unexpected endpoint is reported with the other unexpected resources.
        (None, _) => return,
        (Some(_), None) => {
            findings.regenerate(
                VPC_ENDPOINT,
                "",
                "is missing, but the config sets s3.vpc_id: the VPC would have no S3 gateway endpoint",
            );
            return;
        }
        (Some(vpc), Some(resource)) => (vpc, resource),
    };
    let Some(props) = properties(
        VPC_ENDPOINT,
        resource,
        VpcEndpointProperties::TYPE,
        findings,
    ) else {
        return;
    };
    let kind = props.get("VpcEndpointType");
    if kind.and_then(Value::as_str) != Some("Gateway") {
        findings.regenerate(
            VPC_ENDPOINT,
            "VpcEndpointType",
            format!("is {}, expected Gateway", show(kind)),
        );
    }
    let service = props.get("ServiceName");
    let literal = format!("com.amazonaws.{}.s3", expected.config.environment.region);
    let service_ok = service.is_some_and(|s| {
        s.as_str() == Some(literal.as_str())
            || sub_of(s).as_deref() == Some(crate::template::S3_SERVICE_NAME)
    });
    if !service_ok {
        findings.regenerate(
            VPC_ENDPOINT,
            "ServiceName",
            format!(
                "is {}, expected the S3 service of the stack's region ({literal})",
                show(service)
            ),
        );
    }
    let vpc_id = props.get("VpcId");
    if vpc_id.and_then(Value::as_str) != Some(vpc.vpc_id.as_str()) {
        findings.regenerate(
            VPC_ENDPOINT,
            "VpcId",
            format!(
                "is {}, but the config sets s3.vpc_id: {}",
                show(vpc_id),
                vpc.vpc_id
            ),
        );
    }
    let tables = props.get("RouteTableIds");
    if strings(tables) != vpc.route_table_ids || !matches!(tables, Some(Value::Sequence(_))) {
        findings.regenerate(
            VPC_ENDPOINT,
            "RouteTableIds",
            format!(
                "is {}, but the config sets s3.route_table_ids: {}",
                show(tables),
                vpc.route_table_ids.join(",")
            ),
        );
    }
}

pub(super) fn check_parameters(
    name_parameter: Option<&Value>,
    arn_parameter: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let deployment = expected.deployment;
    let wanted = [
        (
            BUCKET_NAME_PARAMETER,
            name_parameter,
            deployment.ssm_bucket_name_parameter(),
            "{Ref: Bucket}",
        ),
        (
            BUCKET_ARN_PARAMETER,
            arn_parameter,
            deployment.ssm_bucket_arn_parameter(),
            "{Fn::GetAtt: [Bucket, Arn]}",
        ),
    ];
    for (id, resource, path, value_form) in wanted {
        let Some(resource) = resource else {
            findings.regenerate(
                id,
                "",
                format!("is missing: other tools look the bucket up at SSM {path}"),
            );
            continue;
        };
        let Some(props) = properties(id, resource, SsmParameterProperties::TYPE, findings) else {
            continue;
        };
        let name = props.get("Name");
        if name.and_then(Value::as_str) != Some(path.as_str()) {
            findings.regenerate(
                id,
                "Name",
                format!(
                    "is {}, expected {path:?} for deployment {}",
                    show(name),
                    deployment.name
                ),
            );
        }
        let kind = props.get("Type");
        if kind.and_then(Value::as_str) != Some("String") {
            findings.regenerate(id, "Type", format!("is {}, expected String", show(kind)));
        }
        let value = props.get("Value");
        let value_ok = value.is_some_and(|v| {
            if id == BUCKET_NAME_PARAMETER {
                is_ref_to(v, BUCKET)
            } else {
                is_get_att(v, BUCKET, "Arn")
            }
        });
        if !value_ok {
            findings.regenerate(
                id,
                "Value",
                format!("is {}, expected {value_form}", show(value)),
            );
        }
    }
}

pub(super) fn check_outputs(
    outputs: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let mut wanted = vec!["BucketName", "BucketArn", "BucketRegionalDomainName"];
    if expected.config.s3.vpc.is_some() {
        wanted.push("VpcEndpointId");
    }
    for name in wanted {
        if outputs
            .and_then(|o| o.get(name))
            .and_then(|o| o.get("Value"))
            .is_none()
        {
            findings.regenerate(
                "Outputs",
                name,
                "is missing: deploy-solution and check-drift read the bucket from the stack outputs",
            );
        }
    }
}
