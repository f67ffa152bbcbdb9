//! A shared-bucket test site: its config written into a [`Workdir`], and its deployment with
//! `prep-master --force`.

use super::{MotoServer, Workdir, site_config};

/// A site's config file name and the names the tool derives for its shared deployment.
pub struct Site {
    pub config: String,
    pub bucket: String,
    pub stack: String,
}

/// Write the config of site `tenant` in `region` (company `edge`, env `prod`) with `extra_s3`
/// lines under `s3:`.
pub fn shared_site(work: &Workdir, tenant: &str, region: &str, extra_s3: &str) -> Site {
    let config = format!("edge-prod-{tenant}-{region}-s3.yaml");
    work.write_config(&config, &site_config(tenant, region, extra_s3));
    let bucket = format!("edge-prod-{tenant}-{region}-s3");
    Site {
        config,
        stack: format!("{bucket}-stack"),
        bucket,
    }
}

/// [`shared_site`], deployed with `prep-master --force` (which must succeed).
pub fn deploy_shared_site(
    server: &MotoServer,
    work: &Workdir,
    tenant: &str,
    region: &str,
    extra_s3: &str,
) -> Site {
    let site = shared_site(work, tenant, region, extra_s3);
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
    site
}
