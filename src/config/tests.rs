//! Tests of `config::load` as a whole: every config rule (docs/config.md) through real YAML text
//! (with the position it is reported at), the whole-file rules, the warnings, a snapshot of the rendered
//! messages for a table of bad inputs, and a property test that no input makes it panic.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;

use super::*;

const BASE: &str = r#"client:
  company_name: Edge Corp
  company_prefix: edge
  account_id: "123456789012"
  tenant_id: "b001"
environment:
  env: prod
  region: us-west-1
s3:
  bucket_name_override: ""
  versioning: true
  lifecycle_policy: ml-optimized
  vpc_id: ""
  route_table_ids: ""
  tags:
    Purpose: ML Solutions Portfolio
    Owner: data-science
"#;

fn load_text(text: &str) -> Result<ValidConfig, Error> {
    from_bytes(Path::new("site.yaml"), text.as_bytes())
}

/// `BASE` with one line replaced (the line must exist, so a test cannot silently test nothing).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no {from:?}");
    BASE.replacen(from, to, 1)
}

fn problems(text: &str) -> Vec<Problem> {
    match load_text(text) {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(error) => error.problems().to_vec(),
    }
}

/// The only problem of `text`, checked to be at `line:column` on `key_path`.
fn only_problem(text: &str, line: usize, column: usize, key_path: &str) -> Problem {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:#?}");
    let problem = found.into_iter().next().unwrap();
    assert_eq!(
        (problem.line, problem.column, problem.key_path.as_str()),
        (line, column, key_path),
        "{problem:#?}"
    );
    assert!(!problem.fix.is_empty(), "every problem says how to fix it");
    problem
}

/// `count` tag lines `    T0: v` … for the tags section.
fn tag_lines(count: usize) -> String {
    (0..count).fold(String::new(), |mut text, i| {
        let _ = writeln!(text, "    T{i}: v");
        text
    })
}

fn warnings_of(text: &str) -> Vec<String> {
    load_text(text)
        .unwrap()
        .warnings
        .into_iter()
        .map(|w| format!("{}: {}", w.key_path, w.message))
        .collect()
}

#[test]
fn the_base_config_loads_into_the_model() {
    let config = load_text(BASE).unwrap();
    assert_eq!(config.client.company_name, "Edge Corp");
    assert_eq!(config.client.account_id, "123456789012");
    assert_eq!(config.environment.env, Env::Prod);
    assert_eq!(config.environment.region, "us-west-1");
    assert_eq!(config.s3.bucket_name_override, None);
    assert!(config.s3.versioning);
    assert_eq!(config.s3.lifecycle_policy, LifecyclePreset::MlOptimized);
    assert_eq!(config.s3.vpc, None);
    assert_eq!(config.s3.tags.len(), 2);
    assert!(config.warnings.is_empty());
    assert_eq!(config.source, Path::new("site.yaml"));
}

#[test]
fn every_example_config_is_valid_and_warning_free() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            config.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            config.warnings
        );
        count += 1;
    }
    assert!(count >= 5, "configs/ holds the example configs");
}

#[test]
fn windows_line_endings_and_a_utf8_bom_are_fine() {
    let crlf = BASE.replace('\n', "\r\n");
    assert_eq!(load_text(&crlf).unwrap().s3, load_text(BASE).unwrap().s3);
    let bom = format!("\u{feff}{BASE}");
    assert_eq!(
        load_text(&bom).unwrap().client,
        load_text(BASE).unwrap().client
    );
    let problem = only_problem(
        &crlf.replace("env: prod", "env: prd"),
        7,
        8,
        "environment.env",
    );
    assert_eq!(problem.value.as_deref(), Some("prd"));
}

#[test]
fn defaults_when_optional_keys_are_left_out() {
    let text = "client:\n  company_name: A\n  company_prefix: a\n  account_id: \"000000000001\"\n  tenant_id: \"0001\"\nenvironment:\n  env: dev\n  region: eu-west-1\n";
    let config = load_text(text).unwrap();
    assert!(!config.s3.versioning);
    assert_eq!(config.s3.lifecycle_policy, LifecyclePreset::None);
    assert_eq!(config.s3.bucket_name_override, None);
    assert!(config.s3.tags.is_empty());
    assert_eq!(config.client.account_id, "000000000001");
    // Empty values and `~` mean "not set" for optional keys.
    let nulls =
        format!("{text}s3:\n  bucket_name_override:\n  lifecycle_policy: ~\n  vpc_id:\n  tags:\n");
    assert_eq!(load_text(&nulls).unwrap().s3, config.s3);
}

