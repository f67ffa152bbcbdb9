//! The IAM policy `create-policy` writes, checked against the two things it must cover, each
//! derived from the real thing rather than typed again:
//!
//! - the permissions CloudFormation needs for the generated template: the resource types and
//!   properties are read from the templates `create-prov-template` generates for every example
//!   config (and for their test copies), and each (type, property) is looked up in a table of the
//!   IAM actions its CloudFormation handlers need. A property the table does not know fails the
//!   test, so a template that starts setting something new must say what it needs;
//! - the operations the tool itself sends: every action runs against moto, each run's report
//!   records the operations it sent (`AWS operations sent`, from the journal interceptor that
//!   sees every request), and each one must be granted by the written policy on the resources
//!   the run touched.

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use s3_provisioner::naming::{self, Deployment};
use s3_provisioner::policy::operations::{Caller, OPERATIONS, Scope};
use s3_provisioner::policy::{self, PolicyDocument};
use serde_yaml::Value;
use support::{MotoServer, Workdir, site_config};

/// What an IAM action of a CloudFormation handler is authorised on.
#[derive(Clone, Copy, Debug)]
enum On {
    /// The resource itself (the bucket, the parameter, the endpoint).
    Resource,
    /// IAM authorises it only on `*`.
    Any,
    /// The VPC the endpoint's `VpcId` names.
    Vpc,
    /// Each route table in the endpoint's `RouteTableIds`.
    RouteTables,
}

/// One row of [`NEEDS`]: resource type, property, and the IAM actions with what they act on.
type Needs = (&'static str, &'static str, &'static [(&'static str, On)]);

/// The IAM actions CloudFormation needs for one resource type (`""`: any resource of the type,
/// whatever it sets) or one property of it, from the create/update/delete/read handlers of the
/// type's CloudFormation resource provider schema. Properties that need nothing beyond the type's
/// own create call are listed with no actions, so every property the template sets is classified.
#[rustfmt::skip]
const NEEDS: &[Needs] = &[
    ("AWS::S3::Bucket", "", &[("s3:CreateBucket", On::Resource), ("s3:ListBucket", On::Resource)]),
    ("AWS::S3::Bucket", "BucketName", &[]),
    ("AWS::S3::Bucket", "VersioningConfiguration", &[("s3:PutBucketVersioning", On::Resource), ("s3:GetBucketVersioning", On::Resource)]),
    ("AWS::S3::Bucket", "BucketEncryption", &[("s3:PutEncryptionConfiguration", On::Resource), ("s3:GetEncryptionConfiguration", On::Resource)]),
    ("AWS::S3::Bucket", "PublicAccessBlockConfiguration", &[("s3:PutBucketPublicAccessBlock", On::Resource), ("s3:GetBucketPublicAccessBlock", On::Resource)]),
    ("AWS::S3::Bucket", "OwnershipControls", &[("s3:PutBucketOwnershipControls", On::Resource), ("s3:GetBucketOwnershipControls", On::Resource)]),
    ("AWS::S3::Bucket", "LifecycleConfiguration", &[("s3:PutLifecycleConfiguration", On::Resource), ("s3:GetLifecycleConfiguration", On::Resource)]),
    ("AWS::S3::Bucket", "Tags", &[("s3:PutBucketTagging", On::Resource), ("s3:GetBucketTagging", On::Resource), ("s3:TagResource", On::Resource), ("s3:UntagResource", On::Resource)]),
    // DeletionPolicy other than Retain: deleting the stack deletes the bucket.
    ("AWS::S3::Bucket", "DeletionPolicy=Delete", &[("s3:DeleteBucket", On::Resource)]),
    ("AWS::S3::BucketPolicy", "", &[("s3:PutBucketPolicy", On::Resource), ("s3:GetBucketPolicy", On::Resource), ("s3:DeleteBucketPolicy", On::Resource)]),
    ("AWS::S3::BucketPolicy", "Bucket", &[]),
    ("AWS::S3::BucketPolicy", "PolicyDocument", &[]),
    ("AWS::SSM::Parameter", "", &[("ssm:PutParameter", On::Resource), ("ssm:DeleteParameter", On::Resource), ("ssm:GetParameters", On::Resource)]),
    ("AWS::SSM::Parameter", "Name", &[]),
    ("AWS::SSM::Parameter", "Type", &[]),
    ("AWS::SSM::Parameter", "Value", &[]),
    ("AWS::SSM::Parameter", "Description", &[]),
    // Stack tags propagate to every taggable resource of the stack.
    ("AWS::SSM::Parameter", "stack tags", &[("ssm:AddTagsToResource", On::Resource), ("ssm:RemoveTagsFromResource", On::Resource), ("ssm:ListTagsForResource", On::Resource)]),
    ("AWS::EC2::VPCEndpoint", "", &[("ec2:CreateVpcEndpoint", On::Resource), ("ec2:DeleteVpcEndpoints", On::Resource), ("ec2:DescribeVpcEndpoints", On::Any)]),
    ("AWS::EC2::VPCEndpoint", "VpcEndpointType", &[]),
    ("AWS::EC2::VPCEndpoint", "ServiceName", &[]),
    ("AWS::EC2::VPCEndpoint", "VpcId", &[("ec2:CreateVpcEndpoint", On::Vpc), ("ec2:DescribeVpcs", On::Any)]),
    ("AWS::EC2::VPCEndpoint", "RouteTableIds", &[("ec2:CreateVpcEndpoint", On::RouteTables), ("ec2:ModifyVpcEndpoint", On::RouteTables), ("ec2:ModifyVpcEndpoint", On::Resource)]),
    ("AWS::EC2::VPCEndpoint", "stack tags", &[("ec2:CreateTags", On::Resource), ("ec2:DeleteTags", On::Resource)]),
];

