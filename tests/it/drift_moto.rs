//! check-drift against a local AWS (moto, through the faithful launcher): a fresh deployment is in
//! sync (exit 0); each single change made behind CloudFormation's back through the S3 API makes it
//! exit 3 and name exactly that property; folders users add are never drift.

use crate::support;

use aws_sdk_s3::types::{
    BucketVersioningStatus, PublicAccessBlockConfiguration, VersioningConfiguration,
};
use serde_json::Value;
use support::{MotoServer, Site, Workdir, deploy_shared_site, site_config};

const REGION: &str = "us-west-1";

/// Deploy the shared bucket of a site (tenant `tenant`) with `prep-master --force`.
fn deploy(server: &MotoServer, work: &Workdir, tenant: &str) -> Site {
    deploy_shared_site(
        server,
        work,
        tenant,
        REGION,
        "versioning: true\nlifecycle_policy: ml-optimized\ntags:\n  Owner: data-science\n  Purpose: ML Solutions Portfolio",
    )
}

/// Run check-drift in JSON form; returns the exit code and the result document.
fn check_drift(server: &MotoServer, work: &Workdir, site: &Site) -> (i32, Value) {
    let output = server
        .command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "check-drift",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check-drift printed no JSON document ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), document)
}

/// The (resource, property) of every finding.
fn findings(document: &Value) -> Vec<(String, String)> {
    document["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["resource"].as_str().unwrap().to_owned(),
                f["property"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Deploy, check it is in sync, apply `mutate`, and check that exactly `expected` is reported.
fn drift_case<F, Fut>(tenant: &str, mutate: F, expected: (&str, &str))
where
    F: FnOnce(aws_sdk_s3::Client, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, tenant);

    let (code, document) = check_drift(&server, &work, &site);
    assert_eq!(code, 0, "fresh deployment not in sync: {document:#}");
    assert_eq!(document["result"]["in_sync"], true);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws = server.clients(REGION).await;
        mutate(aws.s3.clone(), site.bucket.clone()).await;
    });

    let (code, document) = check_drift(&server, &work, &site);
    assert_eq!(code, 3, "drift not detected: {document:#}");
    assert_eq!(
        findings(&document),
        [(expected.0.to_owned(), expected.1.to_owned())],
        "{document:#}"
    );
    assert_eq!(document["result"]["in_sync"], false);
    assert_eq!(document["exit_code"], 3);
}

#[test]
fn fresh_deployment_is_in_sync_and_says_drift_detection_is_unavailable() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b001");
    let assert = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "check-drift"])
        .assert()
        .code(0);
    let output = assert.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("In sync:"), "{stdout}");
    assert!(
        stderr.contains("CloudFormation drift detection is not available at this endpoint; continuing with the live checks"),
        "{stderr}"
    );
    let (_, document) = check_drift(&server, &work, &site);
    assert_eq!(
        document["result"]["cloudformation"]["outcome"],
        "unavailable"
    );
    // The warning printed on stderr is also in the document (a run warning: no key path).
    let warnings = document["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["key_path"].is_null()
            && w["message"]
                .as_str()
                .unwrap()
                .contains("CloudFormation drift detection is not available at this endpoint")),
        "{warnings:?}"
    );
    let checks: Vec<&str> = document["result"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        [
            "bucket",
            "versioning",
            "encryption",
            "public-access-block",
            "ownership-controls",
            "lifecycle",
            "tags",
            "bucket-policy",
            "ssm-parameters",
            "folders"
        ]
    );
}

#[test]
fn suspended_versioning_is_drift() {
    drift_case(
        "b002",
        |s3, bucket| async move {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Suspended)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        },
        ("Bucket", "VersioningConfiguration.Status"),
    );
}

