//! Space-delimited patterns: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`.
//!
//! The event is split at spaces (and tabs); text between `[` and `]` or between
//! double quotes is one field, without its delimiters. Without `...` the event
//! must have exactly as many fields as the pattern (AWS's `[w1=ERROR, w2]`
//! matches `ERROR message` but not `ERROR WARN message`); each `...` absorbs any
//! number of fields.

use std::cell::RefCell;

use crate::condition::Condition;
use crate::cursor::Cursor;
use crate::FilterPatternError;

#[derive(Debug, Clone)]
enum Field {
    Ellipsis,
    Value {
        /// `None` for an empty placeholder (`[a, , b]` or a trailing comma).
        name: Option<String>,
        /// Alternatives (`||`) of conjunctions (`&&`); empty means any value.
        alternatives: Vec<Vec<Condition>>,
    },
}

impl Field {
    fn accepts(&self, value: &str) -> bool {
        match self {
            Field::Ellipsis => true,
            Field::Value { alternatives, .. } => {
                alternatives.is_empty()
                    || alternatives
                        .iter()
                        .any(|all| all.iter().all(|condition| condition.holds(&value)))
            }
        }
    }
}

/// Matching recurses once per field; AWS's 1024-character pattern limit
/// allows about 500 fields, so this bound costs nothing real and keeps the
/// recursion far from the stack's end.
const MAX_FIELDS: usize = 1024;

#[derive(Debug, Clone)]
pub(crate) struct DelimitedPattern {
    fields: Vec<Field>,
    ellipsis_count: usize,
}

/// Token spans and their owning fields, reused across calls so matching does
/// not allocate per event.
#[derive(Default)]
struct Scratch {
    spans: Vec<(usize, usize)>,
    owners: Vec<Owner>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Unassigned,
    Field(usize),
}

impl DelimitedPattern {
    /// `body` is the text between the outer brackets.
    pub(crate) fn parse(
        body: &str,
        regex_count: &mut usize,
    ) -> Result<DelimitedPattern, FilterPatternError> {
        if body.trim().is_empty() {
            return Err(FilterPatternError::invalid(
                "a space-delimited pattern needs at least one field, such as [ip, user, ...]",
            ));
        }
        let mut cursor = Cursor::new(body);
        let mut fields = Vec::new();
        loop {
            cursor.skip_whitespace();
            if cursor.eat("...") {
                fields.push(Field::Ellipsis);
            } else if matches!(cursor.peek(), None | Some(b',')) {
                fields.push(Field::Value {
                    name: None,
                    alternatives: Vec::new(),
                });
            } else {
                fields.push(parse_named_field(&mut cursor, regex_count)?);
            }
            cursor.skip_whitespace();
            if cursor.is_at_end() {
                break;
            }
            if !cursor.eat(",") {
                return Err(FilterPatternError::invalid(format!(
                    "expected ',' or ']' after a field but found '{}'",
                    cursor.next_word()
                )));
            }
        }
        if fields.len() > MAX_FIELDS {
            return Err(FilterPatternError::invalid(format!(
                "a space-delimited pattern may have at most {MAX_FIELDS} fields; this one has {}",
                fields.len()
            )));
        }
        let ellipsis_count = fields
            .iter()
            .filter(|field| matches!(field, Field::Ellipsis))
            .count();
        Ok(DelimitedPattern {
            fields,
            ellipsis_count,
        })
    }

    /// Named fields in pattern order, each once.
    pub(crate) fn field_names(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        self.fields.iter().filter_map(move |field| match field {
            Field::Value {
                name: Some(name), ..
            } if !seen.contains(&name.as_str()) => {
                seen.push(name);
                Some(name.as_str())
            }
            _ => None,
        })
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        SCRATCH.with(|scratch| {
            // A re-entrant call (impossible today) would find the buffer borrowed;
            // fall back to fresh buffers rather than panic.
            match scratch.try_borrow_mut() {
                Ok(mut scratch) => self.assign(message, &mut scratch),
                Err(_) => self.assign(message, &mut Scratch::default()),
            }
        })
    }

    pub(crate) fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        let mut scratch = Scratch::default();
        if !self.assign(message, &mut scratch) {
            return None;
        }
        let extracted = scratch
            .spans
            .iter()
            .zip(&scratch.owners)
            .enumerate()
            .map(|(index, (&(start, end), owner))| {
                let name = match owner {
                    Owner::Field(field) => match &self.fields[*field] {
                        Field::Value {
                            name: Some(name), ..
                        } => format!("${name}"),
                        _ => format!("${}", index + 1),
                    },
                    Owner::Unassigned => format!("${}", index + 1),
                };
                (name, message[start..end].to_owned())
            })
            .collect();
        Some(extracted)
    }

    fn assign(&self, message: &str, scratch: &mut Scratch) -> bool {
        split_fields(message, &mut scratch.spans);
        let token_count = scratch.spans.len();
        let fixed_count = self.fields.len() - self.ellipsis_count;
        if token_count < fixed_count || (self.ellipsis_count == 0 && token_count != fixed_count) {
            return false;
        }
        scratch.owners.clear();
        scratch.owners.resize(token_count, Owner::Unassigned);
        // With two or more ellipses the search can revisit the same
        // (field, token) state exponentially often; remember dead ends.
        let mut dead_ends = if self.ellipsis_count >= 2 {
            vec![false; (self.fields.len() + 1) * (token_count + 1)]
        } else {
            Vec::new()
        };
        let mut search = Search {
            fields: &self.fields,
            message,
            spans: &scratch.spans,
            owners: &mut scratch.owners,
            dead_ends: &mut dead_ends,
        };
        search.run(0, 0)
    }
}