fn needs(kind: &str, property: &str) -> &'static [(&'static str, On)] {
    NEEDS
        .iter()
        .find(|(k, p, _)| *k == kind && *p == property)
        .map_or_else(
            || {
            panic!(
                "the generated template sets {kind} `{property}`, which this test's table does not know: add the IAM actions CloudFormation needs for it here (and to src/policy/operations.rs)"
            )
        },
            |(_, _, actions)| *actions,
        )
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected text, got {value:?}"))
}

/// The ARNs `on` means for one resource of the generated template.
fn resource_arns(
    kind: &str,
    properties: &Value,
    bucket: &str,
    region: &str,
    account: &str,
    on: On,
) -> Vec<String> {
    let ec2 = format!("arn:aws:ec2:{region}:{account}");
    match on {
        On::Any => vec!["*".to_owned()],
        On::Vpc => vec![format!("{ec2}:vpc/{}", text(&properties["VpcId"]))],
        On::RouteTables => properties["RouteTableIds"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|rtb| format!("{ec2}:route-table/{}", text(rtb)))
            .collect(),
        On::Resource => vec![match kind {
            "AWS::S3::Bucket" => format!("arn:aws:s3:::{}", text(&properties["BucketName"])),
            // Its `Bucket` is `Ref: Bucket`, the template's own bucket.
            "AWS::S3::BucketPolicy" => format!("arn:aws:s3:::{bucket}"),
            "AWS::SSM::Parameter" => {
                format!(
                    "arn:aws:ssm:{region}:{account}:parameter{}",
                    text(&properties["Name"])
                )
            }
            "AWS::EC2::VPCEndpoint" => format!("{ec2}:vpc-endpoint/vpce-0123456789abcdef0"),
            other => panic!(
                "the generated template has a resource of type {other}, unknown to this test"
            ),
        }],
    }
}

