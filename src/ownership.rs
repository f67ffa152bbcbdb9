//! The ownership rule, in one place: a stack or bucket is this deployment's only when it carries
//! [`DEPLOYMENT_TAG`] valued with the deployment's name. Whatever else it is — untagged, or
//! tagged for another deployment — the tool never changes, adopts or deletes it.
//!
//! This module decides; it reads no AWS and phrases no message. The AWS layer returns the tags it
//! found, and each caller (deploying, checking drift, tearing down) words the refusal for what it
//! was about to do.

/// The tag every stack and bucket of the tool carries, valued with the deployment name. The
/// template writes this constant and [`owner`] reads it, so the two cannot differ.
pub const DEPLOYMENT_TAG: &str = "s3-provisioner:deployment";

/// Whose a tagged resource is, as far as the tool is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'t> {
    /// Tagged for this deployment: the tool may change or delete it.
    Ours,
    /// Tagged for another deployment (the value of its [`DEPLOYMENT_TAG`]).
    Other(&'t str),
    /// No [`DEPLOYMENT_TAG`]: not made by this tool, or its tags were edited by hand.
    Untagged,
}

/// Decide whose a stack or bucket is, from its tags (`tag` looks one up by key), for the
/// deployment named `deployment`.
pub fn owner<'t>(tag: impl FnOnce(&str) -> Option<&'t str>, deployment: &str) -> Owner<'t> {
    match tag(DEPLOYMENT_TAG) {
        Some(value) if value == deployment => Owner::Ours,
        Some(value) => Owner::Other(value),
        None => Owner::Untagged,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn owner_of<'t>(tags: &'t BTreeMap<String, String>, deployment: &str) -> Owner<'t> {
        owner(|key| tags.get(key).map(String::as_str), deployment)
    }

    #[test]
    fn only_the_deployment_tag_with_this_deployments_name_makes_it_ours() {
        let ours = tags(&[(DEPLOYMENT_TAG, "edge-prod-b001-us-west-1-s3")]);
        assert_eq!(owner_of(&ours, "edge-prod-b001-us-west-1-s3"), Owner::Ours);
        // A longer name sharing the prefix is another deployment, not ours.
        assert_eq!(
            owner_of(&ours, "edge-prod-b001-us-west-1-s3-x"),
            Owner::Other("edge-prod-b001-us-west-1-s3")
        );
    }

    #[test]
    fn other_tags_do_not_make_it_ours() {
        let foreign = tags(&[
            ("s3-provisioner:managed-by", "s3-provisioner"),
            ("deployment", "edge-prod-b001-us-west-1-s3"),
        ]);
        assert_eq!(
            owner_of(&foreign, "edge-prod-b001-us-west-1-s3"),
            Owner::Untagged
        );
        assert_eq!(owner_of(&tags(&[]), "x"), Owner::Untagged);
    }
}
