//! A small spanned YAML tree for config files, built from `saphyr-parser` events.
//!
//! The tree keeps what validation needs and serde throws away: the line and column of every key
//! and value, and whether a scalar was quoted (so `account_id: 012345678901`, which YAML reads as
//! a number, can be told from `account_id: "012345678901"`).
//!
//! This module also enforces the whole-file rules that need the parser: well-formed YAML, one
//! document, a mapping at the top, no duplicate keys, plain keys only, bounded nesting, and no
//! anchors or aliases. (Size and UTF-8 are checked by `config` before parsing.)
//!
//! **Anchors and aliases are rejected outright.** A site config is a dozen lines; nothing in it
//! needs reuse, and refusing `&name`/`*name` removes the alias-bomb attack ("billion laughs")
//! without an expansion budget to tune. The parser only emits alias *events* (it never expands
//! them), so a bomb costs no more than its own bytes before it is refused.
//!
//! It never panics: the parser is an iterative state machine, the tree is built with an explicit
//! stack, and nesting deeper than [`MAX_DEPTH`] stops the build.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::Problem;

/// Deepest nesting of mappings and sequences accepted (a config needs 3).
pub const MAX_DEPTH: usize = 16;

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    fn of(span: Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A YAML scalar as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    /// Single-, double-quoted or a block scalar: always text, whatever it looks like.
    pub quoted: bool,
    /// An explicit tag (`!!str`, `!!int`, `!custom`) in its written form.
    pub tag: Option<String>,
    pub pos: Pos,
}

/// What a scalar means under the YAML 1.2 core schema (the schema every modern YAML library uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
}

impl Scalar {
    /// How YAML reads this scalar: quoted and `!!str` scalars are text; plain ones are resolved.
    pub fn kind(&self) -> Kind {
        if self.quoted || self.tag.as_deref() == Some("!!str") {
            Kind::Str
        } else {
            resolve_plain(&self.value)
        }
    }
}

/// One `key: value` entry of a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Scalar,
    pub value: Node,
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    Mapping {
        entries: Vec<Entry>,
        pos: Pos,
    },
    Sequence {
        items: Vec<Node>,
        pos: Pos,
    },
    /// Something already reported as a problem (an alias); validation skips it silently.
    Invalid(Pos),
}

impl Node {
    /// Where the node starts.
    pub fn pos(&self) -> Pos {
        match self {
            Node::Scalar(scalar) => scalar.pos,
            Node::Mapping { pos, .. } | Node::Sequence { pos, .. } | Node::Invalid(pos) => *pos,
        }
    }

    /// A short description of what the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar(scalar) => match scalar.kind() {
                Kind::Null => "an empty value",
                Kind::Bool(_) => "a boolean",
                Kind::Int | Kind::Float => "a number",
                Kind::Str => "text",
            },
            Node::Mapping { .. } => "a mapping (nested keys)",
            Node::Sequence { .. } => "a list",
            Node::Invalid(_) => "an invalid value",
        }
    }
}

/// Resolve a plain (unquoted, untagged) scalar with the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> Kind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Kind::Float,
        _ => {}
    }
    let is_digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let radix_int = |prefix: &str, radix| {
        text.strip_prefix(prefix)
            .is_some_and(|d| is_digits(d, radix))
    };
    if radix_int("0o", 8) || radix_int("0x", 16) {
        return Kind::Int;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if is_digits(unsigned, 10) {
        return Kind::Int;
    }
    // [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?, with at least one digit before the exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits_ok(whole)
        && fraction.is_none_or(digits_ok)
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty));
    let exponent_ok =
        exponent.is_none_or(|e| is_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    if mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some()) {
        return Kind::Float;
    }
    Kind::Str
}

/// The result of reading a file: the tree (when its structure could be read) and the problems
/// found on the way. Problems with a tree (a duplicate key, an alias) still let validation check
/// every field, so one run reports everything; a syntax error leaves no tree.
#[derive(Debug)]
pub struct Parsed {
    pub root: Option<Node>,
    pub problems: Vec<Problem>,
}