#[test]
fn unquoted_account_id_explains_the_lost_zeros() {
    let problem = only_problem(
        &edit("\"123456789012\"", "012345678901"),
        4,
        15,
        "client.account_id",
    );
    assert!(
        problem.rule.contains("must be a quoted string"),
        "{}",
        problem.rule
    );
    assert!(problem.rule.contains("drops leading zeros"));
    assert_eq!(problem.fix, "write account_id: \"012345678901\"");
    assert_eq!(problem.value.as_deref(), Some("012345678901"));
}

#[test]
fn unquoted_tenant_id_explains_the_lost_zeros() {
    let problem = only_problem(&edit("\"b001\"", "0001"), 5, 14, "client.tenant_id");
    assert!(problem.rule.contains("drops leading zeros"));
    assert_eq!(problem.fix, "write tenant_id: \"0001\"");
    // A plain `b001` is text in YAML and fine.
    assert!(load_text(&edit("\"b001\"", "b001")).is_ok());
    // `!!str` makes a plain scalar text.
    assert!(load_text(&edit("\"123456789012\"", "!!str 123456789012")).is_ok());
}

#[test]
fn field_rules_report_at_the_value() {
    for (from, to, line, column, key_path, rule) in [
        (
            "company_name: Edge Corp",
            "company_name: \"  \"",
            2,
            17,
            "client.company_name",
            "must not be empty",
        ),
        (
            "company_prefix: edge",
            "company_prefix: Edge",
            3,
            19,
            "client.company_prefix",
            "lowercase letters or digits",
        ),
        (
            "\"123456789012\"",
            "\"12345678901\"",
            4,
            15,
            "client.account_id",
            "exactly 12 digits",
        ),
        (
            "\"b001\"",
            "\"b0001\"",
            5,
            14,
            "client.tenant_id",
            "exactly 4 lowercase",
        ),
        (
            "env: prod",
            "env: production",
            7,
            8,
            "environment.env",
            "one of prod, dev, test, staging",
        ),
        (
            "region: us-west-1",
            "region: us-west1",
            8,
            11,
            "environment.region",
            "not a known AWS region",
        ),
        (
            "region: us-west-1",
            "region: us-gov-west-1",
            8,
            11,
            "environment.region",
            "aws-us-gov partition",
        ),
        (
            "bucket_name_override: \"\"",
            "bucket_name_override: \"My_Bucket\"",
            10,
            25,
            "s3.bucket_name_override",
            "not a valid S3 bucket name",
        ),
        (
            "bucket_name_override: \"\"",
            "bucket_name_override: 192.168.1.1",
            10,
            25,
            "s3.bucket_name_override",
            "IP address",
        ),
        (
            "versioning: true",
            "versioning: 3",
            11,
            15,
            "s3.versioning",
            "must be true or false",
        ),
        (
            "lifecycle_policy: ml-optimized",
            "lifecycle_policy: archive",
            12,
            21,
            "s3.lifecycle_policy",
            "one of ml-optimized",
        ),
        (
            "vpc_id: \"\"",
            "vpc_id: vpc-12345",
            13,
            11,
            "s3.vpc_id",
            "8 or 17 lowercase hex",
        ),
        (
            "Owner: data-science",
            "Owner: data#science",
            17,
            12,
            "s3.tags.Owner",
            "characters AWS does not allow",
        ),
    ] {
        let problem = only_problem(&edit(from, to), line, column, key_path);
        assert!(problem.rule.contains(rule), "{to}: {}", problem.rule);
    }
}

#[test]
fn versioning_must_be_a_real_boolean() {
    let yes = only_problem(
        &edit("versioning: true", "versioning: yes"),
        11,
        15,
        "s3.versioning",
    );
    assert!(yes.rule.contains("`yes` is not a boolean"), "{}", yes.rule);
    assert_eq!(yes.fix, "write versioning: true");
    let off = only_problem(
        &edit("versioning: true", "versioning: off"),
        11,
        15,
        "s3.versioning",
    );
    assert_eq!(off.fix, "write versioning: false");
    let quoted = only_problem(
        &edit("versioning: true", "versioning: \"true\""),
        11,
        15,
        "s3.versioning",
    );
    assert!(quoted.rule.contains("quotes make it text"));
    let empty = only_problem(
        &edit("versioning: true", "versioning:"),
        11,
        3,
        "s3.versioning",
    );
    assert_eq!(empty.rule, "has no value");
    for spelling in ["True", "TRUE", "false", "False"] {
        assert!(
            load_text(&edit(
                "versioning: true",
                &format!("versioning: {spelling}")
            ))
            .is_ok()
        );
    }
}

