//! JSON patterns: `{ $.a.b[0] = "x" && ($.n > 5 || $.flag IS TRUE) }`.

use serde_json::Number;

use crate::condition::{Condition, Scalar};
use crate::cursor::Cursor;
use crate::json_capture::{Capture, Captured, PathTrie, Step};
use crate::FilterPatternError;

/// AWS: at most one `*` per selector and three per pattern.
const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

#[derive(Debug, Clone)]
struct Selector {
    /// As written (whitespace-free), e.g. `$.users[0].id`; the key reported by `extract`.
    source: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Check {
    Compare(Condition),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone)]
enum Expression {
    Any(Vec<Expression>),
    All(Vec<Expression>),
    Test { selector: usize, check: Check },
}

#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    expression: Expression,
    /// Distinct selectors in order of first appearance.
    selectors: Vec<Selector>,
    trie: PathTrie,
}

impl JsonPattern {
    /// `body` is the text between the outer braces.
    pub(crate) fn parse(
        body: &str,
        regex_count: &mut usize,
    ) -> Result<JsonPattern, FilterPatternError> {
        let mut parser = Parser {
            cursor: Cursor::new(body),
            selectors: Vec::new(),
            regex_count,
            wildcard_count: 0,
            depth: 0,
        };
        parser.cursor.skip_whitespace();
        if parser.cursor.is_at_end() {
            return Err(FilterPatternError::invalid(
                "a JSON pattern needs a condition between '{' and '}'",
            ));
        }
        let expression = parser.parse_any()?;
        parser.cursor.skip_whitespace();
        if !parser.cursor.is_at_end() {
            return Err(parser.unexpected("'&&', '||' or the closing '}'"));
        }
        let trie = PathTrie::new(
            parser
                .selectors
                .iter()
                .map(|selector| selector.steps.as_slice()),
        );
        Ok(JsonPattern {
            expression,
            selectors: parser.selectors,
            trie,
        })
    }

    pub(crate) fn selector_sources(&self) -> impl Iterator<Item = &str> {
        self.selectors
            .iter()
            .map(|selector| selector.source.as_str())
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        self.trie
            .capture(message)
            .is_some_and(|captures| self.evaluate(&self.expression, &captures))
    }

    pub(crate) fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        let captures = self.trie.capture(message)?;
        if !self.evaluate(&self.expression, &captures) {
            return None;
        }
        let extracted = self
            .selectors
            .iter()
            .enumerate()
            .filter_map(|(index, selector)| {
                captures
                    .iter()
                    .filter(|capture| capture.selector == index)
                    .find_map(|capture| match &capture.value {
                        Captured::Text(text) => Some(text.to_string()),
                        Captured::Number(number) => Some(number.to_string()),
                        Captured::Bool(flag) => Some(flag.to_string()),
                        Captured::Null => Some("null".to_string()),
                        Captured::Compound => None,
                    })
                    .map(|text| (selector.source.clone(), text))
            })
            .collect();
        Some(extracted)
    }

    /// A test holds when any value its selector reached satisfies it (only
    /// wildcards reach more than one); `NOT EXISTS` when none was reached.
    fn evaluate(&self, expression: &Expression, captures: &[Capture<'_>]) -> bool {
        match expression {
            Expression::Any(branches) => branches
                .iter()
                .any(|branch| self.evaluate(branch, captures)),
            Expression::All(branches) => branches
                .iter()
                .all(|branch| self.evaluate(branch, captures)),
            Expression::Test { selector, check } => {
                let mut values = captures
                    .iter()
                    .filter(|capture| capture.selector == *selector)
                    .map(|capture| &capture.value);
                match check {
                    Check::NotExists => values.next().is_none(),
                    Check::IsNull => values.any(|value| *value == Captured::Null),
                    Check::IsTrue => values.any(|value| *value == Captured::Bool(true)),
                    Check::IsFalse => values.any(|value| *value == Captured::Bool(false)),
                    Check::Compare(condition) => values.any(|value| match value {
                        Captured::Text(text) => condition.holds(&text.as_ref()),
                        Captured::Number(number) => condition.holds(&JsonNumber(number)),
                        Captured::Bool(flag) => {
                            condition.holds(&if *flag { "true" } else { "false" })
                        }
                        // A selector on an object or array does not match, for
                        // `=` and `!=` alike (AWS documents both failing).
                        Captured::Null | Captured::Compound => false,
                    }),
                }
            }
        }
    }
}

