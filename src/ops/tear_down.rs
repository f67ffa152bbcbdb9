//! Tearing a deployment down: empty its bucket (every version, delete marker and incomplete
//! multipart upload), delete its stack, delete the retained bucket, and confirm both are gone. The
//! tear-down action runs it, and test-deploy's cleanup. The only workflow that deletes data, so it
//! is careful about what it touches:
//!
//! - **Ownership.** The stack and the bucket must carry `s3-provisioner:deployment` = this
//!   deployment ([`crate::ownership`]); anything else is refused (exit 4) before anything is read
//!   or deleted.
//! - **Confirmation.** `--force`, or on a terminal the person types the bucket name; without
//!   either it refuses (exit 4) and deletes nothing.
//! - **Object Lock.** Versions S3 will not delete because of Object Lock (retention or legal hold)
//!   are listed with their retention and the run is refused (exit 4) with the stack and bucket left
//!   in place; the tool never bypasses governance retention. Other per-key errors are exit 1.
//! - **Idempotent.** Every step checks what is still there, so a run that was interrupted
//!   (Ctrl-C, time-out, network) is finished by running the same command again, and a run on a
//!   deployment that is already gone says there is nothing to do (exit 0).
//!
//! The bucket is emptied before the stack is deleted: a test deployment's bucket
//! (`DeletionPolicy: Delete`) can only be deleted by CloudFormation once it is empty, and a real
//! deployment's retained bucket is deleted by the tool afterwards.

use std::time::Duration;

use anyhow::bail;
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::time::Instant;

use super::engine;
use crate::aws::cfn::{self, Poller, StackInfo, StackStatus};
use crate::aws::empty::{self, Counters, EmptySettings, KeyFailure};
use crate::aws::error::Backoff;
use crate::aws::{AwsClients, live};
use crate::exit::Refusal;
use crate::naming::Deployment;
use crate::output::{Output, Style};
use crate::ownership::{self, DEPLOYMENT_TAG, Owner};

/// How many failed keys are listed one by one (the rest are counted).
const LISTED_FAILURES: usize = 20;
/// Without a terminal, a progress line at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// How a tear-down runs (STYLE 12: waits and retries injectable).
#[derive(Debug, Clone, Copy)]
pub struct TearDownSettings {
    /// `--force`: no confirmation.
    pub force: bool,
    /// Waiting for the stack deletion (`--timeout`).
    pub stack: Poller,
    pub empty: EmptySettings,
    /// Re-checking the final "stack and bucket both gone" (see [`GONE_RECHECK`]).
    pub gone_recheck: Backoff,
}

/// How long tear-down's last step waits for a deleted bucket to stop answering: S3 may still
/// answer HeadBucket 200 for a deleted bucket for a few seconds. Four looks, 1 s, 2 s and 4 s
/// apart (7 s in all), before something counts as left behind.
pub const GONE_RECHECK: Backoff = Backoff {
    attempts: 4,
    first_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(4),
};

impl TearDownSettings {
    /// The production schedule: `--timeout` for the stack deletion, default emptying.
    pub fn for_timeout(force: bool, timeout: Duration) -> Self {
        TearDownSettings {
            force,
            stack: Poller::stack(timeout),
            empty: EmptySettings::default(),
            gone_recheck: GONE_RECHECK,
        }
    }
}

/// The `result` of the JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct TearDownResult {
    pub deployment: String,
    pub stack: String,
    pub bucket: String,
    /// True when neither the stack nor the bucket existed.
    pub nothing_to_do: bool,
    /// Whether this run deleted the stack / the bucket (false: it was already gone).
    pub stack_deleted: bool,
    pub bucket_deleted: bool,
    /// Object versions and delete markers deleted.
    pub versions_deleted: u64,
    pub multipart_uploads_aborted: u64,
    pub elapsed_ms: u128,
}

