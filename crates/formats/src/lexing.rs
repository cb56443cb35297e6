//! Splitting lines into tokens and turning tokens into typed values.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::record::FieldValue;
use crate::timestamp;

/// Space-separated tokens where `"…"` and `[…]` group spaces, as in S3 access
/// logs, ELB/ALB logs and the Common Log Format. Quotes and brackets are
/// stripped; a backslash inside quotes escapes the next byte (ALB escapes `"`
/// in user agents), and the escaped text is returned raw.
pub struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    pub fn new(line: &'a str) -> Self {
        Tokens { rest: line }
    }

    /// Next token, or `Err` for an unterminated quote or bracket.
    #[inline]
    pub fn next_token(&mut self) -> Option<Result<&'a str, &'static str>> {
        let s = self.rest.trim_start_matches(' ');
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let b = s.as_bytes();
        match b[0] {
            b'"' => {
                let mut i = 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &b[i..]) {
                        None => return Some(Err("unterminated quoted field")),
                        Some(off) => {
                            let at = i + off;
                            if b[at] == b'\\' {
                                i = at + 2;
                                if i > b.len() {
                                    return Some(Err("unterminated quoted field"));
                                }
                                continue;
                            }
                            // A quote ends the field only when a separator follows.
                            if at + 1 == b.len() || b[at + 1] == b' ' {
                                let tok = &s[1..at];
                                self.rest = &s[at + 1..];
                                return Some(Ok(tok));
                            }
                            i = at + 1;
                        }
                    }
                }
            }
            // `[…]` groups spaces (CLF time), but `[2001:db8::1]:443` is one plain token.
            b'[' if !s[..memchr::memchr(b' ', b).unwrap_or(b.len())].contains(']') => {
                match memchr::memchr(b']', b) {
                    None => Some(Err("unterminated bracketed field")),
                    Some(at) => {
                        let tok = &s[1..at];
                        self.rest = &s[at + 1..];
                        Some(Ok(tok))
                    }
                }
            }
            b'[' if b[..memchr::memchr(b' ', b).unwrap_or(b.len())].ends_with(b"]") => {
                let end = memchr::memchr(b' ', b).unwrap_or(b.len());
                let tok = &s[1..end - 1];
                self.rest = &s[end..];
                Some(Ok(tok))
            }
            _ => {
                let end = memchr::memchr(b' ', b).unwrap_or(b.len());
                let tok = &s[..end];
                self.rest = &s[end..];
                Some(Ok(tok))
            }
        }
    }
}

/// How a column's text becomes a value. `-` (and an empty string) is null for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    Int,
    Float,
    Ip,
    EpochSeconds,
    Iso8601,
    Clf,
}

#[inline]
pub fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    if digits.len() <= 18 {
        // 18 digits cannot overflow an i64: no checked arithmetic needed.
        let mut v: i64 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as i64;
        }
        return Some(if neg { -v } else { v });
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(d as i64)?;
    }
    Some(if neg { -v } else { v })
}

/// Powers of ten exactly representable as f64.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `[-]digits[.digits]` with at most 15 significant digits, the shape of
/// every latency AWS writes. One division of two exact values is correctly
/// rounded, so this agrees with the std parser bit for bit.
#[inline]
fn parse_simple_decimal(b: &[u8]) -> Option<f64> {
    let (neg, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut scale: Option<usize> = None;
    let mut digits = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'.' {
            if scale.is_some() || i == 0 || i + 1 == b.len() {
                return None;
            }
            scale = Some(b.len() - i - 1);
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        mantissa = mantissa * 10 + d as u64;
        digits += 1;
    }
    if digits > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[scale.unwrap_or(0)];
    Some(if neg { -v } else { v })
}

#[inline]
pub fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if let Some(v) = parse_simple_decimal(b) {
        return Some(v);
    }
    // Reject what Rust's parser accepts but no log writes ("inf", "NaN").
    if b.is_empty() || !b.iter().all(|c| c.is_ascii_digit() || b".-+eE".contains(c)) {
        return None;
    }
    s.parse().ok()
}

/// Dotted-quad IPv4 without the std parser's generality; it is most of
/// the addresses in flow and load balancer logs.
#[inline]
fn parse_ipv4_fast(b: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut part = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || part == 3 {
                return None;
            }
            out[part] = value as u8;
            part += 1;
            value = 0;
            digits = 0;
        } else {
            let d = c.wrapping_sub(b'0');
            // Leading zeros are rejected, as the std parser does.
            if d > 9 || digits == 3 || (digits == 1 && value == 0) {
                return None;
            }
            value = value * 10 + d as u32;
            if value > 255 {
                return None;
            }
            digits += 1;
        }
    }
    if part != 3 || digits == 0 {
        return None;
    }
    out[3] = value as u8;
    Some(out)
}

