//! Every name the tool derives (SPEC §4): stem, deployments (shared, dedicated, test), stacks,
//! buckets, file names, S3 keys and SSM paths, plus the bucket- and solution-name rules.
//! Pure functions of the validated config; nothing else in the code builds these strings.

use serde::Serialize;

use crate::config::ValidConfig;

/// The default solution; selects the shared deployment.
pub const MASTER_SOLUTION: &str = "master-solution";
/// Maximum length of an S3 bucket name.
pub const BUCKET_NAME_MAX: usize = 63;
/// Maximum length of a CloudFormation stack name.
pub const STACK_NAME_MAX: usize = 128;
/// Key prefix for the tool's own objects in a bucket.
pub const TOOL_PREFIX: &str = "_provisioner/";

/// Which of the two deployment patterns a deployment follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// Pattern A: one shared bucket per site holding many solutions.
    Shared,
    /// Pattern B: a bucket of its own for one solution.
    Dedicated,
}

impl Pattern {
    /// Lowercase name, as in template metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Shared => "shared",
            Pattern::Dedicated => "dedicated",
        }
    }
}

/// One CloudFormation stack owning one bucket, with every derived name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// Deployment name: the stem, `{stem}-{solution}`, or either with a test suffix.
    pub name: String,
    pub pattern: Pattern,
    /// The solution the deployment was chosen for.
    pub solution: String,
    pub stack_name: String,
    pub bucket_name: String,
    /// The test suffix (`t` + 6 hex) for test deployments.
    pub test_id: Option<String>,
}

impl Deployment {
    /// `templates/{deployment}-template.yaml` file name (without the directory).
    pub fn template_file_name(&self) -> String {
        format!("{}-template.yaml", self.name)
    }

    /// Key of the uploaded template inside the bucket.
    pub fn template_key(&self) -> String {
        format!("{TOOL_PREFIX}templates/{}-template.yaml", self.name)
    }

    /// SSM parameter holding the bucket name.
    pub fn ssm_bucket_name_parameter(&self) -> String {
        format!("/s3-provisioner/{}/bucket-name", self.name)
    }

    /// SSM parameter holding the bucket ARN.
    pub fn ssm_bucket_arn_parameter(&self) -> String {
        format!("/s3-provisioner/{}/bucket-arn", self.name)
    }

    /// Whether this is an isolated test deployment (`DeletionPolicy: Delete`).
    pub fn is_test(&self) -> bool {
        self.test_id.is_some()
    }

    /// The bucket ARN.
    pub fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket_name)
    }
}

/// Why a derived or given name is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "bucket name `{name}` is {len} characters, over S3's limit of {BUCKET_NAME_MAX}; set s3.bucket_name_override to a shorter valid name"
    )]
    BucketTooLong { name: String, len: usize },
    #[error("bucket name `{name}` is invalid: {rule}")]
    BucketInvalid { name: String, rule: &'static str },
    #[error(
        "stack name `{name}` is {len} characters, over CloudFormation's limit of {STACK_NAME_MAX}; use a shorter solution name"
    )]
    StackTooLong { name: String, len: usize },
    #[error("solution name `{name}` is invalid: {rule}")]
    SolutionInvalid { name: String, rule: &'static str },
}

/// `{company_prefix}-{env}-{tenant_id}-{region}-s3`.
pub fn stem(config: &ValidConfig) -> String {
    format!(
        "{}-{}-{}-{}-s3",
        config.client.company_prefix,
        config.environment.env.as_str(),
        config.client.tenant_id,
        config.environment.region
    )
}

/// `policies/{stem}-iam-policy.json` file name.
pub fn policy_file_name(config: &ValidConfig) -> String {
    format!("{}-iam-policy.json", stem(config))
}

/// The shared deployment (Pattern A): name = stem.
pub fn shared_deployment(config: &ValidConfig) -> Result<Deployment, NameError> {
    let name = stem(config);
    finish(config, name, Pattern::Shared, MASTER_SOLUTION.to_owned())
}