#[test]
fn vpc_id_and_route_tables_go_together() {
    let vpc = edit("vpc_id: \"\"", "vpc_id: vpc-0a1b2c3d");
    let missing = only_problem(&vpc, 14, 20, "s3.route_table_ids");
    assert!(missing.rule.contains("required when vpc_id is set"));
    let without_key = vpc.replace("  route_table_ids: \"\"\n", "");
    only_problem(&without_key, 13, 11, "s3.route_table_ids");
    let lonely = edit("route_table_ids: \"\"", "route_table_ids: rtb-0a1b2c3d");
    assert!(
        only_problem(&lonely, 14, 20, "s3.route_table_ids")
            .rule
            .contains("vpc_id is not")
    );
    let both = vpc.replace(
        "route_table_ids: \"\"",
        "route_table_ids: \"rtb-0a1b2c3d, rtb-0a1b2c3d4e5f67890\"",
    );
    let config = load_text(&both).unwrap();
    assert_eq!(
        config.s3.vpc,
        Some(VpcSettings {
            vpc_id: "vpc-0a1b2c3d".into(),
            route_table_ids: vec!["rtb-0a1b2c3d".into(), "rtb-0a1b2c3d4e5f67890".into()],
        })
    );
    let list = vpc.replace(
        "route_table_ids: \"\"",
        "route_table_ids: [rtb-0a1b2c3d, rtb-1a1b2c3d]",
    );
    let problem = only_problem(&list, 14, 20, "s3.route_table_ids");
    assert_eq!(
        problem.fix,
        "write route_table_ids: \"rtb-0a1b2c3d,rtb-1a1b2c3d\""
    );
    let bad = vpc.replace(
        "route_table_ids: \"\"",
        "route_table_ids: \"rtb-0a1b2c3d,,\"",
    );
    assert!(
        only_problem(&bad, 14, 20, "s3.route_table_ids")
            .rule
            .contains("empty")
    );
}

#[test]
fn tag_rules_through_yaml() {
    let tags = |lines: &str| edit("    Owner: data-science\n", lines);
    let cases = [
        (
            "    aws:cost: x\n",
            "s3.tags.aws:cost",
            17,
            5,
            "reserved by AWS",
        ),
        (
            "    s3-provisioner:deployment: x\n",
            "s3.tags.s3-provisioner:deployment",
            17,
            5,
            "tool's own tags",
        ),
        (
            "    Count: 123\n",
            "s3.tags.Count",
            17,
            12,
            "tag values must be text",
        ),
        ("    Flag: true\n", "s3.tags.Flag", 17, 11, "as a boolean"),
        ("    Empty:\n", "s3.tags.Empty", 17, 5, "null"),
        (
            "    2024: x\n",
            "s3.tags.2024",
            17,
            5,
            "tag keys must be text",
        ),
        (
            "    Nested: {a: b}\n",
            "s3.tags.Nested",
            17,
            13,
            "must be a single value",
        ),
    ];
    for (line, key_path, l, c, rule) in cases {
        let problem = only_problem(&tags(line), l, c, key_path);
        assert!(problem.rule.contains(rule), "{line}: {}", problem.rule);
    }
    let long_key = format!("    {}: x\n", "k".repeat(129));
    assert!(
        only_problem(
            &tags(&long_key),
            17,
            5,
            &format!("s3.tags.{}", "k".repeat(129))
        )
        .rule
        .contains("129")
    );
    let long_value = format!("    Owner: {}\n", "v".repeat(257));
    assert!(
        only_problem(&tags(&long_value), 17, 12, "s3.tags.Owner")
            .rule
            .contains("257")
    );
    assert!(
        load_text(&tags("    Owner: \"\"\n")).is_ok(),
        "empty tag values are allowed"
    );
    let many = tag_lines(40);
    assert!(
        load_text(&edit(
            "    Purpose: ML Solutions Portfolio\n    Owner: data-science\n",
            &many
        ))
        .is_ok()
    );
    let too_many = tag_lines(41);
    let problem = only_problem(
        &edit(
            "    Purpose: ML Solutions Portfolio\n    Owner: data-science\n",
            &too_many,
        ),
        15,
        3,
        "s3.tags",
    );
    assert!(problem.rule.starts_with("41 tags"));
    let list = edit(
        "    Purpose: ML Solutions Portfolio\n    Owner: data-science\n",
        "    - Purpose\n",
    );
    assert!(
        only_problem(&list, 16, 5, "s3.tags")
            .rule
            .contains("but it is a list")
    );
}