struct JsonNumber<'a>(&'a Number);

impl Scalar for JsonNumber<'_> {
    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }
    fn with_text<R>(&self, read: impl FnOnce(&str) -> R) -> R {
        read(&self.0.to_string())
    }
}

struct Parser<'a, 'c> {
    cursor: Cursor<'a>,
    selectors: Vec<Selector>,
    regex_count: &'c mut usize,
    wildcard_count: usize,
    depth: usize,
}

/// Deep enough for any real pattern (AWS caps patterns at 1024 characters),
/// shallow enough that `((((...` cannot overflow the stack.
const MAX_NESTING: usize = 64;

impl Parser<'_, '_> {
    fn parse_any(&mut self) -> Result<Expression, FilterPatternError> {
        let mut branches = vec![self.parse_all()?];
        loop {
            self.cursor.skip_whitespace();
            if !self.cursor.eat("||") {
                break;
            }
            branches.push(self.parse_all()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().expect("one branch")
        } else {
            Expression::Any(branches)
        })
    }

    fn parse_all(&mut self) -> Result<Expression, FilterPatternError> {
        let mut branches = vec![self.parse_primary()?];
        loop {
            self.cursor.skip_whitespace();
            if !self.cursor.eat("&&") {
                break;
            }
            branches.push(self.parse_primary()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().expect("one branch")
        } else {
            Expression::All(branches)
        })
    }

