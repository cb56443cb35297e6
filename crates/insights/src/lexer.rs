//! On-demand tokenizer. `/` is division or the start of a regex literal
//! depending on what the parser expects, so the parser pulls tokens one at a
//! time and asks for a regex explicitly ([`Lexer::regex_at`]).

use crate::period::{Period, PeriodUnit};
use crate::ParseFailure;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A field name or keyword: bare (`@message`, `a.b.0`) or with backtick
    /// segments (`` m.`k.x` ``), already joined with dots.
    Name {
        text: String,
        quoted: bool,
    },
    Str(String),
    Int(i64),
    Float(f64),
    Period(Period),
    Regex {
        pattern: String,
        flags: String,
    },
    Pipe,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    RegexMatch,
    Colon,
    Not,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn keyword(&self) -> Option<String> {
        match &self.kind {
            TokenKind::Name {
                text,
                quoted: false,
            } => Some(text.to_ascii_lowercase()),
            _ => None,
        }
    }

    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.kind, TokenKind::Name { text, quoted: false } if text.eq_ignore_ascii_case(kw))
    }
}

pub struct Lexer<'a> {
    src: &'a str,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '@' || c == '$'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@' || c == '$'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src }
    }

    pub fn source(&self) -> &'a str {
        self.src
    }

    fn skip_trivia(&self, mut pos: usize) -> usize {
        let bytes = self.src.as_bytes();
        while pos < bytes.len() {
            match bytes[pos] {
                b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
                b'#' => {
                    while pos < bytes.len() && bytes[pos] != b'\n' {
                        pos += 1;
                    }
                }
                _ => {
                    let c = self.src[pos..].chars().next().unwrap_or(' ');
                    if c.is_whitespace() {
                        pos += c.len_utf8();
                    } else {
                        break;
                    }
                }
            }
        }
        pos
    }

    /// The token starting at or after `pos`.
    pub fn token_at(&self, pos: usize) -> Result<Token, ParseFailure> {
        let start = self.skip_trivia(pos);
        let rest = &self.src[start..];
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                kind: TokenKind::End,
                start,
                end: start,
            });
        };
        let one = |kind| {
            Ok(Token {
                kind,
                start,
                end: start + 1,
            })
        };
        let two = |kind| {
            Ok(Token {
                kind,
                start,
                end: start + 2,
            })
        };
        let next = rest[c.len_utf8()..].chars().next();
        match c {
            '|' => one(TokenKind::Pipe),
            ',' => one(TokenKind::Comma),
            '(' => one(TokenKind::LParen),
            ')' => one(TokenKind::RParen),
            '[' => one(TokenKind::LBracket),
            ']' => one(TokenKind::RBracket),
            '+' => one(TokenKind::Plus),
            '-' => one(TokenKind::Minus),
            '*' => one(TokenKind::Star),
            '/' => one(TokenKind::Slash),
            '%' => one(TokenKind::Percent),
            '^' => one(TokenKind::Caret),
            ':' => one(TokenKind::Colon),
            '=' if next == Some('~') => two(TokenKind::RegexMatch),
            '=' if next == Some('=') => two(TokenKind::Eq),
            '=' => one(TokenKind::Eq),
            '!' if next == Some('=') => two(TokenKind::Ne),
            '!' => one(TokenKind::Not),
            '<' if next == Some('=') => two(TokenKind::Le),
            '<' if next == Some('>') => two(TokenKind::Ne),
            '<' => one(TokenKind::Lt),
            '>' if next == Some('=') => two(TokenKind::Ge),
            '>' => one(TokenKind::Gt),
            '"' | '\'' => self.string(start, c),
            '0'..='9' => self.number(start),
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => self.number(start),
            '`' => self.name(start),
            c if is_name_start(c) => self.name(start),
            _ => Err(ParseFailure::new(
                format!("unexpected character '{c}'"),
                start,
                start + c.len_utf8(),
            )),
        }
    }

    fn string(&self, start: usize, quote: char) -> Result<Token, ParseFailure> {
        let mut out = String::new();
        let mut chars = self.src[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                let end = start + 1 + i + 1;
                return Ok(Token {
                    kind: TokenKind::Str(out),
                    start,
                    end,
                });
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, e)) if e == quote || e == '\\' => out.push(e),
                    // Unknown escapes stay as written so glob patterns and
                    // regex strings keep their backslashes.
                    Some((_, e)) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        Err(ParseFailure::new(
            "unterminated string literal",
            start,
            self.src.len(),
        ))
    }

    fn number(&self, start: usize) -> Result<Token, ParseFailure> {
        let bytes = self.src.as_bytes();
        let mut pos = start;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let mut is_float = false;
        if pos < bytes.len()
            && bytes[pos] == b'.'
            && bytes.get(pos + 1).is_some_and(|b| b.is_ascii_digit())
        {
            is_float = true;
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
        }
        if pos < bytes.len() && (bytes[pos] == b'e' || bytes[pos] == b'E') {
            let mut p = pos + 1;
            if p < bytes.len() && (bytes[p] == b'+' || bytes[p] == b'-') {
                p += 1;
            }
            if p < bytes.len() && bytes[p].is_ascii_digit() {
                while p < bytes.len() && bytes[p].is_ascii_digit() {
                    p += 1;
                }
                is_float = true;
                pos = p;
            }
        }
        let digits = &self.src[start..pos];
        let suffix_end = self.src[pos..]
            .char_indices()
            .find(|(_, c)| !c.is_alphanumeric() && *c != '_')
            .map(|(i, _)| pos + i)
            .unwrap_or(self.src.len());
        if suffix_end > pos {
            let suffix = &self.src[pos..suffix_end];
            let unit = PeriodUnit::from_suffix(suffix).ok_or_else(|| {
                ParseFailure::new(
                    format!(
                        "invalid number or time period '{}'",
                        &self.src[start..suffix_end]
                    ),
                    start,
                    suffix_end,
                )
            })?;
            if is_float {
                return Err(ParseFailure::new(
                    "a time period must be a whole number",
                    start,
                    suffix_end,
                ));
            }
            let amount: i64 = digits
                .parse()
                .map_err(|_| ParseFailure::new("time period out of range", start, suffix_end))?;
            if amount == 0 {
                return Err(ParseFailure::new(
                    "a time period must be greater than zero",
                    start,
                    suffix_end,
                ));
            }
            return Ok(Token {
                kind: TokenKind::Period(Period { amount, unit }),
                start,
                end: suffix_end,
            });
        }
        let kind = if is_float {
            TokenKind::Float(
                digits
                    .parse()
                    .map_err(|_| ParseFailure::new("invalid number", start, pos))?,
            )
        } else {
            match digits.parse::<i64>() {
                Ok(i) => TokenKind::Int(i),
                Err(_) => TokenKind::Float(
                    digits
                        .parse()
                        .map_err(|_| ParseFailure::new("invalid number", start, pos))?,
                ),
            }
        };
        Ok(Token {
            kind,
            start,
            end: pos,
        })
    }

    fn name(&self, start: usize) -> Result<Token, ParseFailure> {
        let mut text = String::new();
        let mut quoted = false;
        let mut pos = start;
        loop {
            let rest = &self.src[pos..];
            if let Some(body) = rest.strip_prefix('`') {
                let Some(close) = body.find('`') else {
                    return Err(ParseFailure::new(
                        "unterminated backtick name",
                        pos,
                        self.src.len(),
                    ));
                };
                text.push_str(&body[..close]);
                pos += close + 2;
                quoted = true;
            } else {
                let len = rest
                    .char_indices()
                    .find(|(_, c)| !is_name_char(*c))
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len());
                if len == 0 {
                    break;
                }
                text.push_str(&rest[..len]);
                pos += len;
            }
            // A dot joins the next segment (`a.b`, `a.0`, `` a.`b.c` ``).
            let after = &self.src[pos..];
            if let Some(seg) = after.strip_prefix('.') {
                if seg.starts_with(|c: char| is_name_char(c) || c == '`') {
                    text.push('.');
                    pos += 1;
                    continue;
                }
            }
            break;
        }
        Ok(Token {
            kind: TokenKind::Name { text, quoted },
            start,
            end: pos,
        })
    }

    /// A regex literal `/…/flags` whose opening slash is at `start`.
    /// `\/` is a literal slash; other escapes pass through to the regex.
    pub fn regex_at(&self, start: usize) -> Result<Token, ParseFailure> {
        let body = &self.src[start + 1..];
        let mut pattern = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '/' => {
                    let after = start + 1 + i + 1;
                    let flags_len = self.src[after..]
                        .char_indices()
                        .find(|(_, c)| !c.is_ascii_alphabetic())
                        .map(|(j, _)| j)
                        .unwrap_or(self.src.len() - after);
                    let flags = self.src[after..after + flags_len].to_string();
                    if let Some(bad) = flags.chars().find(|f| !matches!(f, 'i' | 'm' | 's')) {
                        return Err(ParseFailure::new(
                            format!("unsupported regex flag '{bad}' (supported: i, m, s)"),
                            after,
                            after + flags_len,
                        ));
                    }
                    return Ok(Token {
                        kind: TokenKind::Regex { pattern, flags },
                        start,
                        end: after + flags_len,
                    });
                }
                '\\' => match chars.next() {
                    Some((_, '/')) => pattern.push('/'),
                    Some((_, e)) => {
                        pattern.push('\\');
                        pattern.push(e);
                    }
                    None => break,
                },
                _ => pattern.push(c),
            }
        }
        Err(ParseFailure::new(
            "unterminated regular expression",
            start,
            self.src.len(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let lx = Lexer::new(src);
        let mut pos = 0;
        let mut out = vec![];
        loop {
            let t = lx.token_at(pos).unwrap();
            if t.kind == TokenKind::End {
                return out;
            }
            pos = t.end;
            out.push(t.kind);
        }
    }

    fn name(s: &str) -> TokenKind {
        TokenKind::Name {
            text: s.into(),
            quoted: false,
        }
    }

    #[test]
    fn names_numbers_periods() {
        assert_eq!(
            kinds("fields @message, a.b.0 # comment | x\n| 5m 1.5 2e3 10"),
            vec![
                name("fields"),
                name("@message"),
                TokenKind::Comma,
                name("a.b.0"),
                TokenKind::Pipe,
                TokenKind::Period(Period {
                    amount: 5,
                    unit: PeriodUnit::Minute
                }),
                TokenKind::Float(1.5),
                TokenKind::Float(2000.0),
                TokenKind::Int(10),
            ]
        );
    }

    #[test]
    fn backtick_names_join_with_dots() {
        assert_eq!(
            kinds("m.`k.x` `a b`"),
            vec![
                TokenKind::Name {
                    text: "m.k.x".into(),
                    quoted: true
                },
                TokenKind::Name {
                    text: "a b".into(),
                    quoted: true
                },
            ]
        );
    }

    #[test]
    fn strings_and_operators() {
        assert_eq!(
            kinds(r#"'it\'s' "a\"b" != <= =~ >= <>"#),
            vec![
                TokenKind::Str("it's".into()),
                TokenKind::Str("a\"b".into()),
                TokenKind::Ne,
                TokenKind::Le,
                TokenKind::RegexMatch,
                TokenKind::Ge,
                TokenKind::Ne,
            ]
        );
    }

    #[test]
    fn regex_literal_with_escaped_slash_and_flags() {
        let lx = Lexer::new(r"/a\/b\d/i rest");
        let t = lx.regex_at(0).unwrap();
        assert_eq!(
            t.kind,
            TokenKind::Regex {
                pattern: r"a/b\d".into(),
                flags: "i".into()
            }
        );
        assert_eq!(t.end, 9);
        assert!(Lexer::new("/abc").regex_at(0).is_err());
        assert!(Lexer::new("/abc/x").regex_at(0).is_err());
    }

    #[test]
    fn errors_carry_offsets() {
        let err = Lexer::new("  \"abc").token_at(0).unwrap_err();
        assert_eq!((err.start, err.end), (2, 6));
        let err = Lexer::new("bin(5x)").token_at(4).unwrap_err();
        assert_eq!((err.start, err.end), (4, 6));
        let err = Lexer::new(" ~").token_at(0).unwrap_err();
        assert_eq!((err.start, err.end), (1, 2));
    }
}
