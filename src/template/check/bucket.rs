//! Checks of the `Bucket` resource: retention, secure defaults, versioning, ownership tags, and
//! lifecycle sanity.

use serde_yaml::Value;

use super::{Expected, Findings, is_true, properties};
use crate::config::LifecyclePreset;
use crate::template::yaml::{self, scalar_text, show};
use crate::template::{
    BUCKET, BucketProperties, DEPLOYMENT_TAG, MANAGED_BY_TAG, MANAGED_BY_VALUE, ResourceType,
    VersioningStatus,
};

/// Encryption algorithms that count as encrypted at rest.
const ACCEPTED_SSE: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];

/// The four public access block switches, all of which must be true.
const PUBLIC_ACCESS_BLOCK: [&str; 4] = [
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
];

pub(super) fn check_bucket(
    resource: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let Some(resource) = resource else {
        findings.regenerate(BUCKET, "", "is missing: the template creates no bucket");
        return;
    };
    check_retention(resource, expected, findings);
    let Some(props) = properties(BUCKET, resource, BucketProperties::TYPE, findings) else {
        return;
    };
    let name = props.get("BucketName");
    if name.and_then(Value::as_str) != Some(expected.deployment.bucket_name.as_str()) {
        findings.regenerate(
            BUCKET,
            "BucketName",
            format!(
                "is {}, but deployment {} uses bucket {:?}",
                show(name),
                expected.deployment.name,
                expected.deployment.bucket_name
            ),
        );
    }
    check_versioning(props, expected, findings);
    check_encryption(props, findings);
    for switch in PUBLIC_ACCESS_BLOCK {
        let value = props
            .get("PublicAccessBlockConfiguration")
            .and_then(|block| block.get(switch));
        if !is_true(value) {
            findings.add(
                BUCKET,
                &format!("PublicAccessBlockConfiguration.{switch}"),
                format!("is {}: the bucket could be made public", show(value)),
                format!("set PublicAccessBlockConfiguration.{switch}: true, or regenerate the template: {}", findings.command),
            );
        }
    }
    check_ownership(props, findings);
    check_tags(props, expected, findings);
    check_lifecycle(props.get("LifecycleConfiguration"), expected, findings);
}

fn check_retention(resource: &Value, expected: &Expected<'_>, findings: &mut Findings<'_>) {
    let want = if expected.deployment.is_test() {
        "Delete"
    } else {
        "Retain"
    };
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        let value = resource.get(policy);
        if value.and_then(Value::as_str) == Some(want) {
            continue;
        }
        let why = if want == "Retain" {
            "deleting or replacing the stack would delete the bucket and its data; only tear-down --force may do that"
        } else {
            "a test deployment must be removed completely with its stack"
        };
        findings.add(
            BUCKET,
            policy,
            format!("is {}, expected {want}: {why}", show(value)),
            format!(
                "set {policy}: {want}, or regenerate the template: {}",
                findings.command
            ),
        );
    }
}

fn check_versioning(props: &Value, expected: &Expected<'_>, findings: &mut Findings<'_>) {
    let want = VersioningStatus::from_flag(expected.config.s3.versioning).as_str();
    let status = props
        .get("VersioningConfiguration")
        .and_then(|v| v.get("Status"));
    match status.and_then(Value::as_str) {
        Some(actual) if actual == want => {}
        Some("Enabled" | "Suspended") => findings.regenerate(
            BUCKET,
            "VersioningConfiguration.Status",
            format!(
                "is {}, but the config sets versioning: {}",
                show(status),
                expected.config.s3.versioning
            ),
        ),
        _ => findings.regenerate(
            BUCKET,
            "VersioningConfiguration.Status",
            format!(
                "is {}: versioning must be set explicitly (Enabled or Suspended) so drift detection covers it",
                show(status)
            ),
        ),
    }
}

