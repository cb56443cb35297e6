//! `pattern` and `diff`: cluster text into templates whose varying parts
//! are dynamic tokens such as `<Number-1>` or `<Token-2>`.
//!
//! A value is cut into tokens at whitespace and punctuation, which stay in
//! the template as written. Tokens that look like a timestamp, an IPv4
//! address, a UUID, a hex id or a number are always dynamic and named by
//! their type; word tokens stay literal until values of the same shape
//! disagree on them. Values with the same shape (the same punctuation and
//! token types) and the same first word join one cluster when at least
//! half of their words agree, Drain-style. Identical values are folded
//! first and clusters are built over the values in sorted order, so the
//! result does not depend on the order events arrive in.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde_json::{Map, Value as Json};

use crate::ast::{DiffBaseline, Expr};
use crate::eval::{eval, EvalEnv};
use crate::period::{civil_from_days, days_from_civil};
use crate::row::{Row, Window};
use crate::value::Value;

/// The columns `pattern` produces.
pub const PATTERN_COLUMNS: &[&str] = &[
    "@pattern",
    "@ratio",
    "@sampleCount",
    "@severityLabel",
    "@regexString",
    "@tokens",
];

/// The columns `diff` produces.
pub const DIFF_COLUMNS: &[&str] = &[
    "@pattern",
    "@currentCount",
    "@previousCount",
    "@changeInCount",
    "@changePercent",
    "@changeDescription",
    "@severityLabel",
];

/// Values kept per dynamic token in `@tokens` (AWS keeps 10 per token).
const MAX_TOKEN_VALUES: usize = 10;
/// Share of word positions two values must agree on to share a template.
const SIMILARITY: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Word,
    Number,
    IpAddress,
    Uuid,
    Hex,
    Time,
}