    fn parse_primary(&mut self) -> Result<Expression, FilterPatternError> {
        self.cursor.skip_whitespace();
        match self.cursor.peek() {
            Some(b'(') => {
                self.cursor.advance(1);
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(FilterPatternError::invalid(format!(
                        "parentheses are nested more than {MAX_NESTING} deep"
                    )));
                }
                let inner = self.parse_any()?;
                self.cursor.skip_whitespace();
                if !self.cursor.eat(")") {
                    return Err(self.unexpected("')'"));
                }
                self.depth -= 1;
                Ok(inner)
            }
            Some(b'$') => self.parse_test(),
            _ => Err(self.unexpected("a selector starting with '$' (such as $.eventName) or '('")),
        }
    }

    fn parse_test(&mut self) -> Result<Expression, FilterPatternError> {
        let selector = self.parse_selector()?;
        self.cursor.skip_whitespace();
        let check = if self.eat_keyword("IS") {
            self.cursor.skip_whitespace();
            if self.eat_keyword("NULL") {
                Check::IsNull
            } else if self.eat_keyword("TRUE") {
                Check::IsTrue
            } else if self.eat_keyword("FALSE") {
                Check::IsFalse
            } else if self.eat_keyword("NOT") {
                return Err(FilterPatternError::invalid(
                    "'IS NOT' is not supported; use '!=' to compare, or 'NOT EXISTS' to test that a field is absent",
                ));
            } else {
                return Err(self.unexpected("NULL, TRUE or FALSE after 'IS'"));
            }
        } else if self.eat_keyword("NOT") {
            self.cursor.skip_whitespace();
            if !self.eat_keyword("EXISTS") {
                return Err(self.unexpected("EXISTS after 'NOT'"));
            }
            Check::NotExists
        } else if self.eat_keyword("EXISTS") {
            return Err(FilterPatternError::invalid(
                "'EXISTS' is not supported; use '= *' (for example { $.field = * }) to test that a field is present",
            ));
        } else {
            match Condition::parse(&mut self.cursor, self.regex_count, b"()&|")? {
                Some(condition) => Check::Compare(condition),
                None => return Err(self.unexpected(
                    "an operator (=, !=, <, <=, >, >=, IS NULL, IS TRUE, IS FALSE or NOT EXISTS)",
                )),
            }
        };
        Ok(Expression::Test { selector, check })
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let rest = self.cursor.rest();
        let boundary = rest
            .as_bytes()
            .get(keyword.len())
            .is_none_or(|&byte| !byte.is_ascii_alphanumeric() && byte != b'_');
        rest.starts_with(keyword) && boundary && self.cursor.eat(keyword)
    }

    fn parse_selector(&mut self) -> Result<usize, FilterPatternError> {
        let start = self.cursor.position();
        self.cursor.advance(1); // '$'
        let mut steps = Vec::new();
        let mut wildcards = 0;
        loop {
            match self.cursor.peek() {
                Some(b'.') => {
                    self.cursor.advance(1);
                    match self.cursor.peek() {
                        Some(b'*') => {
                            self.cursor.advance(1);
                            wildcards += 1;
                            steps.push(Step::AnyMember);
                        }
                        Some(b'[') => steps.push(self.parse_bracket(start, &mut wildcards)?),
                        _ => {
                            let key = self.cursor.take_while(is_key_byte);
                            if key.is_empty() {
                                return Err(self.invalid_selector(start));
                            }
                            steps.push(Step::Key(key.to_owned()));
                        }
                    }
                }
                Some(b'[') => steps.push(self.parse_bracket(start, &mut wildcards)?),
                Some(byte) if byte.is_ascii_whitespace() || b"=!<>()&|".contains(&byte) => break,
                None => break,
                Some(_) => return Err(self.invalid_selector(start)),
            }
        }
        let source = &self.cursor.text()[start..self.cursor.position()];
        if steps.is_empty() {
            return Err(FilterPatternError::invalid(format!(
                "the selector '{source}' selects the whole event; select a field such as $.eventName"
            )));
        }
        if wildcards > MAX_WILDCARDS_PER_SELECTOR {
            return Err(FilterPatternError::invalid(format!(
                "the selector '{source}' has {wildcards} wildcards; at most {MAX_WILDCARDS_PER_SELECTOR} is allowed per selector"
            )));
        }
        self.wildcard_count += wildcards;
        if self.wildcard_count > MAX_WILDCARDS_PER_PATTERN {
            return Err(FilterPatternError::invalid(format!(
                "at most {MAX_WILDCARDS_PER_PATTERN} wildcard selectors are allowed in a pattern"
            )));
        }
        if let Some(existing) = self
            .selectors
            .iter()
            .position(|selector| selector.source == source)
        {
            return Ok(existing);
        }
        self.selectors.push(Selector {
            source: source.to_owned(),
            steps,
        });
        Ok(self.selectors.len() - 1)
    }

    /// `[0]`, `[*]`, `['a.b']` or `["a.b"]`, with the cursor on the `[`.
    fn parse_bracket(
        &mut self,
        start: usize,
        wildcards: &mut usize,
    ) -> Result<Step, FilterPatternError> {
        self.cursor.advance(1);
        let step = match self.cursor.peek() {
            Some(b'*') => {
                self.cursor.advance(1);
                *wildcards += 1;
                Step::AnyElement
            }
            Some(quote @ (b'\'' | b'"')) => {
                self.cursor.advance(1);
                let key = self.cursor.take_while(|byte| byte != quote);
                if !self.cursor.eat(if quote == b'\'' { "'" } else { "\"" }) {
                    return Err(FilterPatternError::invalid(format!(
                        "the selector '{}' has an unterminated quoted key",
                        &self.cursor.text()[start..]
                    )));
                }
                Step::Key(key.to_owned())
            }
            _ => {
                let digits = self.cursor.take_while(|byte| byte.is_ascii_digit());
                let Ok(index) = digits.parse() else {
                    return Err(self.invalid_selector(start));
                };
                Step::Index(index)
            }
        };
        if !self.cursor.eat("]") {
            return Err(self.invalid_selector(start));
        }
        Ok(step)
    }

    /// AWS reports the selector up to and including the offending character,
    /// e.g. `Invalid character(s) in term '$."'` for `$."sc-status"`.
    fn invalid_selector(&self, start: usize) -> FilterPatternError {
        let end = self.cursor.position() + self.cursor.peek_char().map_or(0, char::len_utf8);
        FilterPatternError::invalid_term(&self.cursor.text()[start..end])
    }

    fn unexpected(&self, expected: &str) -> FilterPatternError {
        if self.cursor.is_at_end() {
            FilterPatternError::invalid(format!("expected {expected} but the pattern ended"))
        } else {
            FilterPatternError::invalid(format!(
                "expected {expected} but found '{}'",
                self.cursor.next_word()
            ))
        }
    }
}

/// Property names AWS allows unquoted: letters, digits, `-` and `_`.
fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

