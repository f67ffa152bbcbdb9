//! tear-down against a local AWS (moto, through the faithful launcher): a versioned bucket with
//! thousands of versions and delete markers plus an incomplete multipart upload is removed with its
//! stack; without --force and without a terminal nothing is deleted (exit 4); resources that are not
//! the deployment's are refused; Object Lock is refused with the locked keys named; a second run
//! and a run after an interruption finish the job.

use crate::support;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectLockMode, Tag, Tagging};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use support::{MotoServer, Site, Workdir, deploy_shared_site, shared_site};

const REGION: &str = "us-west-1";

const EXTRA_S3: &str = "versioning: true\nlifecycle_policy: ml-optimized";

fn site(work: &Workdir, tenant: &str) -> Site {
    shared_site(work, tenant, REGION, EXTRA_S3)
}

fn deploy(server: &MotoServer, work: &Workdir, tenant: &str) -> Site {
    deploy_shared_site(server, work, tenant, REGION, EXTRA_S3)
}

/// Versions and delete markers in the bucket.
async fn version_count(s3: &Client, bucket: &str) -> usize {
    let mut count = 0;
    let mut markers = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(markers.0.clone())
            .set_version_id_marker(markers.1.clone())
            .send()
            .await
            .unwrap();
        count += page.versions().len() + page.delete_markers().len();
        if page.is_truncated() != Some(true) {
            return count;
        }
        markers = (
            page.next_key_marker().map(str::to_owned),
            page.next_version_id_marker().map(str::to_owned),
        );
    }
}

async fn bucket_exists(s3: &Client, bucket: &str) -> bool {
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

async fn stack_exists(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> bool {
    match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(described) => described.stacks().iter().any(|s| {
            s.stack_status() != Some(&aws_sdk_cloudformation::types::StackStatus::DeleteComplete)
        }),
        Err(_) => false,
    }
}

/// `keys` objects with two versions each, and a delete marker on every `marker_every`th key.
async fn fill(s3: &Client, bucket: &str, keys: usize, marker_every: usize) {
    let requests: Vec<(String, bool)> = (0..keys)
        .flat_map(|i| {
            let key = format!("solutions/master-solution/data/raw/part-{i:05}.csv");
            let mut ops = vec![(key.clone(), false), (key.clone(), false)];
            if i % marker_every == 0 {
                ops.push((key, true));
            }
            ops
        })
        .collect();
    // Versions of one key in order: run each key's operations in sequence, keys concurrently.
    let mut by_key: Vec<Vec<(String, bool)>> = Vec::new();
    for op in requests {
        match by_key.last_mut() {
            Some(ops) if ops[0].0 == op.0 => ops.push(op),
            _ => by_key.push(vec![op]),
        }
    }
    stream::iter(by_key)
        .for_each_concurrent(32, |ops| async move {
            for (key, delete) in ops {
                if delete {
                    s3.delete_object()
                        .bucket(bucket)
                        .key(&key)
                        .send()
                        .await
                        .unwrap();
                } else {
                    s3.put_object()
                        .bucket(bucket)
                        .key(&key)
                        .body(ByteStream::from_static(b"a,b\n1,2\n"))
                        .send()
                        .await
                        .unwrap();
                }
            }
        })
        .await;
}

#[test]
fn tear_down_removes_thousands_of_versions_the_upload_the_stack_and_the_bucket() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b001");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));

    let before = runtime.block_on(async {
        fill(&aws.s3, &site.bucket, 2200, 3).await;
        let upload = aws
            .s3
            .create_multipart_upload()
            .bucket(&site.bucket)
            .key("solutions/master-solution/models/big.bin")
            .send()
            .await
            .unwrap();
        aws.s3
            .upload_part()
            .bucket(&site.bucket)
            .key("solutions/master-solution/models/big.bin")
            .upload_id(upload.upload_id().unwrap())
            .part_number(1)
            .body(ByteStream::from_static(b"part"))
            .send()
            .await
            .unwrap();
        version_count(&aws.s3, &site.bucket).await
    });
    // 2,200 keys × 2 versions + 734 delete markers + 35 folder markers.
    assert_eq!(before, 2200 * 2 + 734 + 35);
    assert!(before >= 5000);

    // No --force and no terminal: refused, nothing deleted.
    let refused = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down"])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("rerun with --force"), "{stderr}");
    runtime.block_on(async {
        assert_eq!(version_count(&aws.s3, &site.bucket).await, before);
        assert!(stack_exists(&aws.cfn, &site.stack).await);
    });

    let output = server
        .command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "tear-down",
            "--force",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let result = &document["result"];
    assert_eq!(result["versions_deleted"], before);
    assert_eq!(result["multipart_uploads_aborted"], 1);
    assert_eq!(result["stack_deleted"], true);
    assert_eq!(result["bucket_deleted"], true);
    assert!(
        stderr.contains(&format!("Deleted {before} object version(s)")),
        "{stderr}"
    );
    runtime.block_on(async {
        assert!(!bucket_exists(&aws.s3, &site.bucket).await);
        assert!(!stack_exists(&aws.cfn, &site.stack).await);
    });

    // Again: nothing to do.
    let again = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).into_owned();
    assert!(stdout.contains("Nothing to tear down"), "{stdout}");
}

