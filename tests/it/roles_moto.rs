//! `--role-name` against a local AWS (moto, whose STS AssumeRole gives credentials that act in the
//! role's account: every request made with them lands in that account's backends). A fleet over
//! several accounts puts each site's bucket in its own account and assumes each account's role
//! once; the requests are counted by moto's own request recorder, not by the tool.

use crate::support;

use std::collections::BTreeMap;

use support::{MotoServer, Workdir, block_on, bucket_names, site_config};

const REGION: &str = "us-west-1";
const ROLE: &str = "s3p-deployer";
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// AssumeRole requests in a recording, by the account of the role they asked for.
fn assume_role_calls(recording: &str) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("a recorded request");
        let raw = entry["body"].as_str().unwrap_or_default();
        let body = if entry["body_encoded"] == true {
            String::from_utf8(aws_smithy_types::base64::decode(raw).expect("base64 body"))
                .unwrap_or_default()
        } else {
            raw.to_owned()
        };
        if !body.contains("Action=AssumeRole") {
            continue;
        }
        // RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2F…
        let account = body
            .split('&')
            .find_map(|field| field.strip_prefix("RoleArn="))
            .map(|arn| arn.replace("%3A", ":"))
            .and_then(|arn| arn.split(':').nth(4).map(str::to_owned))
            .expect("AssumeRole names a role ARN");
        *calls.entry(account).or_default() += 1;
    }
    calls
}

#[test]
fn a_fleet_over_three_accounts_deploys_each_site_in_its_own_account_assuming_each_role_once() {
    let server = MotoServer::start();
    let work = Workdir::new();
    // Two sites per account, interleaved so that configs of one account run side by side.
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for site in 1..=6 {
        let account = ACCOUNTS[(site - 1) % 3];
        let tenant = format!("r{site:03}");
        let yaml =
            site_config(&tenant, REGION, "versioning: true").replace("123456789012", account);
        work.write_config(&format!("site-{tenant}.yaml"), &yaml);
        expected
            .entry(account)
            .or_default()
            .push(format!("edge-prod-{tenant}-{REGION}-s3"));
    }
    server.recorder("start");
    let assert = server
        .command(work.path())
        .args([
            "--config",
            "site-*.yaml",
            "--action",
            "prep-master",
            "--force",
            "--role-name",
            ROLE,
            "--parallel",
            "6",
            "--output",
            "json",
        ])
        .assert();
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the fleet succeeds:\n{stderr}");
    let calls = assume_role_calls(&server.recorder("download"));
    assert_eq!(
        calls,
        ACCOUNTS
            .iter()
            .map(|a| ((*a).to_owned(), 1))
            .collect::<BTreeMap<_, _>>(),
        "one AssumeRole per account"
    );
    // The tool never prints credentials.
    assert!(!stderr.contains("SessionToken") && !stderr.contains("secret"));

    block_on(async {
        for (account, buckets) in &expected {
            let mut found =
                bucket_names(&server.clients_in_account(REGION, account, ROLE).await).await;
            found.sort();
            assert_eq!(&found, buckets, "the buckets of account {account}");
        }
        // Nothing landed in the base credentials' own account.
        assert_eq!(
            bucket_names(&server.clients(REGION).await).await,
            Vec::<String>::new()
        );
    });
    // Each run's account check saw the assumed role of its own account.
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = document["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for run in runs {
        assert_eq!(run["exit_code"], 0, "{run}");
    }
}

#[test]
fn without_role_name_a_config_of_another_account_is_refused() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let yaml = site_config("r001", REGION, "").replace("123456789012", ACCOUNTS[0]);
    work.write_config("site.yaml", &yaml);
    let assert = server
        .command(work.path())
        .args([
            "--config",
            "site.yaml",
            "--action",
            "prep-master",
            "--force",
        ])
        .assert()
        .code(4);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("belong to account 123456789012"),
        "{stderr}"
    );
}