impl Kind {
    fn token_name(self) -> &'static str {
        match self {
            Kind::Word => "Token",
            Kind::Number => "Number",
            Kind::IpAddress => "IPAddress",
            Kind::Uuid => "UUID",
            Kind::Hex => "Hex",
            Kind::Time => "Time",
        }
    }

    fn regex(self) -> &'static str {
        match self {
            Kind::Word => r"[A-Za-z0-9_]+",
            Kind::Number => r"-?\d+(?:\.\d+)?",
            Kind::IpAddress => r"\d{1,3}(?:\.\d{1,3}){3}",
            Kind::Uuid => r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}",
            Kind::Hex => r"(?:0x)?[0-9a-fA-F]+",
            Kind::Time => r".+?",
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Delim(&'a str),
    Token(Kind, &'a str),
}

fn typed_matchers() -> &'static [(Kind, Regex)] {
    static MATCHERS: OnceLock<Vec<(Kind, Regex)>> = OnceLock::new();
    MATCHERS.get_or_init(|| {
        [
            (
                Kind::Time,
                r"\A(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)",
            ),
            (
                Kind::Uuid,
                r"\A[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}",
            ),
            (Kind::IpAddress, r"\A\d{1,3}(?:\.\d{1,3}){3}"),
            (Kind::Hex, r"\A0x[0-9a-fA-F]+"),
            (Kind::Number, r"\A-?\d+(?:\.\d+)?"),
        ]
        .into_iter()
        .map(|(k, re)| (k, Regex::new(re).expect("static regex")))
        .collect()
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn tokenize(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap_or(' ');
        // `-` signs a number only at a token start: `db-1` is `db`, `-`, `1`.
        let after_word = text[..i].chars().next_back().is_some_and(is_word_char);
        if c.is_ascii_digit() || (c == '-' && !after_word) {
            for (kind, re) in typed_matchers() {
                if let Some(m) = re.find(rest) {
                    // A typed token must end at a token boundary: `12ab` is a word.
                    let after = rest[m.end()..].chars().next();
                    if m.end() > 0 && !after.is_some_and(is_word_char) && m.as_str() != "-" {
                        out.push(Piece::Token(*kind, m.as_str()));
                        i += m.end();
                        continue 'outer;
                    }
                }
            }
        }
        if is_word_char(c) {
            let end = rest
                .char_indices()
                .find(|(_, c)| !is_word_char(*c))
                .map_or(rest.len(), |(j, _)| j);
            let word = &rest[..end];
            let kind = if word.chars().all(|c| c.is_ascii_digit()) {
                Kind::Number
            } else if word.len() >= 8
                && word.chars().all(|c| c.is_ascii_hexdigit())
                && word.chars().any(|c| c.is_ascii_digit())
            {
                Kind::Hex
            } else {
                Kind::Word
            };
            out.push(Piece::Token(kind, word));
            i += end;
        } else {
            out.push(Piece::Delim(&rest[..c.len_utf8()]));
            i += c.len_utf8();
        }
    }
    out
}

/// The shape of a tokenised value: delimiters as written, tokens by type.
fn shape(pieces: &[Piece<'_>]) -> String {
    let mut key = String::new();
    for p in pieces {
        match p {
            Piece::Delim(d) => {
                if *d == "\u{0}" {
                    key.push('\u{0}');
                }
                key.push_str(d);
            }
            Piece::Token(kind, _) => {
                key.push('\u{0}');
                key.push(match kind {
                    Kind::Word => 'w',
                    Kind::Number => 'n',
                    Kind::IpAddress => 'i',
                    Kind::Uuid => 'u',
                    Kind::Hex => 'h',
                    Kind::Time => 't',
                });
            }
        }
    }
    key
}

struct Member<'a> {
    pieces: Vec<Piece<'a>>,
    counts: [u64; 2],
}

struct Cluster {
    /// The first member's pieces stand for the shape.
    shape_of: usize,
    /// Per word position: the shared word, or `None` once values differ.
    words: Vec<Option<String>>,
    members: Vec<usize>,
    counts: [u64; 2],
}

/// One template and what it covers.
pub struct Template {
    pub pattern: String,
    pub regex: String,
    /// `[current window, baseline window]` (for `pattern`, only the first).
    pub counts: [u64; 2],
    pub severity: Option<&'static str>,
    /// Each dynamic token's most frequent values with their counts.
    pub tokens: Map<String, Json>,
}

/// Clusters values, each counted in the current and baseline windows.
pub fn cluster(values: &BTreeMap<String, [u64; 2]>) -> Vec<Template> {
    let mut members: Vec<Member<'_>> = Vec::with_capacity(values.len());
    let mut by_shape: HashMap<String, Vec<usize>> = HashMap::new();
    let mut shape_order: Vec<String> = Vec::new();
    for (text, counts) in values {
        let pieces = tokenize(text);
        let key = shape(&pieces);
        let idx = members.len();
        members.push(Member {
            pieces,
            counts: *counts,
        });
        by_shape
            .entry(key.clone())
            .or_insert_with(|| {
                shape_order.push(key);
                Vec::new()
            })
            .push(idx);
    }
    let mut templates = Vec::new();
    for key in &shape_order {
        let mut clusters: Vec<Cluster> = Vec::new();
        for &m in &by_shape[key] {
            let words: Vec<&str> = members[m]
                .pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Token(Kind::Word, w) => Some(*w),
                    _ => None,
                })
                .collect();
            let fits = |c: &Cluster| {
                if words.is_empty() {
                    return true;
                }
                // The first word (usually the event's verb or level) must match.
                if c.words[0].as_deref() != Some(words[0]) {
                    return false;
                }
                let same = c
                    .words
                    .iter()
                    .zip(&words)
                    .filter(|(cw, w)| cw.as_deref().is_none_or(|cw| cw == **w))
                    .count();
                same as f64 / words.len() as f64 >= SIMILARITY
            };
            match clusters.iter_mut().find(|c| fits(c)) {
                Some(c) => {
                    for (cw, w) in c.words.iter_mut().zip(&words) {
                        if cw.as_deref() != Some(*w) {
                            *cw = None;
                        }
                    }
                    c.members.push(m);
                    c.counts[0] += members[m].counts[0];
                    c.counts[1] += members[m].counts[1];
                }
                None => clusters.push(Cluster {
                    shape_of: m,
                    words: words.iter().map(|w| Some(w.to_string())).collect(),
                    members: vec![m],
                    counts: members[m].counts,
                }),
            }
        }
        for c in clusters {
            templates.push(render(&c, &members));
        }
    }
    templates
}