struct Search<'a> {
    fields: &'a [Field],
    message: &'a str,
    spans: &'a [(usize, usize)],
    owners: &'a mut [Owner],
    dead_ends: &'a mut Vec<bool>,
}

impl Search<'_> {
    fn run(&mut self, field: usize, token: usize) -> bool {
        let Some(current) = self.fields.get(field) else {
            return token == self.spans.len();
        };
        let state = field * (self.spans.len() + 1) + token;
        if self.dead_ends.get(state) == Some(&true) {
            return false;
        }
        let found = match current {
            Field::Ellipsis => (token..=self.spans.len()).any(|next| {
                self.owners[token..next].fill(Owner::Unassigned);
                self.run(field + 1, next)
            }),
            Field::Value { .. } => match self.spans.get(token) {
                Some(&(start, end)) if current.accepts(&self.message[start..end]) => {
                    self.owners[token] = Owner::Field(field);
                    self.run(field + 1, token + 1)
                }
                _ => false,
            },
        };
        if !found {
            if let Some(dead_end) = self.dead_ends.get_mut(state) {
                *dead_end = true;
            }
        }
        found
    }
}

fn parse_named_field(
    cursor: &mut Cursor<'_>,
    regex_count: &mut usize,
) -> Result<Field, FilterPatternError> {
    let name = take_name(cursor)?;
    cursor.skip_whitespace();
    if matches!(cursor.peek(), None | Some(b',')) {
        return Ok(Field::Value {
            name: Some(name.to_owned()),
            alternatives: Vec::new(),
        });
    }
    let mut alternatives = vec![vec![parse_condition(cursor, regex_count, name)?]];
    loop {
        cursor.skip_whitespace();
        if cursor.eat("&&") {
            cursor.skip_whitespace();
            let condition = parse_condition_for(cursor, regex_count, name)?;
            alternatives
                .last_mut()
                .expect("at least one alternative")
                .push(condition);
        } else if cursor.eat("||") {
            cursor.skip_whitespace();
            let condition = parse_condition_for(cursor, regex_count, name)?;
            alternatives.push(vec![condition]);
        } else {
            break;
        }
    }
    Ok(Field::Value {
        name: Some(name.to_owned()),
        alternatives,
    })
}

/// A further `name OP value` after `&&` or `||`. AWS only combines conditions on
/// the same field; `status = 4* && bytes > 1000` in one field is refused.
fn parse_condition_for(
    cursor: &mut Cursor<'_>,
    regex_count: &mut usize,
    field_name: &str,
) -> Result<Condition, FilterPatternError> {
    let name = take_name(cursor)?;
    if name != field_name {
        return Err(FilterPatternError::invalid(format!(
            "'&&' and '||' in a space-delimited field must test that same field: '{field_name}' is combined with '{name}'"
        )));
    }
    cursor.skip_whitespace();
    parse_condition(cursor, regex_count, name)
}

fn parse_condition(
    cursor: &mut Cursor<'_>,
    regex_count: &mut usize,
    name: &str,
) -> Result<Condition, FilterPatternError> {
    match Condition::parse(cursor, regex_count, b",&|")? {
        Some(condition) => Ok(condition),
        None => Err(FilterPatternError::invalid(format!(
            "expected ',', ']' or an operator (=, !=, <, <=, >, >=) after field '{name}' but found '{}'",
            cursor.next_word()
        ))),
    }
}

fn take_name<'a>(cursor: &mut Cursor<'a>) -> Result<&'a str, FilterPatternError> {
    let name = cursor.take_while(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    match cursor.peek_char() {
        _ if !name.is_empty() => Ok(name),
        Some(found) => Err(FilterPatternError::invalid_term(&found.to_string())),
        None => Err(FilterPatternError::invalid(
            "expected a field name after '&&' or '||' but the pattern ended",
        )),
    }
}

/// Splits an event into field spans (byte ranges without `[]`/`""` delimiters).
fn split_fields(message: &str, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    let bytes = message.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b' ' | b'\t' => index += 1,
            open @ (b'[' | b'"') => {
                let close = if open == b'[' { b']' } else { b'"' };
                let start = index + 1;
                // An unclosed group runs to the end of the event.
                let end = memchr::memchr(close, &bytes[start..])
                    .map_or(bytes.len(), |offset| start + offset);
                spans.push((start, end));
                index = end + 1;
            }
            _ => {
                let start = index;
                while index < bytes.len() && !matches!(bytes[index], b' ' | b'\t') {
                    index += 1;
                }
                spans.push((start, index));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(message: &str) -> Vec<&str> {
        let mut spans = Vec::new();
        split_fields(message, &mut spans);
        spans
            .iter()
            .map(|&(start, end)| &message[start..end])
            .collect()
    }

    #[test]
    fn splits_on_spaces_and_groups_brackets_and_quotes() {
        assert_eq!(
            fields_of(
                r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#
            ),
            [
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
        assert_eq!(fields_of("  a   b\tc "), ["a", "b", "c"]);
        assert_eq!(fields_of("a [unclosed group"), ["a", "unclosed group"]);
        assert_eq!(fields_of("\"\" x"), ["", "x"]);
        assert!(fields_of("").is_empty());
    }
}
