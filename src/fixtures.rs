//! Test fixtures shared by the unit tests: config literals mirroring the example configs of
//! `configs/` (SPEC §13), run options with every directory under one root, captured output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::actions::{Dirs, RunOptions};
use crate::cli::{Action, OutputFormat};
use crate::output::{Captured, Output, OutputSettings};

use crate::config::{
    Client, Env, Environment, LifecyclePreset, S3Settings, ValidConfig, VpcSettings,
};

/// A config with the given identity and settings.
pub fn config(
    prefix: &str,
    env: Env,
    tenant: &str,
    region: &str,
    lifecycle: LifecyclePreset,
    versioning: bool,
) -> ValidConfig {
    ValidConfig {
        source: PathBuf::from(format!(
            "configs/{prefix}-{}-{tenant}-{region}-s3.yaml",
            env.as_str()
        )),
        client: Client {
            company_name: "Edge Corp".to_owned(),
            company_prefix: prefix.to_owned(),
            account_id: "123456789012".to_owned(),
            tenant_id: tenant.to_owned(),
        },
        environment: Environment {
            env,
            region: region.to_owned(),
        },
        s3: S3Settings {
            bucket_name_override: None,
            versioning,
            lifecycle_policy: lifecycle,
            vpc: None,
            tags: BTreeMap::from([
                ("Owner".to_owned(), "data-science".to_owned()),
                ("Purpose".to_owned(), "ML Solutions Portfolio".to_owned()),
            ]),
        },
        solution: None,
        warnings: Vec::new(),
    }
}

/// `configs/edge-prod-b001-us-west-1-s3.yaml`: the shared bucket site of the seed guide.
pub fn shared_site() -> ValidConfig {
    config(
        "edge",
        Env::Prod,
        "b001",
        "us-west-1",
        LifecyclePreset::MlOptimized,
        true,
    )
}

/// `configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml`: a dedicated bucket for
/// `recommendation-engine`, named by `bucket_name_override` (seed guide, Pattern B).
pub fn dedicated_site() -> ValidConfig {
    let mut config = shared_site();
    config.source = PathBuf::from("configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml");
    config.s3.bucket_name_override =
        Some("edge-prod-b001-us-west-1-recommendation-engine-s3".to_owned());
    config
}

/// A VPC site: gateway endpoint attached to two route tables.
pub fn vpc_site() -> ValidConfig {
    let mut config = config(
        "edge",
        Env::Prod,
        "b002",
        "eu-west-1",
        LifecyclePreset::MlOptimized,
        true,
    );
    config.s3.vpc = Some(VpcSettings {
        vpc_id: "vpc-0a1b2c3d4e5f67890".to_owned(),
        route_table_ids: vec![
            "rtb-0123456789abcdef0".to_owned(),
            "rtb-0fedcba9876543210".to_owned(),
        ],
    });
    config
}

/// The `compliance` preset site.
pub fn compliance_site() -> ValidConfig {
    config(
        "edge",
        Env::Prod,
        "b003",
        "us-east-1",
        LifecyclePreset::Compliance,
        true,
    )
}

/// The `development` preset site (versioning off).
pub fn development_site() -> ValidConfig {
    config(
        "edge",
        Env::Dev,
        "b001",
        "us-west-2",
        LifecyclePreset::Development,
        false,
    )
}

/// The `none` preset site (versioning off).
pub fn none_site() -> ValidConfig {
    config(
        "edge",
        Env::Staging,
        "b001",
        "us-east-2",
        LifecyclePreset::None,
        false,
    )
}

/// Options for `action` on `solution` with every directory under `root`.
pub fn run_options(action: Action, solution: &str, root: &Path) -> RunOptions {
    RunOptions {
        action,
        solution: Some(solution.to_owned()),
        force: false,
        dirs: Dirs {
            configs: root.join("configs"),
            templates: root.join("templates"),
            policies: root.join("policies"),
            reports: root.join("reports"),
        },
        profile: None,
        timeout: Duration::from_secs(1),
        interrupts: crate::stop::Interrupts::never(),
        detailed_exitcode: false,
        keep: false,
        revert_drift: false,
        test_id: None,
        keep_reports: 0,
        role: None,
        cfn_limits: crate::aws::cfn::limit::CallLimits::default(),
        http_client: None,
    }
}

/// Output in `format`, captured in memory, without colour.
pub fn captured_output(format: OutputFormat) -> (Output, Captured) {
    Output::captured(OutputSettings {
        format,
        no_color: true,
        quiet: false,
        verbose: 0,
    })
}

/// Run local (no AWS) `action` in-process on `config` and `solution` through the one action
/// dispatch, with every directory under `root`: the outcome (or error) and the captured text.
pub fn run_local_action(
    action: Action,
    config: &ValidConfig,
    solution: &str,
    root: &Path,
) -> (anyhow::Result<crate::actions::Outcome>, Captured) {
    let options = run_options(action, solution, root);
    let deployment = crate::actions::deployment_for(action, config, solution).unwrap();
    let (mut out, captured) = captured_output(OutputFormat::Text);
    let mut ctx = crate::actions::Ctx {
        config,
        deployment: &deployment,
        options: &options,
        out: &mut out,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcome = runtime.block_on(crate::actions::run(&mut ctx));
    (outcome, captured)
}