/// The dedicated deployment of `solution` (Pattern B): name `{stem}-{solution}`.
pub fn dedicated_deployment(config: &ValidConfig, solution: &str) -> Result<Deployment, NameError> {
    validate_solution_name(solution)?;
    let name = format!("{}-{solution}", stem(config));
    finish(config, name, Pattern::Dedicated, solution.to_owned())
}

/// The deployment a solution name selects: `master-solution` → shared, anything else → dedicated.
/// (`deploy-solution` always uses [`shared_deployment`]; the action layer decides.)
pub fn deployment_for_solution(
    config: &ValidConfig,
    solution: &str,
) -> Result<Deployment, NameError> {
    if solution == MASTER_SOLUTION {
        shared_deployment(config)
    } else {
        dedicated_deployment(config, solution)
    }
}

fn finish(
    config: &ValidConfig,
    name: String,
    pattern: Pattern,
    solution: String,
) -> Result<Deployment, NameError> {
    let bucket_name = config
        .s3
        .bucket_name_override
        .clone()
        .unwrap_or_else(|| name.clone());
    validate_bucket_name(&bucket_name)?;
    let stack_name = format!("{name}-stack");
    validate_stack_name(&stack_name)?;
    Ok(Deployment {
        name,
        pattern,
        solution,
        stack_name,
        bucket_name,
        test_id: None,
    })
}

/// A fresh random test suffix: `t` + 6 lowercase hex chars.
pub fn random_test_id() -> String {
    format!("t{:06x}", fastrand::u32(..0x0100_0000))
}

/// The isolated test copy of `base` with suffix `test_id`: stack `{deployment}-{suffix}-stack`,
/// bucket `{deployment}-{suffix}` (any override is ignored, so a test never touches a real bucket).
pub fn test_deployment(base: &Deployment, test_id: &str) -> Result<Deployment, NameError> {
    let name = format!("{}-{test_id}", base.name);
    validate_bucket_name(&name)?;
    let stack_name = format!("{name}-stack");
    validate_stack_name(&stack_name)?;
    Ok(Deployment {
        bucket_name: name.clone(),
        name,
        pattern: base.pattern,
        solution: base.solution.clone(),
        stack_name,
        test_id: Some(test_id.to_owned()),
    })
}

fn validate_stack_name(name: &str) -> Result<(), NameError> {
    if name.len() > STACK_NAME_MAX {
        return Err(NameError::StackTooLong {
            name: name.to_owned(),
            len: name.len(),
        });
    }
    Ok(())
}

/// S3 bucket naming rules: 3-63 chars of `[a-z0-9.-]`, starts and ends with a letter or digit,
/// no `..`, not an IP address, no `xn--` prefix, no `-s3alias` (or `--ol-s3`) suffix.
pub fn validate_bucket_name(name: &str) -> Result<(), NameError> {
    let invalid = |rule| {
        Err(NameError::BucketInvalid {
            name: name.to_owned(),
            rule,
        })
    };
    if name.len() > BUCKET_NAME_MAX {
        return Err(NameError::BucketTooLong {
            name: name.to_owned(),
            len: name.len(),
        });
    }
    if name.len() < 3 {
        return invalid("it must be at least 3 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return invalid("only lowercase letters, digits, `.` and `-` are allowed");
    }
    let alphanumeric = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    if !alphanumeric(name.as_bytes().first()) || !alphanumeric(name.as_bytes().last()) {
        return invalid("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return invalid("it must not contain `..`");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid("it must not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") {
        return invalid("it must not start with `xn--` or `sthree-` (reserved by S3)");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return invalid("it must not end with `-s3alias` or `--ol-s3` (reserved by S3)");
    }
    Ok(())
}

/// Solution names: 1-40 chars, lowercase letters, digits and hyphens, starting with a letter.
pub fn validate_solution_name(name: &str) -> Result<(), NameError> {
    let invalid = |rule| {
        Err(NameError::SolutionInvalid {
            name: name.to_owned(),
            rule,
        })
    };
    if name.is_empty() || name.len() > 40 {
        return invalid("it must be 1-40 characters long");
    }
    if !name.as_bytes()[0].is_ascii_lowercase() {
        return invalid("it must start with a lowercase letter");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return invalid("only lowercase letters, digits and `-` are allowed");
    }
    Ok(())
}