fn check_encryption(props: &Value, findings: &mut Findings<'_>) {
    let rules = props
        .get("BucketEncryption")
        .and_then(|e| e.get("ServerSideEncryptionConfiguration"))
        .and_then(Value::as_sequence)
        .filter(|rules| !rules.is_empty());
    let Some(rules) = rules else {
        findings.add(
            BUCKET,
            "BucketEncryption",
            "is missing: default encryption at rest is not declared, so drift detection cannot see it",
            format!(
                "add BucketEncryption with SSEAlgorithm AES256 (or aws:kms), or regenerate the template: {}",
                findings.command
            ),
        );
        return;
    };
    for (index, rule) in rules.iter().enumerate() {
        let algorithm = rule
            .get("ServerSideEncryptionByDefault")
            .and_then(|d| d.get("SSEAlgorithm"));
        if !algorithm
            .and_then(Value::as_str)
            .is_some_and(|a| ACCEPTED_SSE.contains(&a))
        {
            findings.add(
                BUCKET,
                &format!(
                    "BucketEncryption.ServerSideEncryptionConfiguration[{index}].ServerSideEncryptionByDefault.SSEAlgorithm"
                ),
                format!("is {}, expected AES256, aws:kms or aws:kms:dsse", show(algorithm)),
                format!("set SSEAlgorithm: AES256, or regenerate the template: {}", findings.command),
            );
        }
    }
}

fn check_ownership(props: &Value, findings: &mut Findings<'_>) {
    let rules = props
        .get("OwnershipControls")
        .and_then(|o| o.get("Rules"))
        .and_then(Value::as_sequence);
    let enforced = rules.is_some_and(|rules| {
        !rules.is_empty()
            && rules.iter().all(|rule| {
                rule.get("ObjectOwnership").and_then(Value::as_str) == Some("BucketOwnerEnforced")
            })
    });
    if !enforced {
        findings.add(
            BUCKET,
            "OwnershipControls",
            format!(
                "is {}, expected ObjectOwnership BucketOwnerEnforced: without it, ACLs can grant access",
                show(props.get("OwnershipControls"))
            ),
            format!("set OwnershipControls.Rules[0].ObjectOwnership: BucketOwnerEnforced, or regenerate the template: {}", findings.command),
        );
    }
    if let Some(acl) = props.get("AccessControl") {
        findings.add(
            BUCKET,
            "AccessControl",
            format!(
                "is {}: canned ACLs are not used by the tool and may grant access",
                show(Some(acl))
            ),
            format!(
                "remove AccessControl, or regenerate the template: {}",
                findings.command
            ),
        );
    }
}

fn check_tags(props: &Value, expected: &Expected<'_>, findings: &mut Findings<'_>) {
    let tag = |key: &str| {
        props
            .get("Tags")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .find(|t| t.get("Key").and_then(Value::as_str) == Some(key))
            .and_then(|t| t.get("Value"))
            .and_then(scalar_text)
    };
    let deployment = &expected.deployment.name;
    if tag(DEPLOYMENT_TAG).as_deref() != Some(deployment.as_str()) {
        findings.regenerate(
            BUCKET,
            &format!("Tags.{DEPLOYMENT_TAG}"),
            format!(
                "is {:?}, expected {deployment:?}: deploying actions refuse to touch a bucket without this ownership tag",
                tag(DEPLOYMENT_TAG).unwrap_or_else(|| "(missing)".to_owned())
            ),
        );
    }
    if tag(MANAGED_BY_TAG).as_deref() != Some(MANAGED_BY_VALUE) {
        findings.regenerate(
            BUCKET,
            &format!("Tags.{MANAGED_BY_TAG}"),
            format!(
                "is {:?}, expected {MANAGED_BY_VALUE:?}",
                tag(MANAGED_BY_TAG).unwrap_or_else(|| "(missing)".to_owned())
            ),
        );
    }
}

/// Lifecycle: present iff the config has a preset, and every rule sane: positive days, transitions
/// in increasing order, expiration after the last transition, scoped to `solutions/`.
fn check_lifecycle(
    lifecycle: Option<&Value>,
    expected: &Expected<'_>,
    findings: &mut Findings<'_>,
) {
    let preset = expected.config.s3.lifecycle_policy;
    let rules = lifecycle
        .and_then(|l| l.get("Rules"))
        .and_then(Value::as_sequence);
    match (preset, rules) {
        (LifecyclePreset::None, None) => return,
        (LifecyclePreset::None, Some(_)) => findings.regenerate(
            BUCKET,
            "LifecycleConfiguration",
            "is present, but the config sets lifecycle_policy: none",
        ),
        (_, None) => {
            findings.regenerate(
                BUCKET,
                "LifecycleConfiguration",
                format!(
                    "is {}, but the config sets lifecycle_policy: {}",
                    show(lifecycle),
                    preset.as_str()
                ),
            );
            return;
        }
        (_, Some(rules)) => {
            if !rules
                .iter()
                .any(|r| r.get("Id").and_then(Value::as_str) == Some(preset.as_str()))
            {
                findings.regenerate(
                    BUCKET,
                    "LifecycleConfiguration.Rules",
                    format!(
                        "has no rule with Id {}, but the config sets lifecycle_policy: {}",
                        preset.as_str(),
                        preset.as_str()
                    ),
                );
            }
        }
    }
    for (index, rule) in rules.into_iter().flatten().enumerate() {
        check_rule(
            &format!("LifecycleConfiguration.Rules[{index}]"),
            rule,
            findings,
        );
    }
}

