//! `--role-name` over a whole fleet, through the binary, when one account's role cannot be
//! assumed: moto assumes any role, so the launcher's fault injection refuses that account's
//! AssumeRole with STS's own `AccessDenied` answer (403, STS's error document). That account's
//! sites fail, each with a message naming the role ARN and the account; every other site is
//! deployed in its own account; the fleet's exit is the failed sites' code.

use crate::support;

use std::collections::BTreeMap;

use support::{MotoServer, Workdir, block_on, bucket_names, site_config};

const REGION: &str = "us-west-1";
const ROLE: &str = "s3p-deployer";
const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];
/// The account whose role's trust policy does not let the base credentials in.
const REFUSED: &str = "222222222222";

#[test]
fn a_role_that_cannot_be_assumed_fails_only_the_sites_of_its_account() {
    let server = MotoServer::start_with_faults(Some(&format!(
        r#"[{{"match": "AssumeRole", "body": "RoleArn=arn:aws:iam::{REFUSED}:role/", "deny": true}}]"#
    )));
    let work = Workdir::new();
    let mut expected: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for site in 1..=6 {
        let account = ACCOUNTS[(site - 1) % 3];
        let tenant = format!("f{site:03}");
        let yaml = site_config(&tenant, REGION, "").replace("123456789012", account);
        work.write_config(&format!("site-{tenant}.yaml"), &yaml);
        expected
            .entry(account)
            .or_default()
            .push(format!("edge-prod-{tenant}-{REGION}-s3"));
    }
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
            "3",
            "--output",
            "json",
        ])
        .assert();
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A role refused by AWS is AWS's answer: exit 1, the failed sites' own code.
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = document["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    let role_arn = format!("arn:aws:iam::{REFUSED}:role/{ROLE}");
    for run in runs {
        let config = run["config"].as_str().unwrap();
        let site: usize = config
            .rsplit("site-f")
            .next()
            .and_then(|rest| rest.strip_suffix(".yaml"))
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("a config of this fleet: {config}"));
        let account = ACCOUNTS[(site - 1) % 3];
        if account == REFUSED {
            assert_eq!(run["exit_code"], 1, "{run}");
            let message = run["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!(
                    "cannot assume role {role_arn} in account {REFUSED}"
                )),
                "{message}"
            );
            // STS's own words, as the launcher answers them.
            assert!(
                message.contains("AccessDenied: User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:AssumeRole"),
                "{message}"
            );
        } else {
            assert_eq!(run["exit_code"], 0, "{run}");
        }
    }

    block_on(async {
        for account in [ACCOUNTS[0], ACCOUNTS[2]] {
            let mut found =
                bucket_names(&server.clients_in_account(REGION, account, ROLE).await).await;
            found.sort();
            assert_eq!(found, expected[account], "the buckets of account {account}");
        }
        // Nothing landed in the base credentials' own account either (the refused account could
        // not be listed: its role is refused to the inventory too).
        assert_eq!(
            bucket_names(&server.clients(REGION).await).await,
            Vec::<String>::new()
        );
    });
}