/// Tear `deployment` down completely: the tear-down action, and test-deploy's cleanup.
pub async fn tear_down(
    out: &mut Output,
    aws: &AwsClients,
    deployment: &Deployment,
    settings: TearDownSettings,
) -> anyhow::Result<TearDownResult> {
    let started = Instant::now();
    let mut stack = live_stack(aws, &deployment.stack_name).await?;
    if let Some(busy) = stack.as_ref().filter(|s| s.status.is_in_progress()) {
        // Decide only once the running operation (perhaps an interrupted tear-down) is over.
        engine::ensure_owned(busy, deployment)?;
        engine::wait_for_operation(out, aws, busy, settings.stack).await?;
        stack = live_stack(aws, &deployment.stack_name).await?;
    }
    if let Some(stack) = &stack {
        engine::ensure_owned(stack, deployment)?;
    }
    // The stack knows which bucket it made; the config may have been edited since.
    let bucket = stack
        .as_ref()
        .and_then(StackInfo::bucket_name)
        .unwrap_or(&deployment.bucket_name)
        .to_owned();
    let mut bucket_present = live::bucket_exists(&aws.s3, &bucket).await?;
    if bucket_present {
        match ensure_bucket_owned(aws, &bucket, deployment).await {
            Ok(()) => {}
            // Deleted between the two calls (a concurrent tear-down): it is not there.
            Err(error) if is_no_such_bucket(&error) => bucket_present = false,
            Err(error) => return Err(error),
        }
    }
    let mut result = TearDownResult {
        deployment: deployment.name.clone(),
        stack: deployment.stack_name.clone(),
        bucket: bucket.clone(),
        nothing_to_do: stack.is_none() && !bucket_present,
        stack_deleted: false,
        bucket_deleted: false,
        versions_deleted: 0,
        multipart_uploads_aborted: 0,
        elapsed_ms: 0,
    };
    if result.nothing_to_do {
        return Ok(result);
    }

    show_plan(out, deployment, stack.as_ref(), &bucket, bucket_present);
    let what = match &stack {
        Some(stack) => format!(
            "This permanently deletes bucket {bucket} with every object version in it, and stack {}.",
            stack.name
        ),
        None => {
            format!("This permanently deletes bucket {bucket} with every object version in it.")
        }
    };
    aws.journal.step(format!(
        "waiting for confirmation to tear down {}",
        deployment.name
    ));
    out.confirm_typed(settings.force, &what, &bucket).await?;

    if bucket_present {
        let emptied = empty_bucket(
            out,
            aws,
            &bucket,
            stack.as_ref().map(|s| s.name.as_str()),
            settings.empty,
        )
        .await;
        match emptied {
            Ok((deleted, aborted)) => {
                result.versions_deleted = deleted;
                result.multipart_uploads_aborted = aborted;
            }
            // Another run (a concurrent tear-down) deleted it meanwhile: that is what was asked.
            Err(error) if is_no_such_bucket(&error) => {
                out.info(
                    format!(
                        "Bucket {bucket} was deleted meanwhile, by another run or by hand; going on with the rest"
                    ),
                    &[],
                );
            }
            Err(error) => return Err(error),
        }
    }
    if let Some(stack) = &stack {
        engine::delete_stack_and_wait(out, aws, stack, settings.stack).await?;
        result.stack_deleted = true;
    }
    // A real deployment's bucket is retained by CloudFormation; a test deployment's went with
    // the stack.
    if live::bucket_exists(&aws.s3, &bucket).await? {
        aws.journal.step(format!("deleting bucket {bucket}"));
        out.info(format!("Deleting bucket {bucket}"), &[]);
        if let Err(error) = empty::delete_bucket(&aws.s3, &bucket).await {
            return Err(error.context(format!(
                "the stack is gone but bucket {bucket} is still there. If something wrote to it meanwhile, stop that and rerun the same command"
            )));
        }
        result.bucket_deleted = true;
    } else if bucket_present {
        result.bucket_deleted = true;
    }

    // Confirm: both must be gone now.
    let (stack_left, bucket_left) =
        left_behind(aws, &deployment.stack_name, &bucket, settings.gone_recheck).await?;
    if stack_left.is_some() || bucket_left {
        let mut left = Vec::new();
        if let Some(stack) = stack_left {
            left.push(format!("stack {} ({})", stack.name, stack.status_name));
        }
        if bucket_left {
            left.push(format!("bucket {bucket}"));
        }
        bail!(
            "tear-down finished but {} still exist(s) after looking again for {} s (S3 can still answer for a bucket deleted a moment ago); rerun the same command, and if it stays, check it in the AWS console",
            left.join(" and "),
            (1..settings.gone_recheck.attempts.max(1))
                .map(|attempt| settings.gone_recheck.delay_after(attempt))
                .sum::<Duration>()
                .as_secs()
        );
    }
    result.elapsed_ms = started.elapsed().as_millis();
    Ok(result)
}

/// The stack and whether the bucket are still there. What is still seen is looked at again on
/// `recheck` (tokio time, so paused test time drives it): S3 is eventually consistent and may
/// answer HeadBucket 200 for a bucket deleted a moment ago.
async fn left_behind(
    aws: &AwsClients,
    stack_name: &str,
    bucket: &str,
    recheck: Backoff,
) -> anyhow::Result<(Option<StackInfo>, bool)> {
    let attempts = recheck.attempts.max(1);
    let mut attempt = 1;
    loop {
        let stack_left = live_stack(aws, stack_name).await?;
        let bucket_left = live::bucket_exists(&aws.s3, bucket).await?;
        if (stack_left.is_none() && !bucket_left) || attempt >= attempts {
            return Ok((stack_left, bucket_left));
        }
        tokio::time::sleep(recheck.delay_after(attempt)).await;
        attempt += 1;
    }
}

