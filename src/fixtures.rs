//! Test fixtures shared by the unit tests: the example configs of `configs/`, written
//! as YAML and read through validation (so no fixture can be a config validation would reject),
//! run options with every directory under one root, captured output.

use std::path::Path;
use std::time::Duration;

use crate::actions::{Dirs, RunOptions};
use crate::cli::{Action, OutputFormat};
use crate::output::{Captured, Output, OutputSettings};

use crate::config::{Env, LifecyclePreset, ValidConfig};

/// A site config as its settings; [`Site::validate`] writes it as YAML and validates it.
#[derive(Debug, Clone)]
pub struct Site {
    /// The file the config claims to come from.
    pub source: String,
    pub company_prefix: String,
    pub account_id: String,
    pub env: Env,
    pub tenant_id: String,
    pub region: String,
    pub bucket_name_override: Option<String>,
    pub versioning: bool,
    pub lifecycle: LifecyclePreset,
    /// `vpc_id` and its route tables.
    pub vpc: Option<(String, Vec<String>)>,
    pub tags: Vec<(String, String)>,
}

impl Site {
    /// A site with the given identity, versioning on, `ml-optimized` and the two example tags,
    /// read from `configs/<stem>.yaml`.
    pub fn new(prefix: &str, env: Env, tenant: &str, region: &str) -> Site {
        Site {
            source: format!(
                "configs/{prefix}-{}-{tenant}-{region}-s3.yaml",
                env.as_str()
            ),
            company_prefix: prefix.to_owned(),
            account_id: "123456789012".to_owned(),
            env,
            tenant_id: tenant.to_owned(),
            region: region.to_owned(),
            bucket_name_override: None,
            versioning: true,
            lifecycle: LifecyclePreset::MlOptimized,
            vpc: None,
            tags: vec![
                ("Owner".to_owned(), "data-science".to_owned()),
                ("Purpose".to_owned(), "ML Solutions Portfolio".to_owned()),
            ],
        }
    }

    /// The config file's text. Every value is written double-quoted (JSON string syntax is a
    /// YAML double-quoted scalar), so no value is misread whatever it holds.
    pub fn yaml(&self) -> String {
        use std::fmt::Write as _;
        let quote = |text: &str| serde_json::to_string(text).expect("a string serialises");
        let mut yaml = format!(
            "client:\n  company_name: Edge Corp\n  company_prefix: {}\n  account_id: {}\n  tenant_id: {}\n\
             environment:\n  env: {}\n  region: {}\n\
             s3:\n  versioning: {}\n  lifecycle_policy: {}\n",
            quote(&self.company_prefix),
            quote(&self.account_id),
            quote(&self.tenant_id),
            self.env.as_str(),
            quote(&self.region),
            self.versioning,
            self.lifecycle.as_str(),
        );
        if let Some(name) = &self.bucket_name_override {
            let _ = writeln!(yaml, "  bucket_name_override: {}", quote(name));
        }
        if let Some((vpc_id, route_tables)) = &self.vpc {
            let _ = writeln!(
                yaml,
                "  vpc_id: {}\n  route_table_ids: {}",
                quote(vpc_id),
                quote(&route_tables.join(","))
            );
        }
        if !self.tags.is_empty() {
            yaml += "  tags:\n";
            for (key, value) in &self.tags {
                let _ = writeln!(yaml, "    {}: {}", quote(key), quote(value));
            }
        }
        yaml
    }

    /// The config validation makes of [`Site::yaml`]; panics (with every problem) if it is
    /// rejected.
    pub fn validate(&self) -> ValidConfig {
        crate::config::from_bytes(Path::new(&self.source), self.yaml().as_bytes())
            .unwrap_or_else(|error| panic!("fixture config rejected: {error:?}\n{}", self.yaml()))
    }
}

/// A config with the given identity and settings.
pub fn config(
    prefix: &str,
    env: Env,
    tenant: &str,
    region: &str,
    lifecycle: LifecyclePreset,
    versioning: bool,
) -> ValidConfig {
    Site {
        versioning,
        lifecycle,
        ..Site::new(prefix, env, tenant, region)
    }
    .validate()
}

/// `configs/edge-prod-b001-us-west-1-s3.yaml`: the shared bucket site of the seed guide.
pub fn shared_site() -> ValidConfig {
    Site::new("edge", Env::Prod, "b001", "us-west-1").validate()
}

/// `configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml`: a dedicated bucket for
/// `recommendation-engine`, named by `bucket_name_override` (seed guide, Pattern B).
pub fn dedicated_site() -> ValidConfig {
    Site {
        source: "configs/edge-prod-b001-us-west-1-recommendation-engine-s3.yaml".to_owned(),
        bucket_name_override: Some("edge-prod-b001-us-west-1-recommendation-engine-s3".to_owned()),
        ..Site::new("edge", Env::Prod, "b001", "us-west-1")
    }
    .validate()
}

/// A VPC site: gateway endpoint attached to two route tables.
pub fn vpc_site() -> ValidConfig {
    Site {
        vpc: Some((
            "vpc-0a1b2c3d4e5f67890".to_owned(),
            vec![
                "rtb-0123456789abcdef0".to_owned(),
                "rtb-0fedcba9876543210".to_owned(),
            ],
        )),
        ..Site::new("edge", Env::Prod, "b002", "eu-west-1")
    }
    .validate()
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
