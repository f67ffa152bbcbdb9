//! Tests of the operations table and the generated policy.

use super::fixtures::{override_config, shared_config, vpc_config};
use super::*;
use crate::naming::{self, Deployment};

/// Every deployment a config can produce: shared, dedicated, and a test copy of each.
fn deployments(config: &ValidConfig) -> Vec<Deployment> {
    let shared = naming::shared_deployment(config).unwrap();
    let dedicated = naming::dedicated_deployment(config, "recommendation-engine").unwrap();
    let shared_test = naming::test_deployment(&shared, "t1a2b3c").unwrap();
    let dedicated_test = naming::test_deployment(&dedicated, "t0f9e8d").unwrap();
    vec![shared, dedicated, shared_test, dedicated_test]
}

/// Real resource ARNs a row of `scope` acts on for `config`, built from `naming` (so a change in
/// naming that the policy does not follow fails here).
fn example_resources(config: &ValidConfig, scope: Scope) -> Vec<String> {
    let region = &config.environment.region;
    let account = &config.client.account_id;
    let cfn = format!("arn:aws:cloudformation:{region}:{account}");
    let ec2 = format!("arn:aws:ec2:{region}:{account}");
    let stack_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let deployments = deployments(config);
    match scope {
        Scope::NoPermission => Vec::new(),
        // IAM authorises these calls against `*`.
        Scope::CloudFormationAny | Scope::Ec2Any => vec!["*".to_owned()],
        Scope::Stack => deployments
            .iter()
            .map(|d| format!("{cfn}:stack/{}/{stack_id}", d.stack_name))
            .collect(),
        Scope::StackTags => deployments
            .iter()
            .map(|d| format!("{cfn}:stack/{}/{stack_id}", d.stack_name))
            .chain([format!("{cfn}:changeSet/s3p-preview-1/{stack_id}")])
            .collect(),
        Scope::Bucket => deployments.iter().map(Deployment::bucket_arn).collect(),
        Scope::Object => deployments
            .iter()
            .flat_map(|d| {
                [
                    format!("{}/{}", d.bucket_arn(), d.template_key()),
                    format!("{}/solutions/{}/data/raw/", d.bucket_arn(), d.solution),
                ]
            })
            .collect(),
        Scope::Parameter => deployments
            .iter()
            .flat_map(|d| [d.ssm_bucket_name_parameter(), d.ssm_bucket_arn_parameter()])
            .map(|name| format!("arn:aws:ssm:{region}:{account}:parameter{name}"))
            .collect(),
        Scope::VpcEndpointAttach => {
            let vpc = config.s3.vpc.as_ref().unwrap();
            [
                format!("{ec2}:vpc-endpoint/vpce-0123456789abcdef0"),
                format!("{ec2}:vpc/{}", vpc.vpc_id),
            ]
            .into_iter()
            .chain(
                vpc.route_table_ids
                    .iter()
                    .map(|rtb| format!("{ec2}:route-table/{rtb}")),
            )
            .collect()
        }
        Scope::VpcEndpoint => vec![format!("{ec2}:vpc-endpoint/vpce-0123456789abcdef0")],
    }
}

#[test]
fn every_row_names_iam_actions_of_its_own_service() {
    for op in OPERATIONS {
        assert_eq!(
            op.actions.is_empty(),
            op.scope == Scope::NoPermission,
            "{} {}: only NoPermission rows have no actions",
            op.service.iam_prefix(),
            op.api
        );
        for action in op.actions {
            let (prefix, name) = action.split_once(':').unwrap();
            assert_eq!(prefix, op.service.iam_prefix(), "{action} in {}", op.api);
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{action} in {} must be one exact IAM action",
                op.api
            );
        }
    }
}

#[test]
fn the_policy_allows_every_operation_on_every_resource_it_touches() {
    for config in [shared_config(), vpc_config(), override_config()] {
        let policy = generate(&config);
        for op in applicable_operations(&config) {
            for action in op.actions {
                for resource in example_resources(&config, op.scope) {
                    assert!(
                        policy.allows(action, &resource),
                        "{}: {} ({action}) is not allowed on {resource}",
                        config.source.display(),
                        op.api
                    );
                }
            }
        }
        if let Some(name) = &config.s3.bucket_name_override {
            for action in ["s3:CreateBucket", "s3:ListBucketVersions"] {
                assert!(policy.allows(action, &format!("arn:aws:s3:::{name}")));
            }
            assert!(policy.allows(
                "s3:DeleteObjectVersion",
                &format!("arn:aws:s3:::{name}/a/b")
            ));
        }
    }
}

