//! A config change that reaches no bucket setting (here the company name, which only the config
//! hash records) must still be deployed: CloudFormation ignores a change confined to the
//! template's Metadata (the launcher models that rule), so the tool records the hash and tool
//! version in a resource property. show-changes says what changes; prep-master applies it.

use crate::support;

use support::{MotoServer, Workdir, deploy_shared_site, site_config};

const REGION: &str = "us-west-1";

#[test]
fn a_config_change_that_only_the_hash_sees_is_shown_and_deployed() {
    let server = MotoServer::start();
    let work = Workdir::new();
    let site = deploy_shared_site(&server, &work, "b001", REGION, "");
    let edited = site_config("b001", REGION, "").replace("Edge Corp", "Edge Corporation");
    work.write_config(&site.config, &edited);

    let preview = server
        .command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "show-changes",
            "--detailed-exitcode",
        ])
        .assert()
        .code(3);
    let stdout = String::from_utf8_lossy(&preview.get_output().stdout).into_owned();
    assert!(
        stdout.contains("Deployment record changes") && stdout.contains("config sha256 "),
        "{stdout}"
    );
    assert!(stdout.contains("BucketNameParameter"), "{stdout}");

    server
        .command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "prep-master",
            "--force",
        ])
        .assert()
        .success();

    let again = server
        .command(work.path())
        .args([
            "--config",
            &site.config,
            "--action",
            "show-changes",
            "--detailed-exitcode",
        ])
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).into_owned();
    assert!(stdout.contains("No changes"), "{stdout}");
    assert!(!stdout.contains("Deployment record changes"), "{stdout}");
}
