//! The pure comparison of expected with live state, one [`Finding`] per property that differs.
//! Property names use CloudFormation's spelling so a finding reads like the template.

use std::collections::{BTreeMap, BTreeSet};

use super::reported::{ResourceDrift, StackDriftOutcome};
use super::state::{
    BucketState, EncryptionRule, LifecycleRuleState, ParameterState, PublicAccessBlock,
    TransitionRule,
};
use super::{ABSENT, Check, Finding, Source};
use crate::blueprint;
use crate::template;

fn live(check: Check, resource: &str, property: impl Into<String>) -> FindingBuilder {
    FindingBuilder {
        check,
        resource: resource.to_owned(),
        property: property.into(),
        source: Source::Live,
    }
}

struct FindingBuilder {
    check: Check,
    resource: String,
    property: String,
    source: Source,
}

impl FindingBuilder {
    fn values(self, expected: impl Into<String>, actual: impl Into<String>) -> Finding {
        Finding {
            check: self.check,
            resource: self.resource,
            property: self.property,
            expected: expected.into(),
            actual: actual.into(),
            source: self.source,
        }
    }
}

/// The finding for a bucket that does not exist although the stack should own it.
pub fn missing_bucket(bucket_name: &str) -> Finding {
    live(Check::Bucket, template::BUCKET, "BucketName").values(bucket_name, "(no such bucket)")
}

/// Every difference between the expected and the live bucket settings.
pub fn compare_bucket(expected: &BucketState, actual: &BucketState) -> Vec<Finding> {
    let mut findings = Vec::new();
    let bucket = template::BUCKET;

    // A bucket that was never versioned behaves like a suspended one.
    let versioning_matches = expected.versioning == actual.versioning
        || (expected.versioning.as_deref() == Some("Suspended") && actual.versioning.is_none());
    if !versioning_matches {
        findings.push(
            live(Check::Versioning, bucket, "VersioningConfiguration.Status").values(
                expected.versioning.as_deref().unwrap_or(ABSENT),
                actual.versioning.as_deref().unwrap_or("(never enabled)"),
            ),
        );
    }

    if expected.encryption != actual.encryption {
        findings.push(
            live(
                Check::Encryption,
                bucket,
                "BucketEncryption.ServerSideEncryptionConfiguration",
            )
            .values(
                encryption_text(&expected.encryption),
                encryption_text(&actual.encryption),
            ),
        );
    }

    let expected_pab = expected
        .public_access_block
        .unwrap_or(PublicAccessBlock::NONE);
    let actual_pab = actual
        .public_access_block
        .unwrap_or(PublicAccessBlock::NONE);
    for ((name, want), (_, have)) in expected_pab.flags().into_iter().zip(actual_pab.flags()) {
        if want != have {
            let actual_text = if actual.public_access_block.is_none() {
                format!("{have} (no public access block)")
            } else {
                have.to_string()
            };
            findings.push(
                live(
                    Check::PublicAccessBlock,
                    bucket,
                    format!("PublicAccessBlockConfiguration.{name}"),
                )
                .values(want.to_string(), actual_text),
            );
        }
    }

    if expected.object_ownership != actual.object_ownership {
        findings.push(
            live(
                Check::OwnershipControls,
                bucket,
                "OwnershipControls.Rules.ObjectOwnership",
            )
            .values(
                expected.object_ownership.as_deref().unwrap_or(ABSENT),
                actual.object_ownership.as_deref().unwrap_or(ABSENT),
            ),
        );
    }

    findings.extend(compare_lifecycle(
        &expected.lifecycle_rules,
        &actual.lifecycle_rules,
    ));

    let keys: BTreeSet<&String> = expected.tags.keys().chain(actual.tags.keys()).collect();
    for key in keys {
        let (want, have) = (expected.tags.get(key), actual.tags.get(key));
        if want != have {
            findings.push(live(Check::Tags, bucket, format!("Tags.{key}")).values(
                want.map_or(ABSENT, String::as_str),
                have.map_or(ABSENT, String::as_str),
            ));
        }
    }

    if expected.policy != actual.policy {
        let text = |policy: &Option<serde_json::Value>| {
            policy
                .as_ref()
                .map_or_else(|| "(no bucket policy)".to_owned(), ToString::to_string)
        };
        findings.push(
            live(
                Check::BucketPolicy,
                template::BUCKET_POLICY,
                "PolicyDocument",
            )
            .values(text(&expected.policy), text(&actual.policy)),
        );
    }
    findings
}