#[test]
fn the_policy_stays_inside_the_site() {
    let config = shared_config();
    let policy = generate(&config);
    let denied = [
        (
            "s3:DeleteBucket",
            "arn:aws:s3:::edge-prod-b002-us-west-1-s3",
        ),
        (
            "s3:DeleteBucket",
            "arn:aws:s3:::edge-prod-b001-us-west-1-s3x",
        ),
        ("s3:PutObject", "arn:aws:s3:::someone-elses-bucket/key"),
        (
            "cloudformation:DeleteStack",
            "arn:aws:cloudformation:us-west-1:123456789012:stack/edge-prod-b002-us-west-1-s3-stack/id",
        ),
        (
            "cloudformation:DeleteStack",
            "arn:aws:cloudformation:us-west-1:999999999999:stack/edge-prod-b001-us-west-1-s3-stack/id",
        ),
        (
            "cloudformation:DeleteStack",
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/edge-prod-b001-us-west-1-s3-stack/id",
        ),
        (
            "ssm:PutParameter",
            "arn:aws:ssm:us-west-1:123456789012:parameter/s3-provisioner/other-site/bucket-name",
        ),
        ("iam:PassRole", "*"),
        (
            "s3:PutBucketAcl",
            "arn:aws:s3:::edge-prod-b001-us-west-1-s3",
        ),
        ("ec2:CreateVpcEndpoint", "*"),
    ];
    for (action, resource) in denied {
        assert!(
            !policy.allows(action, resource),
            "{action} must not be allowed on {resource}"
        );
    }
}

#[test]
fn ec2_permissions_appear_only_with_a_vpc_endpoint() {
    let ec2_actions = |config: &ValidConfig| -> Vec<String> {
        generate(config)
            .statement
            .iter()
            .flat_map(|s| s.action.iter())
            .filter(|a| a.starts_with("ec2:"))
            .cloned()
            .collect()
    };
    assert_eq!(ec2_actions(&shared_config()), Vec::<String>::new());
    assert_eq!(ec2_actions(&override_config()), Vec::<String>::new());
    let with_vpc = ec2_actions(&vpc_config());
    for action in [
        "ec2:CreateVpcEndpoint",
        "ec2:ModifyVpcEndpoint",
        "ec2:DeleteVpcEndpoints",
        "ec2:DescribeVpcEndpoints",
    ] {
        assert!(with_vpc.iter().any(|a| a == action), "{action} missing");
    }
    // Route tables are granted one by one, never all of them.
    let policy = generate(&vpc_config());
    assert!(!policy.allows(
        "ec2:ModifyVpcEndpoint",
        "arn:aws:ec2:eu-west-1:210987654321:route-table/rtb-ffffffff"
    ));
}

#[test]
fn resource_star_only_where_iam_allows_nothing_narrower() {
    let policy = generate(&vpc_config());
    for statement in &policy.statement {
        if statement.resource.iter().any(|r| r == "*") {
            assert_eq!(statement.resource, ["*"], "{}", statement.sid);
            assert!(
                matches!(
                    statement.sid.as_str(),
                    "CloudFormationUnscopedCalls" | "Ec2Describe"
                ),
                "{} uses *",
                statement.sid
            );
        }
    }
    let unscoped: Vec<&str> = policy
        .statement
        .iter()
        .filter(|s| s.resource == ["*"])
        .flat_map(|s| s.action.iter().map(String::as_str))
        .collect();
    assert_eq!(
        unscoped,
        [
            "cloudformation:DescribeStackDriftDetectionStatus",
            "cloudformation:ValidateTemplate",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribeVpcs",
        ]
    );
}