fn render(c: &Cluster, members: &[Member<'_>]) -> Template {
    let mut pattern = String::new();
    let mut regex = String::from("^");
    // Position in the template of each dynamic token, and its name.
    let mut dynamic: Vec<(usize, String)> = Vec::new();
    let mut literal_words: Vec<&str> = Vec::new();
    let mut word_index = 0;
    for (i, piece) in members[c.shape_of].pieces.iter().enumerate() {
        match piece {
            Piece::Delim(d) => {
                pattern.push_str(d);
                regex.push_str(&regex::escape(d));
            }
            Piece::Token(kind, _) => {
                let literal = if *kind == Kind::Word {
                    word_index += 1;
                    c.words[word_index - 1].as_deref()
                } else {
                    None
                };
                match literal {
                    Some(w) => {
                        pattern.push_str(w);
                        regex.push_str(&regex::escape(w));
                        literal_words.push(w);
                    }
                    None => {
                        let name = format!("<{}-{}>", kind.token_name(), dynamic.len() + 1);
                        pattern.push_str(&name);
                        regex.push('(');
                        regex.push_str(kind.regex());
                        regex.push(')');
                        dynamic.push((i, name));
                    }
                }
            }
        }
    }
    regex.push('$');
    let mut tokens = Map::new();
    for (i, name) in &dynamic {
        let mut seen: BTreeMap<&str, u64> = BTreeMap::new();
        for &m in &c.members {
            if let Some(Piece::Token(_, text)) = members[m].pieces.get(*i) {
                *seen.entry(text).or_default() += members[m].counts[0] + members[m].counts[1];
            }
        }
        let mut top: Vec<(&str, u64)> = seen.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top.truncate(MAX_TOKEN_VALUES);
        tokens.insert(
            name.clone(),
            Json::Object(
                top.into_iter()
                    .map(|(v, n)| (v.to_string(), Json::from(n)))
                    .collect(),
            ),
        );
    }
    Template {
        pattern,
        regex,
        counts: c.counts,
        severity: severity(&literal_words),
        tokens,
    }
}

/// The level a template's literal words suggest, most severe first.
fn severity(words: &[&str]) -> Option<&'static str> {
    const LEVELS: &[(&str, &[&str])] = &[
        (
            "Error",
            &[
                "fatal",
                "critical",
                "crit",
                "emerg",
                "emergency",
                "alert",
                "panic",
                "error",
                "err",
                "severe",
                "exception",
            ],
        ),
        ("Warning", &["warn", "warning"]),
        ("Info", &["info", "notice", "information"]),
        ("Debug", &["debug", "trace"]),
    ];
    LEVELS.iter().find_map(|(label, names)| {
        words
            .iter()
            .any(|w| names.iter().any(|n| w.eq_ignore_ascii_case(n)))
            .then_some(*label)
    })
}

fn template_row(fields: Vec<(String, Value)>, seq: usize) -> Row {
    Row {
        fields,
        timestamp_ms: 0,
        ptr: None,
        seq: seq as u64,
        window: Window::CURRENT,
    }
}

fn structured(map: Map<String, Json>) -> Value {
    Value::Structured(Arc::new(Json::Object(map)))
}

/// `pattern expr`: one row per template, most frequent first.
pub fn pattern_rows(expr: &Expr, rows: &[Row], env: &EvalEnv) -> Vec<Row> {
    let mut values: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut total = 0u64;
    for row in rows {
        if let Some(text) = eval(expr, row, env).render() {
            values.entry(text).or_default()[0] += 1;
            total += 1;
        }
    }
    let mut templates = cluster(&values);
    templates.sort_by(|a, b| {
        b.counts[0]
            .cmp(&a.counts[0])
            .then(a.pattern.cmp(&b.pattern))
    });
    templates
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let mut fields = vec![
                ("@pattern".to_string(), Value::Str(t.pattern)),
                (
                    "@ratio".to_string(),
                    Value::Float(t.counts[0] as f64 / total as f64),
                ),
                ("@sampleCount".to_string(), Value::Int(t.counts[0] as i64)),
            ];
            if let Some(s) = t.severity {
                fields.push(("@severityLabel".to_string(), Value::Str(s.to_string())));
            }
            fields.push(("@regexString".to_string(), Value::Str(t.regex)));
            fields.push(("@tokens".to_string(), structured(t.tokens)));
            template_row(fields, i)
        })
        .collect()
}

/// `diff`: the templates of `@message` over both windows, with their counts
/// in each; the largest changes first.
pub fn diff_rows(rows: &[Row], env: &EvalEnv) -> Vec<Row> {
    let message = Expr::Field("@message".to_string());
    let mut values: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for row in rows {
        if let Some(text) = eval(&message, row, env).render() {
            let slot = values.entry(text).or_default();
            slot[0] += u64::from(row.window.current);
            slot[1] += u64::from(row.window.baseline);
        }
    }
    let mut templates = cluster(&values);
    let change = |t: &Template| t.counts[0] as i64 - t.counts[1] as i64;
    templates.sort_by(|a, b| {
        change(b)
            .abs()
            .cmp(&change(a).abs())
            .then(b.counts[0].cmp(&a.counts[0]))
            .then(a.pattern.cmp(&b.pattern))
    });
    templates
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let (current, previous) = (t.counts[0] as i64, t.counts[1] as i64);
            let delta = current - previous;
            let mut fields = vec![
                ("@pattern".to_string(), Value::Str(t.pattern)),
                ("@currentCount".to_string(), Value::Int(current)),
                ("@previousCount".to_string(), Value::Int(previous)),
                ("@changeInCount".to_string(), Value::Int(delta)),
            ];
            if previous > 0 {
                let percent = delta as f64 * 100.0 / previous as f64;
                fields.push((
                    "@changePercent".to_string(),
                    Value::Float((percent * 100.0).round() / 100.0),
                ));
            }
            let description = match (previous, current) {
                (0, _) => "new",
                (_, 0) => "gone",
                _ if delta > 0 => "increased",
                _ if delta < 0 => "decreased",
                _ => "unchanged",
            };
            fields.push((
                "@changeDescription".to_string(),
                Value::Str(description.to_string()),
            ));
            if let Some(s) = t.severity {
                fields.push(("@severityLabel".to_string(), Value::Str(s.to_string())));
            }
            template_row(fields, i)
        })
        .collect()
}

