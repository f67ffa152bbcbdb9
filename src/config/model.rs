//! The validated config model. Every action takes a [`ValidConfig`]; its types make invalid
//! states impossible (a region from the known list, an env from the enum, a VPC with its route
//! tables or no VPC at all). Only `config::validate` constructs it: its `validated` field is of a
//! type only that module can make, so a struct literal anywhere else does not compile.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// A site config that passed every rule of the config reference.
///
/// The fields are readable everywhere, but a `ValidConfig` can only come out of validation
/// ([`crate::config::load`], [`crate::config::from_bytes`]): a struct literal does not compile
/// outside `config::validate`, so no fixture or caller can hold a config validation would reject.
///
/// ```compile_fail
/// use s3_provisioner::config::{Client, Env, Environment, LifecyclePreset, S3Settings, ValidConfig};
///
/// let config = ValidConfig {
///     source: "configs/edge-prod-b001-us-west-1-s3.yaml".into(),
///     client: Client {
///         company_name: "Edge Corp".into(),
///         company_prefix: "edge".into(),
///         account_id: "123456789012".into(),
///         tenant_id: "b001".into(),
///     },
///     environment: Environment { env: Env::Prod, region: "us-west-1".into() },
///     s3: S3Settings {
///         bucket_name_override: None,
///         versioning: true,
///         lifecycle_policy: LifecyclePreset::MlOptimized,
///         vpc: None,
///         tags: Default::default(),
///     },
///     solution: None,
///     warnings: Vec::new(),
/// };
/// ```
///
/// Validation is the way to get one:
///
/// ```
/// use std::path::Path;
/// use s3_provisioner::config;
///
/// let yaml = "client:\n  company_name: Edge Corp\n  company_prefix: edge\n  account_id: \"123456789012\"\n  tenant_id: \"b001\"\nenvironment:\n  env: prod\n  region: us-west-1\n";
/// let config = config::from_bytes(Path::new("configs/edge-prod-b001-us-west-1-s3.yaml"), yaml.as_bytes()).unwrap();
/// assert_eq!(config.client.company_prefix, "edge");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidConfig {
    /// Where it was read from (used in messages and reports, not hashed).
    #[serde(skip)]
    pub source: PathBuf,
    pub client: Client,
    pub environment: Environment,
    pub s3: S3Settings,
    /// The top-level `solution:` key: the solution this config is meant for, the default of
    /// `--solution` (a different `--solution` is a usage error). `None` when the key is absent,
    /// empty or `~`. Left out of the normalised hash: it picks which deployment the config is
    /// used for (and so which template file), not what goes into a template.
    #[serde(skip)]
    pub solution: Option<String>,
    /// Non-fatal findings (docs/config.md "Warnings"), printed and reported; exit stays 0.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
    /// Proof that validation built this value (see the type's doc).
    #[serde(skip)]
    pub(in crate::config) validated: super::validate::Validated,
}

/// `client:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    pub company_name: String,
    /// Lowercase letters/digits, starts with a letter, 1-20 chars.
    pub company_prefix: String,
    /// Exactly 12 digits (leading zeros kept).
    pub account_id: String,
    /// Exactly 4 lowercase alphanumerics.
    pub tenant_id: String,
}

/// `environment:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub env: Env,
    /// A region code from [`crate::config::regions::KNOWN_REGIONS`].
    pub region: String,
}

/// The deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Prod,
    Dev,
    Test,
    Staging,
}

impl Env {
    /// Every environment, in the order the config reference lists them.
    pub const ALL: [Env; 4] = [Env::Prod, Env::Dev, Env::Test, Env::Staging];

    /// The spelling used in names and the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Prod => "prod",
            Env::Dev => "dev",
            Env::Test => "test",
            Env::Staging => "staging",
        }
    }
}

/// `s3:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct S3Settings {
    /// A valid bucket name replacing the derived one, or `None` for the derived name.
    pub bucket_name_override: Option<String>,
    pub versioning: bool,
    pub lifecycle_policy: LifecyclePreset,
    /// The VPC endpoint settings, present iff `vpc_id` was set (then route tables are too).
    pub vpc: Option<VpcSettings>,
    /// User tags, sorted by key (the tool's own tags are added by the template).
    pub tags: BTreeMap<String, String>,
}

/// Gateway VPC endpoint settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VpcSettings {
    /// `vpc-` + 8 or 17 hex chars.
    pub vpc_id: String,
    /// At least one `rtb-` + 8 or 17 hex chars, in config order.
    pub route_table_ids: Vec<String>,
}

/// The lifecycle presets (docs/config.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifecyclePreset {
    MlOptimized,
    Compliance,
    Development,
    None,
}

impl LifecyclePreset {
    /// Every preset, in documentation order.
    pub const ALL: [LifecyclePreset; 4] = [
        LifecyclePreset::MlOptimized,
        LifecyclePreset::Compliance,
        LifecyclePreset::Development,
        LifecyclePreset::None,
    ];

    /// The spelling used in the config file and as the lifecycle rule Id.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecyclePreset::MlOptimized => "ml-optimized",
            LifecyclePreset::Compliance => "compliance",
            LifecyclePreset::Development => "development",
            LifecyclePreset::None => "none",
        }
    }
}

/// A non-fatal finding with the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Dotted key path, e.g. `s3.versioning`.
    pub key_path: String,
    pub message: String,
}

impl ValidConfig {
    /// sha256 (hex) of the normalised config: the validated model serialised as canonical JSON.
    /// Comments, key order, quoting and the file's location do not change it; any value does.
    /// Templates carry it so `validate-prov-template` can tell a stale template.
    pub fn normalised_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::to_vec(self).expect("the config model always serialises");
        let digest = Sha256::digest(&canonical);
        digest
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                use std::fmt::Write as _;
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }
}

impl crate::naming::NameParts for ValidConfig {
    fn name_parts(&self) -> crate::naming::Parts<'_> {
        crate::naming::Parts {
            company_prefix: &self.client.company_prefix,
            env: self.environment.env.as_str(),
            tenant_id: &self.client.tenant_id,
            region: &self.environment.region,
            bucket_name_override: self.s3.bucket_name_override.as_deref(),
        }
    }
}
