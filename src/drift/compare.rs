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

/// One compared bucket property: a row of [`BUCKET_PROPERTIES`].
struct Property {
    check: Check,
    /// The template resource the property belongs to.
    resource: &'static str,
    /// CloudFormation's path of the property; keyed properties (flags, tags, lifecycle rules)
    /// add each key to it.
    path: &'static str,
    /// Reads the property from the expected and the live state and applies its equality rule:
    /// every value that differs, in finding order.
    differences: fn(&BucketState, &BucketState) -> Vec<Difference>,
}

/// A value that differs: the key added to the property's path (empty for a one-value property)
/// and both values as shown.
struct Difference {
    key: String,
    expected: String,
    actual: String,
}

/// The bucket properties the live check compares, in the order findings are listed. A new drift
/// property is one row here, beside its field in `drift::state`, its read in `aws::live` (with
/// the permission in `policy::operations`) and its expected value in `drift::expected`.
const BUCKET_PROPERTIES: &[Property] = &[
    Property {
        check: Check::Versioning,
        resource: template::BUCKET,
        path: "VersioningConfiguration.Status",
        differences: |want, have| {
            one(
                &want.versioning,
                &have.versioning,
                // A bucket that was never versioned behaves like a suspended one.
                |want, have| {
                    want == have || (want.as_deref() == Some("Suspended") && have.is_none())
                },
                |status| text_or(status.as_deref(), ABSENT),
                |status| text_or(status.as_deref(), "(never enabled)"),
            )
        },
    },
    Property {
        check: Check::Encryption,
        resource: template::BUCKET,
        path: "BucketEncryption.ServerSideEncryptionConfiguration",
        differences: |want, have| {
            one(
                &want.encryption,
                &have.encryption,
                PartialEq::eq,
                |rules| encryption_text(rules),
                |rules| encryption_text(rules),
            )
        },
    },
    Property {
        check: Check::PublicAccessBlock,
        resource: template::BUCKET,
        path: "PublicAccessBlockConfiguration",
        differences: public_access_block,
    },
    Property {
        check: Check::OwnershipControls,
        resource: template::BUCKET,
        path: "OwnershipControls.Rules.ObjectOwnership",
        differences: |want, have| {
            one(
                &want.object_ownership,
                &have.object_ownership,
                PartialEq::eq,
                |ownership| text_or(ownership.as_deref(), ABSENT),
                |ownership| text_or(ownership.as_deref(), ABSENT),
            )
        },
    },
    Property {
        check: Check::Lifecycle,
        resource: template::BUCKET,
        path: "LifecycleConfiguration.Rules",
        differences: |want, have| lifecycle(&want.lifecycle_rules, &have.lifecycle_rules),
    },
    Property {
        check: Check::Tags,
        resource: template::BUCKET,
        path: "Tags",
        differences: |want, have| tags(&want.tags, &have.tags),
    },
    Property {
        check: Check::BucketPolicy,
        resource: template::BUCKET_POLICY,
        path: "PolicyDocument",
        differences: |want, have| {
            one(
                &want.policy,
                &have.policy,
                PartialEq::eq,
                |policy| policy_text(policy.as_ref()),
                |policy| policy_text(policy.as_ref()),
            )
        },
    },
];

/// Every difference between the expected and the live bucket settings.
pub fn compare_bucket(expected: &BucketState, actual: &BucketState) -> Vec<Finding> {
    BUCKET_PROPERTIES
        .iter()
        .flat_map(|property| {
            (property.differences)(expected, actual)
                .into_iter()
                .map(|difference| {
                    live(
                        property.check,
                        property.resource,
                        format!("{}{}", property.path, difference.key),
                    )
                    .values(difference.expected, difference.actual)
                })
        })
        .collect()
}

/// A one-value property: one difference unless `same` holds, each side shown by its own text.
fn one<T>(
    want: &T,
    have: &T,
    same: fn(&T, &T) -> bool,
    expected_text: fn(&T) -> String,
    actual_text: fn(&T) -> String,
) -> Vec<Difference> {
    if same(want, have) {
        return Vec::new();
    }
    vec![Difference {
        key: String::new(),
        expected: expected_text(want),
        actual: actual_text(have),
    }]
}

/// A keyed difference (`key` already holds its separator: `.Name`, `[id]`).
fn keyed(key: String, expected: impl Into<String>, actual: impl Into<String>) -> Difference {
    Difference {
        key,
        expected: expected.into(),
        actual: actual.into(),
    }
}