/// Whether `error` is S3's `NoSuchBucket`: the bucket is gone.
fn is_no_such_bucket(error: &anyhow::Error) -> bool {
    crate::aws::error::has_code(error, "NoSuchBucket")
}

/// The stack, unless it does not exist (or only as a deleted stack).
pub async fn live_stack(aws: &AwsClients, stack_name: &str) -> anyhow::Result<Option<StackInfo>> {
    Ok(cfn::describe_stack(&aws.cfn, stack_name)
        .await?
        .filter(|s| s.status != StackStatus::DeleteComplete))
}

/// Refuse (exit 4) unless `bucket` is this deployment's ([`ownership::owner`]).
async fn ensure_bucket_owned(
    aws: &AwsClients,
    bucket: &str,
    deployment: &Deployment,
) -> anyhow::Result<()> {
    let tags = crate::aws::s3::bucket_tags(&aws.s3, bucket).await?;
    match ownership::owner(|key| tags.get(key).map(String::as_str), &deployment.name) {
        Owner::Ours => Ok(()),
        Owner::Other(owner) => Err(Refusal(format!(
            "bucket {bucket} belongs to deployment `{owner}` (tag {DEPLOYMENT_TAG}), not to `{}`; refusing to delete it, nothing was deleted. Check --config and --solution",
            deployment.name
        ))
        .into()),
        Owner::Untagged => Err(Refusal(format!(
            "bucket {bucket} is not tagged {DEPLOYMENT_TAG}={name}, so s3-provisioner cannot tell it is this deployment's; refusing to delete it, nothing was deleted. If it really is (its tags were edited by hand), tag it again with `{retag}` and rerun, or delete it yourself",
            name = deployment.name,
            retag = retag_command(bucket, &aws.region, &deployment.name),
        ))
        .into()),
    }
}

/// The command that puts the deployment tag back on `bucket`. Not `s3api put-bucket-tagging`:
/// it replaces the whole tag set, and on a bucket CloudFormation created S3 refuses a set that
/// lacks the bucket's `aws:cloudformation:*` tags (`InvalidTag`), which no requester may write.
/// The Resource Groups Tagging API adds one tag and keeps the others; it works per region.
pub(crate) fn retag_command(bucket: &str, region: &str, deployment: &str) -> String {
    format!(
        "aws resourcegroupstaggingapi tag-resources --region {region} --resource-arn-list arn:aws:s3:::{bucket} --tags {DEPLOYMENT_TAG}={deployment}"
    )
}

fn show_plan(
    out: &mut Output,
    deployment: &Deployment,
    stack: Option<&StackInfo>,
    bucket: &str,
    bucket_present: bool,
) {
    let heading = out.paint(
        Style::Bold,
        format!("Tear-down of deployment {}:", deployment.name),
    );
    out.info(heading, &[]);
    match stack {
        Some(stack) => out.info(
            format!(
                "  stack   {} ({}): will be deleted",
                stack.name, stack.status_name
            ),
            &[],
        ),
        None => out.info(
            format!("  stack   {}: already gone", deployment.stack_name),
            &[],
        ),
    }
    if bucket_present {
        out.info(
            format!(
                "  bucket  s3://{bucket}: every object version, delete marker and incomplete upload, then the bucket, will be deleted"
            ),
            &[],
        );
    } else {
        out.info(format!("  bucket  {bucket}: already gone"), &[]);
    }
}