#[test]
fn unknown_keys_suggest_the_near_miss_and_the_right_section() {
    // The misspelt key leaves company_name missing too.
    let found = problems(&edit("company_name:", "compnay_name:"));
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].rule,
        "missing required key `company_name` in `client:`"
    );
    assert_eq!(
        (found[0].line, found[0].column),
        (1, 1),
        "reported at the section"
    );
    assert_eq!(found[1].fix, "did you mean `company_name`?");

    let misplaced = edit(
        "  tenant_id: \"b001\"\n",
        "  tenant_id: \"b001\"\n  regoin: us-west-1\n",
    );
    let problem = only_problem(&misplaced, 6, 3, "client.regoin");
    assert_eq!(
        problem.fix,
        "did you mean `region`? it belongs in the `environment:` section"
    );
    let moved = format!("{BASE}region: us-west-1\n");
    let problem = only_problem(&moved, 18, 1, "region");
    assert_eq!(
        problem.fix,
        "`region` belongs in the `environment:` section; move it there"
    );
    let section = BASE.replace("environment:", "Environment:");
    let found = problems(&section);
    assert!(
        found.iter().any(|p| p.fix == "did you mean `environment`?"),
        "{found:#?}"
    );
    let unrelated = format!("{BASE}colour: blue\n");
    assert!(
        only_problem(&unrelated, 18, 1, "colour")
            .fix
            .starts_with("remove it")
    );
}

#[test]
fn wrong_shapes_are_named() {
    let mapping = edit(
        "company_name: Edge Corp",
        "company_name:\n    legal: Edge Corp",
    );
    assert!(
        only_problem(&mapping, 3, 5, "client.company_name")
            .rule
            .contains("but it is a mapping")
    );
    let list = edit("region: us-west-1", "region: [us-west-1]");
    assert!(
        only_problem(&list, 8, 11, "environment.region")
            .rule
            .contains("but it is a list")
    );
    let scalar_section = BASE.replace(
        "environment:\n  env: prod\n  region: us-west-1\n",
        "environment: prod\n",
    );
    assert!(
        only_problem(&scalar_section, 6, 14, "environment")
            .rule
            .contains("must be a mapping")
    );
    let empty_section = BASE.replace(
        "environment:\n  env: prod\n  region: us-west-1\n",
        "environment:\n",
    );
    assert!(
        only_problem(&empty_section, 6, 1, "environment")
            .rule
            .contains("is empty")
    );
    let missing_section = BASE.replace("environment:\n  env: prod\n  region: us-west-1\n", "");
    assert_eq!(
        only_problem(&missing_section, 1, 1, "environment").rule,
        "missing required section `environment:`"
    );
    let tagged = edit("env: prod", "env: !custom prod");
    assert!(
        only_problem(&tagged, 7, 8, "environment.env")
            .rule
            .contains("tag `!custom`")
    );
    let null_required = edit("env: prod", "env:");
    assert_eq!(
        only_problem(&null_required, 7, 3, "environment.env").rule,
        "`env` has no value"
    );
}

#[test]
fn all_problems_are_reported_at_once_in_file_order() {
    let text = BASE
        .replace("company_prefix: edge", "company_prefix: Edge")
        .replace("env: prod", "env: prd")
        .replace("versioning: true", "versioning: yes")
        .replace(
            "Owner: data-science",
            "Owner: data-science\n    Owner: again",
        );
    let found = problems(&text);
    let lines: Vec<usize> = found.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 7, 11, 18], "{found:#?}");
    assert!(found[3].rule.starts_with("duplicate key `Owner`"));
}

#[test]
fn whole_file_rules() {
    assert_eq!(
        problems("")[0].rule,
        "the file is empty (or holds only comments)"
    );
    assert_eq!(problems("# just a comment\n")[0].line, 0);
    assert!(problems("- client\n")[0].rule.contains("must be a mapping"));
    assert!(
        problems(&format!("{BASE}---\n{BASE}"))[0]
            .rule
            .contains("more than one YAML document")
    );
    let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n";
    let found = problems(bomb);
    assert!(
        found.iter().any(|p| p.rule.contains("anchors")),
        "{found:#?}"
    );
    let tab = BASE.replace("  env: prod", "\tenv: prod");
    let problem = &problems(&tab)[0];
    assert!(
        problem.rule.starts_with("YAML syntax error"),
        "{problem:#?}"
    );
    assert_eq!(problem.line, 7);
}

