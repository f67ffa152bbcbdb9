//! Every name the tool derives: stem, deployments (shared, dedicated, test), stacks,
//! buckets, file names, S3 keys and SSM paths, plus the bucket- and solution-name rules.
//! Pure functions of the name parts ([`NameParts`], which the validated config provides); nothing
//! else in the code builds these strings. Naming knows nothing of the config model, so config
//! validation can use it to check the names a config would produce.

use serde::Serialize;

/// The parts every derived name is made of: the config's `client`, `environment` and
/// `s3.bucket_name_override` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub company_prefix: &'a str,
    /// The environment's spelling in names (`prod`, `dev`, …).
    pub env: &'a str,
    pub tenant_id: &'a str,
    pub region: &'a str,
    /// Replaces the derived bucket name of whichever deployment (not of test deployments).
    pub bucket_name_override: Option<&'a str>,
}

/// Whatever provides the name parts: the validated config, or [`Parts`] themselves.
pub trait NameParts {
    /// The parts names are derived from.
    fn name_parts(&self) -> Parts<'_>;
}

impl NameParts for Parts<'_> {
    fn name_parts(&self) -> Parts<'_> {
        *self
    }
}

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
    #[error("solution name `{}` is invalid: {rule}", crate::text::shown(name))]
    SolutionInvalid { name: String, rule: &'static str },
}

/// `{company_prefix}-{env}-{tenant_id}-{region}-s3`.
pub fn stem(config: &impl NameParts) -> String {
    let parts = config.name_parts();
    format!(
        "{}-{}-{}-{}-s3",
        parts.company_prefix, parts.env, parts.tenant_id, parts.region
    )
}

/// `policies/{stem}-iam-policy.json` file name.
pub fn policy_file_name(config: &impl NameParts) -> String {
    format!("{}-iam-policy.json", stem(config))
}

/// The shared deployment (Pattern A): name = stem.
pub fn shared_deployment(config: &impl NameParts) -> Result<Deployment, NameError> {
    let name = stem(config);
    finish(config, name, Pattern::Shared, MASTER_SOLUTION.to_owned())
}

/// The dedicated deployment of `solution` (Pattern B): name `{stem}-{solution}`.
pub fn dedicated_deployment(
    config: &impl NameParts,
    solution: &str,
) -> Result<Deployment, NameError> {
    validate_solution_name(solution)?;
    let name = format!("{}-{solution}", stem(config));
    finish(config, name, Pattern::Dedicated, solution.to_owned())
}

/// The deployment a solution name selects: `master-solution` → shared, anything else → dedicated.
/// (`deploy-solution` always uses [`shared_deployment`]; the action layer decides.)
pub fn deployment_for_solution(
    config: &impl NameParts,
    solution: &str,
) -> Result<Deployment, NameError> {
    if solution == MASTER_SOLUTION {
        shared_deployment(config)
    } else {
        dedicated_deployment(config, solution)
    }
}

