//! Concurrent runs on one deployment, as a CI matrix or two people at once make them: markers
//! are never written twice, the losing deployment says another run is deploying, the losing
//! tear-down says the deployment is gone and succeeds.

use crate::support;

use std::process::{Child, Command, Stdio};

use support::{MotoServer, Workdir};

fn spawn(moto: &MotoServer, work: &Workdir, args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_s3-provisioner"));
    command.current_dir(work.path());
    for key in MotoServer::ENV_REMOVE {
        command.env_remove(key);
    }
    command
        .envs(moto.env())
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().unwrap()
}

fn finish(child: Child) -> (Option<i32>, String, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn concurrent_deploy_solution_runs_write_each_marker_once() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = support::deploy_shared_site(&moto, &work, "b001", "us-west-1", "versioning: true");
    let args = [
        "--config",
        site.config.as_str(),
        "--action",
        "deploy-solution",
        "--solution",
        "recommendation-engine",
        "--output",
        "json",
    ];
    let runs: Vec<Child> = (0..3).map(|_| spawn(&moto, &work, &args)).collect();
    let mut created = 0;
    for run in runs {
        let (code, stdout, stderr) = finish(run);
        assert_eq!(code, Some(0), "{stderr}");
        let document: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        created += document["result"]["folders_created"]
            .as_array()
            .unwrap()
            .len();
    }
    let markers = s3_provisioner::blueprint::marker_keys("recommendation-engine");
    // `solutions/` exists already (master-solution); every other marker was created by one run.
    assert_eq!(created, markers.len() - 1);
    // The bucket is versioned: a key written twice would have two versions.
    let versions = support::block_on(async {
        let aws = moto.clients("us-west-1").await;
        aws.s3
            .list_object_versions()
            .bucket(&site.bucket)
            .prefix("solutions/recommendation-engine/")
            .send()
            .await
            .unwrap()
            .versions()
            .len()
    });
    assert_eq!(versions, markers.len() - 1);
}

#[test]
fn concurrent_tear_downs_both_end_with_the_deployment_gone() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = support::deploy_shared_site(&moto, &work, "b001", "us-west-1", "versioning: true");
    let args = [
        "--config",
        site.config.as_str(),
        "--action",
        "tear-down",
        "--force",
    ];
    let first = spawn(&moto, &work, &args);
    let second = spawn(&moto, &work, &args);
    for run in [first, second] {
        let (code, _, stderr) = finish(run);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let buckets =
        support::block_on(async { support::bucket_names(&moto.clients("us-west-1").await).await });
    assert!(!buckets.contains(&site.bucket));
}

#[test]
fn a_losing_concurrent_deployment_says_another_run_is_deploying() {
    let moto = MotoServer::start();
    let work = Workdir::new();
    let site = support::shared_site(&work, "b001", "us-west-1", "versioning: true");
    let args = [
        "--config",
        site.config.as_str(),
        "--action",
        "prep-master",
        "--force",
    ];
    let runs: Vec<Child> = (0..2).map(|_| spawn(&moto, &work, &args)).collect();
    let results: Vec<_> = runs.into_iter().map(finish).collect();
    assert!(
        results.iter().any(|(code, _, _)| *code == Some(0)),
        "one run deploys: {results:?}"
    );
    for (code, _, stderr) in &results {
        if *code != Some(0) {
            assert_eq!(*code, Some(1), "{stderr}");
            assert!(
                stderr.contains("another run deploying this same deployment"),
                "{stderr}"
            );
        }
    }
    // Whatever the interleaving, a rerun brings the deployment up to date.
    moto.command(work.path()).args(args).assert().success();
}