#[test]
fn non_utf8_is_reported_with_its_position() {
    let mut bytes = b"client:\n  company_name: Edge ".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" Corp\n");
    let error = from_bytes(Path::new("x.yaml"), &bytes).unwrap_err();
    let problem = &error.problems()[0];
    assert_eq!((problem.line, problem.column), (2, 22));
    assert_eq!(
        problem.rule,
        "the file is not valid UTF-8: byte 0xE9 at byte offset 29"
    );
    let utf16 = from_bytes(Path::new("x.yaml"), &[0xFF, 0xFE, b'a', 0]).unwrap_err();
    assert!(utf16.problems()[0].fix.contains("UTF-16"));
}

#[test]
fn warnings_for_settings_that_are_probably_not_meant() {
    assert_eq!(
        warnings_of(&edit(
            "lifecycle_policy: ml-optimized",
            "lifecycle_policy: development"
        )),
        [
            "s3.lifecycle_policy: env is prod but lifecycle_policy is development, which deletes objects under solutions/ after 90 days; use ml-optimized or compliance for production data"
        ]
    );
    let unversioned = warnings_of(&edit("versioning: true", "versioning: false"));
    assert_eq!(unversioned.len(), 1);
    assert!(unversioned[0].starts_with("s3.versioning: env is prod but versioning is off"));
    let compliance = edit("versioning: true", "versioning: false")
        .replace(
            "lifecycle_policy: ml-optimized",
            "lifecycle_policy: compliance",
        )
        .replace("env: prod", "env: test");
    assert_eq!(warnings_of(&compliance).len(), 1);
    assert!(warnings_of(&compliance)[0].contains("compliance but versioning is off"));
    let name = warnings_of(&edit(
        "company_name: Edge Corp",
        "company_name: \"Edge & Sons, Inc.\"",
    ));
    assert!(name[0].starts_with(
        "client.company_name: company_name \"Edge & Sons, Inc.\" has characters AWS does not allow"
    ));
    let dev_prod_bucket = edit("env: prod", "env: dev").replace(
        "bucket_name_override: \"\"",
        "bucket_name_override: edge-prod-b001-data",
    );
    assert!(warnings_of(&dev_prod_bucket)[0].contains("`-prod-` but env is dev"));
}

#[test]
fn derived_names_must_be_valid() {
    // Unreachable through the field rules today (the longest prefix and region still fit), so the
    // check is exercised on a model built by hand.
    let mut config = example();
    // 41 + "-prod-b001-us-west-1-s3" (23) = 64 characters.
    config.client.company_prefix = "p".repeat(41);
    let problem = validate_derived_for_test(&config);
    assert_eq!(problem.key_path, "client.company_prefix");
    assert!(problem.rule.contains("over S3's limit of 63"));
    assert!(problem.fix.contains("bucket_name_override"));
}

fn validate_derived_for_test(config: &ValidConfig) -> Problem {
    validate::derived_names_problem(
        config,
        yaml::Pos {
            line: 3,
            column: 19,
        },
    )
    .unwrap()
}

#[test]
fn missing_files_list_the_configs_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("edge-prod-b001-us-west-1-s3.yaml"), BASE).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let error = load(&dir.path().join("edge-prod-b001-us-west1-s3.yaml")).unwrap_err();
    let Error::NotFound { hint, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(
        hint.starts_with("did you mean edge-prod-b001-us-west-1-s3.yaml? configs in"),
        "{hint}"
    );
    assert!(!hint.contains("notes.txt"));
    assert!(hint.contains("--configs-dir"));
    let nowhere = load(Path::new("/nonexistent-dir/x.yaml")).unwrap_err();
    assert!(nowhere.to_string().contains("does not exist"), "{nowhere}");
}

#[test]
fn directories_and_huge_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(dir.path()).unwrap_err();
    assert_eq!(
        error.problems()[0].rule,
        "is a directory, not a config file"
    );
    let big = dir.path().join("big.yaml");
    let size = usize::try_from(MAX_CONFIG_BYTES).unwrap() + 1;
    std::fs::write(&big, "#".repeat(size)).unwrap();
    let error = load(&big).unwrap_err();
    assert!(
        error.problems()[0]
            .rule
            .contains("over the 1048576-byte (1 MiB) limit")
    );
    // A device is refused by its type, before it is opened (reading /dev/zero never ends).
    let zero = load(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(
        zero.problems()[0].rule,
        "is a character device, not a config file"
    );
}

