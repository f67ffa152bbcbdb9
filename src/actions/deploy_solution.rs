//! `deploy-solution` (SPEC §9). Not implemented yet: fails clearly.

use super::{Ctx, Outcome};
use crate::aws::AwsClients;

/// Run the action.
#[allow(clippy::unused_async)]
pub async fn run(ctx: &mut Ctx<'_>, aws: &AwsClients) -> anyhow::Result<Outcome> {
    let _ = aws;
    super::not_available(ctx.options.action)
}