#[test]
fn a_changed_tag_is_drift() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b003");
    let (code, document) = check_drift(&server, &work, &site);
    assert_eq!(code, 0, "fresh deployment not in sync: {document:#}");
    // The way AWS lets a user change one tag of a bucket CloudFormation created: PutBucketTagging
    // would have to drop its `aws:cloudformation:*` tags, which S3 refuses (InvalidTag).
    server.run_tagging_command(&format!(
        "aws resourcegroupstaggingapi tag-resources --region {REGION} --resource-arn-list arn:aws:s3:::{} --tags Owner=someone-else",
        site.bucket
    ));
    let (code, document) = check_drift(&server, &work, &site);
    assert_eq!(code, 3, "drift not detected: {document:#}");
    assert_eq!(
        findings(&document),
        [("Bucket".to_owned(), "Tags.Owner".to_owned())],
        "{document:#}"
    );
}

#[test]
fn a_relaxed_public_access_block_is_drift() {
    drift_case(
        "b004",
        |s3, bucket| async move {
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(false)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        },
        ("Bucket", "PublicAccessBlockConfiguration.BlockPublicPolicy"),
    );
}

#[test]
fn a_removed_lifecycle_rule_is_drift() {
    drift_case(
        "b005",
        |s3, bucket| async move {
            s3.delete_bucket_lifecycle()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
        },
        ("Bucket", "LifecycleConfiguration.Rules[ml-optimized]"),
    );
}

#[test]
fn a_deleted_bucket_policy_is_drift() {
    drift_case(
        "b006",
        |s3, bucket| async move {
            s3.delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
        },
        ("BucketPolicy", "PolicyDocument"),
    );
}

#[test]
fn a_deleted_folder_marker_is_drift() {
    drift_case(
        "b007",
        |s3, bucket| async move {
            s3.delete_object()
                .bucket(bucket)
                .key("solutions/master-solution/data/raw/")
                .send()
                .await
                .unwrap();
        },
        (
            "solutions/master-solution/",
            "solutions/master-solution/data/raw/",
        ),
    );
}

#[test]
fn folders_users_add_are_not_drift_and_text_output_has_the_table() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b008");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws = server.clients(REGION).await;
        for key in [
            "solutions/master-solution/my-own-folder/",
            "solutions/master-solution/data/raw/file.csv",
        ] {
            aws.s3
                .put_object()
                .bucket(&site.bucket)
                .key(key)
                .send()
                .await
                .unwrap();
        }
    });
    let (code, document) = check_drift(&server, &work, &site);
    assert_eq!(code, 0, "{document:#}");

    runtime.block_on(async {
        let aws = server.clients(REGION).await;
        aws.s3
            .delete_bucket_encryption()
            .bucket(&site.bucket)
            .send()
            .await
            .unwrap();
    });
    let assert = server
        .command(work.path())
        .args(["--config", &site.config, "--action", "check-drift"])
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let header = stdout.lines().next().unwrap();
    for column in ["RESOURCE", "PROPERTY", "EXPECTED", "ACTUAL", "SOURCE"] {
        assert!(header.contains(column), "{stdout}");
    }
    assert!(
        stdout.contains("BucketEncryption.ServerSideEncryptionConfiguration")
            && stdout.contains("AES256 BucketKeyEnabled=true")
            // What AWS shows after DeleteBucketEncryption: its SSE-S3 default, no bucket key.
            && stdout.contains("AES256 BucketKeyEnabled=false")
            && !stdout.contains("(no default encryption)"),
        "{stdout}"
    );
    assert!(stdout.contains("Drift detected: 1 finding(s)"), "{stdout}");
}

#[test]
fn a_deployment_that_does_not_exist_is_an_error() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let config = format!("edge-prod-b009-{REGION}-s3.yaml");
    work.write_config(&config, &site_config("b009", REGION, ""));
    let assert = server
        .command(work.path())
        .args(["--config", &config, "--action", "check-drift"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("does not exist") && stderr.contains("--action prep-master --force"),
        "{stderr}"
    );
}
