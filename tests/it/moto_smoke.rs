//! Proves the moto harness (tests/it/support): the server answers S3 and STS through the SDK, and
//! the launcher's patches make CloudFormation-created buckets and bucket policies live through
//! the S3 API on create, update and delete.

use crate::support;

use std::fmt::Write as _;
use std::time::Duration;

use aws_sdk_cloudformation::types::StackStatus;
use support::MotoServer;

const REGION: &str = "us-east-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_answers_s3_and_sts() {
    let moto = MotoServer::start();
    let aws = moto.clients(REGION).await;

    let identity = aws.sts.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some(support::moto::MOTO_ACCOUNT));

    aws.s3
        .create_bucket()
        .bucket("smoke-bucket")
        .send()
        .await
        .unwrap();
    let listed = aws.s3.list_buckets().send().await.unwrap();
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["smoke-bucket"]);
}

#[test]
fn each_server_has_its_own_state_and_env_points_at_it() {
    let a = MotoServer::start();
    let b = MotoServer::start();
    assert_ne!(a.endpoint, b.endpoint);
    let env = a.env();
    let get = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("AWS_ENDPOINT_URL"), a.endpoint);
    assert_eq!(get("AWS_ACCESS_KEY_ID"), "testing");
    assert_eq!(std::fs::read(get("AWS_CONFIG_FILE")).unwrap(), b"");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws_a = a.clients(REGION).await;
        let aws_b = b.clients(REGION).await;
        aws_a
            .s3
            .create_bucket()
            .bucket("only-in-a")
            .send()
            .await
            .unwrap();
        let in_b = aws_b.s3.list_buckets().send().await.unwrap();
        assert!(in_b.buckets().is_empty());
    });
}

#[test]
fn workdir_and_site_config() {
    let work = support::Workdir::new();
    for sub in ["configs", "templates", "policies", "reports"] {
        assert!(work.path().join(sub).is_dir(), "{sub}/ missing");
    }
    let yaml = support::site_config(
        "b001",
        "us-west-1",
        "versioning: true\nlifecycle_policy: ml-optimized",
    );
    let path = work.write_config("edge-prod-b001.yaml", &yaml);
    assert_eq!(path, work.path().join("configs/edge-prod-b001.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("  tenant_id: \"b001\"\n"), "{text}");
    assert!(text.contains("  region: us-west-1\n"), "{text}");
    assert!(
        text.ends_with("s3:\n  versioning: true\n  lifecycle_policy: ml-optimized\n"),
        "{text}"
    );
    assert!(work.reports().is_empty());
    std::fs::write(work.path().join("reports/x.log"), "x").unwrap();
    assert_eq!(work.reports(), [work.path().join("reports/x.log")]);
}

/// A bucket with everything S3 Provisioner's template sets, plus its TLS-only policy.
fn bucket_template(
    bucket: &str,
    deletion_policy: &str,
    versioning: &str,
    glacier_days: u32,
) -> String {
    format!(
        r"AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: {deletion_policy}
    UpdateReplacePolicy: {deletion_policy}
    Properties:
      BucketName: {bucket}
      VersioningConfiguration:
        Status: {versioning}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
            BucketKeyEnabled: true
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      OwnershipControls:
        Rules:
          - ObjectOwnership: BucketOwnerEnforced
      LifecycleConfiguration:
        Rules:
          - Id: ml-optimized
            Status: Enabled
            Prefix: solutions/
            Transitions:
              - StorageClass: STANDARD_IA
                TransitionInDays: 30
              - StorageClass: GLACIER
                TransitionInDays: {glacier_days}
            NoncurrentVersionTransitions:
              - StorageClass: STANDARD_IA
                TransitionInDays: 30
            NoncurrentVersionExpiration:
              NoncurrentDays: 60
            AbortIncompleteMultipartUpload:
              DaysAfterInitiation: 7
      Tags:
        - Key: Owner
          Value: data-science
        - Key: s3-provisioner:managed-by
          Value: s3-provisioner
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource:
              - !GetAtt Bucket.Arn
              - !Sub '${{Bucket.Arn}}/*'
            Condition:
              Bool:
                aws:SecureTransport: 'false'
Outputs:
  BucketName:
    Value: !Ref Bucket
"
    )
}

