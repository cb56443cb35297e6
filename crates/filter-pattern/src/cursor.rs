//! A byte cursor over pattern text shared by the JSON and space-delimited parsers.
//!
//! The grammar's structure is all ASCII; multi-byte characters can only appear
//! inside quoted strings, which are sliced on ASCII delimiters, so byte indexing
//! never splits a character.

pub(crate) struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, position: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.position
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    /// The next character, which may be multi-byte, for error messages.
    pub(crate) fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn advance(&mut self, bytes: usize) {
        self.position = (self.position + bytes).min(self.text.len());
    }

    pub(crate) fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.position += 1;
        }
    }

    pub(crate) fn eat(&mut self, expected: &str) -> bool {
        if self.rest().starts_with(expected) {
            self.position += expected.len();
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of bytes satisfying `accept` and returns it.
    pub(crate) fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.position;
        while self.peek().is_some_and(&accept) {
            self.position += 1;
        }
        &self.text[start..self.position]
    }

    /// The next whitespace-free run, for "found ..." in error messages.
    pub(crate) fn next_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        &rest[..end]
    }
}
