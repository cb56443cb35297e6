//! Comparisons shared by JSON selectors and space-delimited fields:
//! `= != < > <= >=` against a number, a string with `*` wildcards, or `%regex%`.

use regex::Regex;

use crate::cursor::Cursor;
use crate::regex_subset;
use crate::FilterPatternError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Relation {
    fn symbol(self) -> &'static str {
        match self {
            Relation::Equal => "=",
            Relation::NotEqual => "!=",
            Relation::Less => "<",
            Relation::LessOrEqual => "<=",
            Relation::Greater => ">",
            Relation::GreaterOrEqual => ">=",
        }
    }

    fn is_ordering(self) -> bool {
        !matches!(self, Relation::Equal | Relation::NotEqual)
    }

    /// Parses an operator at the cursor, longest first so `<=` is not read as `<`.
    pub(crate) fn parse(cursor: &mut Cursor<'_>) -> Option<Relation> {
        const OPERATORS: [(&str, Relation); 6] = [
            ("!=", Relation::NotEqual),
            ("<=", Relation::LessOrEqual),
            (">=", Relation::GreaterOrEqual),
            ("=", Relation::Equal),
            ("<", Relation::Less),
            (">", Relation::Greater),
        ];
        OPERATORS
            .iter()
            .find(|(symbol, _)| cursor.eat(symbol))
            .map(|&(_, relation)| relation)
    }
}

/// A string value with `*` wildcards, split at the stars once at parse time.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard {
    /// The text between stars; `pieces.len() == stars + 1`.
    pieces: Vec<String>,
}

impl Wildcard {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            pieces: text.split('*').map(str::to_owned).collect(),
        }
    }

    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let [first, middle @ .., last] = self.pieces.as_slice() else {
            return candidate == self.pieces[0];
        };
        if candidate.len() < first.len() + last.len()
            || !candidate.starts_with(first.as_str())
            || !candidate.ends_with(last.as_str())
        {
            return false;
        }
        // With both ends anchored, taking each middle piece at its leftmost
        // occurrence is optimal: it leaves the most room for the rest.
        let mut between = &candidate[first.len()..candidate.len() - last.len()];
        for piece in middle {
            match between.find(piece.as_str()) {
                Some(found) => between = &between[found + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// An unquoted numeric literal; compares numerically against numeric values.
    Number {
        value: f64,
        text: String,
    },
    /// A quoted string, or an unquoted non-numeric word; may contain `*`.
    Text(Wildcard),
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub(crate) relation: Relation,
    pub(crate) operand: Operand,
}

/// A value from a log event as a condition sees it: its text, and its number
/// when the text is a numeric literal (or the JSON value is a number).
pub(crate) trait Scalar {
    fn number(&self) -> Option<f64>;
    fn with_text<R>(&self, read: impl FnOnce(&str) -> R) -> R;
}

impl Scalar for &str {
    fn number(&self) -> Option<f64> {
        parse_number(self)
    }
    fn with_text<R>(&self, read: impl FnOnce(&str) -> R) -> R {
        read(self)
    }
}

impl Condition {
    pub(crate) fn holds(&self, value: &impl Scalar) -> bool {
        let equal = match &self.operand {
            Operand::Number {
                value: expected,
                text,
            } => match value.number() {
                Some(actual) => {
                    return match self.relation {
                        Relation::Equal => actual == *expected,
                        Relation::NotEqual => actual != *expected,
                        Relation::Less => actual < *expected,
                        Relation::LessOrEqual => actual <= *expected,
                        Relation::Greater => actual > *expected,
                        Relation::GreaterOrEqual => actual >= *expected,
                    }
                }
                None if self.relation.is_ordering() => return false,
                None => value.with_text(|actual| actual == text),
            },
            Operand::Text(wildcard) => value.with_text(|actual| wildcard.matches(actual)),
            Operand::Regex(regex) => value.with_text(|actual| regex.is_match(actual)),
        };
        match self.relation {
            Relation::NotEqual => !equal,
            _ => equal,
        }
    }

    /// Parses `OP value` at the cursor. `stop` tells where an unquoted value ends
    /// (besides whitespace). `regex_count` counts `%regex%` values for AWS's limit.
    pub(crate) fn parse(
        cursor: &mut Cursor<'_>,
        regex_count: &mut usize,
        stop: &[u8],
    ) -> Result<Option<Condition>, FilterPatternError> {
        let Some(relation) = Relation::parse(cursor) else {
            return Ok(None);
        };
        cursor.skip_whitespace();
        let raw_start = cursor.position();
        let operand = match cursor.peek() {
            None => {
                return Err(FilterPatternError::invalid(format!(
                    "expected a value after '{}'",
                    relation.symbol()
                )));
            }
            Some(b'"') => Operand::Text(Wildcard::new(&parse_quoted(cursor)?)),
            Some(b'%') => {
                *regex_count += 1;
                Operand::Regex(parse_regex(cursor)?)
            }
            Some(_) => {
                let word =
                    cursor.take_while(|byte| !byte.is_ascii_whitespace() && !stop.contains(&byte));
                if word.is_empty() {
                    let found = cursor.peek_char().map(String::from).unwrap_or_default();
                    return Err(FilterPatternError::invalid(format!(
                        "expected a value after '{}' but found '{found}'",
                        relation.symbol()
                    )));
                }
                if let Some(value) = parse_number(word) {
                    Operand::Number {
                        value,
                        text: word.to_owned(),
                    }
                } else {
                    if let Some(bad) = word.chars().find(|&c| !is_unquoted_value_char(c)) {
                        return Err(FilterPatternError::invalid_term(&bad.to_string()));
                    }
                    Operand::Text(Wildcard::new(word))
                }
            }
        };
        if relation.is_ordering() && !matches!(operand, Operand::Number { .. }) {
            let raw = &cursor.text()[raw_start..cursor.position()];
            return Err(FilterPatternError::invalid_term(raw));
        }
        Ok(Some(Condition { relation, operand }))
    }
}

/// Characters a value may have without quotes: letters, digits and `_` as AWS
/// documents, plus `.`, `-` and the `*` wildcard, which its own examples use
/// unquoted (`123.123.*`, `*.html*`).
fn is_unquoted_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '*')
}