/// Read `text` into a tree whose top level is a mapping.
pub fn parse(text: &str) -> Parsed {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0usize;
    let mut root = None;
    let stopped = |builder: Builder| Parsed {
        root: None,
        problems: builder.problems,
    };
    while let Some(event) = parser.next_event() {
        let (event, span) = match event {
            Ok(event) => event,
            Err(error) => {
                builder.problems.push(syntax_problem(&error));
                return stopped(builder);
            }
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    builder.problems.push(Problem::at(
                        Pos::of(span),
                        "",
                        None,
                        "the file holds more than one YAML document (a new one starts here)",
                        "a config is one document: remove this `---` line and everything that belongs to another config after it",
                    ));
                    return stopped(builder);
                }
            }
            event => match builder.event(event, span) {
                Ok(Some(node)) => root = Some(node),
                Ok(None) => {}
                Err(()) => return stopped(builder),
            },
        }
    }
    builder.finish_anchor_problems();
    match root {
        Some(node @ Node::Mapping { .. }) => Parsed {
            root: Some(node),
            problems: builder.problems,
        },
        None => stopped(builder.empty_file()),
        Some(Node::Scalar(scalar)) if scalar.kind() == Kind::Null => stopped(builder.empty_file()),
        Some(other) => {
            builder.problems.push(Problem::at(
                other.pos(),
                "",
                None,
                format!(
                    "the top level must be a mapping with client, environment and s3 sections, but it is {}",
                    other.describe()
                ),
                "start the file with `client:` at column 1; see configs/ for examples",
            ));
            stopped(builder)
        }
    }
}

fn syntax_problem(error: &ScanError) -> Problem {
    let marker = error.marker();
    let info = error.info();
    let fix = if info.contains("tab") {
        "indent with spaces, not tabs"
    } else if info.contains("mapping values are not allowed") {
        "put each `key: value` on its own line, and quote values that contain `: `"
    } else if info.contains("did not find expected") || info.contains("while parsing") {
        "check the indentation (nested keys need more spaces than their parent, siblings the same) and that quotes and brackets are closed"
    } else {
        "fix the YAML at this position; quote values that contain `:`, `#`, `[`, `{` or start with `*`, `&`, `!`, `%`, `@`"
    };
    Problem::at(
        Pos {
            line: marker.line(),
            column: marker.col() + 1,
        },
        "",
        None,
        format!("YAML syntax error: {info}"),
        fix,
    )
}

/// A collection being built.
enum Frame {
    Mapping {
        entries: Vec<Entry>,
        pos: Pos,
        pending: Pending,
        /// First position of each key, to report duplicates with both lines.
        seen: HashMap<String, Pos>,
        /// Dotted key path of this mapping (`s3.tags`), for messages.
        path: String,
    },
    Sequence {
        items: Vec<Node>,
        pos: Pos,
        path: String,
    },
}

/// The state of a mapping between a key and its value.
enum Pending {
    /// Next node is a key.
    Key,
    /// Next node is the value of this key.
    Value(Scalar),
    /// Next node is the value of a rejected key (already reported): drop it.
    Skip,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    problems: Vec<Problem>,
    anchors: Vec<Pos>,
    aliases: Vec<Pos>,
    tagged_collections: usize,
}

