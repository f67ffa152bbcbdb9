//! `test-deploy` (docs/actions.md): deploy an isolated copy of the chosen deployment under a random
//! suffix (`{deployment}-t1a2b3c`, tagged `s3-provisioner:test-id`, bucket `DeletionPolicy:
//! Delete`), create the solution's folders, run check-drift's live checks against it, print
//! pass/fail per check, then tear it down completely with tear-down's own code.
//!
//! It only ever creates and deletes its own test resources, so it runs without `--force`.
//! `--keep` leaves the copy for inspection and prints the exact command that removes it (the
//! hidden `--test-id` option points tear-down at it: the suffix is random, so the config alone
//! cannot name it). A failure to clean up is exit 1 naming what was left behind; a failed check is
//! exit 1 after the cleanup.

use serde::Serialize;
use tokio::time::Instant;

use super::{Ctx, Outcome, config_arg, shell_word};
use crate::aws::AwsClients;
use crate::aws::live;
use crate::drift::{self, Check, CheckResult, Finding};
use crate::exit::ExitStatus;
use crate::naming::{self, Deployment};
use crate::ops::engine::{self, DeployRequest, StackAction, Waits};
use crate::ops::live_checks::live_findings;
use crate::ops::markers::{self, BucketState};
use crate::ops::tear_down::{TearDownResult, TearDownSettings, live_stack, tear_down};
use crate::output::Style;
use crate::template;

/// The `result` of the JSON document.
#[derive(Debug, Serialize)]
pub struct TestDeployResult {
    /// The real deployment the copy was made of.
    pub base_deployment: String,
    /// The test deployment.
    pub deployment: String,
    pub test_id: String,
    pub stack: String,
    pub bucket: String,
    pub stack_status: String,
    pub stack_action: StackAction,
    pub folders_created: usize,
    /// True when every check passed.
    pub passed: bool,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    /// `--keep`: the copy was left in place.
    pub kept: bool,
    /// The command that removes a kept copy.
    pub remove_command: Option<String>,
    /// What the cleanup did (absent with `--keep`).
    pub cleanup: Option<TearDownResult>,
    pub elapsed_ms: u128,
}

/// Run the action.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    // Too long a name is exit 2 here, before anything exists.
    let test_id = naming::random_test_id();
    let test = naming::test_deployment(ctx.deployment, &test_id)?;
    let remove_command = remove_command(ctx, &test_id);
    ctx.out.info(
        ctx.out.paint(
            Style::Bold,
            format!(
                "Test deployment {} (copy of {})",
                test.name, ctx.deployment.name
            ),
        ),
        &[("stack", &test.stack_name), ("bucket", &test.bucket_name)],
    );

    // Stopped early (Ctrl-C, deadline), the copy may be partly in place: what resumes is removing it.
    aws.journal.set_resume(remove_command.clone());
    let verified = deploy_and_verify(ctx, aws, &test).await;
    let (deployed, findings) = match verified {
        Ok(done) => done,
        Err(error) => {
            ctx.out.error(format!("{error:#}"));
            let cleanup = cleanup(ctx, aws, &test, &remove_command).await;
            return Err(match cleanup {
                Ok(_) => error.context(format!(
                    "test deployment {} failed; everything it created was removed",
                    test.name
                )),
                Err(left) => error.context(left),
            });
        }
    };

    let checks = print_checks(ctx, &test, &findings);
    let passed = findings.is_empty();
    let mut result = TestDeployResult {
        base_deployment: ctx.deployment.name.clone(),
        deployment: test.name.clone(),
        test_id,
        stack: test.stack_name.clone(),
        bucket: deployed.bucket,
        stack_status: deployed.status,
        stack_action: deployed.action,
        folders_created: deployed.folders_created,
        passed,
        checks,
        findings,
        kept: ctx.options.keep,
        remove_command: None,
        cleanup: None,
        elapsed_ms: 0,
    };

    if ctx.options.keep {
        ctx.out.result(format!(
            "Kept test deployment {} (stack {}, bucket s3://{}). Remove it with:",
            test.name, test.stack_name, result.bucket
        ));
        ctx.out.result(format!("  {remove_command}"));
        result.remove_command = Some(remove_command);
    } else {
        match cleanup(ctx, aws, &test, &remove_command).await {
            Ok(done) => {
                ctx.out.result(format!(
                    "Removed test deployment {}: stack and bucket deleted",
                    test.name
                ));
                result.cleanup = Some(done);
            }
            Err(left) => {
                return Err(anyhow::anyhow!(left).context(if passed {
                    "every check passed, but the cleanup failed"
                } else {
                    "some checks failed, and the cleanup failed too"
                }));
            }
        }
    }
    result.elapsed_ms = started.elapsed().as_millis();

    let status = if passed {
        let line = format!(
            "{} every check of test deployment {} passed",
            ctx.out.paint(Style::Green, "test-deploy:"),
            test.name
        );
        ctx.out.result(line);
        ExitStatus::Success
    } else {
        let line = format!(
            "{} {} check(s) of test deployment {} failed (see above)",
            ctx.out.paint(Style::Red, "test-deploy:"),
            result.checks.iter().filter(|c| !c.passed).count(),
            test.name
        );
        ctx.out.error(line);
        ExitStatus::Failure
    };
    Outcome::new(status, &result)
}

