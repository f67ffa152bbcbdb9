//! Keeps the layer table in the crate documentation (`src/lib.rs`) true: every module under `src/`
//! may refer (`use crate::x`, `crate::x::…`, `super::…` out of its own module) only to the modules
//! its row names. Test code may use anything: `#[cfg(test)]` items, `tests.rs` files and the
//! fixtures modules are skipped.
//!
//! Inside `actions`, one more rule: no action file uses another (`super::deploy::…` from
//! `actions/test_deploy.rs`); what two actions share is a workflow in `ops`, so changing one action
//! never silently changes another.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate root (`lib.rs`): items referred to as `crate::Item` live there.
const ROOT: &str = "crate";

/// The layer table: each top-level module and the modules it may use, read from the `//!` table
/// of `lib.rs` (rows `| `a`, `b` | `c`, `d` |`; `—` for none).
fn allowed_table(lib_rs: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut table = BTreeMap::new();
    for line in lib_rs.lines() {
        let Some(row) = line.strip_prefix("//! |") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let [modules, uses, ..] = cells.as_slice() else {
            continue;
        };
        if !modules.starts_with('`') {
            continue; // the header and its rule
        }
        let uses: BTreeSet<String> = names(uses).collect();
        for module in names(modules) {
            table.insert(module, uses.clone());
        }
    }
    table
}

/// The `code`-quoted names of a table cell.
fn names(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .filter(|name| !name.is_empty())
}

/// `src/a/b.rs` → `["a", "b"]`; `src/a/mod.rs` → `["a"]`; `src/lib.rs` → `[]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        parts.pop();
    }
    parts
}

/// The source without comments and without `#[cfg(test)]` items.
fn production_code(source: &str) -> String {
    let mut code = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Skip the item: up to its `;`, or to the brace that closes its body.
            let mut depth = 0usize;
            for item in lines.by_ref() {
                let item = strip_comment(item);
                depth += item.matches('{').count();
                depth = depth.saturating_sub(item.matches('}').count());
                if depth == 0 && (item.trim_end().ends_with(';') || item.trim_end().ends_with('}'))
                {
                    break;
                }
            }
            continue;
        }
        code.push_str(strip_comment(line));
        code.push('\n');
    }
    code
}

