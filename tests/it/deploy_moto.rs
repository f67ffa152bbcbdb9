//! The deploying actions against a local AWS (moto, through the faithful launcher): the binary is
//! run exactly as the seed guide writes its commands (`--config NAME.yaml` looked up in
//! `configs/`, from a folder holding `configs/ templates/ policies/ reports/`), and the results are
//! read back through the AWS API.

use crate::support;

use std::path::Path;

use assert_cmd::assert::Assert;
use predicates::str::contains;
use s3_provisioner::aws::AwsClients;
use s3_provisioner::{blueprint, config, naming, template};
use support::{MotoServer, Workdir, block_on, bucket_names, keys_under, live_stacks, site_config};

const SHARED_CONFIG: &str = "edge-prod-b001-us-west-1-s3.yaml";
const DEDICATED_CONFIG: &str = "edge-prod-b001-us-west-1-recommendation-engine-s3.yaml";
const REGION: &str = "us-west-1";
const SHARED_STACK: &str = "edge-prod-b001-us-west-1-s3-stack";
const SHARED_BUCKET: &str = "edge-prod-b001-us-west-1-s3";

/// A working folder holding the repository's example configs.
fn workdir_with_examples() -> Workdir {
    let work = Workdir::new();
    for name in [SHARED_CONFIG, DEDICATED_CONFIG] {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("configs")
                .join(name),
        )
        .expect("example config");
        work.write_config(name, &text);
    }
    work
}

fn run(moto: &MotoServer, work: &Workdir, args: &[&str]) -> Assert {
    moto.command(work.path()).args(args).assert()
}

fn stdout_json(assert: &Assert) -> serde_json::Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("one JSON document on stdout")
}

async fn change_sets_of(aws: &AwsClients, stack: &str) -> Vec<String> {
    aws.cfn
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .summaries()
        .iter()
        .filter(|s| s.stack_name() == Some(stack))
        .filter_map(|s| s.change_set_name())
        .map(str::to_owned)
        .collect()
}

#[test]
fn prep_master_creates_the_shared_bucket_then_is_up_to_date_and_deploy_solution_adds_folders() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));

    // "Replacing a Deployment" step 2, as written.
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--solution",
            "master-solution",
            "--force",
        ],
    )
    .success()
    .stdout(contains("CREATE_COMPLETE (created)"))
    .stdout(contains("35 created, 0 already present"));

    let stack = block_on(aws.cfn.describe_stacks().stack_name(SHARED_STACK).send()).unwrap();
    let stack = &stack.stacks()[0];
    assert_eq!(stack.stack_status().unwrap().as_str(), "CREATE_COMPLETE");
    let outputs: Vec<(&str, &str)> = stack
        .outputs()
        .iter()
        .map(|o| (o.output_key().unwrap(), o.output_value().unwrap()))
        .collect();
    assert!(
        outputs.contains(&("BucketName", SHARED_BUCKET)),
        "{outputs:?}"
    );
    let master_markers = blueprint::marker_keys("master-solution");
    let mut found = block_on(keys_under(&aws, SHARED_BUCKET, "solutions/"));
    found.sort();
    assert_eq!(found, master_markers);

    // A second run changes nothing.
    let again = run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
            "--output",
            "json",
        ],
    )
    .success()
    .stderr(contains("already up to date"));
    let document = stdout_json(&again);
    assert_eq!(document["result"]["stack_action"], "up-to-date");
    assert_eq!(document["result"]["folders_created"], serde_json::json!([]));
    assert_eq!(
        document["result"]["folders_already_present"],
        master_markers.len()
    );
    assert!(block_on(change_sets_of(&aws, SHARED_STACK)).is_empty());

    // "Adding Solutions to Existing Buckets", Pattern A, as written: only that solution's markers.
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ],
    )
    .success()
    .stdout(contains("34 created, 1 already present"));
    let mut found = block_on(keys_under(&aws, SHARED_BUCKET, "solutions/"));
    found.sort();
    let mut expected: Vec<String> = master_markers
        .iter()
        .chain(blueprint::marker_keys("recommendation-engine").iter())
        .cloned()
        .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(found, expected);

    // Idempotent.
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ],
    )
    .success()
    .stdout(contains("0 created, 35 already present"));
}