/// Every deployment an example config makes: its own (shared or, with `solution:`, dedicated), a
/// dedicated one for another solution, and a test copy of each.
fn deployments(config: &s3_provisioner::config::ValidConfig) -> Vec<Deployment> {
    let own = naming::deployment_for_solution(
        config,
        config
            .solution
            .as_deref()
            .unwrap_or(naming::MASTER_SOLUTION),
    )
    .unwrap();
    let other = naming::dedicated_deployment(config, "fraud-detection").unwrap();
    let own_test = naming::test_deployment(&own, "t1a2b3c").unwrap();
    let other_test = naming::test_deployment(&other, "t0f9e8d").unwrap();
    vec![own, other, own_test, other_test]
}

fn example_configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 3, "{configs:?}");
    configs
}

#[test]
fn the_policy_grants_what_cloudformation_needs_for_every_generated_template() {
    let mut kinds_seen = BTreeSet::new();
    for path in example_configs() {
        let config = s3_provisioner::config::load(&path).unwrap();
        let region = &config.environment.region;
        let account = &config.client.account_id;
        let policy = policy::generate(&config);
        for deployment in deployments(&config) {
            let rendered = s3_provisioner::template::render(&config, &deployment).unwrap();
            // The generator writes long-form YAML (no `!Ref` tags): plain YAML reads it.
            let template: Value = serde_yaml::from_str(&rendered).unwrap();
            let stack_tags = !s3_provisioner::template::stack_tags(&config, &deployment).is_empty();
            let resources = template["Resources"].as_mapping().unwrap();
            for (logical_id, resource) in resources {
                let kind = text(&resource["Type"]);
                kinds_seen.insert(kind.to_owned());
                let properties = &resource["Properties"];
                let mut wanted: Vec<&(&str, On)> = needs(kind, "").iter().collect();
                for (property, _) in properties.as_mapping().unwrap() {
                    wanted.extend(needs(kind, text(property)));
                }
                if let Some(policy_attr) = resource.get("DeletionPolicy")
                    && text(policy_attr) != "Retain"
                {
                    wanted.extend(needs(
                        kind,
                        &format!("DeletionPolicy={}", text(policy_attr)),
                    ));
                }
                if stack_tags
                    && NEEDS
                        .iter()
                        .any(|(k, p, _)| *k == kind && *p == "stack tags")
                {
                    wanted.extend(needs(kind, "stack tags"));
                }
                for (action, on) in wanted {
                    for arn in resource_arns(
                        kind,
                        properties,
                        &deployment.bucket_name,
                        region,
                        account,
                        *on,
                    ) {
                        assert!(
                            policy.allows(action, &arn),
                            "{}: deployment {}: {logical_id:?} ({kind}) needs {action} on {arn}, which the policy does not grant",
                            path.display(),
                            deployment.name
                        );
                    }
                }
            }
        }
    }
    // The example configs cover every resource type the generator makes.
    assert_eq!(
        kinds_seen.into_iter().collect::<Vec<_>>(),
        [
            "AWS::EC2::VPCEndpoint",
            "AWS::S3::Bucket",
            "AWS::S3::BucketPolicy",
            "AWS::SSM::Parameter"
        ]
    );
}

/// The operations recorded in every `.log` report under `reports`: `service:Operation`.
fn operations_in_reports(reports: &Path) -> BTreeSet<String> {
    let mut operations = BTreeSet::new();
    let mut runs = 0;
    for entry in std::fs::read_dir(reports).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let log = std::fs::read_to_string(&path).unwrap();
        for line in log.lines().filter(|l| l.contains("AWS operations sent")) {
            runs += 1;
            let list = line.split_once("operations=").unwrap().1.trim();
            operations.extend(list.split(',').filter(|o| !o.is_empty()).map(str::to_owned));
        }
    }
    assert!(runs >= 8, "only {runs} AWS runs recorded their operations");
    operations
}

