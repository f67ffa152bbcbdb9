//! The reference docs cannot drift from the code: every config key of the validator's tables,
//! every rule function, every known value (environments, regions, lifecycle presets) and limit is
//! in `docs/config.md`; every status and exit code and the current `format_version` are in
//! `docs/results.md`; and the README and docs point at nothing outside the repository.

use std::path::Path;

use s3_provisioner::config::{self, Env, LifecyclePreset, regions};
use s3_provisioner::exit::ExitStatus;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The rule functions of `src/config/rules.rs` and the key (or part of docs/config.md) each one
/// checks. A new rule function must be added here, which is the reminder to document it.
const RULES: &[(&str, &str)] = &[
    ("company_name", "### `client.company_name`"),
    ("company_prefix", "### `client.company_prefix`"),
    ("account_id", "### `client.account_id`"),
    ("tenant_id", "### `client.tenant_id`"),
    ("env", "### `environment.env`"),
    ("region", "### `environment.region`"),
    ("lifecycle", "### `s3.lifecycle_policy`"),
    ("vpc_id", "### `s3.vpc_id`"),
    ("route_table_ids", "### `s3.route_table_ids`"),
    ("tag_key", "### `s3.tags`"),
    ("tag_value", "### `s3.tags`"),
    ("tag_safe", "letters, digits, spaces and `_ . : / = + - @`"),
    ("did_you_mean", "did you mean"),
];

#[test]
fn every_config_key_has_a_section_in_the_config_reference() {
    let docs = read("docs/config.md");
    let mut keys = config::key_paths();
    keys.push("solution".to_owned());
    for key in keys {
        let heading = if key.contains('.') {
            format!("### `{key}`")
        } else if key == "solution" {
            "### `solution`".to_owned()
        } else {
            format!("## `{key}`")
        };
        assert!(
            docs.lines().any(|l| l == heading),
            "docs/config.md has a `{heading}` section for the config key {key}"
        );
    }
}

#[test]
fn every_rule_function_is_documented() {
    let source = read("src/config/rules.rs");
    let docs = read("docs/config.md");
    let functions: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub fn "))
        .filter_map(|l| l.split(['(', '<']).next())
        .collect();
    assert!(
        functions.len() >= 10,
        "found the rule functions: {functions:?}"
    );
    for function in &functions {
        let Some((_, docs_part)) = RULES.iter().find(|(name, _)| name == function) else {
            panic!(
                "src/config/rules.rs has a new rule `{function}`: document it in docs/config.md and add it to RULES in tests/it/docs.rs"
            );
        };
        assert!(
            docs.contains(docs_part),
            "docs/config.md documents rule {function} ({docs_part})"
        );
    }
}

#[test]
fn every_known_value_and_limit_is_in_the_config_reference() {
    let docs = read("docs/config.md");
    for env in Env::ALL {
        assert!(docs.contains(&format!("`{}`", env.as_str())), "env {env:?}");
    }
    for preset in LifecyclePreset::ALL {
        assert!(
            docs.contains(&format!("| `{}` |", preset.as_str())),
            "docs/config.md has a row for lifecycle preset {}",
            preset.as_str()
        );
    }
    for region in regions::KNOWN_REGIONS {
        assert!(docs.contains(&format!("`{region}`")), "region {region}");
    }
    assert!(
        docs.contains(&format!("{} regions", regions::KNOWN_REGIONS.len())),
        "docs/config.md states the number of regions"
    );
    for (region, _) in regions::OTHER_PARTITION_REGIONS {
        assert!(
            docs.contains(&format!("`{region}`")),
            "refused region {region}"
        );
    }
    assert!(docs.contains(&format!("at most {} tags", config::MAX_USER_TAGS)));
    assert!(docs.contains(&format!("keys 1-{} characters", config::TAG_KEY_MAX)));
    assert!(docs.contains(&format!("values 0-{} characters", config::TAG_VALUE_MAX)));
    assert!(docs.contains(&format!("`{}`", config::TOOL_TAG_PREFIX)));
    assert!(docs.contains("at most\n  1 MiB") || docs.contains("at most 1 MiB"));
    assert_eq!(
        config::MAX_CONFIG_BYTES,
        1024 * 1024,
        "docs/config.md says 1 MiB"
    );
}

