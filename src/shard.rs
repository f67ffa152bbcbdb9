//! `--shard K/N`: the K-th of N parts of the configs a fleet run selects, so N machines (a
//! Kubernetes Indexed Job, an AWS Batch array job, a CI matrix) can each run one part of a
//! fleet without any coordination between them.
//!
//! Which part a config falls in depends only on its *key*: the config's path relative to the
//! configs dir (`edge-prod-b001-us-west-1-s3.yaml`, or `prod/….yaml` for a glob into a sub-folder),
//! or its file name when it lies outside the configs dir. Never on an absolute path, which differs
//! between machines and mounts (`/app/configs` in the image, a checkout path in CI), and never
//! on the other configs selected: adding or removing a config moves no other config to another
//! shard, so machines that briefly see different checkouts still never run one config twice.
//! The part is the first 8 bytes of the key's SHA-256 modulo N, which spreads configs evenly.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One part of a fleet: `index` of `count` (1-based, as typed on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, 1 ≤ K ≤ N.
    pub index: u32,
    /// N ≥ 1.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N; anything else is an error saying what a valid value looks like.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = "write it as K/N with 1 ≤ K ≤ N, e.g. --shard 1/4 … --shard 4/4 (with a 0-based index such as JOB_COMPLETION_INDEX, pass $((INDEX + 1))/N)";
        let Some((k, n)) = text.split_once('/') else {
            return Err(format!("`{text}` is not K/N; {usage}"));
        };
        let parse = |part: &str, what: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("{what} `{part}` in `{text}` is not a whole number; {usage}"))
        };
        let (index, count) = (parse(k, "K")?, parse(n, "N")?);
        if count == 0 {
            return Err(format!("N must be at least 1 in `{text}`; {usage}"));
        }
        if index == 0 || index > count {
            return Err(format!(
                "K must be between 1 and N ({count}) in `{text}`; {usage}"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the config at `path` belongs to this shard (see the module comment for the key).
    pub fn contains(self, path: &Path, configs_dir: &Path) -> bool {
        part_of(&key(path, configs_dir), self.count) == self.index - 1
    }

    /// The configs of `configs` that belong to this shard, in their order.
    pub fn select(self, configs: Vec<PathBuf>, configs_dir: &Path) -> Vec<PathBuf> {
        configs
            .into_iter()
            .filter(|path| self.contains(path, configs_dir))
            .collect()
    }
}

/// The key a config is sharded by: its path relative to the configs dir (with `/` separators),
/// or its file name when it is not under the configs dir.
pub fn key(path: &Path, configs_dir: &Path) -> String {
    let relative = path
        .strip_prefix(configs_dir)
        .ok()
        .filter(|rest| !rest.as_os_str().is_empty())
        .or_else(|| path.file_name().map(Path::new))
        .unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The 0-based part of `count` that `key` falls in.
fn part_of(key: &str, count: u32) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let part = u64::from_be_bytes(first) % u64::from(count);
    u32::try_from(part).expect("a remainder of a u32 fits a u32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(dir: &Path, size: usize) -> Vec<PathBuf> {
        (1..=size)
            .map(|i| dir.join(format!("edge-prod-b{i:03}-us-west-1-s3.yaml")))
            .collect()
    }

    #[test]
    fn the_shards_of_a_fleet_are_disjoint_cover_it_and_are_balanced() {
        let dir = Path::new("configs");
        let configs = fleet(dir, 100);
        for count in 1..=7u32 {
            let mut seen = std::collections::BTreeMap::new();
            for index in 1..=count {
                let shard = Shard { index, count };
                let part = shard.select(configs.clone(), dir);
                // Even spread: no shard holds less than half or more than twice its fair share.
                let fair = 100.0 / f64::from(count);
                #[allow(clippy::cast_precision_loss)]
                let size = part.len() as f64;
                assert!(
                    size >= fair / 2.0 && size <= fair * 2.0,
                    "shard {shard} holds {} of 100",
                    part.len()
                );
                for config in part {
                    assert_eq!(
                        seen.insert(config.clone(), index),
                        None,
                        "{} is in two shards of {count}",
                        config.display()
                    );
                }
            }
            assert_eq!(seen.len(), 100, "the {count} shards cover the fleet");
        }
    }

    #[test]
    fn the_shard_of_a_config_does_not_depend_on_where_the_configs_are_mounted() {
        for count in 2..=7 {
            for config in fleet(Path::new("x"), 30) {
                let name = config.file_name().unwrap();
                let image = Path::new("/app/configs").join(name);
                let checkout = Path::new("/home/runner/work/sites/configs").join(name);
                let shard = |index| Shard { index, count };
                let in_image =
                    (1..=count).find(|&k| shard(k).contains(&image, Path::new("/app/configs")));
                let in_ci = (1..=count).find(|&k| {
                    shard(k).contains(&checkout, Path::new("/home/runner/work/sites/configs"))
                });
                // A path given outside the configs dir is keyed by its file name: the same part.
                let elsewhere =
                    (1..=count).find(|&k| shard(k).contains(&checkout, Path::new("configs")));
                assert!(in_image.is_some());
                assert_eq!(in_image, in_ci);
                assert_eq!(in_image, elsewhere);
            }
        }
    }

    #[test]
    fn adding_a_config_moves_no_other_config() {
        let dir = Path::new("configs");
        let before = fleet(dir, 50);
        let after = fleet(dir, 51);
        for index in 1..=5 {
            let shard = Shard { index, count: 5 };
            let old = shard.select(before.clone(), dir);
            let new = shard.select(after.clone(), dir);
            assert!(old.iter().all(|config| new.contains(config)));
        }
    }

    #[test]
    fn keys_are_relative_to_the_configs_dir() {
        let dir = Path::new("/app/configs");
        assert_eq!(key(&dir.join("prod/a.yaml"), dir), "prod/a.yaml");
        assert_eq!(key(Path::new("/elsewhere/b.yaml"), dir), "b.yaml");
    }

    #[test]
    fn k_over_n_is_parsed_and_bad_values_say_how_to_write_it() {
        assert_eq!("3/7".parse(), Ok(Shard { index: 3, count: 7 }));
        assert_eq!("1/1".parse(), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", "-1/3", ""] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert!(error.contains("K/N with 1 ≤ K ≤ N"), "{bad}: {error}");
        }
    }
}
