//! JSON patterns: `{ $.a.b[0] = "x" && ($.n > 5 || $.flag IS TRUE) }`.

use serde_json::{Number, Value};

use crate::condition::{Condition, Scalar};
use crate::cursor::Cursor;
use crate::FilterPatternError;

/// AWS: at most one `*` per selector and three per pattern.
const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
    /// `$.*`: every member of an object (or element of an array).
    AnyMember,
    /// `[*]`: every element of an array.
    AnyElement,
}

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
        Ok(JsonPattern {
            expression,
            selectors: parser.selectors,
        })
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        self.parse_message(message)
            .is_some_and(|document| self.evaluate(&self.expression, &document))
    }

    pub(crate) fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        let document = self.parse_message(message)?;
        if !self.evaluate(&self.expression, &document) {
            return None;
        }
        let mut extracted = Vec::new();
        for selector in &self.selectors {
            let mut found = None;
            visit(&document, &selector.steps, &mut |value| {
                found = match value {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(number) => Some(number.to_string()),
                    Value::Bool(flag) => Some(flag.to_string()),
                    Value::Null => Some("null".to_string()),
                    Value::Array(_) | Value::Object(_) => None,
                };
                found.is_some()
            });
            if let Some(text) = found {
                extracted.push((selector.source.clone(), text));
            }
        }
        Some(extracted)
    }

    fn parse_message(&self, message: &str) -> Option<Value> {
        // Most events in a mixed log group are not JSON: refuse them before
        // paying for a parse attempt.
        let first = message.bytes().find(|byte| !byte.is_ascii_whitespace())?;
        if first != b'{' && first != b'[' {
            return None;
        }
        serde_json::from_str(message).ok()
    }

    fn evaluate(&self, expression: &Expression, document: &Value) -> bool {
        match expression {
            Expression::Any(branches) => branches
                .iter()
                .any(|branch| self.evaluate(branch, document)),
            Expression::All(branches) => branches
                .iter()
                .all(|branch| self.evaluate(branch, document)),
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
                    Check::Compare(condition) => visit(document, steps, &mut |value| match value {
                        Value::String(text) => condition.holds(&text.as_str()),
                        Value::Number(number) => condition.holds(&JsonNumber(number)),
                        Value::Bool(flag) => condition.holds(&if *flag { "true" } else { "false" }),
                        // A selector on an object or array does not match, for
                        // `=` and `!=` alike (AWS documents both failing).
                        Value::Null | Value::Array(_) | Value::Object(_) => false,
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

/// Calls `test` on each value the steps select until it returns true; returns
/// whether it did. Selections fan out only at wildcards.
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