/// Poll DescribeStacks until the stack leaves its *_IN_PROGRESS state; returns the final status.
async fn wait_for_stack(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> StackStatus {
    for _ in 0..120 {
        let described = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .unwrap();
        let status = described.stacks()[0].stack_status().unwrap().clone();
        if !status.as_str().ends_with("_IN_PROGRESS") {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("stack {stack} still in progress after 30 s");
}

/// Whether DescribeStacks still lists the stack (moto forgets deleted stacks by name).
async fn stack_exists(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> bool {
    match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(described) => described
            .stacks()
            .iter()
            .any(|s| s.stack_status() != Some(&StackStatus::DeleteComplete)),
        Err(error) => {
            let text = format!("{:?}", error.into_service_error());
            assert!(text.contains("does not exist"), "{text}");
            false
        }
    }
}

async fn assert_bucket_live(
    s3: &aws_sdk_s3::Client,
    stack: &str,
    bucket: &str,
    versioning: &str,
    glacier_days: i32,
) {
    let v = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        v.status()
            .map(aws_sdk_s3::types::BucketVersioningStatus::as_str),
        Some(versioning)
    );

    let pab = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );

    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rules = ownership.ownership_controls().unwrap().rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].object_ownership().as_str(), "BucketOwnerEnforced");

    let enc = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    assert_eq!(rule.bucket_key_enabled(), Some(true));

    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
    let mut tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .filter(|(k, _)| !k.starts_with("aws:cloudformation:stack-id"))
        .collect();
    tags.sort_unstable();
    // CloudFormation adds its aws:cloudformation:* tags to the buckets it creates.
    assert_eq!(
        tags,
        [
            ("Owner", "data-science"),
            ("aws:cloudformation:logical-id", "Bucket"),
            ("aws:cloudformation:stack-name", stack),
            ("s3-provisioner:managed-by", "s3-provisioner")
        ]
    );

    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rules = lifecycle.rules();
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule.id(), Some("ml-optimized"));
    assert_eq!(rule.status().as_str(), "Enabled");
    assert_eq!(rule.filter().and_then(|f| f.prefix()), Some("solutions/"));
    let transitions: Vec<(Option<i32>, &str)> = rule
        .transitions()
        .iter()
        .map(|t| (t.days(), t.storage_class().unwrap().as_str()))
        .collect();
    assert_eq!(
        transitions,
        [(Some(30), "STANDARD_IA"), (Some(glacier_days), "GLACIER")]
    );
    let noncurrent: Vec<(Option<i32>, &str)> = rule
        .noncurrent_version_transitions()
        .iter()
        .map(|t| (t.noncurrent_days(), t.storage_class().unwrap().as_str()))
        .collect();
    assert_eq!(noncurrent, [(Some(30), "STANDARD_IA")]);
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(aws_sdk_s3::types::NoncurrentVersionExpiration::noncurrent_days),
        Some(60)
    );
    assert_eq!(
        rule.abort_incomplete_multipart_upload()
            .and_then(aws_sdk_s3::types::AbortIncompleteMultipartUpload::days_after_initiation),
        Some(7)
    );
    assert!(rule.expiration().is_none());

    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Sid"], "DenyInsecureTransport");
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Resource"],
        serde_json::json!([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/*")
        ])
    );
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudformation_bucket_properties_are_live_through_create_update_and_retain() {
    let moto = MotoServer::start();
    let aws = moto.clients(REGION).await;
    let (stack, bucket) = ("smoke-retain", "edge-smoke-retain");

    aws.cfn
        .create_stack()
        .stack_name(stack)
        .template_body(bucket_template(bucket, "Retain", "Enabled", 90))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, stack).await,
        StackStatus::CreateComplete
    );
    assert_bucket_live(&aws.s3, stack, bucket, "Enabled", 90).await;

    // The TLS-only policy must not block ordinary (TLS on AWS) object writes.
    aws.s3
        .put_object()
        .bucket(bucket)
        .key("solutions/a/.keep")
        .body(Vec::new().into())
        .send()
        .await
        .unwrap();

    aws.cfn
        .update_stack()
        .stack_name(stack)
        .template_body(bucket_template(bucket, "Retain", "Suspended", 120))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, stack).await,
        StackStatus::UpdateComplete
    );
    assert_bucket_live(&aws.s3, stack, bucket, "Suspended", 120).await;

    aws.cfn
        .delete_stack()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert!(!stack_exists(&aws.cfn, stack).await);
    // Retain: the bucket and its object stay; the policy resource (Delete) is gone.
    aws.s3.head_bucket().bucket(bucket).send().await.unwrap();
    aws.s3
        .head_object()
        .bucket(bucket)
        .key("solutions/a/.keep")
        .send()
        .await
        .unwrap();
    let policy = aws.s3.get_bucket_policy().bucket(bucket).send().await;
    let error = policy.unwrap_err().into_service_error();
    assert_eq!(error.meta().code(), Some("NoSuchBucketPolicy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_policy_bucket_is_deleted_only_when_empty() {
    let moto = MotoServer::start();
    let aws = moto.clients(REGION).await;
    let (stack, bucket) = ("smoke-delete", "edge-smoke-delete");

    aws.cfn
        .create_stack()
        .stack_name(stack)
        .template_body(bucket_template(bucket, "Delete", "Enabled", 90))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, stack).await,
        StackStatus::CreateComplete
    );
    let put = aws
        .s3
        .put_object()
        .bucket(bucket)
        .key("solutions/x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();

    // Non-empty bucket: as on AWS, the delete fails and the stack stays.
    aws.cfn
        .delete_stack()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, stack).await,
        StackStatus::DeleteFailed
    );
    let events = aws
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let newest = &events.stack_events()[0];
    assert_eq!(
        newest
            .resource_status()
            .map(aws_sdk_cloudformation::types::ResourceStatus::as_str),
        Some("DELETE_FAILED")
    );
    assert!(
        newest
            .resource_status_reason()
            .unwrap()
            .contains("not empty"),
        "{newest:?}"
    );
    aws.s3.head_bucket().bucket(bucket).send().await.unwrap();

    // Emptied (every version), the retried delete removes the bucket.
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key("solutions/x")
        .version_id(put.version_id().unwrap())
        .send()
        .await
        .unwrap();
    aws.cfn
        .delete_stack()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert!(!stack_exists(&aws.cfn, stack).await);
    let head = aws.s3.head_bucket().bucket(bucket).send().await;
    assert!(head.unwrap_err().into_service_error().is_not_found());
}

/// The template shape of a real deployment, with SSM parameters and (optionally) a VPC endpoint.
fn deployment_template(bucket: &str, versioning: &str, vpc: Option<(&str, &str)>) -> String {
    let mut template = format!(
        r"AWSTemplateFormatVersion: '2010-09-09'
Description: S3 Provisioner smoke deployment
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketName: {bucket}
      VersioningConfiguration:
        Status: {versioning}
  BucketNameParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /s3-provisioner/smoke/bucket-name
      Type: String
      Value: !Ref Bucket
"
    );
    if let Some((vpc_id, route_table)) = vpc {
        write!(
            template,
            r"  VpcEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: {vpc_id}
      ServiceName: !Sub 'com.amazonaws.${{AWS::Region}}.s3'
      VpcEndpointType: Gateway
      RouteTableIds:
        - {route_table}
"
        )
        .unwrap();
    }
    template.push_str(
        r"Outputs:
  BucketName:
    Value: !Ref Bucket
  BucketArn:
    Value: !GetAtt Bucket.Arn
  BucketRegionalDomainName:
    Value: !GetAtt Bucket.RegionalDomainName
",
    );
    if vpc.is_some() {
        template.push_str("  VpcEndpointId:\n    Value: !Ref VpcEndpoint\n");
    }
    template
}

fn stack_tag(key: &str, value: &str) -> aws_sdk_cloudformation::types::Tag {
    aws_sdk_cloudformation::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

/// The CloudFormation calls the tool makes, through the Rust SDK: change sets (create, describe
/// with property values, execute, empty, delete), outputs, stack tags, templates, events,
/// resources, SSM parameters, a VPC endpoint, REVIEW_IN_PROGRESS clean-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_sets_and_stack_reads_through_the_rust_sdk() {
    use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType};
    let region = "us-west-1";
    let moto = MotoServer::start();
    let aws = moto.clients(region).await;
    let (vpc, tables) = moto.create_vpc(region, 1);
    assert!(vpc.starts_with("vpc-") && tables[0].starts_with("rtb-"));
    let (stack, bucket) = ("smoke-cs", "edge-smoke-cs");

    let valid = aws
        .cfn
        .validate_template()
        .template_body(deployment_template(bucket, "Enabled", None))
        .send()
        .await
        .unwrap();
    assert_eq!(valid.description(), Some("S3 Provisioner smoke deployment"));
    let invalid = aws
        .cfn
        .validate_template()
        .template_body("Resources: {Bucket: {Type: AWS::S3::Bucket, Properties: [")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        invalid
            .meta()
            .message()
            .unwrap()
            .starts_with("Template format error"),
        "{invalid:?}"
    );

    // Same change-set name on another stack: lookups must stay within their stack.
    for (name, cs_type) in [
        ("other", ChangeSetType::Create),
        (stack, ChangeSetType::Create),
    ] {
        aws.cfn
            .create_change_set()
            .stack_name(name)
            .change_set_name("s3p-deploy")
            .change_set_type(cs_type)
            .template_body(deployment_template(
                &format!("edge-{name}"),
                "Enabled",
                Some((&vpc, &tables[0])),
            ))
            .tags(stack_tag("s3-provisioner:deployment", name))
            .send()
            .await
            .unwrap();
    }
    let described = aws
        .cfn
        .describe_change_set()
        .stack_name(stack)
        .change_set_name("s3p-deploy")
        .include_property_values(true)
        .send()
        .await
        .unwrap();
    assert_eq!(described.stack_name(), Some(stack));
    assert_eq!(described.status(), Some(&ChangeSetStatus::CreateComplete));
    let mut added: Vec<&str> = described
        .changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .filter(|rc| {
            rc.action()
                .map(aws_sdk_cloudformation::types::ChangeAction::as_str)
                == Some("Add")
        })
        .filter_map(|rc| rc.logical_resource_id())
        .collect();
    added.sort_unstable();
    assert_eq!(added, ["Bucket", "BucketNameParameter", "VpcEndpoint"]);
    let reviewing = aws
        .cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert_eq!(
        reviewing.stacks()[0].stack_status(),
        Some(&StackStatus::ReviewInProgress)
    );

    aws.cfn
        .execute_change_set()
        .stack_name(stack)
        .change_set_name("s3p-deploy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, stack).await,
        StackStatus::CreateComplete
    );
    let created = aws
        .cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let created = &created.stacks()[0];
    let output = |key: &str| {
        created
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .map(str::to_owned)
    };
    assert_eq!(output("BucketName").as_deref(), Some(bucket));
    assert_eq!(output("BucketArn"), Some(format!("arn:aws:s3:::{bucket}")));
    assert!(output("VpcEndpointId").unwrap().starts_with("vpce-"));
    assert_eq!(created.tags().len(), 1);
    assert_eq!(created.tags()[0].value(), Some(stack));
    // The other stack's same-named change set is untouched.
    let other = aws
        .cfn
        .describe_stacks()
        .stack_name("other")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.stacks()[0].stack_status(),
        Some(&StackStatus::ReviewInProgress)
    );

    let parameter = aws
        .ssm
        .get_parameter()
        .name("/s3-provisioner/smoke/bucket-name")
        .send()
        .await
        .unwrap();
    assert_eq!(parameter.parameter().and_then(|p| p.value()), Some(bucket));

    let template = aws
        .cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert!(template.template_body().unwrap().contains("VpcEndpoint"));
    let resources = aws
        .cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    let mut physical: Vec<(&str, &str)> = resources
        .stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap(),
                r.physical_resource_id().unwrap_or_default(),
            )
        })
        .collect();
    physical.sort_unstable();
    assert_eq!(physical[0], ("Bucket", bucket));
    assert_eq!(
        physical[1],
        ("BucketNameParameter", "/s3-provisioner/smoke/bucket-name")
    );
    let events = aws
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    assert_eq!(
        events.stack_events()[0]
            .resource_status()
            .map(aws_sdk_cloudformation::types::ResourceStatus::as_str),
        Some("CREATE_COMPLETE")
    );

    // An update change set lists each changed property with its old and new value.
    aws.cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name("s3p-update")
        .change_set_type(ChangeSetType::Update)
        .template_body(deployment_template(
            bucket,
            "Suspended",
            Some((&vpc, &tables[0])),
        ))
        .tags(stack_tag("s3-provisioner:deployment", stack))
        .send()
        .await
        .unwrap();
    let update = aws
        .cfn
        .describe_change_set()
        .stack_name(stack)
        .change_set_name("s3p-update")
        .include_property_values(true)
        .send()
        .await
        .unwrap();
    let changes = update.changes();
    assert_eq!(changes.len(), 1);
    let change = changes[0].resource_change().unwrap();
    assert_eq!(change.logical_resource_id(), Some("Bucket"));
    assert_eq!(change.physical_resource_id(), Some(bucket));
    assert_eq!(
        change
            .replacement()
            .map(aws_sdk_cloudformation::types::Replacement::as_str),
        Some("False")
    );
    let target = change.details()[0].target().unwrap();
    assert_eq!(target.name(), Some("VersioningConfiguration"));
    assert_eq!(
        target.path(),
        Some("/Properties/VersioningConfiguration/Status")
    );
    assert_eq!(
        (target.before_value(), target.after_value()),
        (Some("Enabled"), Some("Suspended"))
    );
    aws.cfn
        .delete_change_set()
        .stack_name(stack)
        .change_set_name("s3p-update")
        .send()
        .await
        .unwrap();

    // Same template again: an empty change set FAILS with AWS's reason.
    aws.cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name("s3p-empty")
        .change_set_type(ChangeSetType::Update)
        .template_body(deployment_template(
            bucket,
            "Enabled",
            Some((&vpc, &tables[0])),
        ))
        .send()
        .await
        .unwrap();
    let empty = aws
        .cfn
        .describe_change_set()
        .stack_name(stack)
        .change_set_name("s3p-empty")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), Some(&ChangeSetStatus::Failed));
    assert!(
        empty
            .status_reason()
            .unwrap()
            .contains("didn't contain changes")
    );
    assert!(empty.changes().is_empty());

    // A REVIEW_IN_PROGRESS stack (from a CREATE change set) can be deleted.
    aws.cfn
        .delete_stack()
        .stack_name("other")
        .send()
        .await
        .unwrap();
    assert!(!stack_exists(&aws.cfn, "other").await);
}

/// S3 calls tear-down makes, through the Rust SDK: versions and delete markers, batch deletes,
/// multipart uploads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_batches_and_multipart_uploads_through_the_rust_sdk() {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
        ObjectIdentifier, VersioningConfiguration,
    };
    let region = "eu-west-1";
    let moto = MotoServer::start();
    let aws = moto.clients(region).await;
    let bucket = "edge-smoke-versions";
    aws.s3
        .create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for body in ["1", "2"] {
        aws.s3
            .put_object()
            .bucket(bucket)
            .key("solutions/a.txt")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key("solutions/a.txt")
        .send()
        .await
        .unwrap();

    let listed = aws
        .s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.versions().len(), 2);
    assert_eq!(listed.delete_markers().len(), 1);
    let identifiers: Vec<ObjectIdentifier> = listed
        .versions()
        .iter()
        .map(|v| (v.key().unwrap(), v.version_id().unwrap()))
        .chain(
            listed
                .delete_markers()
                .iter()
                .map(|m| (m.key().unwrap(), m.version_id().unwrap())),
        )
        .map(|(key, version)| {
            ObjectIdentifier::builder()
                .key(key)
                .version_id(version)
                .build()
                .unwrap()
        })
        .collect();
    let deleted = aws
        .s3
        .delete_objects()
        .bucket(bucket)
        .delete(
            Delete::builder()
                .set_objects(Some(identifiers))
                .quiet(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted().len(), 3);
    assert!(deleted.errors().is_empty());
    let after = aws
        .s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(after.versions().is_empty() && after.delete_markers().is_empty());

    let upload = aws
        .s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("solutions/big.bin")
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    let uploads = aws
        .s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads().len(), 1);
    assert_eq!(uploads.uploads()[0].upload_id(), Some(upload_id));
    aws.s3
        .abort_multipart_upload()
        .bucket(bucket)
        .key("solutions/big.bin")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    let uploads = aws
        .s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty());

    aws.s3.delete_bucket().bucket(bucket).send().await.unwrap();
}

/// moto has no drift detection; the harness makes it fail at once with a non-retryable
/// `NotImplemented` (HTTP 501) instead of a retried HTTP 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_detection_is_reported_as_not_implemented() {
    let moto = MotoServer::start();
    let aws = moto.clients(REGION).await;
    aws.cfn
        .create_stack()
        .stack_name("smoke-drift")
        .template_body(deployment_template("edge-smoke-drift", "Enabled", None))
        .send()
        .await
        .unwrap();
    let error = aws
        .cfn
        .detect_stack_drift()
        .stack_name("smoke-drift")
        .send()
        .await
        .unwrap_err();
    let raw_status = error.raw_response().map(|r| r.status().as_u16());
    let error = error.into_service_error();
    assert_eq!(error.meta().code(), Some("NotImplemented"));
    assert_eq!(raw_status, Some(501));
    let error = aws
        .cfn
        .describe_stack_resource_drifts()
        .stack_name("smoke-drift")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.meta().code(), Some("NotImplemented"));
}

/// A resource that fails to create fails the stack (ROLLBACK_COMPLETE), not the API call, and
/// what was created is rolled back — the state the tool's create-bucket must handle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_create_rolls_back_the_stack() {
    let moto = MotoServer::start();
    let aws = moto.clients(REGION).await;
    aws.s3
        .create_bucket()
        .bucket("edge-smoke-taken")
        .send()
        .await
        .unwrap();
    aws.cfn
        .create_stack()
        .stack_name("smoke-taken")
        .template_body(deployment_template("edge-smoke-taken", "Enabled", None))
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_for_stack(&aws.cfn, "smoke-taken").await,
        StackStatus::RollbackComplete
    );
    let events = aws
        .cfn
        .describe_stack_events()
        .stack_name("smoke-taken")
        .send()
        .await
        .unwrap();
    let failed = events
        .stack_events()
        .iter()
        .find(|e| {
            e.resource_status()
                .map(aws_sdk_cloudformation::types::ResourceStatus::as_str)
                == Some("CREATE_FAILED")
        })
        .expect("a CREATE_FAILED event");
    assert!(
        failed
            .resource_status_reason()
            .unwrap()
            .contains("not available"),
        "{failed:?}"
    );
    // ROLLBACK_COMPLETE stacks can only be deleted.
    aws.cfn
        .delete_stack()
        .stack_name("smoke-taken")
        .send()
        .await
        .unwrap();
    assert!(!stack_exists(&aws.cfn, "smoke-taken").await);
}

/// `command` runs the tool binary in the working folder with the server's environment.
#[test]
fn command_runs_the_binary_in_the_workdir() {
    let moto = MotoServer::start();
    let work = support::Workdir::new();
    let output = moto
        .command(work.path())
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.starts_with("s3-provisioner "), "{text}");
    let envs: Vec<(String, String)> = moto.env();
    assert!(
        envs.iter()
            .any(|(k, v)| k == "AWS_ENDPOINT_URL" && *v == moto.endpoint)
    );
}