#[test]
fn long_problem_lists_are_cut_in_text_but_kept_whole() {
    let garbage: String = (0..120).fold(String::from(BASE), |mut text, i| {
        let _ = writeln!(text, "junk{i}: x");
        text
    });
    let error = load_text(&garbage).unwrap_err();
    assert_eq!(error.problems().len(), 120);
    let text = error.to_string();
    assert_eq!(text.matches("unknown key `junk").count(), 50);
    assert!(text.ends_with(
        "… and 70 more problems (the JSON output lists them all); fix the ones above first"
    ));
}

/// STYLE.md 11: the rendered messages are user interface; review changes to them.
#[test]
fn rendered_messages_for_bad_inputs() {
    let cases: Vec<(&str, String)> = vec![
        ("empty file", String::new()),
        ("list document", "- client\n- environment\n".into()),
        (
            "syntax error",
            "client:\n  company_name: Edge: Corp\n".into(),
        ),
        ("tab indentation", "client:\n\tcompany_name: Edge\n".into()),
        ("two documents", format!("{BASE}---\n{BASE}")),
        (
            "alias",
            BASE.replace(
                "Owner: data-science",
                "Owner: &o data-science\n    Team: *o",
            ),
        ),
        (
            "unquoted account id",
            edit("\"123456789012\"", "012345678901"),
        ),
        ("unquoted tenant id", edit("\"b001\"", "0001")),
        (
            "versioning yes",
            edit("versioning: true", "versioning: yes"),
        ),
        (
            "unknown key typo",
            edit("lifecycle_policy:", "lifecycle_polcy:"),
        ),
        (
            "duplicate key",
            edit("  env: prod\n", "  env: prod\n  env: dev\n"),
        ),
        (
            "vpc without route tables",
            edit("vpc_id: \"\"", "vpc_id: vpc-0a1b2c3d"),
        ),
        ("tag value number", edit("Owner: data-science", "Owner: 42")),
        (
            "bad override",
            edit(
                "bucket_name_override: \"\"",
                "bucket_name_override: my..bucket",
            ),
        ),
        (
            "many at once",
            BASE.replace("company_prefix: edge", "company_prefix: Edge-Corp")
                .replace("region: us-west-1", "region: us-west-1a")
                .replace("env: prod", "env: Production")
                .replace(
                    "lifecycle_policy: ml-optimized",
                    "lifecycle_policy: ml_optimized",
                )
                .replace("Purpose:", "aws:purpose:"),
        ),
    ];
    let mut rendered = String::new();
    for (name, text) in cases {
        let error = load_text(&text).unwrap_err();
        let _ = write!(rendered, "## {name}\n{error}\n\n");
    }
    insta::assert_snapshot!(rendered);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes: never a panic; an error always carries at least one problem with a rule.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(error) = from_bytes(Path::new("fuzz.yaml"), &bytes) {
            prop_assert!(!error.problems().is_empty());
            prop_assert!(error.problems().iter().all(|p| !p.rule.is_empty()));
        }
    }

    /// The whole path through a real file: `load` reads, bounds and parses it.
    #[test]
    fn random_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.yaml");
        std::fs::write(&path, &bytes).unwrap();
        match load(&path) {
            Ok(config) => prop_assert_eq!(config.source, path),
            Err(Error::Invalid { problems, .. }) => prop_assert!(!problems.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }

    /// YAML-looking text built from YAML's own punctuation.
    #[test]
    fn yaml_ish_text_never_panics(text in "[a-z0-9_:\\-\\[\\]{}&*!|>#%@`,?~\"' \t\n.]{0,400}") {
        let _ = load_text(&text);
    }

    /// The valid base config with random edits: the inputs closest to real mistakes.
    #[test]
    fn mutated_configs_never_panic(
        edits in proptest::collection::vec((0usize..BASE.len(), any::<u8>(), 0u8..3), 1..8)
    ) {
        let mut bytes = BASE.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = at.min(bytes.len());
            match op {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => { bytes.remove(at); }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        let result = from_bytes(Path::new("fuzz.yaml"), &bytes);
        if let Err(error) = result {
            prop_assert!(!error.problems().is_empty());
            // Rendering never panics either.
            let _ = error.to_string();
        }
    }
}
