//! One check per config section (`client`, `environment`, `s3`): each reads its keys, records
//! every problem it finds on the [`Checker`], and builds its part of the model only when all of
//! its values are valid. [`super::validate`] joins the parts.

use super::super::rules::{self, Violation};
use super::super::yaml::Pos;
use super::super::{Client, Environment, LifecyclePreset, S3Settings, VpcSettings};
use super::{Checker, Section};

/// The `client:` section, with the position of `company_prefix` (the derived-name check points
/// there).
pub(super) fn client(c: &mut Checker, section: Option<Section<'_>>) -> Option<(Client, Pos)> {
    let field = |c: &mut Checker, key: &str, rule: fn(&str) -> Result<String, Violation>| {
        let (text, pos) = c.required(section, key)?;
        c.check(&format!("client.{key}"), pos, &text, rule(&text))
            .map(|value| (value, pos))
    };
    let company_name = field(c, "company_name", rules::company_name);
    let company_prefix = field(c, "company_prefix", rules::company_prefix);
    let account_id = field(c, "account_id", rules::account_id);
    let tenant_id = field(c, "tenant_id", rules::tenant_id);
    let ((company_name, _), (company_prefix, prefix_pos), (account_id, _), (tenant_id, _)) =
        (company_name?, company_prefix?, account_id?, tenant_id?);
    let client = Client {
        company_name,
        company_prefix,
        account_id,
        tenant_id,
    };
    Some((client, prefix_pos))
}

/// The `environment:` section.
pub(super) fn environment(c: &mut Checker, section: Option<Section<'_>>) -> Option<Environment> {
    let env = c
        .required(section, "env")
        .and_then(|(text, pos)| c.check("environment.env", pos, &text, rules::env(&text)));
    let region = c
        .required(section, "region")
        .and_then(|(text, pos)| c.check("environment.region", pos, &text, rules::region(&text)));
    Some(Environment {
        env: env?,
        region: region?,
    })
}

/// The optional `s3:` section (every key has a default).
pub(super) fn s3(c: &mut Checker, s3: Option<Section<'_>>) -> Option<S3Settings> {
    let get = |key: &str| s3.and_then(|s| s.get(key));
    let bucket_name_override = c.bucket_name_override(s3);
    let versioning = c.versioning(get("versioning"));
    let lifecycle = c
        .optional(s3, "lifecycle_policy")
        .and_then(|text| match text {
            None => Ok(LifecyclePreset::None),
            Some((text, pos)) => c
                .check("s3.lifecycle_policy", pos, &text, rules::lifecycle(&text))
                .ok_or(()),
        });
    let vpc_id = c.optional(s3, "vpc_id").and_then(|text| match text {
        None => Ok(None),
        Some((text, pos)) => c
            .check("s3.vpc_id", pos, &text, rules::vpc_id(&text))
            .map(|id| Some((id, pos)))
            .ok_or(()),
    });
    let route_tables = c.route_table_ids(get("route_table_ids"));
    let vpc = match (&vpc_id, route_tables) {
        (Ok(Some((_, pos))), Ok(None)) => {
            let at = get("route_table_ids").map_or(*pos, |entry| entry.value.pos());
            c.problem(
                at,
                "s3.route_table_ids",
                None,
                "is required when vpc_id is set (the S3 gateway endpoint is attached to route tables)",
                "list the route tables of the VPC's subnets, e.g. route_table_ids: \"rtb-0a1b2c3d,rtb-4e5f6a7b\"",
            );
            Err(())
        }
        (Ok(None), Ok(Some((_, pos)))) => {
            c.problem(
                pos,
                "s3.route_table_ids",
                None,
                "is set but vpc_id is not; route tables are only used by the VPC endpoint",
                "set vpc_id to the VPC these route tables belong to, or remove route_table_ids",
            );
            Err(())
        }
        (Ok(Some((vpc_id, _))), Ok(Some((route_table_ids, _)))) => Ok(Some(VpcSettings {
            vpc_id: vpc_id.clone(),
            route_table_ids,
        })),
        (Ok(None), Ok(None)) => Ok(None),
        _ => Err(()),
    };
    let tags = c.tags(get("tags"));
    Some(S3Settings {
        bucket_name_override: bucket_name_override.ok()?,
        versioning: versioning?,
        lifecycle_policy: lifecycle.ok()?,
        vpc: vpc.ok()?,
        tags: tags?,
    })
}
