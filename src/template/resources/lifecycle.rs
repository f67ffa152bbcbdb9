//! Lifecycle presets as typed `LifecycleConfiguration` rules.
//!
//! Every rule is scoped to `solutions/` (so the tool's own `_provisioner/` objects are never
//! transitioned or expired), is enabled, and aborts incomplete multipart uploads after
//! `config::lifecycle::ABORT_INCOMPLETE_UPLOAD_DAYS` days. Noncurrent-version rules are added only
//! when versioning is on: on an unversioned bucket they would do nothing and only confuse a reader.

use serde::Serialize;

use crate::config::{LifecyclePreset, lifecycle};

/// `LifecycleConfiguration` of an `AWS::S3::Bucket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    pub rules: Vec<LifecycleRule>,
}

/// One lifecycle rule. Field order is key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: String,
    pub status: RuleStatus,
    pub prefix: String,
    pub abort_incomplete_multipart_upload: AbortIncompleteMultipartUpload,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_version_transitions: Vec<Transition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
}

/// `Status` of a rule; the tool only writes enabled rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RuleStatus {
    Enabled,
}

/// `AbortIncompleteMultipartUpload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

/// A transition of current (`Transitions`) or noncurrent (`NoncurrentVersionTransitions`)
/// versions; both use the same two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Transition {
    /// The S3 storage class (`STANDARD_IA`, `GLACIER`).
    pub storage_class: &'static str,
    pub transition_in_days: u32,
}

/// `NoncurrentVersionExpiration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    pub noncurrent_days: u32,
}

/// The lifecycle configuration of `preset` (`None` for the `none` preset).
pub fn lifecycle_configuration(
    preset: LifecyclePreset,
    versioning: bool,
) -> Option<LifecycleConfiguration> {
    // The presets themselves live in one table (`config::lifecycle`), shared with
    // validate-config's description and the live drift check.
    let preset_rule = preset.rule()?;
    let transitions = |steps: &[lifecycle::Transition]| -> Vec<Transition> {
        steps
            .iter()
            .map(|step| Transition {
                storage_class: step.storage_class,
                transition_in_days: step.days,
            })
            .collect()
    };
    let rule = LifecycleRule {
        id: preset_rule.id.to_owned(),
        status: RuleStatus::Enabled,
        prefix: preset_rule.prefix.to_owned(),
        abort_incomplete_multipart_upload: AbortIncompleteMultipartUpload {
            days_after_initiation: preset_rule.abort_incomplete_upload_days,
        },
        transitions: transitions(preset_rule.transitions),
        expiration_in_days: preset_rule.expiration_days,
        noncurrent_version_transitions: if versioning {
            transitions(preset_rule.noncurrent_transitions)
        } else {
            Vec::new()
        },
        noncurrent_version_expiration: preset_rule
            .noncurrent_expiration_days
            .filter(|_| versioning)
            .map(|noncurrent_days| NoncurrentVersionExpiration { noncurrent_days }),
    };
    Some(LifecycleConfiguration { rules: vec![rule] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_has_no_configuration() {
        assert_eq!(lifecycle_configuration(LifecyclePreset::None, true), None);
    }

    #[test]
    fn noncurrent_rules_only_with_versioning() {
        for preset in LifecyclePreset::ALL {
            let Some(off) = lifecycle_configuration(preset, false) else {
                continue;
            };
            let rule = &off.rules[0];
            assert!(rule.noncurrent_version_transitions.is_empty());
            assert_eq!(rule.noncurrent_version_expiration, None);
            let on = lifecycle_configuration(preset, true).unwrap();
            let rule = &on.rules[0];
            assert!(
                !rule.noncurrent_version_transitions.is_empty()
                    || rule.noncurrent_version_expiration.is_some(),
                "{preset:?} has noncurrent rules with versioning on"
            );
        }
    }

    #[test]
    fn every_rule_is_scoped_enabled_and_aborts_uploads() {
        for preset in LifecyclePreset::ALL {
            for versioning in [false, true] {
                for rule in lifecycle_configuration(preset, versioning)
                    .map(|c| c.rules)
                    .unwrap_or_default()
                {
                    assert_eq!(rule.id, preset.as_str());
                    assert_eq!(rule.prefix, "solutions/");
                    assert_eq!(rule.status, RuleStatus::Enabled);
                    assert_eq!(
                        rule.abort_incomplete_multipart_upload.days_after_initiation,
                        7
                    );
                }
            }
        }
    }

    #[test]
    fn presets_match_the_spec_table() {
        let ml = lifecycle_configuration(LifecyclePreset::MlOptimized, true).unwrap();
        let days: Vec<_> = ml.rules[0]
            .transitions
            .iter()
            .map(|t| (t.storage_class, t.transition_in_days))
            .collect();
        assert_eq!(days, [("STANDARD_IA", 30), ("GLACIER", 90)]);
        assert_eq!(ml.rules[0].expiration_in_days, None);
        let compliance = lifecycle_configuration(LifecyclePreset::Compliance, true).unwrap();
        assert_eq!(compliance.rules[0].expiration_in_days, Some(2555));
        assert_eq!(
            compliance.rules[0].noncurrent_version_expiration,
            Some(NoncurrentVersionExpiration {
                noncurrent_days: 2555
            })
        );
        let dev = lifecycle_configuration(LifecyclePreset::Development, true).unwrap();
        assert_eq!(dev.rules[0].expiration_in_days, Some(90));
        assert_eq!(
            dev.rules[0].noncurrent_version_expiration,
            Some(NoncurrentVersionExpiration {
                noncurrent_days: 30
            })
        );
    }
}