/// Empty `bucket`: all versions, then incomplete uploads; check it is empty. Returns (versions
/// deleted, uploads aborted).
async fn empty_bucket(
    out: &mut Output,
    aws: &AwsClients,
    bucket: &str,
    stack_name: Option<&str>,
    settings: EmptySettings,
) -> anyhow::Result<(u64, u64)> {
    let left_in_place = match stack_name {
        Some(stack) => format!("stack {stack} and the bucket are still there"),
        None => "the bucket is still there".to_owned(),
    };
    if let Some(lock) = empty::object_lock(&aws.s3, bucket).await? {
        let retention = match (&lock.mode, &lock.period) {
            (Some(mode), Some(period)) => format!(" (default retention {mode}, {period})"),
            _ => String::new(),
        };
        out.warn(format!(
            "bucket {bucket} has S3 Object Lock enabled{retention}: versions under retention or legal hold cannot be deleted and will be listed"
        ));
    }
    let mut deleted = 0;
    // A second pass catches objects written while the first ran; more means a live writer.
    for pass in 1..=2 {
        let counters = std::sync::Arc::new(Counters::default());
        let mut progress = DeleteProgress::new(out);
        out.info(format!("Emptying bucket {bucket}"), &[]);
        aws.journal.step(format!("emptying bucket {bucket}"));
        let live = std::sync::Arc::clone(&counters);
        let bucket_name = bucket.to_owned();
        let left = left_in_place.clone();
        aws.journal.progress(move || {
            let (done, listed, _) = live.snapshot();
            format!(
                "{done} of {listed} listed object versions were deleted from bucket {bucket_name}; {left}"
            )
        });
        let report = {
            let mut on_batch = |c: &Counters| progress.update(out, c);
            empty::delete_all_versions(&aws.s3, bucket, settings, &counters, &mut on_batch).await
        };
        progress.finish();
        let report = report?;
        deleted += report.deleted;
        out.info(
            format!(
                "Deleted {} object version(s) and delete marker(s) from s3://{bucket}",
                report.deleted
            ),
            &[("listed", &report.listed)],
        );
        if !report.failures.is_empty() {
            return Err(
                failure_error(out, aws, bucket, stack_name, deleted, &report.failures).await,
            );
        }
        let aborted =
            empty::abort_multipart_uploads(&aws.s3, bucket, settings.batches_in_flight).await?;
        if aborted > 0 {
            out.info(
                format!("Aborted {aborted} incomplete multipart upload(s) in s3://{bucket}"),
                &[],
            );
        }
        if empty::is_empty(&aws.s3, bucket).await? {
            return Ok((deleted, aborted));
        }
        if pass == 1 {
            out.warn(format!(
                "bucket {bucket} received new objects while it was being emptied; emptying it again"
            ));
        }
    }
    bail!(
        "bucket {bucket} keeps receiving new objects while it is being emptied; stop whatever writes to it, then rerun the same command ({left_in_place})"
    )
}

/// The error for keys S3 would not delete: Object Lock is a refusal (exit 4) with each locked
/// version's retention; anything else a failure (exit 1). Each key is listed (up to a limit).
async fn failure_error(
    out: &mut Output,
    aws: &AwsClients,
    bucket: &str,
    stack_name: Option<&str>,
    deleted: u64,
    failures: &[KeyFailure],
) -> anyhow::Error {
    let (locked, other): (Vec<&KeyFailure>, Vec<&KeyFailure>) =
        failures.iter().partition(|f| f.is_object_lock());
    let version = |f: &KeyFailure| {
        f.version_id
            .as_deref()
            .map_or_else(String::new, |v| format!(" (version {v})"))
    };
    if !locked.is_empty() {
        out.error(format!(
            "S3 Object Lock keeps {} object version(s) in s3://{bucket}:",
            locked.len()
        ));
        for failure in locked.iter().take(LISTED_FAILURES) {
            let reason = empty::lock_reason(&aws.s3, bucket, failure).await;
            out.error(format!("  {}{}: {reason}", failure.key, version(failure)));
        }
        if locked.len() > LISTED_FAILURES {
            out.error(format!("  … and {} more", locked.len() - LISTED_FAILURES));
        }
    }
    for failure in other.iter().take(LISTED_FAILURES) {
        out.error(format!(
            "  {}{}: {}: {}",
            failure.key,
            version(failure),
            failure.code,
            failure.message
        ));
    }
    if other.len() > LISTED_FAILURES {
        out.error(format!("  … and {} more", other.len() - LISTED_FAILURES));
    }
    let kept = match stack_name {
        Some(stack) => format!(
            "{deleted} other version(s) were deleted; stack {stack} and bucket {bucket} were left in place"
        ),
        None => {
            format!("{deleted} other version(s) were deleted; bucket {bucket} was left in place")
        }
    };
    if other.is_empty() {
        Refusal(format!(
            "S3 Object Lock protects {} object version(s) in bucket {bucket} (listed above): S3 will not delete them until their retention ends or their legal hold is removed, and tear-down never bypasses retention. {kept}. Rerun the same command once the locks have expired",
            locked.len()
        ))
        .into()
    } else {
        anyhow::anyhow!(
            "{} object version(s) in bucket {bucket} could not be deleted (listed above{}). {kept}. Fix the cause and rerun the same command",
            failures.len(),
            if locked.is_empty() {
                ""
            } else {
                ", some protected by S3 Object Lock"
            }
        )
    }
}

/// "versions deleted / listed" on stderr: a redrawn line on a terminal, otherwise a line every
/// [`PROGRESS_EVERY`] (and the final count, which the caller prints).
struct DeleteProgress {
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl DeleteProgress {
    fn new(out: &Output) -> Self {
        let bar = out
            .live_display()
            .map(|display| display.spinner("{spinner} {msg}", ""));
        DeleteProgress {
            bar,
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, out: &mut Output, counters: &Counters) {
        let (deleted, listed, listing_done) = counters.snapshot();
        let more = if listing_done { "" } else { "+" };
        let line = format!("{deleted} / {listed}{more} object versions deleted");
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None if self.last_line.elapsed() >= PROGRESS_EVERY => {
                self.last_line = Instant::now();
                out.info(line, &[]);
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests;