fn text_or(value: Option<&str>, absent: &str) -> String {
    value.unwrap_or(absent).to_owned()
}

/// Each public access block flag that differs; a bucket without the configuration behaves like
/// one with every flag off, and says so.
fn public_access_block(want: &BucketState, have: &BucketState) -> Vec<Difference> {
    let no_block = have.public_access_block.is_none();
    let expected = want.public_access_block.unwrap_or(PublicAccessBlock::NONE);
    let actual = have.public_access_block.unwrap_or(PublicAccessBlock::NONE);
    expected
        .flags()
        .into_iter()
        .zip(actual.flags())
        .filter(|((_, want), (_, have))| want != have)
        .map(|((name, want), (_, have))| {
            let actual_text = if no_block {
                format!("{have} (no public access block)")
            } else {
                have.to_string()
            };
            keyed(format!(".{name}"), want.to_string(), actual_text)
        })
        .collect()
}

/// Each tag missing on either side or holding another value, by key.
fn tags(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> Vec<Difference> {
    let keys: BTreeSet<&String> = want.keys().chain(have.keys()).collect();
    keys.into_iter()
        .filter(|key| want.get(*key) != have.get(*key))
        .map(|key| {
            keyed(
                format!(".{key}"),
                want.get(key).map_or(ABSENT, String::as_str),
                have.get(key).map_or(ABSENT, String::as_str),
            )
        })
        .collect()
}

fn policy_text(policy: Option<&serde_json::Value>) -> String {
    policy.map_or_else(|| "(no bucket policy)".to_owned(), ToString::to_string)
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

/// A compared setting of a lifecycle rule: the name added to the rule's path, and its text.
type RuleField = (&'static str, fn(&LifecycleRuleState) -> String);

/// The compared settings of one lifecycle rule, in finding order; a setting differs when its texts
/// do.
const LIFECYCLE_RULE_FIELDS: &[RuleField] = &[
    ("Status", |rule| rule.status.clone()),
    ("Prefix", |rule| text_or(rule.prefix.as_deref(), ABSENT)),
    (
        "AbortIncompleteMultipartUpload.DaysAfterInitiation",
        |rule| days_text(rule.abort_incomplete_multipart_days),
    ),
    ("Transitions", |rule| transitions_text(&rule.transitions)),
    ("ExpirationInDays", |rule| days_text(rule.expiration_days)),
    ("NoncurrentVersionTransitions", |rule| {
        transitions_text(&rule.noncurrent_transitions)
    }),
    ("NoncurrentVersionExpiration.NoncurrentDays", |rule| {
        days_text(rule.noncurrent_expiration_days)
    }),
    ("(other settings)", |rule| {
        if rule.other.is_empty() {
            ABSENT.to_owned()
        } else {
            rule.other.join(", ")
        }
    }),
];

/// Lifecycle rules matched by id: a rule on one side only is one difference, a rule on both is
/// one per setting that differs.
fn lifecycle(expected: &[LifecycleRuleState], actual: &[LifecycleRuleState]) -> Vec<Difference> {
    let by_id = |rules: &[LifecycleRuleState]| -> BTreeMap<String, LifecycleRuleState> {
        rules.iter().map(|r| (r.id.clone(), r.clone())).collect()
    };
    let (expected, actual) = (by_id(expected), by_id(actual));
    let ids: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let mut differences = Vec::new();
    for id in ids {
        let key = format!("[{id}]");
        match (expected.get(id), actual.get(id)) {
            (Some(want), Some(have)) => {
                for (name, text) in LIFECYCLE_RULE_FIELDS {
                    let (want, have) = (text(want), text(have));
                    if want != have {
                        differences.push(keyed(format!("{key}.{name}"), want, have));
                    }
                }
            }
            (Some(want), None) => differences.push(keyed(key, rule_text(want), ABSENT)),
            (None, Some(have)) => differences.push(keyed(key, ABSENT, rule_text(have))),
            (None, None) => {}
        }
    }
    differences
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

/// Every blueprint marker missing from the solutions `solutions` (the blueprint), given the marker keys
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
    fn bucket_properties_are_listed_in_the_order_of_the_live_checks() {
        let order = |check| Check::LIVE.iter().position(|live| *live == check).unwrap();
        let checks: Vec<usize> = BUCKET_PROPERTIES.iter().map(|p| order(p.check)).collect();
        assert!(checks.is_sorted(), "{checks:?}");
        let mut paths: Vec<&str> = BUCKET_PROPERTIES.iter().map(|p| p.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), BUCKET_PROPERTIES.len(), "one row per property");
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
