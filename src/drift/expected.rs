//! The state a deployment should have, read off the typed template that
//! [`crate::template::build`] generates — the same value CloudFormation deploys — so the live check
//! never restates a setting (lifecycle presets, tags, the policy) a second time.

use std::collections::BTreeMap;

use super::policy_json::{Resolver, normalise_policy};
use super::state::{
    BucketState, EncryptionRule, LifecycleRuleState, ParameterState, PublicAccessBlock,
    TransitionRule,
};
use crate::naming::Deployment;
use crate::template::{self, Expr, LifecycleRule, SsmParameterProperties, Template, Transition};

/// Everything the live check compares against.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub bucket_name: String,
    pub bucket: BucketState,
    pub parameters: Vec<ParameterState>,
}

/// The expected state of `deployment`, from its built template.
pub fn expected(template: &Template, deployment: &Deployment) -> Expected {
    let arn = deployment.bucket_arn();
    let resolver = Resolver {
        bucket_logical_id: template::BUCKET,
        bucket_name: &deployment.bucket_name,
        bucket_arn: &arn,
    };
    let properties = &template.resources.bucket.properties;
    let pab = &properties.public_access_block_configuration;
    let bucket = BucketState {
        versioning: Some(
            properties
                .versioning_configuration
                .status
                .as_str()
                .to_owned(),
        ),
        encryption: properties
            .bucket_encryption
            .server_side_encryption_configuration
            .iter()
            .map(|rule| EncryptionRule {
                algorithm: rule
                    .server_side_encryption_by_default
                    .sse_algorithm
                    .to_owned(),
                kms_key_id: None,
                bucket_key_enabled: rule.bucket_key_enabled,
            })
            .collect(),
        public_access_block: Some(PublicAccessBlock {
            block_public_acls: pab.block_public_acls,
            block_public_policy: pab.block_public_policy,
            ignore_public_acls: pab.ignore_public_acls,
            restrict_public_buckets: pab.restrict_public_buckets,
        }),
        object_ownership: properties
            .ownership_controls
            .rules
            .first()
            .map(|rule| rule.object_ownership.to_owned()),
        lifecycle_rules: properties
            .lifecycle_configuration
            .as_ref()
            .map(|config| config.rules.iter().map(lifecycle_rule).collect())
            .unwrap_or_default(),
        tags: properties
            .tags
            .iter()
            .map(|tag| (tag.key.clone(), tag.value.clone()))
            .collect::<BTreeMap<_, _>>(),
        policy: serde_json::to_value(&template.resources.bucket_policy.properties.policy_document)
            .ok()
            .map(|document| normalise_policy(&resolver.resolve(&document))),
    };
    let parameter = |logical_id, properties: &SsmParameterProperties| ParameterState {
        logical_id,
        name: properties.name.clone(),
        value: resolve_expr(&resolver, &properties.value),
    };
    Expected {
        bucket_name: properties.bucket_name.clone(),
        bucket,
        parameters: vec![
            parameter(
                template::BUCKET_NAME_PARAMETER,
                &template.resources.bucket_name_parameter.properties,
            ),
            parameter(
                template::BUCKET_ARN_PARAMETER,
                &template.resources.bucket_arn_parameter.properties,
            ),
        ],
    }
}

fn resolve_expr(resolver: &Resolver<'_>, expr: &Expr) -> Option<String> {
    let value = serde_json::to_value(expr).ok()?;
    match resolver.resolve(&value) {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    }
}

fn transitions(steps: &[Transition]) -> Vec<TransitionRule> {
    steps
        .iter()
        .map(|step| TransitionRule {
            storage_class: step.storage_class.to_owned(),
            days: i64::from(step.transition_in_days),
        })
        .collect()
}

fn lifecycle_rule(rule: &LifecycleRule) -> LifecycleRuleState {
    // The template's `RuleStatus` has one value; its serde name is the S3 spelling.
    let status = serde_json::to_value(rule.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    LifecycleRuleState {
        id: rule.id.clone(),
        status,
        prefix: Some(rule.prefix.clone()),
        abort_incomplete_multipart_days: Some(i64::from(
            rule.abort_incomplete_multipart_upload.days_after_initiation,
        )),
        transitions: transitions(&rule.transitions),
        expiration_days: rule.expiration_in_days.map(i64::from),
        noncurrent_transitions: transitions(&rule.noncurrent_version_transitions),
        noncurrent_expiration_days: rule
            .noncurrent_version_expiration
            .map(|e| i64::from(e.noncurrent_days)),
        other: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::naming;

    #[test]
    fn expected_state_of_the_shared_site() {
        let config = fixtures::shared_site();
        let deployment = naming::shared_deployment(&config).unwrap();
        let expected = expected(&template::build(&config, &deployment), &deployment);
        assert_eq!(expected.bucket_name, "edge-prod-b001-us-west-1-s3");
        assert_eq!(expected.bucket.versioning.as_deref(), Some("Enabled"));
        assert_eq!(
            expected.bucket.object_ownership.as_deref(),
            Some("BucketOwnerEnforced")
        );
        assert_eq!(
            expected.bucket.tags.get("s3-provisioner:deployment"),
            Some(&"edge-prod-b001-us-west-1-s3".to_owned())
        );
        let rule = &expected.bucket.lifecycle_rules[0];
        assert_eq!(rule.id, "ml-optimized");
        assert_eq!(rule.status, "Enabled");
        assert_eq!(rule.prefix.as_deref(), Some("solutions/"));
        assert_eq!(rule.transitions.len(), 2);
        let policy = expected.bucket.policy.unwrap().to_string();
        assert!(policy.contains("\"arn:aws:s3:::edge-prod-b001-us-west-1-s3/*\""));
        assert!(!policy.contains("Fn::"), "{policy}");
        assert_eq!(
            expected.parameters,
            [
                ParameterState {
                    logical_id: "BucketNameParameter",
                    name: "/s3-provisioner/edge-prod-b001-us-west-1-s3/bucket-name".to_owned(),
                    value: Some("edge-prod-b001-us-west-1-s3".to_owned()),
                },
                ParameterState {
                    logical_id: "BucketArnParameter",
                    name: "/s3-provisioner/edge-prod-b001-us-west-1-s3/bucket-arn".to_owned(),
                    value: Some("arn:aws:s3:::edge-prod-b001-us-west-1-s3".to_owned()),
                },
            ]
        );
    }

    #[test]
    fn no_lifecycle_preset_means_no_rules() {
        let config = fixtures::none_site();
        let deployment = naming::shared_deployment(&config).unwrap();
        let expected = expected(&template::build(&config, &deployment), &deployment);
        assert!(expected.bucket.lifecycle_rules.is_empty());
    }
}
