//! A YAML document as a tree of nodes that remember their source spans.
//!
//! yaml-rust2's event parser reports where each node starts; this module builds the tree,
//! finds where each scalar ends in the text, expands aliases and `<<` merge keys, and reports
//! duplicate keys. Scalars stay as text: what a scalar means (string, number, bool, null) is
//! decided by the deserializer from the type it is read into.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::source::{FileId, Span};

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: `true`, `12` and `~` mean bool, number and null.
    Plain,
    /// Single- or double-quoted: always a string.
    Quoted,
    /// A `|` or `>` block: always a string.
    Block,
}

/// A scalar's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The value after unquoting and unescaping.
    pub value: String,
    /// How it was written.
    pub style: Style,
    /// Byte offset in the file where `value`'s first character stands, when the value is
    /// the verbatim source text from there on (so positions inside it map to the file).
    pub verbatim_at: Option<usize>,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// A YAML node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Scalar, sequence or mapping.
    pub kind: NodeKind,
    /// Where it is written.
    pub span: Span,
}

impl Node {
    /// The scalar text, when this is a scalar.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == key))
            .map(|(_, v)| v)
    }

    /// Whether this is a plain null (`~`, `null` or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.style == Style::Plain
            && matches!(s.value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// A word for the kind of node, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(s) if s.style != Style::Plain => "a string",
            NodeKind::Scalar(_) if self.is_null() => "nothing (null)",
            NodeKind::Scalar(s) => plain_kind(&s.value),
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

fn plain_kind(v: &str) -> &'static str {
    if matches!(v, "true" | "false" | "True" | "False" | "TRUE" | "FALSE") {
        "a boolean"
    } else if v.parse::<i64>().is_ok() || v.parse::<u64>().is_ok() {
        "an integer"
    } else if v.parse::<f64>().is_ok() && v.chars().any(|c| c.is_ascii_digit()) {
        "a number"
    } else {
        "a string"
    }
}

/// A problem found while reading YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlProblem {
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
    /// Whether it stops the file from being read (a syntax error) or not (a duplicate key).
    pub fatal: bool,
    /// For a duplicate key: where the key was first written.
    pub first: Option<Span>,
}

/// How many nodes aliases may copy in one file, in all. Each `*alias` copies the node it
/// names, so a few lines of aliases of aliases can stand for billions of nodes; a spec
/// that uses anchors for shared settings copies a few hundred.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// The message of a file whose aliases copy more than [`MAX_ALIAS_NODES`] nodes.
pub const ALIAS_BUDGET_MESSAGE: &str = "aliases expand to too many nodes";

/// A collection being read: its items, span, anchor and how many nodes it holds so far
/// (counting what aliases copied).
enum Frame {
    Seq(Vec<Node>, Span, usize, usize),
    Map(Vec<(Node, Node)>, Span, usize, Option<Node>, usize),
}

struct Builder<'t> {
    file: FileId,
    text: &'t str,
    /// char index -> byte offset, only when the text is not ASCII.
    char_to_byte: Option<Vec<usize>>,
    stack: Vec<Frame>,
    /// Anchored nodes with their sizes in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    /// Nodes copied by aliases so far.
    alias_nodes: usize,
    /// Where the alias that went over [`MAX_ALIAS_NODES`] stands.
    over_budget: Option<Span>,
    root: Option<Node>,
    documents: usize,
    problems: Vec<YamlProblem>,
}

impl<'t> Builder<'t> {
    fn byte(&self, m: &Marker) -> usize {
        match &self.char_to_byte {
            Some(t) => t.get(m.index()).copied().unwrap_or(self.text.len()),
            None => m.index().min(self.text.len()),
        }
    }

    /// Adds a node of `size` nodes to the collection being read.
    fn push_node(&mut self, node: Node, anchor: usize, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            Some(Frame::Seq(items, _, _, n)) => {
                *n += size;
                items.push(node);
            }
            Some(Frame::Map(entries, _, _, pending, n)) => match pending.take() {
                Some(key) => {
                    *n += size;
                    entries.push((key, node));
                }
                None => {
                    *n += size;
                    *pending = Some(node);
                }
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }

    fn scalar(&self, value: String, style: TScalarStyle, start: usize) -> Node {
        let rest = self.text.get(start..).unwrap_or("");
        let (end, style, verbatim_at) = match style {
            TScalarStyle::Plain => {
                if rest.starts_with(value.as_str()) {
                    (start + value.len(), Style::Plain, Some(start))
                } else {
                    let line = rest.find('\n').unwrap_or(rest.len());
                    (start + rest[..line].trim_end().len(), Style::Plain, None)
                }
            }
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                let len = quoted_len(rest);
                let inner = rest.get(1..len.saturating_sub(1)).unwrap_or("");
                let verbatim = (inner == value).then_some(start + 1);
                (start + len, Style::Quoted, verbatim)
            }
            _ => {
                let line = rest.find('\n').unwrap_or(rest.len());
                (start + line, Style::Block, None)
            }
        };
        Node {
            kind: NodeKind::Scalar(Scalar {
                value,
                style,
                verbatim_at,
            }),
            span: Span::new(self.file, start..end),
        }
    }
}