#[test]
fn a_bucket_that_is_not_the_deployments_is_refused() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = site(&work, "b002");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    runtime.block_on(async {
        aws.s3
            .create_bucket()
            .bucket(&site.bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        aws.s3
            .put_object()
            .bucket(&site.bucket)
            .key("precious.txt")
            .send()
            .await
            .unwrap();
    });
    let refused = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("is not tagged s3-provisioner:deployment")
            && stderr.contains("nothing was deleted"),
        "{stderr}"
    );
    runtime.block_on(async {
        assert_eq!(version_count(&aws.s3, &site.bucket).await, 1);
    });
}

#[test]
fn an_untagged_deployment_bucket_is_refused_and_the_advised_retag_command_works() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b010");
    // Someone removed the deployment tag from the stack's bucket.
    server.run_tagging_command(&format!(
        "aws resourcegroupstaggingapi untag-resources --region {REGION} --resource-arn-list arn:aws:s3:::{} --tag-keys s3-provisioner:deployment",
        site.bucket
    ));
    let refused = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    let advice = stderr
        .split('`')
        .find(|part| part.starts_with("aws "))
        .unwrap_or_else(|| panic!("no command in the refusal: {stderr}"));
    // PutBucketTagging would replace the bucket's aws:cloudformation:* tags, which S3 refuses.
    assert!(!advice.contains("put-bucket-tagging"), "{advice}");
    server.run_tagging_command(advice);
    server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    runtime.block_on(async {
        assert!(!bucket_exists(&aws.s3, &site.bucket).await);
        assert!(!stack_exists(&aws.cfn, &site.stack).await);
    });
}

#[test]
fn object_lock_is_refused_with_the_locked_keys_named() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = site(&work, "b003");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    runtime.block_on(async {
        // A bucket of this deployment (tagged) with Object Lock and one locked version.
        aws.s3
            .create_bucket()
            .bucket(&site.bucket)
            .object_lock_enabled_for_bucket(true)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        aws.s3
            .put_bucket_tagging()
            .bucket(&site.bucket)
            .tagging(
                Tagging::builder()
                    .tag_set(
                        Tag::builder()
                            .key("s3-provisioner:deployment")
                            .value(&site.bucket)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        aws.s3
            .put_object()
            .bucket(&site.bucket)
            .key("locked/report.pdf")
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(aws_smithy_types::DateTime::from_secs(4_102_444_800))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
        aws.s3
            .put_object()
            .bucket(&site.bucket)
            .key("free/notes.txt")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    });
    let refused = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("Object Lock enabled")
            && stderr.contains("locked/report.pdf")
            // moto has no GetObjectRetention, so the reason is S3's own DeleteObjects message.
            && stderr.to_lowercase().contains("object lock")
            && stderr.contains("(version ")
            && stderr.contains("bucket edge-prod-b003-us-west-1-s3 was left in place")
            && stderr.contains("S3 Object Lock protects 1 object version(s)"),
        "{stderr}"
    );
    runtime.block_on(async {
        // The unlocked version went; the locked one and the bucket stay.
        assert_eq!(version_count(&aws.s3, &site.bucket).await, 1);
        assert!(bucket_exists(&aws.s3, &site.bucket).await);
    });
}

#[test]
fn a_run_interrupted_after_the_stack_was_deleted_is_finished_by_rerunning() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b004");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    // The state an interrupted tear-down can leave: stack gone, retained bucket still there.
    runtime.block_on(async {
        aws.cfn
            .delete_stack()
            .stack_name(&site.stack)
            .send()
            .await
            .unwrap();
        assert!(!stack_exists(&aws.cfn, &site.stack).await);
        assert!(bucket_exists(&aws.s3, &site.bucket).await);
    });
    let done = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&done.get_output().stdout).into_owned();
    assert!(
        stdout.contains("already gone") && stdout.contains("deleted"),
        "{stdout}"
    );
    runtime.block_on(async {
        assert!(!bucket_exists(&aws.s3, &site.bucket).await);
    });
}

#[test]
fn a_stack_that_is_not_the_deployments_is_refused() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = site(&work, "b005");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(server.clients(REGION));
    // Someone else's stack under the deployment's stack name, without the tool's tag.
    runtime.block_on(async {
        aws.cfn
            .create_stack()
            .stack_name(&site.stack)
            .template_body(
                "Resources:\n  Param:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /someone/else\n      Type: String\n      Value: x\n",
            )
            .send()
            .await
            .unwrap();
    });
    let refused = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "tear-down", "--force"])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("was not created by s3-provisioner"),
        "{stderr}"
    );
    runtime.block_on(async {
        assert!(stack_exists(&aws.cfn, &site.stack).await);
    });
}