#[test]
fn the_results_reference_has_every_status_and_the_format_version() {
    let docs = read("docs/results.md");
    let statuses = [
        ExitStatus::Success,
        ExitStatus::Failure,
        ExitStatus::Usage,
        ExitStatus::Differences,
        ExitStatus::Refused,
        ExitStatus::Interrupted,
    ];
    for status in statuses {
        let name = serde_json::to_value(status).unwrap();
        let row = format!("| `{}` | {} |", name.as_str().unwrap(), status.code());
        assert!(docs.contains(&row), "docs/results.md has the row {row}");
    }
    assert!(docs.contains(&format!(
        "\"format_version\": {}",
        s3_provisioner::RESULT_FORMAT_VERSION
    )));
    assert!(docs.contains(&format!(
        "`{}` today",
        s3_provisioner::RESULT_FORMAT_VERSION
    )));
}

/// Every file of the repository's code (sources, tests, scripts, the Dockerfile, CI) cites
/// nothing outside the repository: no "SPEC" and no section sign, so a reader never needs a
/// document the repository does not hold. This file is skipped: it names what it looks for.
#[test]
fn code_cites_no_document_outside_the_repository() {
    fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("Dockerfile"), root.join(".ci/run")];
    for dir in ["src", "tests", "scripts", "examples"] {
        walk(&root.join(dir), &mut files);
    }
    let this_file = root.join(file!());
    let mut checked = 0;
    for file in files {
        if file == this_file || file.extension().is_some_and(|e| e == "snap") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // not text
        };
        checked += 1;
        for (number, line) in text.lines().enumerate() {
            assert!(
                !line.contains("SPEC") && !line.contains('\u{a7}'),
                "{}:{}: cites a document outside the repository: {line}",
                file.display(),
                number + 1
            );
        }
    }
    assert!(checked > 100, "only {checked} files were read");
}

#[test]
fn readme_and_docs_point_only_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display();
        assert!(
            !text.contains("SPEC"),
            "{name} cites a document outside the repository"
        );
        assert!(
            !text.contains('§'),
            "{name} cites a section of an outside document"
        );
        // Relative links resolve to files of the repository.
        for (at, _) in text.match_indices("](") {
            let target = &text[at + 2..];
            let target = &target[..target.find(')').unwrap_or(target.len())];
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let target = target.split('#').next().unwrap();
            let resolved = file.parent().unwrap().join(target);
            assert!(resolved.exists(), "{name}: link to {target} resolves");
        }
    }
}

/// The tool's command lines in a doc: every `s3-provisioner …` (binary, `exec` in a shell, or the
/// image's arguments after `s3-provisioner:latest`) in its fenced blocks, continuation lines and
/// YAML folded lines joined, as argument lists (quotes removed; a shell expansion such as
/// `$((JOB_COMPLETION_INDEX + 1))/4` or `${{ matrix.shard }}/4` stands for its value, `1/4`).
fn tool_commands(doc: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut joined = String::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let line = line.split(" # ").next().unwrap_or(line).trim();
        joined.push(' ');
        joined.push_str(line.trim_end_matches('\\'));
        let continues = line.ends_with('\\')
            || (joined.contains("s3-provisioner --config") && line.ends_with("--force"));
        if continues {
            continue;
        }
        let text = std::mem::take(&mut joined)
            .replace("$((JOB_COMPLETION_INDEX + 1))", "1")
            .replace("$((AWS_BATCH_JOB_ARRAY_INDEX + 1))", "1")
            .replace("${{ matrix.shard }}", "1");
        let image = text
            .find("s3-provisioner:latest ")
            .map(|at| &text[at + "s3-provisioner:latest ".len()..]);
        let binary = || {
            let line = text.trim_start();
            let line = line.strip_prefix("exec ").unwrap_or(line);
            line.strip_prefix("s3-provisioner ")
                .filter(|rest| rest.starts_with("--"))
        };
        let Some(rest) = image.or_else(binary) else {
            continue;
        };
        let mut args = vec!["s3-provisioner".to_owned()];
        args.extend(
            rest.split_whitespace()
                .map(|word| word.trim_matches('\'').to_owned()),
        );
        commands.push(args);
    }
    commands
}