#[cfg(test)]
mod tests {
    //! The streaming evaluation is checked against a straightforward one over a
    //! fully parsed `serde_json::Value`.

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    impl JsonPattern {
        fn matches_by_tree(&self, message: &str) -> bool {
            let first = message.bytes().find(|byte| !byte.is_ascii_whitespace());
            if !matches!(first, Some(b'{' | b'[')) {
                return false;
            }
            serde_json::from_str::<Value>(message)
                .is_ok_and(|document| self.evaluate_tree(&self.expression, &document))
        }

        fn evaluate_tree(&self, expression: &Expression, document: &Value) -> bool {
            match expression {
                Expression::Any(branches) => branches
                    .iter()
                    .any(|branch| self.evaluate_tree(branch, document)),
                Expression::All(branches) => branches
                    .iter()
                    .all(|branch| self.evaluate_tree(branch, document)),
                Expression::Test { selector, check } => {
                    let steps = &self.selectors[*selector].steps;
                    match check {
                        Check::NotExists => !visit(document, steps, &mut |_| true),
                        Check::IsNull => visit(document, steps, &mut Value::is_null),
                        Check::IsTrue => {
                            visit(document, steps, &mut |value| value.as_bool() == Some(true))
                        }
                        Check::IsFalse => {
                            visit(document, steps, &mut |value| value.as_bool() == Some(false))
                        }
                        Check::Compare(condition) => {
                            visit(document, steps, &mut |value| match value {
                                Value::String(text) => condition.holds(&text.as_str()),
                                Value::Number(number) => condition.holds(&JsonNumber(number)),
                                Value::Bool(flag) => {
                                    condition.holds(&if *flag { "true" } else { "false" })
                                }
                                Value::Null | Value::Array(_) | Value::Object(_) => false,
                            })
                        }
                    }
                }
            }
        }
    }

    fn visit(value: &Value, steps: &[Step], test: &mut impl FnMut(&Value) -> bool) -> bool {
        let Some((step, rest)) = steps.split_first() else {
            return test(value);
        };
        match (step, value) {
            (Step::Key(key), Value::Object(members)) => members
                .get(key)
                .is_some_and(|member| visit(member, rest, test)),
            (Step::Index(index), Value::Array(elements)) => elements
                .get(*index)
                .is_some_and(|element| visit(element, rest, test)),
            (Step::AnyMember, Value::Object(members)) => {
                members.values().any(|member| visit(member, rest, test))
            }
            (Step::AnyMember | Step::AnyElement, Value::Array(elements)) => {
                elements.iter().any(|element| visit(element, rest, test))
            }
            _ => false,
        }
    }

    fn leaf() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            (-20i32..20).prop_map(|n| n.to_string()),
            (-20i32..20).prop_map(|n| format!("{}.5", n)),
            "[ab1*.]{0,3}".prop_map(|text| format!("\"{text}\"")),
            Just("\"a\\\"b\"".to_string()),
        ]
    }

    /// Small JSON documents over the keys `a`, `b` and `a.b`.
    fn document() -> impl Strategy<Value = String> {
        leaf().prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec(
                    (prop_oneof![Just("a"), Just("b"), Just("a.b")], inner),
                    0..3
                )
                .prop_map(|members| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(key, value)| format!("\"{key}\":{value}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn test_expression() -> impl Strategy<Value = String> {
        let step = prop_oneof![
            Just(".a"),
            Just(".b"),
            Just("[0]"),
            Just("[1]"),
            Just(".['a.b']"),
            Just(".*"),
            Just("[*]")
        ];
        let selector =
            prop::collection::vec(step, 1..4).prop_map(|steps| format!("${}", steps.concat()));
        let check = prop_oneof![
            Just("= 1"),
            Just("!= 1"),
            Just("> 0"),
            Just("<= 1.5"),
            Just("= \"a*\""),
            Just("!= b"),
            Just("= *"),
            Just("= %^a%"),
            Just("IS NULL"),
            Just("IS TRUE"),
            Just("IS FALSE"),
            Just("NOT EXISTS"),
            Just("= \"1\""),
        ];
        let test = (selector, check).prop_map(|(selector, check)| format!("{selector} {check}"));
        (test.clone(), prop_oneof![Just("&&"), Just("||")], test)
            .prop_map(|(a, op, b)| format!("{a} {op} {b}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn streaming_evaluation_agrees_with_the_tree(expression in test_expression(), document in document()) {
            let mut regex_count = 0;
            let pattern = match JsonPattern::parse(&expression, &mut regex_count) {
                Ok(pattern) => pattern,
                // Two wildcards in one generated selector exceed AWS's limit.
                Err(error) => {
                    prop_assert!(error.message.contains("at most"), "{}: {}", expression, error);
                    return Ok(());
                }
            };
            prop_assert_eq!(pattern.matches(&document), pattern.matches_by_tree(&document), "{} on {}", expression, document);
        }
    }
}