/// A double-quoted string starting at the cursor. `\"` and `\\` are escapes;
/// any other backslash is kept, so Windows paths and JSON-escaped text survive.
pub(crate) fn parse_quoted(cursor: &mut Cursor<'_>) -> Result<String, FilterPatternError> {
    debug_assert_eq!(cursor.peek(), Some(b'"'));
    let rest = cursor.rest();
    let mut text = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => {
                cursor.advance(index + 1);
                return Ok(text);
            }
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\'))) => text.push(escaped),
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => break,
            },
            other => text.push(other),
        }
    }
    Err(FilterPatternError::invalid(format!(
        "the quoted string {rest} has no closing '\"'"
    )))
}

/// A `%regex%` starting at the cursor.
pub(crate) fn parse_regex(cursor: &mut Cursor<'_>) -> Result<Regex, FilterPatternError> {
    debug_assert_eq!(cursor.peek(), Some(b'%'));
    let rest = cursor.rest();
    let Some(length) = rest[1..].find('%') else {
        return Err(FilterPatternError::invalid(format!(
            "the regular expression {rest} has no closing '%'"
        )));
    };
    let regex = regex_subset::compile(&rest[1..1 + length])?;
    cursor.advance(length + 2);
    Ok(regex)
}

/// AWS's number syntax: optional sign, digits with an optional fraction, and an
/// optional exponent. Stricter than `f64::from_str`, which also takes `inf`/`NaN`.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut index = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        index += 1;
    }
    let integer_digits = count_digits(&bytes[index..]);
    index += integer_digits;
    let mut fraction_digits = 0;
    if bytes.get(index) == Some(&b'.') {
        index += 1;
        fraction_digits = count_digits(&bytes[index..]);
        index += fraction_digits;
    }
    if integer_digits + fraction_digits == 0 {
        return None;
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'+' | b'-')) {
            index += 1;
        }
        let exponent_digits = count_digits(&bytes[index..]);
        if exponent_digits == 0 {
            return None;
        }
        index += exponent_digits;
    }
    if index != bytes.len() {
        return None;
    }
    text.trim_start_matches('+').parse().ok()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        let cases = [
            ("*Event", "PutEvent", true),
            ("*Event", "EventName", false),
            ("Event*", "EventId", true),
            ("Ev*ent", "Ev*ent", true),
            ("Ev*ent", "Evnt", false),
            ("123.123.*", "123.123.0.1", true),
            ("123.123.*", "111.111.111.111", false),
            ("*", "", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*111.111.111", "111.111.111.111", true),
            ("*.html*", "GET /index.html HTTP/1.0", true),
            ("a*b*c", "a-c-b-c", true),
            ("a*b*c", "a-c-c", false),
            ("plain", "plain", true),
            ("plain", "plainer", false),
        ];
        for (pattern, candidate, expected) in cases {
            assert_eq!(
                Wildcard::new(pattern).matches(candidate),
                expected,
                "{pattern} vs {candidate}"
            );
        }
    }

    #[test]
    fn number_syntax() {
        for (text, expected) in [
            ("500", Some(500.0)),
            ("+1000", Some(1000.0)),
            ("-1", Some(-1.0)),
            ("55.5", Some(55.5)),
            ("10e3", Some(10_000.0)),
            ("10e-3", Some(0.01)),
            ("1E+3", Some(1000.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("", None),
            ("-", None),
            ("1e", None),
            ("inf", None),
            ("NaN", None),
            ("1.2.3", None),
            ("0x10", None),
            ("12abc", None),
        ] {
            assert_eq!(parse_number(text), expected, "{text:?}");
        }
    }

    fn condition(source: &str) -> Condition {
        let mut count = 0;
        Condition::parse(&mut Cursor::new(source), &mut count, b",")
            .unwrap()
            .unwrap()
    }

    #[test]
    fn numeric_literals_compare_numerically_and_fall_back_to_text() {
        assert!(condition("= 123").holds(&"123.0"));
        assert!(condition("> 1000").holds(&"1534"));
        assert!(!condition("> 1000").holds(&"-"));
        assert!(!condition("!= 200").holds(&"200"));
        assert!(condition("!= 200").holds(&"abc"));
        assert!(!condition("= 200").holds(&"abc"));
        assert!(condition("<= 1e3").holds(&"1000"));
    }

    #[test]
    fn ordering_needs_a_number() {
        let mut count = 0;
        let error =
            Condition::parse(&mut Cursor::new("> \"someString\""), &mut count, b"").unwrap_err();
        assert_eq!(
            error.message,
            "Invalid character(s) in term '\"someString\"'"
        );
        let error =
            Condition::parse(&mut Cursor::new(">= UpdateTrail"), &mut count, b"").unwrap_err();
        assert_eq!(error.message, "Invalid character(s) in term 'UpdateTrail'");
    }

    #[test]
    fn quoted_strings_unescape_quotes_and_backslashes_only() {
        let mut cursor = Cursor::new(r#""say \"hi\" C:\temp \\ end" rest"#);
        assert_eq!(
            parse_quoted(&mut cursor).unwrap(),
            r#"say "hi" C:\temp \ end"#
        );
        assert_eq!(cursor.rest(), " rest");
        assert!(parse_quoted(&mut Cursor::new("\"open")).is_err());
    }
}
