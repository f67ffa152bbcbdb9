//! Creating a solution's folder markers (the blueprint's empty `…/` objects) in a bucket: after
//! prep-master and create-bucket deploy, for deploy-solution, and in test-deploy's copy. Markers
//! are written with conditional puts, so one that exists (perhaps holding data) is never
//! overwritten, and a rerun creates only what is missing.

use crate::aws::AwsClients;
use crate::aws::error::Backoff;
use crate::aws::s3::{self, MarkerReport};
use crate::blueprint;
use crate::output::Output;

/// Marker PutObjects in flight at once: a solution's markers (35 for the largest blueprint) in
/// one round trip instead of three, far below S3's per-prefix limits (3,500 PUTs a second).
pub const MARKER_CONCURRENCY: usize = 48;

/// What the bucket markers go into is known to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketState {
    /// Created by this run's stack a moment ago: no marker can be there yet, so nothing is
    /// listed first (the puts are still conditional, so a marker someone made meanwhile is kept).
    New,
    /// Anything else: the existing markers are listed and only the missing ones are put.
    Existing,
}

/// Create the missing folder markers of `solution` in `bucket`, with a progress line. `action`
/// names the run in the journal ("finishing {action}") once the markers are in.
pub async fn create_markers(
    out: &mut Output,
    aws: &AwsClients,
    bucket: &str,
    solution: &str,
    state: BucketState,
    action: impl std::fmt::Display + Send,
) -> anyhow::Result<MarkerReport> {
    let keys = blueprint::marker_keys(solution);
    let prefix = blueprint::solution_prefix(solution);
    aws.journal.step(format!(
        "creating the folders of {solution} in s3://{bucket}/{prefix}"
    ));
    aws.journal.progress(|| {
        "folder markers created so far are kept; the rerun creates only the missing ones".to_owned()
    });
    out.info(
        format!("Creating the folders of {solution} in s3://{bucket}/{prefix}"),
        &[("folders", &keys.len())],
    );
    let backoff = Backoff::BULK;
    let created = match state {
        BucketState::New => {
            s3::put_markers(&aws.s3, bucket, &keys, 0, MARKER_CONCURRENCY, backoff).await
        }
        BucketState::Existing => {
            s3::create_missing_markers(&aws.s3, bucket, &keys, MARKER_CONCURRENCY, backoff).await
        }
    };
    if created.is_ok() {
        aws.journal.step(format!("finishing {action}"));
    }
    created
}
