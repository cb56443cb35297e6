//! The regular-expression dialect allowed between `%` signs.
//!
//! CloudWatch accepts only a small subset: ASCII letters and digits, the symbols
//! `: _ # = @ / ; , -`, the operators `^ $ ? [ ] { } | \ * + .` and the escapes
//! `\d \D \s \S \w \W \xhh` (plus a backslash before any allowed symbol or
//! operator). Parentheses and multi-byte characters are refused. Everything is
//! checked here so that a pattern AWS would refuse is refused, rather than being
//! handed to the `regex` crate, whose dialect is far larger.

use regex::{Regex, RegexBuilder};

use crate::FilterPatternError;

/// AWS allows at most this many `%regex%` in one filter pattern.
pub(crate) const MAX_REGEXES_PER_PATTERN: usize = 2;

/// Keeps a hostile `a{1000}{1000}` from costing the server gigabytes.
const COMPILED_SIZE_LIMIT: usize = 1 << 20;

const ALLOWED_SYMBOLS: &[u8] = b":_#=@/;,-";
const OPERATORS: &[u8] = b"^$?[]{}|\\*+.";

// Java's and RE2's shorthand classes are ASCII-only; the `regex` crate's are
// Unicode-aware, so they are spelled out to keep AWS's meaning.
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\x0B\\x0C\\r ";

/// Checks `body` (the text between the `%` signs) against AWS's regex subset and
/// compiles it.
pub(crate) fn compile(body: &str) -> Result<Regex, FilterPatternError> {
    let translated = translate(body)?;
    RegexBuilder::new(&translated)
        .size_limit(COMPILED_SIZE_LIMIT)
        .build()
        .map_err(|error| {
            let reason = match error {
                regex::Error::CompiledTooBig(_) => "it is too large".to_string(),
                other => first_line(&other.to_string()),
            };
            FilterPatternError::invalid(format!(
                "regular expression %{body}% is not valid: {reason}"
            ))
        })
}

fn first_line(text: &str) -> String {
    // regex's messages are multi-line with a caret diagram; the last non-empty
    // line is the human reason ("error: unclosed character class").
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("syntax error")
        .trim_start_matches("error: ")
        .to_string()
}

fn translate(body: &str) -> Result<String, FilterPatternError> {
    if body.is_empty() {
        return Err(FilterPatternError::invalid(
            "regular expression %% is empty",
        ));
    }
    if let Some(c) = body.chars().find(|c| !c.is_ascii()) {
        return Err(FilterPatternError::invalid(format!(
            "multi-byte character '{c}' is not supported in regular expression %{body}%"
        )));
    }
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len() + 16);
    let mut class_depth = 0usize;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        match byte {
            b'\\' => {
                let Some(&escaped) = bytes.get(index + 1) else {
                    return Err(unsupported(body, "a trailing '\\'"));
                };
                index += 2;
                let in_class = class_depth > 0;
                match escaped {
                    b'd' => push_class(&mut out, DIGIT, false, in_class),
                    b'D' => push_class(&mut out, DIGIT, true, in_class),
                    b'w' => push_class(&mut out, WORD, false, in_class),
                    b'W' => push_class(&mut out, WORD, true, in_class),
                    b's' => push_class(&mut out, SPACE, false, in_class),
                    b'S' => push_class(&mut out, SPACE, true, in_class),
                    b'x' => {
                        let hex = bytes
                            .get(index..index + 2)
                            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit));
                        let Some(hex) = hex else {
                            return Err(unsupported(
                                body,
                                "'\\x' not followed by two hexadecimal digits",
                            ));
                        };
                        out.push_str("\\x");
                        out.push(hex[0] as char);
                        out.push(hex[1] as char);
                        index += 2;
                    }
                    _ if ALLOWED_SYMBOLS.contains(&escaped) || OPERATORS.contains(&escaped) => {
                        out.push('\\');
                        out.push(escaped as char);
                    }
                    _ => {
                        return Err(unsupported(
                            body,
                            &format!("the escape '\\{}'", escaped as char),
                        ));
                    }
                }
                continue;
            }
            b'(' | b')' => {
                return Err(FilterPatternError::invalid(format!(
                    "'{}' is not supported in regular expression %{body}% (use \\x28 and \\x29 to match parentheses)",
                    byte as char
                )));
            }
            b'[' => {
                class_depth += 1;
                out.push('[');
                // A leading '^' negates; a ']' right after the opening bracket is
                // a literal in Java but an error-prone corner in `regex`, so it is
                // escaped explicitly.
                if bytes.get(index + 1) == Some(&b'^') {
                    out.push('^');
                    index += 1;
                }
                if bytes.get(index + 1) == Some(&b']') {
                    out.push_str("\\]");
                    index += 1;
                }
            }
            b']' => {
                class_depth = class_depth.saturating_sub(1);
                out.push(']');
            }
            b'-' if class_depth > 0 && out.ends_with('-') => {
                // `--` is set difference in the `regex` crate but two literal
                // dashes or a range in Java; never let it become an operator.
                out.push_str("\\-");
            }
            _ if byte.is_ascii_alphanumeric()
                || ALLOWED_SYMBOLS.contains(&byte)
                || OPERATORS.contains(&byte) =>
            {
                out.push(byte as char);
            }
            _ => {
                return Err(FilterPatternError::invalid(format!(
                    "character '{}' is not supported in regular expression %{body}%",
                    (byte as char).escape_default()
                )));
            }
        }
        index += 1;
    }
    Ok(out)
}