#[test]
fn show_changes_reports_a_tag_change_and_leaves_no_change_set_then_upload_template_stores_it() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));

    // Before anything is deployed, the preview says what would be created.
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "show-changes",
            "--solution",
            "master-solution",
        ],
    )
    .success()
    .stdout(contains("does not exist; deploying would create it"))
    .stdout(contains("+ add     Bucket"));
    assert!(block_on(live_stacks(&aws)).is_empty());

    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .success();
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "show-changes",
            "--solution",
            "master-solution",
        ],
    )
    .success()
    .stdout(contains("No changes"));
    // Uploading the deployed template: nothing to warn about.
    let in_sync = run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "upload-template",
            "--output",
            "json",
        ],
    )
    .success();
    let document = stdout_json(&in_sync);
    assert_eq!(document["result"]["matches_deployed"], true);
    assert_eq!(document["result"]["deploy_with"], serde_json::Value::Null);

    // "Modifying an Existing Configuration": edit the tags, then step 5 as written.
    let path = work.path().join("configs").join(SHARED_CONFIG);
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Owner: data-science", "Owner: ml-platform");
    std::fs::write(&path, edited).unwrap();
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "show-changes",
            "--solution",
            "master-solution",
        ],
    )
    .success()
    .stdout(contains("~ modify  Bucket"))
    .stdout(contains("~ Owner: data-science → ml-platform"))
    .stdout(contains(
        "-          Value: data-science\n+          Value: ml-platform",
    ));
    assert!(block_on(change_sets_of(&aws, SHARED_STACK)).is_empty());

    // Changes pending, for scripts.
    let pending = run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "show-changes",
            "--detailed-exitcode",
            "--output",
            "json",
        ],
    )
    .code(3);
    let document = stdout_json(&pending);
    assert_eq!(document["result"]["pending"], true);
    assert_eq!(document["result"]["tag_changes"][0]["key"], "Owner");
    assert!(block_on(change_sets_of(&aws, SHARED_STACK)).is_empty());

    // "Uploading Updated Templates", as written: the current template at its documented key (README "Names").
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "upload-template",
            "--solution",
            "master-solution",
        ],
    )
    .success()
    .stderr(contains(
        "differs from the one stack edge-prod-b001-us-west-1-s3-stack runs",
    ))
    .stderr(contains(
        "--action prep-master --solution master-solution --force",
    ));
    let document = stdout_json(&run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "upload-template",
            "--output",
            "json",
        ],
    ));
    assert_eq!(document["result"]["matches_deployed"], false);
    assert!(
        document["result"]["deploy_with"]
            .as_str()
            .is_some_and(|c| c.contains("--action prep-master")),
        "{document}"
    );
    let config = config::load(&path).unwrap();
    let deployment = naming::shared_deployment(&config).unwrap();
    let key = deployment.template_key();
    assert_eq!(
        key,
        "_provisioner/templates/edge-prod-b001-us-west-1-s3-template.yaml"
    );
    // One runtime for the request and its body: the body streams over that runtime's connection.
    let (content_type, metadata, body) = block_on(async {
        let object = aws
            .s3
            .get_object()
            .bucket(SHARED_BUCKET)
            .key(&key)
            .send()
            .await
            .unwrap();
        let content_type = object.content_type().map(str::to_owned);
        let metadata = object.metadata().cloned().unwrap_or_default();
        let body = object.body.collect().await.unwrap().into_bytes();
        (content_type, metadata, body)
    });
    assert_eq!(content_type.as_deref(), Some("application/x-yaml"));
    assert_eq!(metadata["tool-version"], s3_provisioner::VERSION);
    assert_eq!(metadata["config-sha256"], config.normalised_sha256());
    assert_eq!(
        String::from_utf8(body.to_vec()).unwrap(),
        template::render(&config, &deployment).unwrap()
    );
}