/// Concrete ARNs of `scope` for the deployments a moto run touched.
fn touched(scope: Scope, deployments: &[Deployment], region: &str, account: &str) -> Vec<String> {
    let cfn = format!("arn:aws:cloudformation:{region}:{account}");
    let stack_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    match scope {
        Scope::NoPermission => Vec::new(),
        Scope::CloudFormationAny | Scope::Ec2Any => vec!["*".to_owned()],
        Scope::Stack | Scope::StackTags => deployments
            .iter()
            .map(|d| format!("{cfn}:stack/{}/{stack_id}", d.stack_name))
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
        Scope::VpcEndpointAttach | Scope::VpcEndpoint => {
            panic!("the tool itself never calls EC2")
        }
    }
}

#[test]
fn every_operation_the_actions_send_is_granted_by_the_written_policy() {
    const REGION: &str = "us-west-1";
    const CONFIG: &str = "edge-prod-b001-us-west-1-s3.yaml";
    let server = MotoServer::start();
    let work = Workdir::new();
    let config_path = work.write_config(
        CONFIG,
        &site_config(
            "b001",
            REGION,
            "versioning: true\nlifecycle_policy: ml-optimized\ntags:\n  Owner: data-science",
        ),
    );
    let run = |args: &[&str], codes: &[i32]| {
        let output = server
            .command(work.path())
            .args(["--config", CONFIG])
            .args(args)
            .output()
            .unwrap();
        assert!(
            codes.contains(&output.status.code().unwrap_or(-1)),
            "{args:?}: {:?}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let dedicated = ["--solution", "recommendation-engine"];
    run(&["--action", "create-policy"], &[0]);
    run(&["--action", "show-changes"], &[0]);
    run(&["--action", "prep-master", "--force"], &[0]);
    run(&["--action", "show-changes"], &[0]);
    run(
        &["--action", "deploy-solution", dedicated[0], dedicated[1]],
        &[0],
    );
    run(&["--action", "upload-template"], &[0]);
    run(&["--action", "check-drift"], &[0]);
    run(&["--action", "test-deploy"], &[0]);
    run(
        &[
            "--action",
            "create-bucket",
            "--force",
            dedicated[0],
            dedicated[1],
        ],
        &[0],
    );
    run(
        &[
            "--action",
            "tear-down",
            "--force",
            dedicated[0],
            dedicated[1],
        ],
        &[0],
    );
    run(&["--action", "tear-down", "--force"], &[0]);

    let written = work
        .path()
        .join("policies/edge-prod-b001-us-west-1-s3-iam-policy.json");
    let policy: PolicyDocument =
        serde_json::from_str(&std::fs::read_to_string(written).unwrap()).unwrap();
    let config = s3_provisioner::config::load(&config_path).unwrap();
    let shared = naming::shared_deployment(&config).unwrap();
    let dedicated = naming::dedicated_deployment(&config, "recommendation-engine").unwrap();
    // test-deploy's copy has a random suffix; any suffix must be granted, so check one.
    let copy = naming::test_deployment(&shared, "t9c8b7a").unwrap();
    let deployments = [shared, dedicated, copy];

    let operations = operations_in_reports(&work.path().join("reports"));
    for expected in [
        "s3:HeadBucket",
        "cloudformation:ExecuteChangeSet",
        "s3:DeleteObjects",
    ] {
        assert!(
            operations.contains(expected),
            "{expected} not recorded: {operations:?}"
        );
    }
    for operation in &operations {
        let (service, api) = operation.split_once(':').unwrap();
        let row = OPERATIONS
            .iter()
            .find(|op| op.caller == Caller::Tool && op.service.iam_prefix() == service && op.api == api)
            .unwrap_or_else(|| {
                panic!(
                    "the tool sent {operation}, which the policy does not grant: src/policy/operations.rs has no row for it"
                )
            });
        for action in row.actions {
            for arn in touched(row.scope, &deployments, REGION, &config.client.account_id) {
                assert!(
                    policy.allows(action, &arn),
                    "the tool sent {operation} ({action}) on {arn}, which the written policy does not grant"
                );
            }
        }
    }
}