/// Length in bytes of the quoted scalar at the start of `s`, quotes included.
fn quoted_len(s: &str) -> usize {
    let mut chars = s.char_indices();
    let Some((_, quote)) = chars.next() else {
        return 0;
    };
    let mut escaped = false;
    while let Some((i, c)) = chars.next() {
        if quote == '"' {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return i + 1;
            }
        } else if c == '\'' {
            if s[i + 1..].starts_with('\'') {
                chars.next();
            } else {
                return i + 1;
            }
        }
    }
    s.len()
}

fn finish_map(
    mut entries: Vec<(Node, Node)>,
    problems: &mut Vec<YamlProblem>,
) -> Vec<(Node, Node)> {
    // `<<` merge keys: entries of the merged mappings that the mapping does not set itself.
    let mut merged = Vec::new();
    entries.retain(|(k, v)| {
        let is_merge = k
            .as_scalar()
            .is_some_and(|s| s.style == Style::Plain && s.value == "<<");
        if is_merge {
            match &v.kind {
                NodeKind::Map(m) => merged.extend(m.iter().cloned()),
                NodeKind::Seq(items) => {
                    for item in items {
                        if let NodeKind::Map(m) = &item.kind {
                            merged.extend(m.iter().cloned());
                        }
                    }
                }
                NodeKind::Scalar(_) => return true,
            }
        }
        !is_merge
    });
    // A key written twice is reported, and only its first value is kept.
    let mut seen: HashMap<String, Span> = HashMap::new();
    entries.retain(|(k, _)| {
        let Some(s) = k.as_scalar() else { return true };
        if let Some(first) = seen.get(&s.value) {
            problems.push(YamlProblem {
                span: k.span,
                message: format!("duplicate key `{}`", s.value),
                fatal: false,
                first: Some(*first),
            });
            false
        } else {
            seen.insert(s.value.clone(), k.span);
            true
        }
    });
    for (k, v) in merged {
        let name = k.as_scalar().map(|s| s.value.clone()).unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(e) = seen.entry(name) {
            e.insert(k.span);
            entries.push((k, v));
        }
    }
    entries
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = self.byte(&mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(value, style, anchor, tag) => {
                let mut node = self.scalar(value, style, at);
                if let (Some(Tag { suffix, .. }), NodeKind::Scalar(s)) = (tag, &mut node.kind)
                    && suffix == "str"
                {
                    s.style = Style::Quoted;
                }
                self.push_node(node, anchor, 1);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq(
                    Vec::new(),
                    Span::new(self.file, at..at),
                    anchor,
                    0,
                ));
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(
                    Vec::new(),
                    Span::new(self.file, at..at),
                    anchor,
                    None,
                    0,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (kind, mut span, anchor, size) = match self.stack.pop() {
                    Some(Frame::Seq(items, span, anchor, n)) => {
                        (NodeKind::Seq(items), span, anchor, n + 1)
                    }
                    Some(Frame::Map(entries, span, anchor, _, n)) => (
                        NodeKind::Map(finish_map(entries, &mut self.problems)),
                        span,
                        anchor,
                        n + 1,
                    ),
                    None => return,
                };
                let last_end = match &kind {
                    NodeKind::Seq(items) => items.last().map(|n| n.span.end),
                    NodeKind::Map(entries) => {
                        entries.last().map(|(_, v)| v.span.end.max(v.span.start))
                    }
                    NodeKind::Scalar(_) => None,
                };
                let first_start = match &kind {
                    NodeKind::Seq(items) => items.first().map(|n| n.span.start),
                    NodeKind::Map(entries) => entries.first().map(|(k, _)| k.span.start),
                    NodeKind::Scalar(_) => None,
                };
                if let Some(first) = first_start {
                    span.start = span.start.min(first);
                }
                let flow_end = self
                    .text
                    .get(at..)
                    .is_some_and(|r| r.starts_with([']', '}']));
                span.end = if flow_end {
                    at + 1
                } else {
                    last_end.unwrap_or(span.start).max(span.start)
                };
                self.push_node(Node { kind, span }, anchor, size);
            }
            Event::Alias(id) => {
                let empty = Node {
                    kind: NodeKind::Scalar(Scalar {
                        value: String::new(),
                        style: Style::Plain,
                        verbatim_at: None,
                    }),
                    span: Span::new(self.file, at..at),
                };
                // Past the budget nothing more is copied; the file is refused at the end.
                let size = self.anchors.get(&id).map_or(1, |(_, n)| *n);
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    self.over_budget
                        .get_or_insert(Span::new(self.file, at..at + 1));
                    return self.push_node(empty, 0, 1);
                }
                let node = self.anchors.get(&id).map_or(empty, |(n, _)| n.clone());
                self.push_node(node, 0, size);
            }
            _ => {}
        }
    }
}