#[test]
fn create_bucket_makes_the_dedicated_stack_and_bucket() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));

    // "Adding Solutions to Existing Buckets", Pattern B, steps 2 and 3 as written.
    run(
        &moto,
        &work,
        &["--config", DEDICATED_CONFIG, "--action", "validate-config"],
    )
    .success();
    run(
        &moto,
        &work,
        &[
            "--config",
            DEDICATED_CONFIG,
            "--action",
            "create-bucket",
            "--solution",
            "recommendation-engine",
            "--force",
        ],
    )
    .success()
    .stdout(contains("CREATE_COMPLETE (created)"));

    let stack = "edge-prod-b001-us-west-1-s3-recommendation-engine-stack";
    let bucket = "edge-prod-b001-us-west-1-recommendation-engine-s3"; // bucket_name_override
    assert_eq!(block_on(live_stacks(&aws)), [stack]);
    assert_eq!(block_on(bucket_names(&aws)), [bucket]);
    let tags = block_on(aws.s3.get_bucket_tagging().bucket(bucket).send()).unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "s3-provisioner:deployment"
                && t.value() == "edge-prod-b001-us-west-1-s3-recommendation-engine")
    );
    let mut found = block_on(keys_under(&aws, bucket, "solutions/"));
    found.sort();
    assert_eq!(found, blueprint::marker_keys("recommendation-engine"));
}

#[test]
fn refusals_change_nothing() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));

    // Credentials of another account than the config's (moto is 123456789012).
    let other_account =
        site_config("b009", REGION, "").replace("\"123456789012\"", "\"210987654321\"");
    work.write_config("other-account.yaml", &other_account);
    run(
        &moto,
        &work,
        &[
            "--config",
            "other-account.yaml",
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .code(4)
    .stderr(contains("account 123456789012"))
    .stderr(contains("210987654321"));

    // No --force and no terminal: the plan is shown, then refused, and nothing stays behind.
    run(
        &moto,
        &work,
        &["--config", SHARED_CONFIG, "--action", "prep-master"],
    )
    .code(4)
    .stderr(contains("+ add     Bucket"))
    .stderr(contains("--force"));

    assert!(block_on(live_stacks(&aws)).is_empty());
    assert!(block_on(bucket_names(&aws)).is_empty());
    assert!(block_on(change_sets_of(&aws, SHARED_STACK)).is_empty());

    // A bucket of that name that is not ours (no tool tag) is refused before any stack exists.
    block_on(
        aws.s3
            .create_bucket()
            .bucket(SHARED_BUCKET)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest1)
                    .build(),
            )
            .send(),
    )
    .unwrap();
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .code(4)
    .stderr(contains("not managed by s3-provisioner"));
    assert!(block_on(live_stacks(&aws)).is_empty());
    // The preview says the same, with the same exit code, instead of "would create it".
    run(
        &moto,
        &work,
        &["--config", SHARED_CONFIG, "--action", "show-changes"],
    )
    .code(4)
    .stderr(contains("would not go ahead"))
    .stderr(contains("not managed by s3-provisioner"));
    assert!(block_on(live_stacks(&aws)).is_empty());

    // A bucket of ours that no stack manages and that holds data is never deleted.
    block_on(async {
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .tag_set(
                aws_sdk_s3::types::Tag::builder()
                    .key("s3-provisioner:deployment")
                    .value(SHARED_BUCKET)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        aws.s3
            .put_bucket_tagging()
            .bucket(SHARED_BUCKET)
            .tagging(tagging)
            .send()
            .await
            .unwrap();
        aws.s3
            .put_object()
            .bucket(SHARED_BUCKET)
            .key("solutions/x/data.csv")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"a,b\n"))
            .send()
            .await
            .unwrap();
    });
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .code(1)
    .stderr(contains("holds data"))
    .stderr(contains("--action tear-down --force"));
    assert_eq!(
        block_on(keys_under(&aws, SHARED_BUCKET, "solutions/")),
        ["solutions/x/data.csv"]
    );
    assert!(block_on(live_stacks(&aws)).is_empty());

    // deploy-solution needs the shared stack.
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "deploy-solution",
            "--solution",
            "recommendation-engine",
        ],
    )
    .code(1)
    .stderr(contains("--action prep-master --force"));
}

