//! `tear-down`: remove the deployment completely, stack and retained bucket with all its data,
//! through the tear-down workflow ([`crate::ops::tear_down`], which holds the safety rules:
//! ownership, confirmation, Object Lock, idempotence), then print what it did.

use super::{Ctx, Outcome, elapsed_line};
use crate::aws::AwsClients;
use crate::ops::tear_down::{TearDownResult, TearDownSettings, tear_down};
use crate::output::{Output, Style};

/// Run the action.
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let settings = TearDownSettings::for_timeout(ctx.options.force, ctx.options.timeout);
    let result = tear_down(ctx.out, aws, ctx.deployment, settings).await?;
    print_summary(ctx.out, &result);
    Outcome::success(&result)
}

fn print_summary(out: &mut Output, result: &TearDownResult) {
    if result.nothing_to_do {
        out.result(format!(
            "Nothing to tear down: stack {} and bucket {} do not exist (deployment {} is already gone)",
            result.stack, result.bucket, result.deployment
        ));
        return;
    }
    out.result(out.paint(
        Style::Bold,
        format!("tear-down: deployment {} is gone", result.deployment),
    ));
    let gone = |deleted: bool| if deleted { "deleted" } else { "already gone" };
    out.result(format!(
        "  stack    {}  {}",
        result.stack,
        gone(result.stack_deleted)
    ));
    out.result(format!(
        "  bucket   s3://{}  {} ({} object versions and delete markers deleted, {} incomplete uploads aborted)",
        result.bucket,
        gone(result.bucket_deleted),
        result.versions_deleted,
        result.multipart_uploads_aborted
    ));
    out.result(elapsed_line(result.elapsed_ms));
}
