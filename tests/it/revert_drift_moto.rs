//! `--revert-drift` against a local AWS (moto, through the launcher, which emulates drift-aware
//! change sets for bucket properties): settings changed behind CloudFormation's back are drift
//! (check-drift exits 3), a plain redeploy leaves them, `prep-master --revert-drift --force` puts
//! them back, and a later, independent check-drift reading the live bucket exits 0.

use crate::support;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use support::{MotoServer, Site, Workdir, deploy_shared_site};

const REGION: &str = "us-west-1";

fn deploy(server: &MotoServer, work: &Workdir, tenant: &str) -> Site {
    deploy_shared_site(
        server,
        work,
        tenant,
        REGION,
        "versioning: true\nlifecycle_policy: ml-optimized\ntags:\n  Owner: data-science\n  Purpose: ML Solutions Portfolio",
    )
}

/// Suspend versioning (S3 API) and change the Owner tag (Resource Groups Tagging API, the way AWS
/// lets a user change one tag of a bucket CloudFormation created).
fn drift(server: &MotoServer, site: &Site) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws = server.clients(REGION).await;
        aws.s3
            .put_bucket_versioning()
            .bucket(&site.bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Suspended)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    server.run_tagging_command(&format!(
        "aws resourcegroupstaggingapi tag-resources --region {REGION} --resource-arn-list arn:aws:s3:::{} --tags Owner=someone-else",
        site.bucket
    ));
}

/// Run the tool; returns (exit code, stdout, stderr).
fn run(server: &MotoServer, work: &Workdir, args: &[&str]) -> (i32, String, String) {
    let output = server.command(work.path()).args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn check_drift(server: &MotoServer, work: &Workdir, site: &Site) -> (i32, String) {
    let (code, stdout, stderr) = run(
        server,
        work,
        &["--config", &site.config, "--action", "check-drift"],
    );
    (code, format!("{stdout}\n{stderr}"))
}

#[test]
fn revert_drift_puts_suspended_versioning_and_a_changed_tag_back() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b011");
    drift(&server, &site);

    let (code, text) = check_drift(&server, &work, &site);
    assert_eq!(code, 3, "drift not detected: {text}");
    assert!(text.contains("VersioningConfiguration.Status"), "{text}");
    assert!(text.contains("Tags.Owner"), "{text}");
    // The advice is the command to run, as this config was named.
    let revert = format!(
        "s3-provisioner --config {} --action prep-master --revert-drift",
        site.config
    );
    assert!(text.contains(&format!("`{revert}`")), "{text}");

    // A plain redeploy of the unchanged template is an empty change set: the drift stays.
    let (code, _, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--force",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("already up to date"), "{stderr}");
    let (code, text) = check_drift(&server, &work, &site);
    assert_eq!(
        code, 3,
        "a plain redeploy is not expected to revert: {text}"
    );

    // Without --force and without a terminal it shows the change and refuses (nothing executed).
    let (code, _, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--revert-drift",
        ],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("VersioningConfiguration/Status: Suspended (live, changed outside CloudFormation) → Enabled (template)"),
        "{stderr}"
    );
    let (code, text) = check_drift(&server, &work, &site);
    assert_eq!(code, 3, "a refused revert changed something: {text}");

    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--revert-drift",
            "--force",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("is ready"), "{stdout}");
    assert!(
        stderr.contains("Tags/0/Value: someone-else (live, changed outside CloudFormation) → data-science (template)"),
        "{stderr}"
    );

    let (code, text) = check_drift(&server, &work, &site);
    assert_eq!(code, 0, "still drifted after --revert-drift: {text}");
    assert!(text.contains("In sync:"), "{text}");
}

#[test]
fn show_changes_revert_drift_previews_live_and_template_values_and_changes_nothing() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy(&server, &work, "b012");
    drift(&server, &site);

    // Without the option the preview sees no change: the template did not change.
    let (code, stdout, stderr) = run(
        &server,
        &work,
        &["--config", &site.config, "--action", "show-changes"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("No changes:"), "{stdout}");

    let (code, stdout, stderr) = run(
        &server,
        &work,
        &[
            "--config",
            &site.config,
            "--action",
            "show-changes",
            "--revert-drift",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(code, 3, "changes pending: {stdout}\n{stderr}");
    insta::assert_snapshot!("show-changes-revert-drift", stdout);

    // A preview: the drift is still there, and the change set is gone.
    let (code, text) = check_drift(&server, &work, &site);
    assert_eq!(code, 3, "the preview changed something: {text}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let aws = server.clients(REGION).await;
        let sets = aws
            .cfn
            .list_change_sets()
            .stack_name(&site.stack)
            .send()
            .await
            .unwrap();
        assert!(sets.summaries().is_empty(), "{sets:?}");
    });
}
