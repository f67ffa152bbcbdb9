//! The field rules (docs/config.md) as pure functions of the text of one value. Each returns the
//! typed value or a [`Violation`] (the rule broken and how to fix it); `validate` adds the position,
//! key path and value. Kept apart from the tree walk so every rule has its own small tests.

use crate::config::{Env, LifecyclePreset, regions};

/// A broken rule and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub fix: String,
}

fn violation(rule: impl Into<String>, fix: impl Into<String>) -> Violation {
    Violation {
        rule: rule.into(),
        fix: fix.into(),
    }
}

/// Maximum number of user tags (S3 allows 50; the tool keeps room for its own).
pub const MAX_USER_TAGS: usize = 40;
/// Tag key length limit (characters).
pub const TAG_KEY_MAX: usize = 128;
/// Tag value length limit (characters).
pub const TAG_VALUE_MAX: usize = 256;
/// The tool's own tag namespace.
pub const TOOL_TAG_PREFIX: &str = "s3-provisioner:";

/// The closest candidate to `input` when it is a plausible typo (case and `_`/`-` mix-ups
/// included), for "did you mean" hints.
pub fn did_you_mean<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let input_normal = normal(input);
    candidates
        .iter()
        .map(|candidate| {
            let candidate_normal = normal(candidate);
            let score = if candidate_normal == input_normal {
                1.0
            } else {
                strsim::jaro_winkler(&input_normal, &candidate_normal)
            };
            (score, *candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// `company_name`: any non-empty text.
pub fn company_name(text: &str) -> Result<String, Violation> {
    if text.trim().is_empty() {
        return Err(violation(
            "must not be empty",
            "write the company's name, e.g. company_name: Edge Corp",
        ));
    }
    Ok(text.to_owned())
}

/// `company_prefix`: lowercase letters and digits, starting with a letter, 1-20 characters.
pub fn company_prefix(text: &str) -> Result<String, Violation> {
    let rule = "must be 1-20 lowercase letters or digits, starting with a letter";
    let lower = text.to_lowercase();
    let valid = |s: &str| {
        (1..=20).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if valid(text) {
        return Ok(text.to_owned());
    }
    let fix = if text.is_empty() {
        "write a short lowercase prefix used at the start of every name, e.g. company_prefix: edge"
            .to_owned()
    } else if valid(&lower) {
        format!("use lowercase: company_prefix: {lower}")
    } else if text.len() > 20 {
        "shorten it to at most 20 characters; it starts every bucket name, which is limited to 63"
            .to_owned()
    } else if text.contains(['-', '_', '.', ' ']) {
        let joined: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
        format!(
            "remove separators (names join their parts with `-`), e.g. company_prefix: {joined}"
        )
    } else if text.starts_with(|c: char| c.is_ascii_digit()) {
        "start it with a letter".to_owned()
    } else {
        "use only a-z and 0-9".to_owned()
    };
    Err(violation(rule, fix))
}

/// `account_id`: exactly 12 digits (given as text).
pub fn account_id(text: &str) -> Result<String, Violation> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text.to_owned());
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let fix = if digits.len() == 12 {
        format!("write only the digits: account_id: \"{digits}\"")
    } else {
        "write the 12-digit AWS account id in quotes, with its leading zeros, e.g. account_id: \"012345678901\"".to_owned()
    };
    Err(violation("must be exactly 12 digits", fix))
}

/// `tenant_id`: exactly 4 lowercase letters or digits.
pub fn tenant_id(text: &str) -> Result<String, Violation> {
    let valid = |s: &str| {
        s.len() == 4
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if valid(text) {
        return Ok(text.to_owned());
    }
    let lower = text.to_lowercase();
    let fix = if valid(&lower) {
        format!("use lowercase: tenant_id: \"{lower}\"")
    } else {
        "write the site id as 4 lowercase letters or digits in quotes, e.g. tenant_id: \"b001\""
            .to_owned()
    };
    Err(violation(
        "must be exactly 4 lowercase letters or digits",
        fix,
    ))
}

/// `env`: prod | dev | test | staging.
pub fn env(text: &str) -> Result<Env, Violation> {
    let found = match text {
        "prod" => Some(Env::Prod),
        "dev" => Some(Env::Dev),
        "test" => Some(Env::Test),
        "staging" => Some(Env::Staging),
        _ => None,
    };
    if let Some(env) = found {
        return Ok(env);
    }
    let synonym = match text.to_ascii_lowercase().as_str() {
        "prod" | "production" | "prd" | "live" => Some("prod"),
        "dev" | "development" | "develop" => Some("dev"),
        "test" | "testing" | "qa" => Some("test"),
        "staging" | "stage" | "stg" | "preprod" => Some("staging"),
        _ => did_you_mean(text, &["prod", "dev", "test", "staging"]),
    };
    let fix = match synonym {
        Some(name) => format!("did you mean `{name}`? write env: {name}"),
        None => "write one of: prod, dev, test, staging".to_owned(),
    };
    Err(violation("must be one of prod, dev, test, staging", fix))
}

/// `region`: a commercial AWS region code.
pub fn region(text: &str) -> Result<String, Violation> {
    if regions::is_known(text) {
        return Ok(text.to_owned());
    }
    if let Some(partition) = regions::other_partition(text) {
        return Err(violation(
            format!(
                "is a region of the {partition} partition, which this tool does not support (it writes arn:aws: ARNs)"
            ),
            "use a commercial AWS region such as us-west-1",
        ));
    }
    let lower = text.to_ascii_lowercase();
    // An availability zone (us-west-1a) names its region without the letter.
    let zone_region = lower
        .strip_suffix(|c: char| c.is_ascii_lowercase())
        .filter(|r| regions::is_known(r));
    let fix = if regions::is_known(&lower) {
        format!("use lowercase: region: {lower}")
    } else if let Some(region) = zone_region {
        format!("that is an availability zone; its region is {region}: write region: {region}")
    } else if let Some(region) = did_you_mean(text, regions::KNOWN_REGIONS) {
        format!("did you mean `{region}`?")
    } else {
        "write an AWS region code such as us-west-1 (see `aws ec2 describe-regions`)".to_owned()
    };
    Err(violation("is not a known AWS region code", fix))
}

/// `lifecycle_policy`: one of the lifecycle presets (empty = none).
pub fn lifecycle(text: &str) -> Result<LifecyclePreset, Violation> {
    if text.is_empty() {
        return Ok(LifecyclePreset::None);
    }
    if let Some(preset) = LifecyclePreset::ALL
        .into_iter()
        .find(|p| p.as_str() == text)
    {
        return Ok(preset);
    }
    let names: Vec<&str> = LifecyclePreset::ALL.iter().map(|p| p.as_str()).collect();
    let fix = match did_you_mean(text, &names) {
        Some(name) => format!("did you mean `{name}`? write lifecycle_policy: {name}"),
        None => format!("write one of: {}", names.join(", ")),
    };
    Err(violation(
        "must be one of ml-optimized, compliance, development, none",
        fix,
    ))
}

/// Whether `text` is `prefix` + 8 or 17 lowercase hex digits (the AWS resource id forms).
fn is_resource_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `vpc_id`: `vpc-` + 8 or 17 lowercase hex digits.
pub fn vpc_id(text: &str) -> Result<String, Violation> {
    if is_resource_id(text, "vpc-") {
        return Ok(text.to_owned());
    }
    let lower = text.to_ascii_lowercase();
    let fix = if is_resource_id(&lower, "vpc-") {
        format!("use lowercase: vpc_id: {lower}")
    } else {
        "copy the VPC id from `aws ec2 describe-vpcs` (e.g. vpc-0a1b2c3d4e5f67890), or write \"\" for no VPC endpoint".to_owned()
    };
    Err(violation(
        "must be `vpc-` followed by 8 or 17 lowercase hex digits",
        fix,
    ))
}

/// `route_table_ids`: comma-separated `rtb-` + 8 or 17 lowercase hex digits; at least one.
pub fn route_table_ids(text: &str) -> Result<Vec<String>, Violation> {
    let mut ids: Vec<String> = Vec::new();
    for (index, part) in text.split(',').enumerate() {
        let id = part.trim();
        if id.is_empty() {
            return Err(violation(
                format!("item {} of the comma-separated list is empty", index + 1),
                "write route table ids separated by single commas, e.g. \"rtb-0a1b2c3d,rtb-4e5f6a7b\"",
            ));
        }
        if !is_resource_id(id, "rtb-") {
            return Err(violation(
                format!("`{id}` is not `rtb-` followed by 8 or 17 lowercase hex digits"),
                "copy the ids from `aws ec2 describe-route-tables`, separated by commas",
            ));
        }
        if ids.iter().any(|seen| seen == id) {
            return Err(violation(
                format!("`{id}` is listed twice"),
                "list each route table once",
            ));
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Whether every character is allowed in an AWS tag key or value: Unicode letters, digits,
/// spaces and `_ . : / = + - @`.
pub fn tag_safe(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_alphanumeric()
            || c == ' '
            || (c.is_whitespace() && !c.is_control())
            || "_.:/=+-@".contains(c)
    })
}

fn unsafe_chars(text: &str) -> String {
    let mut found: Vec<char> = text.chars().filter(|c| !tag_safe(&c.to_string())).collect();
    found.dedup();
    found
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A user tag key: 1-128 characters, tag-safe, not `aws:`, not the tool's namespace.
pub fn tag_key(key: &str) -> Result<(), Violation> {
    let len = key.chars().count();
    if len == 0 {
        return Err(violation(
            "tag keys must not be empty",
            "give the tag a name",
        ));
    }
    if len > TAG_KEY_MAX {
        return Err(violation(
            format!("tag key is {len} characters, over AWS's limit of {TAG_KEY_MAX}"),
            "shorten the key",
        ));
    }
    let lower = key.to_lowercase();
    if lower.starts_with("aws:") {
        return Err(violation(
            "tag keys starting with `aws:` are reserved by AWS",
            "rename the tag without the `aws:` prefix",
        ));
    }
    if lower.starts_with(TOOL_TAG_PREFIX) {
        return Err(violation(
            format!(
                "tag keys starting with `{TOOL_TAG_PREFIX}` are reserved for the tool's own tags (s3-provisioner:deployment, s3-provisioner:managed-by)"
            ),
            "rename the tag; the tool adds its own tags itself",
        ));
    }
    if !tag_safe(key) {
        return Err(violation(
            format!(
                "tag key contains characters AWS does not allow: {}",
                unsafe_chars(key)
            ),
            "use only letters, digits, spaces and _ . : / = + - @",
        ));
    }
    Ok(())
}

/// A user tag value: 0-256 characters, tag-safe.
pub fn tag_value(value: &str) -> Result<(), Violation> {
    let len = value.chars().count();
    if len > TAG_VALUE_MAX {
        return Err(violation(
            format!("tag value is {len} characters, over AWS's limit of {TAG_VALUE_MAX}"),
            "shorten the value",
        ));
    }
    if !tag_safe(value) {
        return Err(violation(
            format!(
                "tag value contains characters AWS does not allow: {}",
                unsafe_chars(value)
            ),
            "use only letters, digits, spaces and _ . : / = + - @",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_near_misses_only() {
        let keys = ["company_name", "company_prefix", "account_id", "tenant_id"];
        assert_eq!(did_you_mean("compnay_name", &keys), Some("company_name"));
        assert_eq!(did_you_mean("Account-ID", &keys), Some("account_id"));
        assert_eq!(did_you_mean("tenantid", &keys), Some("tenant_id"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }

    #[test]
    fn company_name_must_not_be_blank() {
        assert!(company_name("Edge Corp").is_ok());
        assert!(company_name("  ").is_err());
    }

    #[test]
    fn company_prefix_rules() {
        for ok in ["edge", "e", "acme2", "a2345678901234567890"] {
            assert_eq!(company_prefix(ok).unwrap(), ok);
        }
        let fix = |text| company_prefix(text).unwrap_err().fix;
        assert_eq!(fix("Edge"), "use lowercase: company_prefix: edge");
        assert!(fix("edge-corp").contains("company_prefix: edgecorp"));
        assert!(fix("a23456789012345678901").contains("at most 20"));
        assert_eq!(fix("1edge"), "start it with a letter");
        assert_eq!(fix("édge"), "use only a-z and 0-9");
        assert!(fix("").contains("e.g. company_prefix: edge"));
    }

    #[test]
    fn account_id_is_twelve_digits() {
        assert_eq!(account_id("012345678901").unwrap(), "012345678901");
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert_eq!(
                account_id(bad).unwrap_err().rule,
                "must be exactly 12 digits"
            );
        }
        assert_eq!(
            account_id("0123-4567-8901").unwrap_err().fix,
            "write only the digits: account_id: \"012345678901\""
        );
    }

    #[test]
    fn tenant_id_is_four_lowercase_alphanumerics() {
        assert!(tenant_id("b001").is_ok());
        assert!(tenant_id("0001").is_ok());
        assert_eq!(
            tenant_id("B001").unwrap_err().fix,
            "use lowercase: tenant_id: \"b001\""
        );
        for bad in ["b01", "b0001", "b-01", ""] {
            assert!(tenant_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_is_an_enum_with_synonyms() {
        assert_eq!(env("prod").unwrap(), Env::Prod);
        assert_eq!(env("staging").unwrap(), Env::Staging);
        assert!(env("production").unwrap_err().fix.contains("`prod`"));
        assert!(env("Prod").unwrap_err().fix.contains("`prod`"));
        assert!(env("stage").unwrap_err().fix.contains("`staging`"));
        assert_eq!(
            env("banana").unwrap_err().fix,
            "write one of: prod, dev, test, staging"
        );
    }

    #[test]
    fn region_must_be_real_and_commercial() {
        assert_eq!(region("us-west-1").unwrap(), "us-west-1");
        assert!(region("us-west1").unwrap_err().fix.contains("`us-west-1`"));
        assert!(
            region("us-west-1a")
                .unwrap_err()
                .fix
                .contains("availability zone")
        );
        assert!(region("US-WEST-1").unwrap_err().fix.contains("lowercase"));
        assert!(
            region("us-gov-west-1")
                .unwrap_err()
                .rule
                .contains("aws-us-gov")
        );
        assert!(
            region("mars-north-1")
                .unwrap_err()
                .fix
                .contains("region code")
        );
    }

    #[test]
    fn lifecycle_presets() {
        assert_eq!(
            lifecycle("ml-optimized").unwrap(),
            LifecyclePreset::MlOptimized
        );
        assert_eq!(lifecycle("none").unwrap(), LifecyclePreset::None);
        assert_eq!(lifecycle("").unwrap(), LifecyclePreset::None);
        assert!(
            lifecycle("ml_optimized")
                .unwrap_err()
                .fix
                .contains("`ml-optimized`")
        );
        assert!(
            lifecycle("archive")
                .unwrap_err()
                .fix
                .starts_with("write one of")
        );
    }

    #[test]
    fn vpc_and_route_table_ids() {
        assert!(vpc_id("vpc-0a1b2c3d").is_ok());
        assert!(vpc_id("vpc-0a1b2c3d4e5f67890").is_ok());
        for bad in [
            "vpc-0a1b2c3",
            "vpc-0a1b2c3d4e",
            "vpc-0a1b2c3g",
            "0a1b2c3d",
            "subnet-0a1b2c3d",
        ] {
            assert!(vpc_id(bad).is_err(), "{bad}");
        }
        assert!(
            vpc_id("VPC-0A1B2C3D")
                .unwrap_err()
                .fix
                .contains("lowercase")
        );
        assert_eq!(
            route_table_ids("rtb-0a1b2c3d, rtb-0a1b2c3d4e5f67890").unwrap(),
            ["rtb-0a1b2c3d", "rtb-0a1b2c3d4e5f67890"]
        );
        assert!(
            route_table_ids("rtb-0a1b2c3d,")
                .unwrap_err()
                .rule
                .contains("item 2")
        );
        assert!(
            route_table_ids("rtb-xyz")
                .unwrap_err()
                .rule
                .contains("`rtb-xyz`")
        );
        assert!(
            route_table_ids("rtb-0a1b2c3d,rtb-0a1b2c3d")
                .unwrap_err()
                .rule
                .contains("twice")
        );
    }

    #[test]
    fn tag_rules() {
        assert!(tag_key("Purpose").is_ok());
        assert!(tag_key("team:owner/name=x+y-z@w_v.u").is_ok());
        assert!(tag_key("").is_err());
        assert!(tag_key(&"k".repeat(128)).is_ok());
        assert!(tag_key(&"k".repeat(129)).unwrap_err().rule.contains("129"));
        assert!(
            tag_key("aws:cost")
                .unwrap_err()
                .rule
                .contains("reserved by AWS")
        );
        assert!(tag_key("AWS:cost").is_err());
        assert!(
            tag_key("s3-provisioner:deployment")
                .unwrap_err()
                .rule
                .contains("tool's own")
        );
        assert!(tag_key("cost#center").unwrap_err().rule.contains("'#'"));
        assert!(tag_value("").is_ok());
        assert!(tag_value("ML Solutions Portfolio").is_ok());
        assert!(tag_value("Ünïcödé ok").is_ok());
        assert!(tag_value(&"v".repeat(256)).is_ok());
        assert!(tag_value(&"v".repeat(257)).is_err());
        assert!(tag_value("a, b").unwrap_err().rule.contains("','"));
        assert!(tag_value("tab\there").is_err());
    }
}
