//! `create-policy` (docs/actions.md): write the site's least-privilege operator IAM policy to
//! `{policies_dir}/{stem}-iam-policy.json`, atomically, and summarise it. Local: no AWS calls.

use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;

use super::{Ctx, Outcome};
use crate::{fsutil, naming, policy};

/// The `result` of the JSON document.
#[derive(Debug, Serialize)]
struct CreatePolicyResult {
    /// Where the policy was written.
    path: PathBuf,
    statements: usize,
    /// Distinct IAM actions granted.
    actions: usize,
    sids: Vec<String>,
    /// Whether the EC2 VPC endpoint permissions are included (config has `s3.vpc_id`).
    vpc_endpoint: bool,
}

/// Run the action.
pub fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    let document = policy::generate(ctx.config);
    let path = ctx
        .options
        .dirs
        .policies
        .join(naming::policy_file_name(ctx.config));
    fsutil::write_atomic(&path, policy::render(&document).as_bytes()).with_context(|| {
        format!(
            "writing the IAM policy {}; check that the policies directory is writable or pass --policies-dir",
            path.display()
        )
    })?;
    let summary = document.summary();
    let vpc_endpoint = ctx.config.s3.vpc.is_some();
    ctx.out.result(format!("policy: {}", path.display()));
    ctx.out.result(format!(
        "  {} statements ({}), {} actions; VPC endpoint permissions: {}",
        summary.statements,
        summary.sids.join(", "),
        summary.actions,
        if vpc_endpoint { "yes" } else { "no" }
    ));
    Outcome::success(&CreatePolicyResult {
        path,
        statements: summary.statements,
        actions: summary.actions,
        sids: summary.sids,
        vpc_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Action;
    use std::path::Path;

    use crate::config::ValidConfig;
    use crate::fixtures;
    use crate::naming::MASTER_SOLUTION;
    use crate::output::Captured;
    use crate::policy::fixtures::{shared_config, vpc_config};

    /// Run create-policy in-process for `config` with every directory under `root`.
    fn create_policy(config: &ValidConfig, root: &Path) -> (anyhow::Result<Outcome>, Captured) {
        fixtures::run_local_action(Action::CreatePolicy, config, MASTER_SOLUTION, root)
    }

    #[test]
    fn writes_the_policy_and_reports_a_typed_summary() {
        let dir = tempfile::tempdir().unwrap();
        let config = shared_config();
        let (outcome, captured) = create_policy(&config, dir.path());
        let outcome = outcome.unwrap();

        let path = dir
            .path()
            .join("policies/edge-prod-b001-us-west-1-s3-iam-policy.json");
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, policy::render(&policy::generate(&config)));
        assert_eq!(outcome.status, crate::exit::ExitStatus::Success);
        assert_eq!(outcome.result["path"], path.display().to_string());
        assert_eq!(outcome.result["statements"], 6);
        assert_eq!(outcome.result["vpc_endpoint"], false);
        assert_eq!(
            outcome.result["actions"],
            policy::generate(&config).summary().actions
        );
        let stdout = captured.stdout();
        assert!(stdout.starts_with(&format!("policy: {}\n", path.display())));
        assert!(stdout.contains("6 statements (CloudFormationStacks, "));
        assert!(stdout.contains("VPC endpoint permissions: no"));
    }

    #[test]
    fn a_vpc_site_gets_the_ec2_statements() {
        let dir = tempfile::tempdir().unwrap();
        let config = vpc_config();
        let outcome = create_policy(&config, dir.path()).0.unwrap();
        assert_eq!(outcome.result["vpc_endpoint"], true);
        let sids = outcome.result["sids"].as_array().unwrap();
        assert!(sids.iter().any(|s| s == "Ec2VpcEndpointAttach"));
    }

    #[test]
    fn an_unwritable_policies_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the directory should be: creating it fails.
        let blocker = dir.path().join("policies");
        std::fs::write(&blocker, b"not a directory").unwrap();
        let config = shared_config();
        // The policies dir (`dir/policies`) is the file `blocker`.
        let error = create_policy(&config, dir.path()).0.unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("writing the IAM policy"), "{message}");
        assert!(message.contains("--policies-dir"), "{message}");
    }
}