/// What deploying the test copy produced.
struct TestDeployed {
    bucket: String,
    status: String,
    action: StackAction,
    folders_created: usize,
}

/// Deploy the copy through the deployment engine, create its folders, run the live checks.
async fn deploy_and_verify(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    test: &Deployment,
) -> anyhow::Result<(TestDeployed, Vec<Finding>)> {
    let template_body = template::render(ctx.config, test)?;
    let request = DeployRequest {
        deployment: test,
        template_body: &template_body,
        tags: template::stack_tags(ctx.config, test).into_iter().collect(),
        // Isolated: only resources of this run are created, so no confirmation is needed.
        force: true,
        // A new copy: nothing can have drifted.
        revert_drift: false,
    };
    let deployed = Box::pin(engine::deploy(
        ctx.out,
        aws,
        &request,
        Waits::for_timeout(ctx.options.timeout),
    ))
    .await?;
    let bucket = deployed.bucket_name(&test.bucket_name);
    let markers = markers::create_markers(
        ctx.out,
        aws,
        &bucket,
        &test.solution,
        BucketState::Existing,
        ctx.options.action,
    )
    .await?;
    ctx.out.info(
        format!("Checking test deployment {}", test.name),
        &[("checks", &Check::LIVE.len())],
    );
    let findings = live_findings(aws, ctx.config, test).await?;
    Ok((
        TestDeployed {
            bucket,
            status: deployed.status,
            action: deployed.action,
            folders_created: markers.created.len(),
        },
        findings,
    ))
}

/// Print PASS/FAIL per check and the findings table of the failed ones.
fn print_checks(ctx: &mut Ctx<'_>, test: &Deployment, findings: &[Finding]) -> Vec<CheckResult> {
    let checks = drift::check_results(&Check::LIVE, findings);
    ctx.out
        .result(format!("Checks of test deployment {}:", test.name));
    for check in &checks {
        let (mark, style) = if check.passed {
            ("PASS", Style::Green)
        } else {
            ("FAIL", Style::Red)
        };
        let detail = if check.passed {
            String::new()
        } else {
            format!(" ({} finding(s))", check.findings)
        };
        let line = format!(
            "  {} {}{detail}",
            ctx.out.paint(style, mark),
            check.check.as_str()
        );
        ctx.out.result(line);
    }
    if !findings.is_empty() {
        for line in drift::table(findings) {
            ctx.out.result(format!("  {line}"));
        }
    }
    checks
}

/// Tear the copy down completely. `Err` is the message naming what was left behind.
async fn cleanup(
    ctx: &mut Ctx<'_>,
    aws: &AwsClients,
    test: &Deployment,
    remove_command: &str,
) -> Result<TearDownResult, String> {
    ctx.out
        .info(format!("Removing test deployment {}", test.name), &[]);
    // Only this run's resources: no confirmation needed.
    let settings = TearDownSettings::for_timeout(true, ctx.options.timeout);
    match tear_down(ctx.out, aws, test, settings).await {
        Ok(done) => Ok(done),
        Err(error) => {
            let left = left_behind(aws, test).await;
            Err(format!(
                "cleaning up test deployment {} failed: {error:#}. Left behind: {left}. Remove it with: {remove_command}",
                test.name
            ))
        }
    }
}

/// What of `test` still exists (best effort: a failing look-up says so).
async fn left_behind(aws: &AwsClients, test: &Deployment) -> String {
    let mut left = Vec::new();
    match live_stack(aws, &test.stack_name).await {
        Ok(Some(stack)) => left.push(format!("stack {} ({})", stack.name, stack.status_name)),
        Ok(None) => {}
        Err(_) => left.push(format!(
            "possibly stack {} (could not check)",
            test.stack_name
        )),
    }
    match live::bucket_exists(&aws.s3, &test.bucket_name).await {
        Ok(true) => left.push(format!("bucket {}", test.bucket_name)),
        Ok(false) => {}
        Err(_) => left.push(format!(
            "possibly bucket {} (could not check)",
            test.bucket_name
        )),
    }
    if left.is_empty() {
        "nothing (both are gone)".to_owned()
    } else {
        left.join(", ")
    }
}

/// The command that removes the test copy with suffix `test_id`: tear-down pointed at it.
fn remove_command(ctx: &Ctx<'_>, test_id: &str) -> String {
    use std::fmt::Write as _;
    // A bare config name only resolves against the default configs dir (or the same
    // S3P_CONFIGS_DIR); otherwise give the path the config was read from.
    let config = if ctx.options.dirs.configs == std::path::Path::new("configs")
        || std::env::var_os("S3P_CONFIGS_DIR").is_some()
    {
        config_arg(ctx)
    } else {
        ctx.config.source.display().to_string()
    };
    let mut command = format!(
        "s3-provisioner --config {} --action tear-down",
        shell_word(&config)
    );
    if ctx.deployment.solution != naming::MASTER_SOLUTION {
        let _ = write!(command, " --solution {}", ctx.deployment.solution);
    }
    if let Some(profile) = &ctx.options.profile {
        let _ = write!(command, " --profile {}", shell_word(profile));
    }
    let _ = write!(command, " --test-id {test_id} --force");
    command
}
