//! Proves the moto harness (tests/support): the server answers S3 and STS through the SDK, and
//! the launcher's patches make CloudFormation-created buckets and bucket policies live through
//! the S3 API on create, update and delete (SPEC §14).

mod support;

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
        .collect();
    tags.sort_unstable();
    assert_eq!(
        tags,
        [
            ("Owner", "data-science"),
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
    assert_bucket_live(&aws.s3, bucket, "Enabled", 90).await;

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
    assert_bucket_live(&aws.s3, bucket, "Suspended", 120).await;

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