fn check_rule(path: &str, rule: &Value, findings: &mut Findings<'_>) {
    let status = rule.get("Status");
    if !matches!(status.and_then(Value::as_str), Some("Enabled" | "Disabled")) {
        findings.regenerate(
            BUCKET,
            &format!("{path}.Status"),
            format!("is {}, expected Enabled or Disabled", show(status)),
        );
    }
    let prefix = rule.get("Prefix");
    if prefix.and_then(Value::as_str) != Some(crate::blueprint::SOLUTIONS_PREFIX) {
        findings.regenerate(
            BUCKET,
            &format!("{path}.Prefix"),
            format!(
                "is {}, expected {:?}: a rule without it would also expire or move the tool's own objects",
                show(prefix),
                crate::blueprint::SOLUTIONS_PREFIX
            ),
        );
    }
    let abort = rule
        .get("AbortIncompleteMultipartUpload")
        .and_then(|a| a.get("DaysAfterInitiation"));
    if abort.is_some() {
        positive_days(
            &format!("{path}.AbortIncompleteMultipartUpload.DaysAfterInitiation"),
            abort,
            findings,
        );
    }
    let current_last = transitions(
        &format!("{path}.Transitions"),
        rule.get("Transitions"),
        findings,
    );
    let expiration = rule.get("ExpirationInDays");
    if expiration.is_some() {
        expiration_after(
            &format!("{path}.ExpirationInDays"),
            expiration,
            current_last,
            findings,
        );
    }
    let noncurrent_last = transitions(
        &format!("{path}.NoncurrentVersionTransitions"),
        rule.get("NoncurrentVersionTransitions"),
        findings,
    );
    let noncurrent = rule
        .get("NoncurrentVersionExpiration")
        .and_then(|e| e.get("NoncurrentDays"));
    if noncurrent.is_some() {
        expiration_after(
            &format!("{path}.NoncurrentVersionExpiration.NoncurrentDays"),
            noncurrent,
            noncurrent_last,
            findings,
        );
    }
}

/// Check a transition list; returns the last (largest) day.
fn transitions(path: &str, steps: Option<&Value>, findings: &mut Findings<'_>) -> Option<u64> {
    let mut last: Option<u64> = None;
    for (index, transition) in steps
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let item = format!("{path}[{index}].TransitionInDays");
        let Some(days) = positive_days(&item, transition.get("TransitionInDays"), findings) else {
            continue;
        };
        if let Some(previous) = last.filter(|previous| days <= *previous) {
            findings.regenerate(
                BUCKET,
                &item,
                format!("is {days}, not after the previous transition at {previous} days: transitions must be in increasing order"),
            );
        }
        last = Some(last.map_or(days, |previous| previous.max(days)));
    }
    last
}

fn expiration_after(
    path: &str,
    value: Option<&Value>,
    last: Option<u64>,
    findings: &mut Findings<'_>,
) {
    let Some(days) = positive_days(path, value, findings) else {
        return;
    };
    if let Some(last) = last.filter(|last| days <= *last) {
        findings.regenerate(
            BUCKET,
            path,
            format!("is {days}, not after the last transition at {last} days: objects would expire before they move"),
        );
    }
}

/// A whole number of days ≥ 1 (a number or a numeric string, as CloudFormation accepts).
fn positive_days(path: &str, value: Option<&Value>, findings: &mut Findings<'_>) -> Option<u64> {
    let days = value
        .and_then(yaml::scalar_text)
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|days| *days > 0);
    if days.is_none() {
        findings.regenerate(
            BUCKET,
            path,
            format!(
                "is {}, expected a whole number of days, at least 1",
                show(value)
            ),
        );
    }
    days
}