fn push_class(out: &mut String, members: &str, negated: bool, in_class: bool) {
    if in_class && !negated {
        out.push_str(members);
    } else {
        // Inside a class a negated shorthand becomes a nested class, which the
        // `regex` crate unions with the surrounding members, as Java does.
        out.push('[');
        if negated {
            out.push('^');
        }
        out.push_str(members);
        out.push(']');
    }
}

fn unsupported(body: &str, what: &str) -> FilterPatternError {
    FilterPatternError::invalid(format!(
        "{what} is not supported in regular expression %{body}%"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(body: &str, matching: &str, not_matching: &str) {
        let regex = compile(body).unwrap_or_else(|e| panic!("%{body}% refused: {e}"));
        assert!(
            regex.is_match(matching),
            "%{body}% should match {matching:?}"
        );
        assert!(
            !regex.is_match(not_matching),
            "%{body}% should not match {not_matching:?}"
        );
    }

    fn refuses(body: &str) -> String {
        compile(body).expect_err(body).message
    }

    #[test]
    fn documented_operators_work() {
        accepts(
            "AUTHORIZED",
            "[SUCCESS 200] AUTHORIZED REQUEST",
            "authorized",
        );
        accepts("^[hc]at", "hat trick", "that");
        accepts("[hc]at$", "a cat", "cats");
        accepts("colou?r", "colour", "colr");
        accepts("[abcx-z]", "y", "d");
        accepts("a{3,5}", "baaab", "baab");
        accepts("gray|grey", "grey", "gry");
        accepts(
            "\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}",
            "ip 10.0.0.1 ok",
            "ip 10.0.0 ok",
        );
        accepts("[Ee]rror|[Ff]ail", "Fail", "ERROR");
        accepts("e.+r", "error", "er");
        accepts("ab*c", "ac", "abd");
        accepts("\\x28paren\\x29", "(paren)", "paren");
        accepts("\\s\\S\\w\\W", " x_!", "    ");
        accepts("[\\d_]+x", "_9x", "ax");
        accepts("[^\\d]z", "az", "9z");
        accepts("10\\.10\\.0\\.1", "10.10.0.1", "10a10b0c1");
        accepts(
            "user@host:/path;a,b=c#d-e",
            "user@host:/path;a,b=c#d-e",
            "user",
        );
    }

    #[test]
    fn shorthand_classes_are_ascii_only() {
        accepts("^\\d$", "7", "٣");
        accepts("^\\w$", "a", "é");
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        assert!(refuses("(a|b)").contains("'(' is not supported"));
        assert!(refuses("a)").contains("')' is not supported"));
        assert!(refuses("\\(").contains("the escape '\\('"));
        assert!(refuses("something!").contains("character '!' is not supported"));
        assert!(refuses("a b").contains("character ' ' is not supported"));
        assert!(refuses("é").contains("multi-byte"));
        assert!(refuses("\\bword").contains("the escape '\\b'"));
        assert!(refuses("\\x2").contains("two hexadecimal digits"));
        assert!(refuses("abc\\").contains("trailing"));
        assert!(refuses("").contains("empty"));
        assert!(refuses("[abc").contains("is not valid"));
        assert!(refuses("a{2,1}").contains("is not valid"));
        assert!(refuses("a{1000}{1000}").contains("too large"));
    }

    #[test]
    fn dash_at_class_edges_is_literal() {
        accepts("x[-a]", "x-", "xb");
        accepts("x[a-]", "x-", "xb");
    }
}