fn encryption_text(rules: &[EncryptionRule]) -> String {
    if rules.is_empty() {
        return "(no default encryption)".to_owned();
    }
    rules
        .iter()
        .map(|rule| {
            let key = rule
                .kms_key_id
                .as_deref()
                .map(|k| format!(" key={k}"))
                .unwrap_or_default();
            format!(
                "{}{key} BucketKeyEnabled={}",
                rule.algorithm, rule.bucket_key_enabled
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn transitions_text(steps: &[TransitionRule]) -> String {
    if steps.is_empty() {
        return ABSENT.to_owned();
    }
    steps
        .iter()
        .map(|s| format!("{} at {} days", s.storage_class, s.days))
        .collect::<Vec<_>>()
        .join(", ")
}

fn days_text(days: Option<i64>) -> String {
    days.map_or_else(|| ABSENT.to_owned(), |d| d.to_string())
}

fn rule_text(rule: &LifecycleRuleState) -> String {
    format!(
        "{} rule on {}",
        rule.status,
        rule.prefix.as_deref().unwrap_or("(whole bucket)")
    )
}

fn compare_lifecycle(
    expected: &[LifecycleRuleState],
    actual: &[LifecycleRuleState],
) -> Vec<Finding> {
    let bucket = template::BUCKET;
    let by_id = |rules: &[LifecycleRuleState]| -> BTreeMap<String, LifecycleRuleState> {
        rules.iter().map(|r| (r.id.clone(), r.clone())).collect()
    };
    let (expected, actual) = (by_id(expected), by_id(actual));
    let ids: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let mut findings = Vec::new();
    for id in ids {
        let path = format!("LifecycleConfiguration.Rules[{id}]");
        let (want, have) = match (expected.get(id), actual.get(id)) {
            (Some(want), Some(have)) => (want, have),
            (Some(want), None) => {
                findings.push(live(Check::Lifecycle, bucket, path).values(rule_text(want), ABSENT));
                continue;
            }
            (None, Some(have)) => {
                findings.push(live(Check::Lifecycle, bucket, path).values(ABSENT, rule_text(have)));
                continue;
            }
            (None, None) => continue,
        };
        let mut field = |name: &str, want: String, have: String| {
            if want != have {
                findings.push(
                    live(Check::Lifecycle, bucket, format!("{path}.{name}")).values(want, have),
                );
            }
        };
        field("Status", want.status.clone(), have.status.clone());
        field(
            "Prefix",
            want.prefix.clone().unwrap_or_else(|| ABSENT.to_owned()),
            have.prefix.clone().unwrap_or_else(|| ABSENT.to_owned()),
        );
        field(
            "AbortIncompleteMultipartUpload.DaysAfterInitiation",
            days_text(want.abort_incomplete_multipart_days),
            days_text(have.abort_incomplete_multipart_days),
        );
        field(
            "Transitions",
            transitions_text(&want.transitions),
            transitions_text(&have.transitions),
        );
        field(
            "ExpirationInDays",
            days_text(want.expiration_days),
            days_text(have.expiration_days),
        );
        field(
            "NoncurrentVersionTransitions",
            transitions_text(&want.noncurrent_transitions),
            transitions_text(&have.noncurrent_transitions),
        );
        field(
            "NoncurrentVersionExpiration.NoncurrentDays",
            days_text(want.noncurrent_expiration_days),
            days_text(have.noncurrent_expiration_days),
        );
        if want.other != have.other {
            let text = |other: &[String]| {
                if other.is_empty() {
                    ABSENT.to_owned()
                } else {
                    other.join(", ")
                }
            };
            field("(other settings)", text(&want.other), text(&have.other));
        }
    }
    findings
}

/// Every SSM parameter that is missing or holds another value than expected.
pub fn compare_parameters(expected: &[ParameterState], actual: &[ParameterState]) -> Vec<Finding> {
    expected
        .iter()
        .filter_map(|want| {
            let have = actual
                .iter()
                .find(|p| p.name == want.name)
                .and_then(|p| p.value.as_deref());
            (want.value.as_deref() != have).then(|| {
                live(Check::SsmParameters, want.logical_id, want.name.clone()).values(
                    want.value.as_deref().unwrap_or(ABSENT),
                    have.unwrap_or("(no such parameter)"),
                )
            })
        })
        .collect()
}

/// Every blueprint marker missing from the solutions `solutions` (SPEC §7), given the marker keys
/// that exist. Folders users added themselves are never findings: only blueprint keys are asked.
pub fn compare_folders(solutions: &[String], present: &BTreeSet<String>) -> Vec<Finding> {
    // `solutions/` is a marker of every solution: report it once, under itself.
    let mut missing: BTreeMap<String, String> = BTreeMap::new();
    for solution in solutions {
        let resource = blueprint::solution_prefix(solution);
        for key in blueprint::marker_keys(solution) {
            if !present.contains(&key) {
                let owner = if key == blueprint::SOLUTIONS_PREFIX {
                    blueprint::SOLUTIONS_PREFIX.to_owned()
                } else {
                    resource.clone()
                };
                missing.insert(key, owner);
            }
        }
    }
    missing
        .into_iter()
        .map(|(key, resource)| Finding {
            check: Check::Folders,
            resource,
            property: key,
            expected: "folder marker".to_owned(),
            actual: ABSENT.to_owned(),
            source: Source::Blueprint,
        })
        .collect()
}

/// The findings of CloudFormation's drift detection: one per property difference, and one per
/// deleted resource. Outcomes other than a completed detection have no findings (the caller
/// reports them as such).
pub fn stack_findings(outcome: &StackDriftOutcome) -> Vec<Finding> {
    let StackDriftOutcome::Completed { resources, .. } = outcome else {
        return Vec::new();
    };
    let finding =
        |resource: &ResourceDrift, property: &str, expected: &str, actual: &str| Finding {
            check: Check::Stack,
            resource: resource.logical_id.clone(),
            property: property.to_owned(),
            expected: expected.to_owned(),
            actual: actual.to_owned(),
            source: Source::Cloudformation,
        };
    let mut findings = Vec::new();
    for resource in resources {
        if resource.status == "DELETED" {
            findings.push(finding(resource, "(resource)", "present", "deleted"));
            continue;
        }
        if resource.differences.is_empty() {
            findings.push(finding(resource, "(resource)", "in sync", &resource.status));
        }
        for difference in &resource.differences {
            let (expected, actual) = match difference.difference.as_str() {
                "ADD" => (ABSENT, difference.actual.as_str()),
                "REMOVE" => (difference.expected.as_str(), ABSENT),
                _ => (difference.expected.as_str(), difference.actual.as_str()),
            };
            findings.push(finding(resource, &difference.path, expected, actual));
        }
    }
    findings
}

/// The marker keys to look for: every blueprint key of every solution in `solutions`.
pub fn wanted_markers(solutions: &[String]) -> BTreeSet<String> {
    solutions
        .iter()
        .flat_map(|s| blueprint::marker_keys(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::expected::expected;
    use crate::fixtures;
    use crate::naming;

    fn shared_expected() -> crate::drift::expected::Expected {
        let config = fixtures::shared_site();
        let deployment = naming::shared_deployment(&config).unwrap();
        expected(&template::build(&config, &deployment), &deployment)
    }

    fn properties(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.property.as_str()).collect()
    }

    #[test]
    fn identical_state_has_no_findings() {
        let expected = shared_expected();
        assert!(compare_bucket(&expected.bucket, &expected.bucket).is_empty());
        assert!(compare_parameters(&expected.parameters, &expected.parameters).is_empty());
    }

    #[test]
    fn each_change_is_named_exactly() {
        let expected = shared_expected().bucket;
        let mut actual = expected.clone();
        actual.versioning = Some("Suspended".to_owned());
        actual
            .tags
            .insert("Owner".to_owned(), "someone-else".to_owned());
        actual.tags.insert("aws-added".to_owned(), "x".to_owned());
        actual.public_access_block = Some(PublicAccessBlock {
            block_public_policy: false,
            ..expected.public_access_block.unwrap()
        });
        actual.lifecycle_rules[0].transitions.pop();
        actual.policy = None;
        actual.object_ownership = Some("ObjectWriter".to_owned());
        let findings = compare_bucket(&expected, &actual);
        assert_eq!(
            properties(&findings),
            [
                "VersioningConfiguration.Status",
                "PublicAccessBlockConfiguration.BlockPublicPolicy",
                "OwnershipControls.Rules.ObjectOwnership",
                "LifecycleConfiguration.Rules[ml-optimized].Transitions",
                "Tags.Owner",
                "Tags.aws-added",
                "PolicyDocument",
            ]
        );
        let owner = &findings[4];
        assert_eq!(
            (owner.expected.as_str(), owner.actual.as_str()),
            ("data-science", "someone-else")
        );
        assert_eq!(findings[5].expected, ABSENT);
        assert_eq!(findings[6].actual, "(no bucket policy)");
        assert!(findings.iter().all(|f| f.source == Source::Live));
    }

    #[test]
    fn a_missing_lifecycle_rule_is_one_finding() {
        let expected = shared_expected().bucket;
        let actual = BucketState {
            lifecycle_rules: Vec::new(),
            ..expected.clone()
        };
        let findings = compare_bucket(&expected, &actual);
        assert_eq!(
            properties(&findings),
            ["LifecycleConfiguration.Rules[ml-optimized]"]
        );
        assert_eq!(findings[0].check, Check::Lifecycle);
        assert_eq!(findings[0].actual, ABSENT);
    }

    #[test]
    fn never_versioned_equals_suspended() {
        let expected = BucketState {
            versioning: Some("Suspended".to_owned()),
            ..BucketState::default()
        };
        assert!(compare_bucket(&expected, &BucketState::default()).is_empty());
    }

    #[test]
    fn a_wrong_or_missing_parameter_is_reported() {
        let expected = shared_expected().parameters;
        let mut actual = expected.clone();
        actual[0].value = None;
        actual[1].value = Some("arn:aws:s3:::other".to_owned());
        let findings = compare_parameters(&expected, &actual);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].resource, "BucketNameParameter");
        assert_eq!(findings[0].actual, "(no such parameter)");
        assert_eq!(findings[1].actual, "arn:aws:s3:::other");
    }

    #[test]
    fn missing_markers_are_reported_and_user_folders_ignored() {
        let solutions = vec!["master-solution".to_owned(), "extra".to_owned()];
        let mut present = wanted_markers(&solutions);
        present.insert("solutions/master-solution/my-own-folder/".to_owned());
        assert!(compare_folders(&solutions, &present).is_empty());

        present.remove("solutions/master-solution/data/raw/");
        present.remove("solutions/");
        let findings = compare_folders(&solutions, &present);
        assert_eq!(
            properties(&findings),
            ["solutions/", "solutions/master-solution/data/raw/"]
        );
        assert_eq!(findings[0].resource, "solutions/");
        assert_eq!(findings[1].resource, "solutions/master-solution/");
        assert!(findings.iter().all(|f| f.source == Source::Blueprint));
    }

    #[test]
    fn cloudformation_differences_become_findings() {
        use crate::drift::reported::PropertyDrift;
        let outcome = StackDriftOutcome::Completed {
            stack_status: "DRIFTED".to_owned(),
            resources: vec![
                ResourceDrift {
                    logical_id: "Bucket".to_owned(),
                    physical_id: Some("b1".to_owned()),
                    resource_type: "AWS::S3::Bucket".to_owned(),
                    status: "MODIFIED".to_owned(),
                    differences: vec![
                        PropertyDrift {
                            path: "/VersioningConfiguration/Status".to_owned(),
                            expected: "Enabled".to_owned(),
                            actual: "Suspended".to_owned(),
                            difference: "NOT_EQUAL".to_owned(),
                        },
                        PropertyDrift {
                            path: "/LifecycleConfiguration".to_owned(),
                            expected: "{\"Rules\":[]}".to_owned(),
                            actual: "null".to_owned(),
                            difference: "REMOVE".to_owned(),
                        },
                    ],
                },
                ResourceDrift {
                    logical_id: "BucketPolicy".to_owned(),
                    physical_id: None,
                    resource_type: "AWS::S3::BucketPolicy".to_owned(),
                    status: "DELETED".to_owned(),
                    differences: Vec::new(),
                },
            ],
        };
        let findings = stack_findings(&outcome);
        let rows: Vec<(&str, &str, &str, &str)> = findings
            .iter()
            .map(|f| {
                (
                    f.resource.as_str(),
                    f.property.as_str(),
                    f.expected.as_str(),
                    f.actual.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "Bucket",
                    "/VersioningConfiguration/Status",
                    "Enabled",
                    "Suspended"
                ),
                (
                    "Bucket",
                    "/LifecycleConfiguration",
                    "{\"Rules\":[]}",
                    ABSENT
                ),
                ("BucketPolicy", "(resource)", "present", "deleted"),
            ]
        );
        assert!(findings.iter().all(|f| f.source == Source::Cloudformation));
        assert!(
            stack_findings(&StackDriftOutcome::Unavailable {
                reason: "x".to_owned()
            })
            .is_empty()
        );
    }
}