#[inline]
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.len() < 2 || s.len() > 45 {
        return None;
    }
    if s.len() <= 15 && !s.contains(':') {
        return parse_ipv4_fast(s.as_bytes()).map(IpAddr::from);
    }
    s.parse().ok()
}

/// `-` and the empty string are how AWS writes "no value".
#[inline]
pub fn is_null_token(s: &str) -> bool {
    s.is_empty() || s == "-"
}

#[inline]
pub fn convert(s: &str, ty: ColumnType) -> Result<FieldValue<'_>, &'static str> {
    if is_null_token(s) {
        return Ok(FieldValue::Null);
    }
    match ty {
        ColumnType::Str => Ok(FieldValue::Str(Cow::Borrowed(s))),
        ColumnType::Int => parse_int(s)
            .map(FieldValue::Int)
            .ok_or("expected an integer"),
        ColumnType::Float => parse_float(s)
            .map(FieldValue::Float)
            .ok_or("expected a number"),
        ColumnType::Ip => parse_ip(s)
            .map(FieldValue::Ip)
            .ok_or("expected an IP address"),
        ColumnType::EpochSeconds => parse_int(s)
            .and_then(|v| v.checked_mul(1000))
            .map(FieldValue::Timestamp)
            .ok_or("expected epoch seconds"),
        ColumnType::Iso8601 => timestamp::parse_iso8601(s)
            .map(FieldValue::Timestamp)
            .ok_or("expected an ISO 8601 time"),
        ColumnType::Clf => timestamp::parse_clf(s)
            .map(FieldValue::Timestamp)
            .ok_or("expected a [dd/Mon/yyyy:HH:MM:SS +zzzz] time"),
    }
}

/// `host:port` (IPv4) or `[v6]:port`/`v6:port` split at the last colon.
pub fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let at = s.rfind(':')?;
    let host = s[..at].trim_start_matches('[').trim_end_matches(']');
    Some((host, &s[at + 1..]))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `%XX` sequences; borrows when there are none. Invalid
/// sequences are kept verbatim, and bytes that decode to invalid UTF-8 are
/// replaced, so decoding never fails.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some(first) = memchr::memchr(b'%', b) else {
        return Cow::Borrowed(s);
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(line: &str) -> Vec<&str> {
        let mut t = Tokens::new(line);
        let mut v = Vec::new();
        while let Some(tok) = t.next_token() {
            v.push(tok.unwrap());
        }
        v
    }

    #[test]
    fn quotes_and_brackets_group() {
        assert_eq!(
            all(r#"a [06/Feb/2019:00:00:38 +0000] "GET / HTTP/1.1" - "x \"y\" z""#),
            vec![
                "a",
                "06/Feb/2019:00:00:38 +0000",
                "GET / HTTP/1.1",
                "-",
                r#"x \"y\" z"#
            ]
        );
        assert_eq!(all(r#""a"b" c"#), vec![r#"a"b"#, "c"]);
        assert_eq!(all("[::1]:443 [x] y"), vec!["[::1]:443", "x", "y"]);
        let mut t = Tokens::new("\"open");
        assert!(t.next_token().unwrap().is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%2"), "bad%2");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
        assert_eq!(percent_decode("%"), "%");
    }

    #[test]
    fn ipv4_fast_path_agrees_with_std() {
        for s in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4x",
            "1.2.3.",
            "00.0.0.0",
            "0.0.0.00",
        ] {
            assert_eq!(parse_ip(s), s.parse().ok(), "{s}");
        }
    }

    #[test]
    fn simple_decimals_agree_with_std() {
        for s in [
            "0.000",
            "0.001",
            "-1",
            "-1.0",
            "0.000073",
            "12.5",
            "175.85",
            "3.22",
            "999999999999999",
            "0.1",
            "123456789.012345",
            "1.",
            ".5",
            "1.2.3",
            "-",
            "1e5",
        ] {
            assert_eq!(
                parse_float(s),
                s.parse::<f64>().ok().filter(|_| s != "-"),
                "{s}"
            );
        }
    }

    #[test]
    fn ints() {
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("99999999999999999999"), None);
        assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(
            parse_int("999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(parse_int("1a"), None);
        assert_eq!(parse_int("-"), None);
    }
}