#[test]
fn every_command_of_the_fleets_guide_parses() {
    let doc = read("docs/fleets.md");
    let commands = tool_commands(&doc);
    assert!(commands.len() >= 6, "found {commands:?}");
    let mut shards = 0;
    for args in &commands {
        let parsed = s3_provisioner::cli::parse_from(args.clone());
        let Ok(s3_provisioner::cli::Invocation::Run(cli)) = parsed else {
            panic!(
                "docs/fleets.md: `{}` does not parse: {parsed:?}",
                args.join(" ")
            );
        };
        shards += usize::from(cli.shard.is_some());
    }
    assert!(
        shards >= 4,
        "the Indexed Job, docker run, Batch and CI commands shard"
    );
}

/// The design doc names the code it describes: every `` `module::path` `` in it whose first part
/// is a module of `src/` resolves, each part to a module file or, for the last, to an item (`fn`,
/// `struct`, `enum`, `const`, `static`, `type`, `mod` or `macro_rules!`), an enum variant or a
/// `pub use` of the module it names (or `Type::method`). A moved or renamed item makes this fail, not the doc go stale.
#[test]
fn every_code_path_of_the_design_doc_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let design = read("docs/design.md");
    let module_file = |dir: &Path, name: &str| {
        [
            dir.join(format!("{name}.rs")),
            dir.join(name).join("mod.rs"),
        ]
        .into_iter()
        .find(|p| p.exists())
    };
    let mut checked = 0;
    for quoted in design.split('`').skip(1).step_by(2) {
        let path = quoted.trim_end_matches("()");
        let parts: Vec<&str> = path.split("::").collect();
        let is_path = parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if !is_path || module_file(&src, parts[0]).is_none() {
            continue;
        }
        let mut dir = src.clone();
        let mut file = None;
        for (index, part) in parts.iter().enumerate() {
            if let Some(found) = module_file(&dir, part) {
                file = Some(found);
                dir = dir.join(part);
                continue;
            }
            let code = std::fs::read_to_string(file.as_ref().unwrap()).unwrap();
            let defined = [
                "fn",
                "struct",
                "enum",
                "const",
                "static",
                "type",
                "mod",
                "macro_rules!",
            ]
            .iter()
            .any(|kind| {
                code.contains(&format!("{kind} {part}"))
                    && (code.contains(&format!("{kind} {part}("))
                        || code.contains(&format!("{kind} {part}<"))
                        || code.contains(&format!("{kind} {part} "))
                        || code.contains(&format!("{kind} {part}:"))
                        || code.contains(&format!("{kind} {part};")))
            }) || code.contains(&format!("    {part},"))
                || code.contains(&format!("    {part} {{"))
                || code.contains(&format!("    {part}("))
                || code.lines().any(|line| {
                    line.starts_with("pub use")
                        && line
                            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .any(|word| word == *part)
                });
            assert!(
                defined,
                "docs/design.md names `{quoted}`, but `{part}` is not defined in {}",
                file.as_ref().unwrap().display()
            );
            // `Type::method`: one more part, a method of that type.
            if let Some(method) = parts.get(index + 1) {
                assert!(
                    index + 2 == parts.len() && code.contains(&format!("fn {method}(")),
                    "docs/design.md names `{quoted}`, but `{method}` is not a method in {}",
                    file.as_ref().unwrap().display()
                );
            }
            break;
        }
        checked += 1;
    }
    assert!(
        checked > 20,
        "only {checked} code paths were found in docs/design.md"
    );
}
