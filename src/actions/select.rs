//! Which solution and deployment a run works on, and the fleet pre-check that no two configs of
//! one run resolve to the same stack, bucket or file.
//!
//! The solution comes from `--solution`, else from the config's own `solution:` key, else it is
//! `master-solution`. A config that names its solution is meant for that solution's deployment
//! only: a different `--solution` is a usage error, and the two actions that work on the shared
//! deployment whatever the solution (prep-master, deploy-solution) refuse a config that names a
//! solution other than `master-solution` — that config describes a dedicated bucket, and its
//! settings (an override bucket name above all) must never be applied to the shared stack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::RunOptions;
use crate::cli::Action;
use crate::config::ValidConfig;
use crate::exit::UsageError;
use crate::naming::{self, Deployment, MASTER_SOLUTION};

/// The solution a run works with: `--solution`, else the config's `solution:`, else
/// `master-solution`. A `--solution` that differs from the config's is a usage error, except for
/// deploy-solution on a config that says `solution: master-solution` (there `--solution` names
/// the folders to add to the shared bucket that config describes).
pub fn solution_for(options: &RunOptions, config: &ValidConfig) -> Result<String, UsageError> {
    match (&options.solution, &config.solution) {
        (Some(given), Some(own))
            if given != own
                && !(options.action == Action::DeploySolution && own == MASTER_SOLUTION) =>
        {
            Err(UsageError(format!(
                "--solution {given} does not match `solution: {own}` in {}: this config is for {own}; drop --solution (or pass --solution {own}), or use a config written for {given}",
                config.source.display()
            )))
        }
        (Some(given), _) => Ok(given.clone()),
        (None, Some(own)) => Ok(own.clone()),
        (None, None) => Ok(MASTER_SOLUTION.to_owned()),
    }
}

/// The deployment `action` works on for `solution` (how solutions map to deployments is
/// described in `naming`).
pub fn deployment_for(
    action: Action,
    config: &ValidConfig,
    solution: &str,
) -> anyhow::Result<Deployment> {
    if matches!(action, Action::PrepMaster | Action::DeploySolution)
        && let Some(own) = config.solution.as_deref().filter(|s| *s != MASTER_SOLUTION)
    {
        return Err(UsageError(format!(
            "{} is the config of {own}'s dedicated bucket (`solution: {own}`), and {action} works on the site's shared bucket; run {action} with the site's shared config (one without a `solution:` key, or with `solution: {MASTER_SOLUTION}`), or deploy this one with --action create-bucket",
            config.source.display()
        ))
        .into());
    }
    match action {
        Action::DeploySolution => {
            naming::validate_solution_name(solution)?;
            if solution == MASTER_SOLUTION {
                return Err(UsageError(format!(
                    "deploy-solution adds another solution's folders to the shared bucket; {MASTER_SOLUTION} is set up by prep-master. Pass --solution NAME"
                ))
                .into());
            }
            Ok(naming::shared_deployment(config)?)
        }
        Action::PrepMaster if solution != MASTER_SOLUTION => Err(UsageError(format!(
            "prep-master sets up the shared bucket with {MASTER_SOLUTION}; to add `{solution}` to it use --action deploy-solution --solution {solution}, or give it a bucket of its own with --action create-bucket"
        ))
        .into()),
        Action::CreateBucket if solution == MASTER_SOLUTION => Err(UsageError(format!(
            "create-bucket makes a dedicated bucket for one solution; pass --solution NAME (or set `solution:` in the config), or use --action prep-master for the shared bucket of {MASTER_SOLUTION}"
        ))
        .into()),
        _ => Ok(naming::deployment_for_solution(config, solution)?),
    }
}

/// The deployment a run works on: [`deployment_for`] with [`solution_for`], or with `--test-id`
/// the test copy of it (only tear-down and check-drift accept one: it is how a kept test
/// deployment is removed).
pub fn deployment_for_run(
    options: &RunOptions,
    config: &ValidConfig,
) -> anyhow::Result<Deployment> {
    let solution = solution_for(options, config)?;
    let base = deployment_for(options.action, config, &solution)?;
    let Some(test_id) = &options.test_id else {
        return Ok(base);
    };
    // Which actions take --test-id is checked with every other option (`check_options`).
    let well_formed = test_id.len() == 7
        && test_id.starts_with('t')
        && test_id[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(UsageError(format!(
            "--test-id {test_id}: a test id is `t` followed by 6 lowercase hex digits, as printed by test-deploy --keep"
        ))
        .into());
    }
    Ok(naming::test_deployment(&base, test_id)?)
}

/// Refuse a fleet in which two configs resolve to the same stack, bucket or template file (and,
/// for create-policy, the same policy file): their runs would race on one stack, or one would
/// silently overwrite the other's work. Runs before anything starts; a config that does not load
/// or resolve is left to its own run, which reports why.
pub fn check_fleet(options: &RunOptions, configs: &[PathBuf]) -> Result<(), UsageError> {
    let mut claimed: HashMap<(&'static str, String), &Path> = HashMap::new();
    let mut clashes = Vec::new();
    for path in configs {
        let Ok(config) = crate::config::load(path) else {
            continue;
        };
        let Ok(deployment) = deployment_for_run(options, &config) else {
            continue;
        };
        let mut names = vec![
            ("stack", deployment.stack_name.clone()),
            ("bucket", deployment.bucket_name.clone()),
            (
                "template file",
                options
                    .dirs
                    .templates
                    .join(deployment.template_file_name())
                    .display()
                    .to_string(),
            ),
        ];
        if options.action == Action::CreatePolicy {
            let policy = options
                .dirs
                .policies
                .join(naming::policy_file_name(&config));
            names.push(("policy file", policy.display().to_string()));
        }
        for (kind, name) in names {
            match claimed.get(&(kind, name.clone())) {
                Some(first) => clashes.push(format!(
                    "{} and {} both resolve to {kind} {name}",
                    first.display(),
                    path.display()
                )),
                None => {
                    claimed.insert((kind, name), path);
                }
            }
        }
    }
    if clashes.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "refusing to run {} over this fleet: {}. Nothing was started. Each config must describe a deployment of its own: give a dedicated-bucket config its `solution:` key (and its own bucket_name_override, if any), or leave one of the configs out of the fleet",
        options.action,
        clashes.join("; ")
    )))
}