#[test]
fn a_failed_first_deployment_is_reported_then_recreated_with_force() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));

    // A VPC that does not exist: the endpoint fails and the new stack rolls back.
    let good = std::fs::read_to_string(work.path().join("configs").join(SHARED_CONFIG)).unwrap();
    let bad = good
        .replace("vpc_id: \"\"", "vpc_id: \"vpc-1234abcd\"")
        .replace("route_table_ids: \"\"", "route_table_ids: \"rtb-1234abcd\"");
    assert_ne!(bad, good);
    work.write_config(SHARED_CONFIG, &bad);
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .code(1)
    .stderr(contains("vpc-1234abcd does not exist"))
    .stderr(contains("it is now ROLLBACK_COMPLETE"))
    .stderr(contains("rerun with --force"));
    let status = block_on(aws.cfn.describe_stacks().stack_name(SHARED_STACK).send()).unwrap();
    assert_eq!(
        status.stacks()[0].stack_status().unwrap().as_str(),
        "ROLLBACK_COMPLETE"
    );

    // Without --force (and no terminal) the rolled-back stack is left alone.
    work.write_config(SHARED_CONFIG, &good);
    run(
        &moto,
        &work,
        &["--config", SHARED_CONFIG, "--action", "prep-master"],
    )
    .code(4)
    .stderr(contains("ROLLBACK_COMPLETE"));

    // With --force: the stack is deleted, the empty bucket its rollback kept (Retain) is removed,
    // and the deployment is created again.
    let fixed = run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
            "--output",
            "json",
        ],
    )
    .success()
    .stderr(contains("empty leftover bucket"));
    let document = stdout_json(&fixed);
    assert_eq!(document["result"]["stack_action"], "recreated");
    assert_eq!(document["result"]["stack_status"], "CREATE_COMPLETE");
    assert_eq!(block_on(live_stacks(&aws)), [SHARED_STACK]);
    assert_eq!(block_on(bucket_names(&aws)), [SHARED_BUCKET]);
}

#[test]
fn a_change_that_would_replace_the_bucket_is_refused_even_with_force() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let aws = block_on(moto.clients(REGION));
    run(
        &moto,
        &work,
        &[
            "--config",
            SHARED_CONFIG,
            "--action",
            "prep-master",
            "--force",
        ],
    )
    .success();

    // A config of the same site with a bucket_name_override (as a dedicated-bucket config without
    // its `solution:` key) points at the shared stack with another bucket name: CloudFormation
    // would replace the bucket. The preview says so too, with the same exit code.
    let shared = std::fs::read_to_string(work.path().join("configs").join(SHARED_CONFIG)).unwrap();
    let renamed = shared.replace(
        "bucket_name_override: \"\"",
        "bucket_name_override: \"edge-prod-b001-renamed\"",
    );
    assert_ne!(renamed, shared);
    work.write_config("renamed.yaml", &renamed);
    for args in [
        &["--action", "show-changes"][..],
        &["--action", "prep-master", "--force"][..],
    ] {
        run(
            &moto,
            &work,
            &[&["--config", "renamed.yaml"][..], args].concat(),
        )
        .code(4)
        .stderr(contains("never replaces a bucket"));
    }

    assert_eq!(block_on(bucket_names(&aws)), [SHARED_BUCKET]);
    assert_eq!(
        block_on(change_sets_of(&aws, SHARED_STACK)),
        Vec::<String>::new()
    );
    let stack = block_on(aws.cfn.describe_stacks().stack_name(SHARED_STACK).send()).unwrap();
    assert_eq!(
        stack.stacks()[0]
            .stack_status()
            .map(aws_sdk_cloudformation::types::StackStatus::as_str),
        Some("CREATE_COMPLETE")
    );
}

/// The HeadBucket requests for `bucket` in a moto recording.
fn head_bucket_calls(recording: &str, bucket: &str) -> usize {
    recording
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a recorded request"))
        .filter(|entry| {
            entry["method"] == "HEAD"
                && entry["url"]
                    .as_str()
                    .is_some_and(|url| url.trim_end_matches('/').ends_with(&format!("/{bucket}")))
        })
        .count()
}

/// A first deployment reads the bucket name once, beside the account check and the stack
/// lookup, and not again before creating the stack; an update sends that same one read (its
/// answer unused: an update creates no bucket) and no other.
#[test]
fn a_first_deployment_checks_the_bucket_name_once() {
    let moto = MotoServer::start();
    let work = workdir_with_examples();
    let deploy = [
        "--config",
        SHARED_CONFIG,
        "--action",
        "prep-master",
        "--force",
    ];

    moto.recorder("start");
    run(&moto, &work, &deploy).success();
    let first = moto.recorder("download");
    assert_eq!(head_bucket_calls(&first, SHARED_BUCKET), 1, "{first}");

    moto.recorder("reset");
    moto.recorder("start");
    run(&moto, &work, &deploy).success();
    let update = moto.recorder("download");
    // The one read beside the account check, whose answer an existing stack leaves unused.
    assert_eq!(head_bucket_calls(&update, SHARED_BUCKET), 1, "{update}");
}
