//! The solution folder blueprint, as data in one place. A solution `S` lives under
//! `solutions/S/`; every folder (and every parent, up to `solutions/`) is one zero-byte marker
//! object whose key ends in `/`, like the S3 console's "Create folder". Deployment creates the
//! missing markers; drift checks report missing ones. Users may add their own folders.

/// Prefix under which every solution lives.
pub const SOLUTIONS_PREFIX: &str = "solutions/";

/// The leaf folders of a solution, relative to `solutions/S/`. Code folders use underscores,
/// other folders hyphens. Parents are derived, never listed.
pub const LEAF_FOLDERS: &[&str] = &[
    "data/raw/",
    "data/curated/",
    "data/processed/train/",
    "data/processed/validation/",
    "data/processed/test/",
    "data/features/",
    "data/inference/batch-input/",
    "data/inference/predictions/",
    "data/inference/realtime-logs/",
    "models/experiments/",
    "models/training-output/",
    "models/registry/dev/",
    "models/registry/staging/",
    "models/registry/prod/",
    "notebooks/exploration/",
    "notebooks/reporting/",
    "code/data_prep/",
    "code/feature_engineering/",
    "code/training/",
    "code/inference/",
    "code/pipelines/",
    "config/",
    "artifacts/",
    "reports/",
    "visualizations/",
    "logs/",
];

/// `solutions/S/`: the folder of one solution.
pub fn solution_prefix(solution: &str) -> String {
    format!("{SOLUTIONS_PREFIX}{solution}/")
}

/// Every marker key of `solution`, sorted: `solutions/`, `solutions/S/`, each leaf folder and
/// each of its parents, once.
pub fn marker_keys(solution: &str) -> Vec<String> {
    let root = solution_prefix(solution);
    let mut keys = std::collections::BTreeSet::new();
    keys.insert(SOLUTIONS_PREFIX.to_owned());
    keys.insert(root.clone());
    for leaf in LEAF_FOLDERS {
        // Every prefix of the leaf that ends at a `/` is a folder: `a/`, `a/b/`, `a/b/c/`.
        for (end, _) in leaf.match_indices('/') {
            keys.insert(format!("{root}{}", &leaf[..=end]));
        }
    }
    keys.into_iter().collect()
}

/// The solution names found among keys under `solutions/` (the first path segment).
pub fn solutions_in<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = keys
        .into_iter()
        .filter_map(|key| key.strip_prefix(SOLUTIONS_PREFIX))
        .filter_map(|rest| rest.split_once('/').map(|(name, _)| name))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_cover_every_folder_and_parent_once() {
        let keys = marker_keys("master-solution");
        // 26 leaves + 7 intermediate parents + the solution folder + solutions/.
        assert_eq!(keys.len(), 26 + 7 + 2);
        for parent in [
            "solutions/",
            "solutions/master-solution/",
            "solutions/master-solution/data/",
            "solutions/master-solution/data/processed/",
            "solutions/master-solution/data/inference/",
            "solutions/master-solution/models/",
            "solutions/master-solution/models/registry/",
            "solutions/master-solution/notebooks/",
            "solutions/master-solution/code/",
        ] {
            assert!(keys.iter().any(|k| k == parent), "missing {parent}");
        }
        assert!(keys.contains(&"solutions/master-solution/code/feature_engineering/".to_owned()));
        assert!(keys.iter().all(|k| k.ends_with('/')));
        let mut deduped = keys.clone();
        deduped.dedup();
        assert_eq!(deduped, keys);
    }

    #[test]
    fn solution_names_come_from_the_first_segment() {
        let keys = [
            "solutions/",
            "solutions/a/",
            "solutions/a/data/raw/",
            "solutions/b-c/x.csv",
            "other/z/",
        ];
        assert_eq!(solutions_in(keys), ["a", "b-c"]);
    }
}