/// The inclusive window `diff` compares `[start_ms, end_ms]` with, or
/// `None` when it would fall outside the representable range (an
/// unbounded query has no earlier window).
pub fn baseline_window(b: DiffBaseline, start_ms: i64, end_ms: i64) -> Option<(i64, i64)> {
    const DAY: i64 = 86_400_000;
    match b {
        DiffBaseline::Period => {
            let len = end_ms.checked_sub(start_ms)?.checked_add(1)?;
            Some((start_ms.checked_sub(len)?, start_ms.checked_sub(1)?))
        }
        DiffBaseline::Day => Some((start_ms.checked_sub(DAY)?, end_ms.checked_sub(DAY)?)),
        DiffBaseline::Week => Some((start_ms.checked_sub(7 * DAY)?, end_ms.checked_sub(7 * DAY)?)),
        DiffBaseline::Month => Some((one_month_earlier(start_ms)?, one_month_earlier(end_ms)?)),
    }
}

/// The same wall-clock time one calendar month earlier, the day clamped to
/// the end of the shorter month (March 31 → February 28/29).
fn one_month_earlier(ms: i64) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    let days = ms.div_euclid(DAY);
    let in_day = ms.rem_euclid(DAY);
    if !(-100_000_000..=100_000_000).contains(&days) {
        return None;
    }
    let (y, m, d) = civil_from_days(days);
    let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let next_month_start = if pm == 12 {
        days_from_civil(py + 1, 1, 1)
    } else {
        days_from_civil(py, pm + 1, 1)
    };
    let month_len = (next_month_start - days_from_civil(py, pm, 1)) as u32;
    let day = d.min(month_len);
    Some(days_from_civil(py, pm, day) * DAY + in_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(values: &[&str]) -> Vec<(String, u64)> {
        let mut map: BTreeMap<String, [u64; 2]> = BTreeMap::new();
        for v in values {
            map.entry(v.to_string()).or_default()[0] += 1;
        }
        let mut out: Vec<(String, u64)> = cluster(&map)
            .into_iter()
            .map(|t| (t.pattern, t.counts[0]))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn typed_tokens_are_always_dynamic() {
        assert_eq!(
            templates(&["[INFO] Request time: 327 ms", "[INFO] Request time: 12 ms"]),
            vec![("[INFO] Request time: <Number-1> ms".to_string(), 2)]
        );
        assert_eq!(
            templates(&["from 10.0.0.1 at 2024-01-02T03:04:05Z id 0x1f"]),
            vec![("from <IPAddress-1> at <Time-2> id <Hex-3>".to_string(), 1)]
        );
    }

    #[test]
    fn differing_words_become_tokens_only_within_a_shape() {
        assert_eq!(
            templates(&[
                "user alice logged in",
                "user bob logged in",
                "user carol logged out",
                "disk full",
            ]),
            vec![
                ("disk full".to_string(), 1),
                ("user <Token-1> logged <Token-2>".to_string(), 3),
            ]
        );
    }

    #[test]
    fn first_word_separates_clusters() {
        assert_eq!(
            templates(&["ERROR db down", "INFO db down"]),
            vec![
                ("ERROR db down".to_string(), 1),
                ("INFO db down".to_string(), 1)
            ]
        );
    }

    #[test]
    fn severity_from_literal_words() {
        assert_eq!(severity(&["ERROR", "x"]), Some("Error"));
        assert_eq!(severity(&["warn"]), Some("Warning"));
        assert_eq!(severity(&["hello"]), None);
    }

    #[test]
    fn baseline_windows() {
        assert_eq!(
            baseline_window(DiffBaseline::Period, 1000, 1999),
            Some((0, 999))
        );
        assert_eq!(
            baseline_window(DiffBaseline::Period, i64::MIN, i64::MAX),
            None
        );
        // 2024-03-31 → 2024-02-29.
        let mar31 = days_from_civil(2024, 3, 31) * 86_400_000 + 5;
        let feb29 = days_from_civil(2024, 2, 29) * 86_400_000 + 5;
        assert_eq!(one_month_earlier(mar31), Some(feb29));
        let jan15 = days_from_civil(2024, 1, 15) * 86_400_000;
        assert_eq!(
            one_month_earlier(jan15),
            Some(days_from_civil(2023, 12, 15) * 86_400_000)
        );
    }
}