fn strip_comment(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

/// The top-level modules (or [`ROOT`]) the code of the module at `path` refers to, its own
/// excluded.
fn references(path: &[String], code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut note = |name: &str| {
        let name = if modules.contains(name) { name } else { ROOT };
        if path.first().map(String::as_str) != Some(name) {
            found.insert(name.to_owned());
        }
    };
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` in macros, `other_crate::` and the like
        }
        for name in first_segments(&code[at + "crate::".len()..]) {
            note(&name);
        }
    }
    // `super::` chains that climb out of the top-level module reach the crate root.
    for (at, _) in code.match_indices("super::") {
        if code[..at].ends_with("super::") || code[..at].ends_with(|c: char| c.is_alphanumeric()) {
            continue; // counted from the first `super::` of the chain
        }
        let mut rest = &code[at..];
        let mut depth = path.len();
        while let Some(next) = rest.strip_prefix("super::") {
            rest = next;
            depth = depth.saturating_sub(1);
        }
        if depth == 0 {
            for name in first_segments(rest) {
                note(&name);
            }
        }
    }
    found
}

/// The first path segment after `crate::`: one name, or each name of a `{…}` group.
fn first_segments(rest: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut start = true;
    for (index, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                names.push(ident(&group[index..]));
                start = false;
            }
            _ => {}
        }
    }
    names
}

/// The layer whose files may not use each other (see the module doc).
const ADAPTERS: &str = "actions";

/// The sibling modules of `ADAPTERS` that the file at `path` (`actions/x.rs`) refers to, through
/// `super::sibling` or `crate::actions::sibling`. Items of `actions/mod.rs` itself are fine.
fn sibling_references(path: &[String], code: &str, siblings: &BTreeSet<String>) -> Vec<String> {
    let [layer, own] = path else {
        return Vec::new();
    };
    if layer != ADAPTERS {
        return Vec::new();
    }
    let mut found = BTreeSet::new();
    for prefix in ["super::".to_owned(), format!("crate::{ADAPTERS}::")] {
        for (at, _) in code.match_indices(prefix.as_str()) {
            let before = &code[..at];
            if before.ends_with("super::") || before.ends_with(|c: char| c.is_alphanumeric()) {
                continue;
            }
            for name in first_segments(&code[at + prefix.len()..]) {
                if name != *own && siblings.contains(&name) {
                    found.insert(name);
                }
            }
        }
    }
    found.into_iter().collect()
}

/// Every reference that the table does not allow, as `file: module → used`.
fn violations(
    files: &[(String, String)],
    table: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let modules: BTreeSet<String> = table.keys().cloned().collect();
    let siblings: BTreeSet<String> = files
        .iter()
        .map(|(file, _)| module_path(Path::new(file)))
        .filter(|path| path.len() == 2 && path[0] == ADAPTERS)
        .map(|path| path[1].clone())
        .collect();
    let mut found = Vec::new();
    for (file, source) in files {
        let relative = Path::new(file);
        let path = module_path(relative);
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        if path.is_empty()
            || name.as_deref() == Some("tests.rs")
            || name.as_deref() == Some("fixtures.rs")
            || name.as_deref() == Some("main.rs")
            || name.as_deref() == Some("layering.rs")
        {
            continue; // the crate root, test code (this test too), the binary
        }
        let Some(allowed) = table.get(&path[0]) else {
            found.push(format!(
                "{file}: module `{}` is not in the layer table",
                path[0]
            ));
            continue;
        };
        let code = production_code(source);
        for used in references(&path, &code, &modules) {
            if !allowed.contains(&used) {
                found.push(format!("{file}: `{}` → `{used}`", path[0]));
            }
        }
        for sibling in sibling_references(&path, &code, &siblings) {
            found.push(format!(
                "{file}: action `{}` → action `{sibling}` (move what they share into `ops`)",
                path[1]
            ));
        }
    }
    found
}

fn source_files(dir: &Path, root: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|entry| entry.expect("src/ is readable").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            source_files(&path, root, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under src/");
            let source = std::fs::read_to_string(&path).expect("sources are UTF-8");
            files.push((relative.to_string_lossy().into_owned(), source));
        }
    }
}

#[test]
fn every_module_uses_only_what_the_layer_table_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let table = allowed_table(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(table.len() > 10, "the layer table was not found in lib.rs");
    let mut files = Vec::new();
    source_files(&src, &src, &mut files);
    let found = violations(&files, &table);
    assert!(
        found.is_empty(),
        "imports the layer table in src/lib.rs does not allow (fix the import, or change the table if the design changed):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_lower_layer_importing_a_higher_one_is_caught() {
    let table = allowed_table(
        "//! | module | may use |\n//! |---|---|\n//! | `naming` | `text` |\n//! | `text` | — |\n//! | `actions` | `naming`, `text` |\n",
    );
    let clean = (
        "naming.rs".to_owned(),
        "use crate::text::shown;\n".to_owned(),
    );
    assert!(violations(std::slice::from_ref(&clean), &table).is_empty());
    for upward in [
        "use crate::actions::Ctx;\n",
        "use crate::{text, actions::Ctx};\n",
        "fn f() { crate::actions::run(); }\n",
        "use super::actions;\n",
        "use crate::{\n    text::shown,\n    actions,\n};\n",
    ] {
        let file = ("naming.rs".to_owned(), upward.to_owned());
        assert_eq!(
            violations(&[file], &table),
            ["naming.rs: `naming` → `actions`"],
            "{upward}"
        );
    }
    // Test code and comments may mention anything.
    let test_only = (
        "naming.rs".to_owned(),
        "// see crate::actions\n#[cfg(test)]\nmod tests {\n    use crate::actions::Ctx;\n}\n"
            .to_owned(),
    );
    assert!(violations(&[test_only], &table).is_empty());
    // A sub-module's `super::` stays inside its own module.
    let inner = ("actions/a.rs".to_owned(), "use super::b;\n".to_owned());
    assert!(violations(&[inner], &table).is_empty());
}

#[test]
fn an_action_using_another_action_is_caught() {
    let table = allowed_table(
        "//! | module | may use |\n//! |---|---|\n//! | `ops` | — |\n//! | `actions` | `ops` |\n",
    );
    let deploy = (
        "actions/deploy.rs".to_owned(),
        "use super::Ctx;\n".to_owned(),
    );
    let tear_down = ("actions/tear_down.rs".to_owned(), String::new());
    for shared in [
        "use super::{Ctx, Outcome};\nuse crate::ops::markers;\n",
        "use super::*;\n",
        "#[cfg(test)]\nmod tests {\n    use super::super::deploy::run;\n}\n",
    ] {
        let test_deploy = ("actions/test_deploy.rs".to_owned(), shared.to_owned());
        let files = [deploy.clone(), tear_down.clone(), test_deploy];
        assert!(violations(&files, &table).is_empty(), "{shared}");
    }
    let uses = |sibling: &str| {
        format!(
            "actions/test_deploy.rs: action `test_deploy` → action `{sibling}` (move what they share into `ops`)"
        )
    };
    for (reaching, expected) in [
        ("use super::deploy::create_markers;\n", vec![uses("deploy")]),
        (
            "use super::{Ctx, deploy, tear_down::run};\n",
            vec![uses("deploy"), uses("tear_down")],
        ),
        (
            "fn f() { crate::actions::deploy::run(); }\n",
            vec![uses("deploy")],
        ),
    ] {
        let test_deploy = ("actions/test_deploy.rs".to_owned(), reaching.to_owned());
        let files = [deploy.clone(), tear_down.clone(), test_deploy];
        assert_eq!(violations(&files, &table), expected, "{reaching}");
    }
}