impl Builder {
    /// Feed one event; returns the root node when the document's top node is complete, and
    /// `Err(())` when the build must stop (problems recorded).
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<Option<Node>, ()> {
        let pos = Pos::of(span);
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                self.note_anchor(anchor, pos);
                let scalar = Scalar {
                    value: value.into_owned(),
                    quoted: style != ScalarStyle::Plain,
                    tag: tag.map(|tag| render_tag(&tag)),
                    pos,
                };
                Ok(self.complete(Node::Scalar(scalar)))
            }
            Event::Alias(_) => {
                self.aliases.push(pos);
                Ok(self.complete(Node::Invalid(pos)))
            }
            Event::MappingStart(..) | Event::SequenceStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.problems.push(Problem::at(
                    pos,
                    "",
                    None,
                    format!("nesting is deeper than {MAX_DEPTH} levels"),
                    "a config nests at most three levels (section, key, tag); remove the extra levels",
                ));
                Err(())
            }
            Event::MappingStart(anchor, tag) => {
                self.note_anchor(anchor, pos);
                self.note_collection_tag(tag.is_some(), pos);
                let path = self.child_path();
                self.stack.push(Frame::Mapping {
                    entries: Vec::new(),
                    pos,
                    pending: Pending::Key,
                    seen: HashMap::new(),
                    path,
                });
                Ok(None)
            }
            Event::SequenceStart(anchor, tag) => {
                self.note_anchor(anchor, pos);
                self.note_collection_tag(tag.is_some(), pos);
                let path = self.child_path();
                self.stack.push(Frame::Sequence {
                    items: Vec::new(),
                    pos,
                    path,
                });
                Ok(None)
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Mapping { entries, pos, .. }) => Node::Mapping { entries, pos },
                    Some(Frame::Sequence { items, pos, .. }) => Node::Sequence { items, pos },
                    // The parser never ends a collection it did not start; ignore if it did.
                    None => return Ok(None),
                };
                Ok(self.complete(node))
            }
            _ => Ok(None),
        }
    }

    /// Attach a finished node to its parent; returns it when it is the document's root.
    fn complete(&mut self, node: Node) -> Option<Node> {
        let Some(frame) = self.stack.last_mut() else {
            return Some(node);
        };
        match frame {
            Frame::Sequence { items, .. } => items.push(node),
            Frame::Mapping {
                entries,
                pending,
                seen,
                path,
                ..
            } => match std::mem::replace(pending, Pending::Key) {
                Pending::Key => match node {
                    Node::Scalar(key) => {
                        if let Some(tag) = key.tag.as_deref().filter(|t| *t != "!!str") {
                            self.problems.push(Problem::at(
                                key.pos,
                                key.value.clone(),
                                None,
                                format!("YAML tag `{tag}` on a key is not supported in configs"),
                                "remove the tag; keys are plain names",
                            ));
                            *pending = Pending::Skip;
                        } else if let Some(first) = seen.get(&key.value) {
                            self.problems.push(Problem::at(
                                key.pos,
                                join(path, &key.value),
                                None,
                                format!(
                                    "duplicate key `{}` (first written at line {}, column {})",
                                    key.value, first.line, first.column
                                ),
                                "YAML would silently keep only one of them: remove one",
                            ));
                            *pending = Pending::Skip;
                        } else {
                            seen.insert(key.value.clone(), key.pos);
                            *pending = Pending::Value(key);
                        }
                    }
                    Node::Invalid(_) => *pending = Pending::Skip,
                    other => {
                        self.problems.push(Problem::at(
                            other.pos(),
                            "",
                            None,
                            format!(
                                "a key must be a plain name, but this one is {}",
                                other.describe()
                            ),
                            "write keys as plain names (`key: value`); remove the `?` complex key",
                        ));
                        *pending = Pending::Skip;
                    }
                },
                Pending::Value(key) => entries.push(Entry { key, value: node }),
                Pending::Skip => {}
            },
        }
        None
    }

    fn empty_file(mut self) -> Self {
        self.problems.push(Problem::whole_file(
            "the file is empty (or holds only comments)",
            "write the client, environment and s3 sections; see configs/ for examples",
        ));
        self
    }

    /// The key path of a collection starting now, from the frame it belongs to.
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Mapping {
                path,
                pending: Pending::Value(key),
                ..
            }) => join(path, &key.value),
            Some(Frame::Mapping { path, .. }) => path.clone(),
            Some(Frame::Sequence { path, items, .. }) => format!("{path}[{}]", items.len()),
        }
    }

    fn note_anchor(&mut self, anchor: usize, pos: Pos) {
        if anchor != 0 {
            self.anchors.push(pos);
        }
    }

    fn note_collection_tag(&mut self, tagged: bool, pos: Pos) {
        if tagged {
            self.tagged_collections += 1;
            if self.tagged_collections == 1 {
                self.problems.push(Problem::at(
                    pos,
                    "",
                    None,
                    "YAML tags on mappings or lists are not supported in configs",
                    "remove the `!tag`",
                ));
            }
        }
    }

    /// One problem for all anchors and one for all aliases (a bomb has thousands), at the first.
    fn finish_anchor_problems(&mut self) {
        for (positions, what, how) in [
            (&self.anchors, "anchors", "`&name`"),
            (&self.aliases, "aliases", "`*name`"),
        ] {
            let Some(first) = positions.first() else {
                continue;
            };
            let count = positions.len();
            let rule = if count == 1 {
                format!("YAML {what} ({how}) are not supported in configs")
            } else {
                format!(
                    "YAML {what} ({how}) are not supported in configs; this file has {count}, the first is here"
                )
            };
            self.problems.push(Problem::at(
                *first,
                "",
                None,
                rule,
                "write each value out in full; a config is short enough not to need anchors and aliases",
            ));
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn render_tag(tag: &saphyr_parser::Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        tag.to_string()
    }
}

/// 1-based line and column (in characters) of byte offset `offset` in `valid` UTF-8 text.
pub fn line_column(valid: &str, offset: usize) -> Pos {
    let before = valid.get(..offset).unwrap_or(valid);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Pos {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse(text)
            .problems
            .into_iter()
            .map(|p| format!("{}:{} {}", p.line, p.column, p.rule))
            .collect()
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_1_2() {
        for (text, kind) in [
            ("", Kind::Null),
            ("~", Kind::Null),
            ("null", Kind::Null),
            ("true", Kind::Bool(true)),
            ("FALSE", Kind::Bool(false)),
            ("yes", Kind::Str),
            ("123456789012", Kind::Int),
            ("0123", Kind::Int),
            ("-7", Kind::Int),
            ("0x1F", Kind::Int),
            ("0o17", Kind::Int),
            ("1e3", Kind::Float),
            ("1.5", Kind::Float),
            (".5", Kind::Float),
            ("1.", Kind::Float),
            (".inf", Kind::Float),
            (".", Kind::Str),
            ("e3", Kind::Str),
            ("1e", Kind::Str),
            ("b001", Kind::Str),
            ("us-west-1", Kind::Str),
            ("1_000", Kind::Str),
        ] {
            assert_eq!(resolve_plain(text), kind, "{text:?}");
        }
    }

    #[test]
    fn builds_a_spanned_tree_and_keeps_quoting() {
        let parsed = parse("client:\n  account_id: \"0123\"\n  tenant_id: 0001\n");
        assert!(parsed.problems.is_empty());
        let root = parsed.root.unwrap();
        let Node::Mapping { entries, .. } = root else {
            panic!("mapping expected")
        };
        assert_eq!(entries[0].key.value, "client");
        let Node::Mapping { entries, .. } = &entries[0].value else {
            panic!("mapping expected")
        };
        let Node::Scalar(account) = &entries[0].value else {
            panic!("scalar expected")
        };
        assert_eq!((account.pos.line, account.pos.column), (2, 15));
        assert_eq!(account.kind(), Kind::Str);
        let Node::Scalar(tenant) = &entries[1].value else {
            panic!("scalar expected")
        };
        assert_eq!(tenant.kind(), Kind::Int);
        assert_eq!(entries[1].key.pos, Pos { line: 3, column: 3 });
    }

    #[test]
    fn empty_and_comment_only_files_are_empty() {
        for text in ["", "# nothing\n", "---\n", "~\n", "\n\n"] {
            assert_eq!(
                problems(text),
                ["0:0 the file is empty (or holds only comments)"],
                "{text:?}"
            );
        }
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        assert!(problems("- a\n- b\n")[0].contains("but it is a list"));
        assert!(problems("hello\n")[0].contains("but it is text"));
        assert!(problems("\"\"\n")[0].contains("but it is text"));
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        assert_eq!(
            problems("a: 1\nb: 2\na: 3\n"),
            ["3:1 duplicate key `a` (first written at line 1, column 1)"]
        );
    }

    #[test]
    fn second_document_is_refused() {
        assert_eq!(
            problems("a: 1\n---\nb: 2\n"),
            ["2:1 the file holds more than one YAML document (a new one starts here)"]
        );
    }

    #[test]
    fn anchors_and_aliases_are_refused_once_each() {
        let found = problems("a: &x 1\nb: *x\nc: *x\n");
        assert_eq!(
            found,
            [
                "1:4 YAML anchors (`&name`) are not supported in configs",
                "2:4 YAML aliases (`*name`) are not supported in configs; this file has 2, the first is here",
            ]
        );
    }

    #[test]
    fn complex_and_tagged_keys_are_refused() {
        assert!(problems("? [a]\n: b\n")[0].contains("a key must be a plain name"));
        assert!(problems("!!int 1: b\n")[0].contains("tag `!!int` on a key"));
        assert!(problems("a: !!map {b: c}\n")[0].contains("tags on mappings"));
    }

    #[test]
    fn deep_nesting_stops_early() {
        let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            problems(&deep),
            [format!(
                "1:{} nesting is deeper than {MAX_DEPTH} levels",
                4 + MAX_DEPTH - 1
            )]
        );
    }

    #[test]
    fn syntax_errors_have_positions_and_a_fix() {
        let parsed = parse("a:\n\tb: 1\n");
        assert!(parsed.root.is_none());
        let found = parsed.problems;
        assert_eq!((found[0].line, found[0].column), (2, 2));
        assert!(found[0].rule.starts_with("YAML syntax error: tabs"));
        assert_eq!(found[0].fix, "indent with spaces, not tabs");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé\nx", 6), Pos { line: 2, column: 3 });
        assert_eq!(line_column("abc", 0), Pos { line: 1, column: 1 });
    }
}
