//! Unstructured patterns: `ERROR "exact phrase" -excluded ?either ?or %regex%`.
//!
//! Every term is a case-sensitive substring test (AWS's own example has `ERROR`
//! matching `ERRORCODE`). Plain terms must all be present and `-` terms absent.
//! `?` terms are alternatives: at least one must be present, unless the pattern
//! also has plain terms, in which case AWS ignores the `?` terms.

use memchr::memmem::Finder;
use regex::Regex;

use crate::condition::{parse_quoted, parse_regex};
use crate::cursor::Cursor;
use crate::FilterPatternError;

#[derive(Debug, Clone)]
enum Term {
    /// Prebuilt so a scan over millions of messages allocates nothing; boxed
    /// because a finder is ~300 bytes and most patterns have few terms.
    Literal(Box<Finder<'static>>),
    Regex(Regex),
}

impl Term {
    fn literal(text: &str) -> Term {
        Term::Literal(Box::new(Finder::new(text.as_bytes()).into_owned()))
    }

    fn is_in(&self, message: &str) -> bool {
        match self {
            Term::Literal(finder) => finder.find(message.as_bytes()).is_some(),
            Term::Regex(regex) => regex.is_match(message),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TermPattern {
    required: Vec<Term>,
    alternatives: Vec<Term>,
    excluded: Vec<Term>,
}

impl TermPattern {
    pub(crate) fn parse(
        pattern: &str,
        regex_count: &mut usize,
    ) -> Result<TermPattern, FilterPatternError> {
        let mut required = Vec::new();
        let mut alternatives = Vec::new();
        let mut excluded = Vec::new();
        let mut cursor = Cursor::new(pattern);
        loop {
            cursor.skip_whitespace();
            let Some(first) = cursor.peek() else { break };
            let group = match first {
                b'?' => {
                    cursor.advance(1);
                    &mut alternatives
                }
                b'-' => {
                    cursor.advance(1);
                    &mut excluded
                }
                _ => &mut required,
            };
            let term = match cursor.peek() {
                Some(b'"') => Term::literal(&parse_quoted(&mut cursor)?),
                Some(b'%') => {
                    *regex_count += 1;
                    Term::Regex(parse_regex(&mut cursor)?)
                }
                _ => {
                    let word = cursor.take_while(|byte| !byte.is_ascii_whitespace());
                    if word.is_empty() {
                        // A lone `?` or `-`.
                        return Err(FilterPatternError::invalid_term(
                            &(first as char).to_string(),
                        ));
                    }
                    if let Some(bad) = word
                        .chars()
                        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_'))
                    {
                        return Err(FilterPatternError::invalid_term(&bad.to_string()));
                    }
                    Term::literal(word)
                }
            };
            // `"event":"x"` is one of AWS's refusals: a quoted term must be
            // followed by whitespace, not glued to more text.
            if let Some(next) = cursor.peek_char().filter(|c| !c.is_ascii_whitespace()) {
                return Err(FilterPatternError::invalid_term(&next.to_string()));
            }
            group.push(term);
        }
        if !required.is_empty() {
            alternatives.clear();
        }
        Ok(TermPattern {
            required,
            alternatives,
            excluded,
        })
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|term| term.is_in(message))
            && (self.alternatives.is_empty()
                || self.alternatives.iter().any(|term| term.is_in(message)))
            && !self.excluded.iter().any(|term| term.is_in(message))
    }
}
