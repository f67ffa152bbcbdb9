//! `validate-prov-template` (SPEC §9). Not implemented yet: fails clearly.

use super::{Ctx, Outcome};

/// Run the action.
pub fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<Outcome> {
    super::not_available(ctx.options.action)
}
