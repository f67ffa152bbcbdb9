//! After the rules pass: the derived-name check and the warnings — settings that are
//! allowed but probably not meant.

use super::super::rules;
use super::super::yaml::Pos;
use super::super::{Env, LifecyclePreset, Problem, ValidConfig, Warning};

/// Every name derived for the shared deployment must be valid; reported at the company
/// prefix, the part of the name the user is most free to shorten.
pub(super) fn derived_names(config: &ValidConfig, prefix_pos: Pos) -> Result<(), Problem> {
    crate::naming::shared_deployment(config)
        .map(|_| ())
        .map_err(|error| {
            Problem::at(
                prefix_pos,
                "client.company_prefix",
                Some(config.client.company_prefix.clone()),
                format!("the derived names are invalid: {error}"),
                "shorten company_prefix, or set s3.bucket_name_override to a valid bucket name of at most 63 characters",
            )
        })
}

/// Non-fatal findings: settings that are allowed but probably not meant.
pub(super) fn warnings(config: &ValidConfig) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut warn = |key_path: &str, message: String| {
        warnings.push(Warning {
            key_path: key_path.to_owned(),
            message,
        });
    };
    let prod = config.environment.env == Env::Prod;
    if prod && config.s3.lifecycle_policy == LifecyclePreset::Development {
        warn(
            "s3.lifecycle_policy",
            "env is prod but lifecycle_policy is development, which deletes objects under solutions/ after 90 days; use ml-optimized or compliance for production data".to_owned(),
        );
    }
    if prod && !config.s3.versioning {
        warn(
            "s3.versioning",
            "env is prod but versioning is off: an overwritten or deleted object cannot be recovered; set versioning: true".to_owned(),
        );
    }
    if config.s3.lifecycle_policy == LifecyclePreset::Compliance && !config.s3.versioning {
        warn(
            "s3.lifecycle_policy",
            "lifecycle_policy is compliance but versioning is off, so overwritten or deleted objects are not retained for the 7 years; set versioning: true".to_owned(),
        );
    }
    if !rules::tag_safe(&config.client.company_name) {
        warn(
            "client.company_name",
            format!(
                "company_name {:?} has characters AWS does not allow in tag values (allowed: letters, digits, spaces and _ . : / = + - @); it cannot be used as a tag as is",
                config.client.company_name
            ),
        );
    }
    let override_is_prod =
        (config.s3.bucket_name_override.as_deref()).is_some_and(|name| name.contains("-prod-"));
    if override_is_prod && !prod {
        warn(
            "s3.bucket_name_override",
            format!(
                "bucket_name_override contains `-prod-` but env is {}; check that this config does not point at a production bucket",
                config.environment.env.as_str()
            ),
        );
    }
    warnings
}
