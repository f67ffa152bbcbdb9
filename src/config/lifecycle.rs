//! The lifecycle presets (docs/config.md) as data: one table that the template generator turns into
//! a `LifecycleConfiguration` and `validate-config` describes in words, so the two cannot disagree.

use serde::Serialize;

use super::LifecyclePreset;
use crate::blueprint::SOLUTIONS_PREFIX;

/// Incomplete multipart uploads are aborted after this many days, in every preset.
pub const ABORT_INCOMPLETE_UPLOAD_DAYS: u32 = 7;

/// A move to another storage class after some days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub days: u32,
    /// The S3 storage class (`STANDARD_IA`, `GLACIER`).
    pub storage_class: &'static str,
}

/// The one lifecycle rule of a preset (status `Enabled`, scoped to [`SOLUTIONS_PREFIX`], the blueprint's
/// solutions folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PresetRule {
    /// The rule Id (the preset's name).
    pub id: &'static str,
    pub prefix: &'static str,
    /// Current versions.
    pub transitions: &'static [Transition],
    pub expiration_days: Option<u32>,
    /// Noncurrent versions: applied only when versioning is on.
    pub noncurrent_transitions: &'static [Transition],
    pub noncurrent_expiration_days: Option<u32>,
    pub abort_incomplete_upload_days: u32,
}

const IA_30_GLACIER_90: &[Transition] = &[
    Transition {
        days: 30,
        storage_class: "STANDARD_IA",
    },
    Transition {
        days: 90,
        storage_class: "GLACIER",
    },
];
const GLACIER_90: &[Transition] = &[Transition {
    days: 90,
    storage_class: "GLACIER",
}];

impl LifecyclePreset {
    /// The preset's rule, or `None` for `none` (no lifecycle configuration at all).
    pub fn rule(self) -> Option<PresetRule> {
        let (transitions, expiration_days, noncurrent_expiration_days) = match self {
            LifecyclePreset::MlOptimized => (IA_30_GLACIER_90, None, None),
            LifecyclePreset::Compliance => (GLACIER_90, Some(2555), Some(2555)),
            LifecyclePreset::Development => (&[][..], Some(90), Some(30)),
            LifecyclePreset::None => return None,
        };
        Some(PresetRule {
            id: self.as_str(),
            prefix: SOLUTIONS_PREFIX,
            transitions,
            expiration_days,
            noncurrent_transitions: transitions,
            noncurrent_expiration_days,
            abort_incomplete_upload_days: ABORT_INCOMPLETE_UPLOAD_DAYS,
        })
    }

    /// The preset in words, e.g. `ml-optimized: solutions/ → STANDARD_IA at 30 d, GLACIER at
    /// 90 d, never expire; noncurrent → …; abort incomplete uploads after 7 d`.
    pub fn describe(self, versioning: bool) -> String {
        let Some(rule) = self.rule() else {
            return "none: no lifecycle rules".to_owned();
        };
        let steps = |transitions: &[Transition], expiration: Option<u32>| {
            let mut steps: Vec<String> = transitions
                .iter()
                .map(|t| format!("{} at {} d", t.storage_class, t.days))
                .collect();
            steps.push(match expiration {
                Some(days) if days % 365 == 0 => {
                    format!("expire at {days} d ({} years)", days / 365)
                }
                Some(days) => format!("expire at {days} d"),
                None => "never expire".to_owned(),
            });
            steps.join(", ")
        };
        let noncurrent = if versioning {
            steps(rule.noncurrent_transitions, rule.noncurrent_expiration_days)
        } else {
            "no rule (versioning is off)".to_owned()
        };
        format!(
            "{}: {} → {}; noncurrent → {noncurrent}; abort incomplete uploads after {} d",
            rule.id,
            rule.prefix,
            steps(rule.transitions, rule.expiration_days),
            rule.abort_incomplete_upload_days
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_the_spec_table() {
        let ml = LifecyclePreset::MlOptimized.rule().unwrap();
        assert_eq!(ml.id, "ml-optimized");
        assert_eq!(ml.prefix, "solutions/");
        assert_eq!(ml.transitions, IA_30_GLACIER_90);
        assert_eq!(
            (ml.expiration_days, ml.noncurrent_expiration_days),
            (None, None)
        );
        let compliance = LifecyclePreset::Compliance.rule().unwrap();
        assert_eq!(compliance.transitions, GLACIER_90);
        assert_eq!(compliance.expiration_days, Some(2555));
        assert_eq!(compliance.noncurrent_expiration_days, Some(2555));
        let development = LifecyclePreset::Development.rule().unwrap();
        assert!(development.transitions.is_empty());
        assert_eq!(development.expiration_days, Some(90));
        assert_eq!(development.noncurrent_expiration_days, Some(30));
        assert_eq!(LifecyclePreset::None.rule(), None);
        for preset in LifecyclePreset::ALL.iter().filter_map(|p| p.rule()) {
            assert_eq!(preset.abort_incomplete_upload_days, 7);
        }
    }

    #[test]
    fn descriptions_in_words() {
        assert_eq!(
            LifecyclePreset::MlOptimized.describe(true),
            "ml-optimized: solutions/ → STANDARD_IA at 30 d, GLACIER at 90 d, never expire; noncurrent → STANDARD_IA at 30 d, GLACIER at 90 d, never expire; abort incomplete uploads after 7 d"
        );
        assert_eq!(
            LifecyclePreset::Compliance.describe(false),
            "compliance: solutions/ → GLACIER at 90 d, expire at 2555 d (7 years); noncurrent → no rule (versioning is off); abort incomplete uploads after 7 d"
        );
        assert_eq!(
            LifecyclePreset::Development.describe(true),
            "development: solutions/ → expire at 90 d; noncurrent → expire at 30 d; abort incomplete uploads after 7 d"
        );
        assert_eq!(
            LifecyclePreset::None.describe(true),
            "none: no lifecycle rules"
        );
    }
}
