//! `--shard K/N` on the command line: the parts of a fleet run on N machines are disjoint and
//! together cover it, a bad K/N is a usage error (exit 2), and a sharded run is a fleet run.

use crate::support;

use std::collections::BTreeSet;

use support::{Workdir, site_config};

fn configs_run(work: &Workdir, shard: &str) -> Vec<String> {
    let assert = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"))
        .current_dir(work.path())
        .args([
            "--config",
            "*.yaml",
            "--action",
            "validate-config",
            "--output",
            "json",
        ])
        .args(["--shard", shard])
        .assert()
        .success();
    let document: serde_json::Value =
        serde_json::from_slice(&assert.get_output().stdout).expect("a fleet document");
    document["runs"]
        .as_array()
        .expect("a sharded run is a fleet run")
        .iter()
        .map(|run| run["config"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_shards_of_a_fleet_run_are_disjoint_and_cover_it() {
    let work = Workdir::new();
    for i in 1..=20 {
        work.write_config(
            &format!("site-{i:02}.yaml"),
            &site_config(&format!("s{i:03}"), "us-west-1", ""),
        );
    }
    let mut all = BTreeSet::new();
    for k in 1..=3 {
        for config in configs_run(&work, &format!("{k}/3")) {
            assert!(all.insert(config.clone()), "{config} ran in two shards");
        }
    }
    assert_eq!(all.len(), 20);
    assert_eq!(configs_run(&work, "1/1").len(), 20);
}

#[test]
fn a_bad_shard_is_a_usage_error_that_says_how_to_write_it() {
    let work = Workdir::new();
    work.write_config("site.yaml", &site_config("s001", "us-west-1", ""));
    for bad in ["0/3", "4/3", "3", "1/0"] {
        let assert = assert_cmd::Command::new(env!("CARGO_BIN_EXE_s3-provisioner"))
            .current_dir(work.path())
            .args([
                "--config",
                "site.yaml",
                "--action",
                "validate-config",
                "--shard",
                bad,
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains("K/N with 1 ≤ K ≤ N"), "{bad}: {stderr}");
    }
}