fn finish(
    config: &impl NameParts,
    name: String,
    pattern: Pattern,
    solution: String,
) -> Result<Deployment, NameError> {
    let bucket_name = config
        .name_parts()
        .bucket_name_override
        .map_or_else(|| name.clone(), str::to_owned);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Env, ValidConfig, example};

    const STEM: &str = "edge-prod-b001-us-west-1-s3";

    fn with_override(name: &str) -> ValidConfig {
        let mut config = example();
        config.s3.bucket_name_override = Some(name.to_owned());
        config
    }

    #[test]
    fn stem_joins_prefix_env_tenant_region() {
        assert_eq!(stem(&example()), STEM);
        let mut config = example();
        config.environment.env = Env::Staging;
        config.environment.region = "eu-west-1".into();
        config.client.tenant_id = "0042".into();
        assert_eq!(stem(&config), "edge-staging-0042-eu-west-1-s3");
    }

    #[test]
    fn shared_deployment_is_named_after_the_stem() {
        let shared = shared_deployment(&example()).unwrap();
        assert_eq!(
            shared,
            Deployment {
                name: STEM.into(),
                pattern: Pattern::Shared,
                solution: MASTER_SOLUTION.into(),
                stack_name: format!("{STEM}-stack"),
                bucket_name: STEM.into(),
                test_id: None,
            }
        );
        assert!(!shared.is_test());
        assert_eq!(shared.bucket_arn(), format!("arn:aws:s3:::{STEM}"));
    }

    #[test]
    fn dedicated_deployment_appends_the_solution() {
        let dedicated = dedicated_deployment(&example(), "recommendation-engine").unwrap();
        let name = format!("{STEM}-recommendation-engine");
        assert_eq!(dedicated.name, name);
        assert_eq!(dedicated.pattern, Pattern::Dedicated);
        assert_eq!(dedicated.solution, "recommendation-engine");
        assert_eq!(dedicated.stack_name, format!("{name}-stack"));
        assert_eq!(dedicated.bucket_name, name);
    }

    #[test]
    fn the_solution_name_picks_the_pattern() {
        let config = example();
        assert_eq!(
            deployment_for_solution(&config, MASTER_SOLUTION)
                .unwrap()
                .pattern,
            Pattern::Shared
        );
        assert_eq!(
            deployment_for_solution(&config, "fraud-detection")
                .unwrap()
                .pattern,
            Pattern::Dedicated
        );
        assert!(matches!(
            deployment_for_solution(&config, "Fraud"),
            Err(NameError::SolutionInvalid { .. })
        ));
    }

    #[test]
    fn file_names_keys_and_parameters() {
        let config = example();
        let shared = shared_deployment(&config).unwrap();
        assert_eq!(shared.template_file_name(), format!("{STEM}-template.yaml"));
        assert_eq!(
            shared.template_key(),
            format!("_provisioner/templates/{STEM}-template.yaml")
        );
        assert_eq!(
            shared.ssm_bucket_name_parameter(),
            format!("/s3-provisioner/{STEM}/bucket-name")
        );
        assert_eq!(
            shared.ssm_bucket_arn_parameter(),
            format!("/s3-provisioner/{STEM}/bucket-arn")
        );
        assert_eq!(policy_file_name(&config), format!("{STEM}-iam-policy.json"));
        // The policy file is per site (stem), not per deployment.
        let dedicated = dedicated_deployment(&config, "churn").unwrap();
        assert_eq!(
            dedicated.template_file_name(),
            format!("{STEM}-churn-template.yaml")
        );
    }

    #[test]
    fn override_replaces_the_bucket_of_whichever_deployment() {
        let config = with_override("team-recsys-bucket");
        let shared = shared_deployment(&config).unwrap();
        assert_eq!(shared.bucket_name, "team-recsys-bucket");
        assert_eq!(shared.name, STEM);
        assert_eq!(shared.stack_name, format!("{STEM}-stack"));
        let dedicated = dedicated_deployment(&config, "recsys").unwrap();
        assert_eq!(dedicated.bucket_name, "team-recsys-bucket");
        assert_eq!(dedicated.stack_name, format!("{STEM}-recsys-stack"));
        assert_eq!(dedicated.bucket_arn(), "arn:aws:s3:::team-recsys-bucket");
    }

    #[test]
    fn derived_bucket_names_over_63_characters_suggest_the_override() {
        // stem (27) + "-" + solution: 35 characters of solution make exactly 63.
        let exactly = "s".repeat(63 - STEM.len() - 1);
        let deployment = dedicated_deployment(&example(), &exactly).unwrap();
        assert_eq!(deployment.bucket_name.len(), BUCKET_NAME_MAX);
        let too_long = "s".repeat(63 - STEM.len());
        let error = dedicated_deployment(&example(), &too_long).unwrap_err();
        assert_eq!(
            error,
            NameError::BucketTooLong {
                name: format!("{STEM}-{too_long}"),
                len: 64
            }
        );
        assert!(error.to_string().contains("bucket_name_override"));
        // With an override the long deployment name is fine: only the bucket name is limited.
        let config = with_override("short-bucket");
        assert!(dedicated_deployment(&config, &too_long).is_ok());
    }

    #[test]
    fn stack_names_are_limited_to_128_characters() {
        assert!(validate_stack_name(&"s".repeat(STACK_NAME_MAX)).is_ok());
        assert_eq!(
            validate_stack_name(&"s".repeat(STACK_NAME_MAX + 1)),
            Err(NameError::StackTooLong {
                name: "s".repeat(129),
                len: 129
            })
        );
        // Reached through a deployment: the bucket is overridden, the stack name still grows.
        let mut config = with_override("short-bucket");
        config.client.company_prefix = "p".repeat(90);
        let error =
            dedicated_deployment(&config, "a-forty-character-solution-name-abcdefgh").unwrap_err();
        assert!(matches!(error, NameError::StackTooLong { len, .. } if len > 128));
    }

    #[test]
    fn random_test_ids_are_t_and_six_hex_digits() {
        for _ in 0..1000 {
            let id = random_test_id();
            assert_eq!(id.len(), 7, "{id}");
            assert!(id.starts_with('t'), "{id}");
            assert!(
                id[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
        }
    }

    #[test]
    fn test_deployments_add_the_suffix_and_ignore_the_override() {
        let config = with_override("team-recsys-bucket");
        let base = dedicated_deployment(&config, "recsys").unwrap();
        let test = test_deployment(&base, "t0a1b2c").unwrap();
        assert_eq!(test.name, format!("{STEM}-recsys-t0a1b2c"));
        assert_eq!(test.bucket_name, format!("{STEM}-recsys-t0a1b2c"));
        assert_eq!(test.stack_name, format!("{STEM}-recsys-t0a1b2c-stack"));
        assert_eq!(test.test_id.as_deref(), Some("t0a1b2c"));
        assert_eq!(test.pattern, Pattern::Dedicated);
        assert_eq!(test.solution, "recsys");
        assert!(test.is_test());
        let shared_test =
            test_deployment(&shared_deployment(&example()).unwrap(), "tffffff").unwrap();
        assert_eq!(shared_test.stack_name, format!("{STEM}-tffffff-stack"));
    }

    #[test]
    fn test_deployments_that_would_be_too_long_are_refused() {
        // 63 - 27 (stem) - 1 - 8 ("-t000000") = 27: a 27-character solution just fits.
        let fits = dedicated_deployment(&example(), &"s".repeat(27)).unwrap();
        assert_eq!(
            test_deployment(&fits, "t000000").unwrap().bucket_name.len(),
            63
        );
        let over = dedicated_deployment(&example(), &"s".repeat(28)).unwrap();
        assert!(matches!(
            test_deployment(&over, "t000000"),
            Err(NameError::BucketTooLong { len: 64, .. })
        ));
    }

    #[test]
    fn valid_bucket_names() {
        for name in [
            "abc",
            "edge-prod-b001-us-west-1-s3",
            "my.bucket.name",
            "0bucket9",
            &"a".repeat(63),
        ] {
            assert_eq!(validate_bucket_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn invalid_bucket_names_say_which_rule() {
        let rule = |name: &str| match validate_bucket_name(name) {
            Err(NameError::BucketInvalid { rule, .. }) => rule,
            Err(NameError::BucketTooLong { .. }) => "too long",
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(rule("ab"), "it must be at least 3 characters long");
        assert_eq!(rule(""), "it must be at least 3 characters long");
        assert_eq!(rule(&"a".repeat(64)), "too long");
        assert_eq!(
            rule("My-Bucket"),
            "only lowercase letters, digits, `.` and `-` are allowed"
        );
        assert_eq!(
            rule("my_bucket"),
            "only lowercase letters, digits, `.` and `-` are allowed"
        );
        assert_eq!(
            rule("-bucket"),
            "it must start and end with a letter or digit"
        );
        assert_eq!(
            rule("bucket."),
            "it must start and end with a letter or digit"
        );
        assert_eq!(rule("my..bucket"), "it must not contain `..`");
        assert_eq!(rule("192.168.5.4"), "it must not look like an IP address");
        assert!(rule("xn--bucket").contains("`xn--`"));
        assert!(rule("sthree-bucket").contains("`sthree-`"));
        assert!(rule("bucket-s3alias").contains("`-s3alias`"));
        assert!(rule("bucket--ol-s3").contains("`--ol-s3`"));
    }

    #[test]
    fn solution_names() {
        for name in [
            "master-solution",
            "recommendation-engine",
            "a",
            "churn2",
            &"a".repeat(40),
        ] {
            assert_eq!(validate_solution_name(name), Ok(()), "{name}");
        }
        let rule = |name: &str| match validate_solution_name(name) {
            Err(NameError::SolutionInvalid { rule, .. }) => rule,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(rule(""), "it must be 1-40 characters long");
        assert_eq!(rule(&"a".repeat(41)), "it must be 1-40 characters long");
        assert_eq!(rule("1churn"), "it must start with a lowercase letter");
        assert_eq!(rule("-churn"), "it must start with a lowercase letter");
        assert_eq!(rule("Churn"), "it must start with a lowercase letter");
        assert_eq!(
            rule("churn_model"),
            "only lowercase letters, digits and `-` are allowed"
        );
        assert_eq!(
            rule("churn.model"),
            "only lowercase letters, digits and `-` are allowed"
        );
    }
}