/// Parses one YAML document. A syntax error is returned as the single fatal problem; other
/// problems (duplicate keys, extra documents) come with the tree.
pub fn parse(file: FileId, text: &str) -> (Option<Node>, Vec<YamlProblem>) {
    let char_to_byte = (!text.is_ascii()).then(|| {
        let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        t.push(text.len());
        t
    });
    let mut b = Builder {
        file,
        text,
        char_to_byte,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        over_budget: None,
        root: None,
        documents: 0,
        problems: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut b, true) {
        let at = b.byte(e.marker());
        let end = text
            .get(at..)
            .and_then(|r| r.chars().next())
            .map_or(at, |c| at + c.len_utf8());
        let mut problems = b.problems;
        problems.push(YamlProblem {
            span: Span::new(file, at..end),
            message: e.info().to_string(),
            fatal: true,
            first: None,
        });
        return (None, problems);
    }
    if let Some(span) = b.over_budget {
        let mut problems = b.problems;
        problems.push(YamlProblem {
            span,
            message: ALIAS_BUDGET_MESSAGE.into(),
            fatal: true,
            first: None,
        });
        return (None, problems);
    }
    if b.documents > 1 {
        b.problems.push(YamlProblem {
            span: Span::new(file, 0..0),
            message: "a spec file holds one YAML document; use `include` for more files".into(),
            fatal: false,
            first: None,
        });
    }
    let root = b.root.unwrap_or(Node {
        kind: NodeKind::Map(Vec::new()),
        span: Span::new(file, 0..0),
    });
    (Some(root), b.problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (Node, Vec<YamlProblem>) {
        let (n, probs) = parse(FileId(0), text);
        (n.expect("parses"), probs)
    }

    #[test]
    fn scalar_spans_are_byte_exact() {
        let text = "a: hello\nb: \"quo ted\"\nc: 'it''s'\né: x\n";
        let (n, _) = p(text);
        let a = n.get("a").unwrap();
        assert_eq!(&text[a.span.range()], "hello");
        let b = n.get("b").unwrap();
        assert_eq!(&text[b.span.range()], "\"quo ted\"");
        assert_eq!(b.as_scalar().unwrap().verbatim_at, Some(b.span.start + 1));
        let c = n.get("c").unwrap();
        assert_eq!(&text[c.span.range()], "'it''s'");
        assert_eq!(c.as_scalar().unwrap().verbatim_at, None);
        let e = n.get("é").unwrap();
        assert_eq!(&text[e.span.range()], "x");
    }

    #[test]
    fn duplicate_keys_and_merges() {
        let (n, probs) = p("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nm2: 1\nm2: 2\n");
        let m = n.get("m").unwrap().as_map().unwrap();
        let keys: Vec<_> = m
            .iter()
            .map(|(k, _)| k.as_scalar().unwrap().value.clone())
            .collect();
        assert_eq!(keys, ["y", "x"]);
        assert_eq!(
            n.get("m2")
                .and_then(|v| v.as_scalar())
                .map(|s| s.value.as_str()),
            Some("1")
        );
        assert_eq!(probs.len(), 1);
        assert_eq!(probs[0].message, "duplicate key `m2`");
    }

    #[test]
    fn syntax_error_is_located() {
        let (n, probs) = parse(FileId(0), "a: [1, 2\nb: 3\n");
        assert!(n.is_none());
        assert!(probs[0].fatal);
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        // Nine levels of ten aliases each: 10^9 nodes if every alias were copied.
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(text.len() < 800, "{}", text.len());
        let started = std::time::Instant::now();
        let (n, probs) = parse(FileId(0), &text);
        assert!(n.is_none());
        assert_eq!(probs.len(), 1, "{probs:?}");
        assert!(probs[0].fatal);
        assert_eq!(probs[0].message, ALIAS_BUDGET_MESSAGE);
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn ordinary_anchors_are_within_the_budget() {
        let (n, probs) = p("d: &d {a: 1, b: [1, 2]}\nx: *d\ny: {<<: *d, c: 3}\n");
        assert!(probs.is_empty(), "{probs:?}");
        assert_eq!(n.get("x"), n.get("d"));
    }
}
