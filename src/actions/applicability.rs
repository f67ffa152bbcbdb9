//! Which action takes which option. An option given to an action it means nothing to is a usage
//! error (exit 2) rather than silently ignored: `--keep` on tear-down or `--force` on
//! show-changes says the user expects something that will not happen.
//!
//! Not in the table, accepted by every action: `--config`, `--action`, `--output`, the directory
//! options, `--parallel`, `--no-color`, `-v`, `-q`, and the connection settings `--profile` and
//! `--timeout`, which local actions do not use but accept, so one alias or wrapper
//! (`s3-provisioner --profile prod …`) serves every action.

use super::RunOptions;
use crate::cli::Action;
use crate::exit::UsageError;

/// The options that apply to some actions only, with the actions they apply to.
pub const OPTION_ACTIONS: &[(&str, &[Action])] = &[
    (
        "--solution",
        &[
            Action::ValidateConfig,
            Action::CreateProvTemplate,
            Action::ValidateProvTemplate,
            Action::ShowChanges,
            Action::CheckDrift,
            Action::UploadTemplate,
            Action::PrepMaster,
            Action::DeploySolution,
            Action::CreateBucket,
            Action::TestDeploy,
            Action::TearDown,
        ],
    ),
    (
        "--force",
        &[Action::PrepMaster, Action::CreateBucket, Action::TearDown],
    ),
    ("--detailed-exitcode", &[Action::ShowChanges]),
    ("--keep", &[Action::TestDeploy]),
    (
        "--revert-drift",
        &[
            Action::ShowChanges,
            Action::PrepMaster,
            Action::CreateBucket,
        ],
    ),
    ("--test-id", &[Action::TearDown, Action::CheckDrift]),
];

/// The table's options that were given on this command line.
fn given(options: &RunOptions) -> Vec<&'static str> {
    [
        ("--solution", options.solution.is_some()),
        ("--force", options.force),
        ("--detailed-exitcode", options.detailed_exitcode),
        ("--keep", options.keep),
        ("--revert-drift", options.revert_drift),
        ("--test-id", options.test_id.is_some()),
    ]
    .into_iter()
    .filter_map(|(option, set)| set.then_some(option))
    .collect()
}

/// Refuse an option of [`OPTION_ACTIONS`] given to an action it does not apply to.
pub fn check_options(options: &RunOptions) -> Result<(), UsageError> {
    let action = options.action;
    for option in given(options) {
        let takers = OPTION_ACTIONS
            .iter()
            .find(|(name, _)| *name == option)
            .map_or(&[][..], |(_, actions)| *actions);
        if takers.contains(&action) {
            continue;
        }
        let names: Vec<&str> = takers.iter().map(|a| a.name()).collect();
        let why = match option {
            "--solution" => " (the policy covers every deployment of the site)",
            "--force" => {
                " (it only allows creating, replacing or deleting infrastructure without asking)"
            }
            _ => "",
        };
        return Err(UsageError(format!(
            "{option} does not apply to --action {action}{why}; it applies to: {}. Remove it from the command",
            names.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::ValueEnum as _;

    use super::*;
    use crate::fixtures;

    fn options(action: Action, set: &str) -> RunOptions {
        let mut options = fixtures::run_options(action, "master-solution", Path::new("."));
        options.solution = None;
        match set {
            "--solution" => options.solution = Some("master-solution".into()),
            "--force" => options.force = true,
            "--detailed-exitcode" => options.detailed_exitcode = true,
            "--keep" => options.keep = true,
            "--revert-drift" => options.revert_drift = true,
            "--test-id" => options.test_id = Some("t0a1b2c".into()),
            other => panic!("no such option in the table: {other}"),
        }
        options
    }

    #[test]
    fn an_option_applies_exactly_to_the_actions_of_its_row() {
        for (option, takers) in OPTION_ACTIONS {
            for &action in Action::value_variants() {
                let result = check_options(&options(action, option));
                if takers.contains(&action) {
                    assert!(result.is_ok(), "{option} {action}: {result:?}");
                    continue;
                }
                let message = result.unwrap_err().0;
                assert!(
                    message.starts_with(&format!("{option} does not apply to --action {action}")),
                    "{message}"
                );
                for taker in *takers {
                    assert!(message.contains(taker.name()), "{message}");
                }
            }
        }
    }

    #[test]
    fn the_guides_commands_keep_their_options() {
        use Action::*;
        let guide: &[(Action, &str)] = &[
            (CreateProvTemplate, "--solution"),
            (ValidateProvTemplate, "--solution"),
            (ShowChanges, "--solution"),
            (UploadTemplate, "--solution"),
            (PrepMaster, "--solution"),
            (TestDeploy, "--solution"),
            (DeploySolution, "--solution"),
            (CreateBucket, "--solution"),
            (TearDown, "--force"),
            (PrepMaster, "--force"),
            (CreateBucket, "--force"),
        ];
        for (action, option) in guide {
            assert!(
                check_options(&options(*action, option)).is_ok(),
                "{option} {action}"
            );
        }
    }

    #[test]
    fn options_outside_the_table_are_accepted_everywhere() {
        for &action in Action::value_variants() {
            let mut options = fixtures::run_options(action, "x", Path::new("."));
            options.solution = None;
            options.profile = Some("prod".into());
            assert!(check_options(&options).is_ok(), "{action}");
        }
    }
}