#[test]
fn stack_tags_are_only_allowed_as_part_of_change_sets() {
    let policy = generate(&shared_config());
    let tags = policy
        .statement
        .iter()
        .find(|s| s.sid == "CloudFormationStackTags")
        .unwrap();
    assert_eq!(
        tags.condition.as_ref().unwrap()["StringEquals"]["cloudformation:CreateAction"],
        ["CreateChangeSet", "ExecuteChangeSet"]
    );
    let others_with_conditions: Vec<&str> = policy
        .statement
        .iter()
        .filter(|s| s.condition.is_some() && s.sid != "CloudFormationStackTags")
        .map(|s| s.sid.as_str())
        .collect();
    assert!(others_with_conditions.is_empty());
}

#[test]
fn sts_needs_no_statement() {
    let policy = generate(&shared_config());
    assert!(
        !policy
            .statement
            .iter()
            .any(|s| s.sid == "NoPermissionNeeded")
    );
    assert!(
        !policy
            .statement
            .iter()
            .flat_map(|s| &s.action)
            .any(|a| a.starts_with("sts:"))
    );
}

#[test]
fn an_override_already_covered_by_the_stem_pattern_is_not_repeated() {
    let mut config = shared_config();
    config.s3.bucket_name_override = Some("edge-prod-b001-us-west-1-s3-archive".to_owned());
    let policy = generate(&config);
    let buckets = &policy
        .statement
        .iter()
        .find(|s| s.sid == "S3Buckets")
        .unwrap()
        .resource;
    assert_eq!(
        buckets,
        &[
            "arn:aws:s3:::edge-prod-b001-us-west-1-s3",
            "arn:aws:s3:::edge-prod-b001-us-west-1-s3-*",
        ]
    );
    let with_other = generate(&override_config());
    let buckets = &with_other
        .statement
        .iter()
        .find(|s| s.sid == "S3Objects")
        .unwrap()
        .resource;
    assert_eq!(
        buckets.last().unwrap(),
        "arn:aws:s3:::edge-recommendation-engine-data/*"
    );
}

#[test]
fn rendering_is_deterministic_pretty_json_with_a_trailing_newline() {
    let config = vpc_config();
    let first = render(&generate(&config));
    let second = render(&generate(&config.clone()));
    assert_eq!(first, second);
    assert!(first.ends_with("}\n") && !first.ends_with("\n\n"));
    assert!(first.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": ["));
    let parsed: PolicyDocument = serde_json::from_str(&first).unwrap();
    assert_eq!(parsed, generate(&config));
}

#[test]
fn summary_counts_statements_and_distinct_actions() {
    let policy = generate(&shared_config());
    let summary = policy.summary();
    assert_eq!(summary.statements, policy.statement.len());
    assert_eq!(
        summary.sids,
        [
            "CloudFormationStacks",
            "CloudFormationStackTags",
            "CloudFormationUnscopedCalls",
            "S3Buckets",
            "S3Objects",
            "SsmParameters",
        ]
    );
    let total: usize = policy.statement.iter().map(|s| s.action.len()).sum();
    // TagResource/UntagResource are in one statement only; no action is repeated across statements.
    assert_eq!(summary.actions, total);
}

#[test]
fn wildcards_follow_iam_rules() {
    let cases = [
        ("arn:aws:s3:::b-*", "arn:aws:s3:::b-x/y", true),
        ("arn:aws:s3:::b-*", "arn:aws:s3:::b-", true),
        ("arn:aws:s3:::b-*", "arn:aws:s3:::b", false),
        ("arn:aws:s3:::b", "arn:aws:s3:::bb", false),
        ("*", "anything at all", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*stack/x-*/*", "arn:stack/x-y-stack/id", true),
        ("*stack/x-*/*", "arn:stack/x-y-stack", false),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false),
    ];
    for (pattern, text, expected) in cases {
        assert_eq!(
            wildcard_match(pattern, text),
            expected,
            "{pattern} ~ {text}"
        );
    }
}

#[test]
fn partitions_follow_the_region() {
    assert_eq!(partition("us-west-1"), "aws");
    assert_eq!(partition("cn-north-1"), "aws-cn");
    assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
}

#[test]
fn snapshot_shared_site() {
    insta::assert_snapshot!(render(&generate(&shared_config())));
}

#[test]
fn snapshot_vpc_site() {
    insta::assert_snapshot!(render(&generate(&vpc_config())));
}
