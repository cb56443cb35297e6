//! Scalar functions usable in `fields`, `filter`, `display`, `sort`, stats
//! arguments and `by` clauses. Names are case-insensitive.

use std::net::IpAddr;

use std::net::Ipv4Addr;

use crate::datetime;
use crate::eval::EvalEnv;
use crate::value::{loose_eq, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunction {
    // String
    Concat,
    Strlen,
    Substr,
    Replace,
    RegexReplace,
    Trim,
    Ltrim,
    Rtrim,
    ToUpper,
    ToLower,
    StrContains,
    Split,
    Base64Encode,
    Base64Decode,
    UrlEncode,
    UrlDecode,
    StartsWith,
    EndsWith,
    IsEmpty,
    IsBlank,
    Md5,
    Sha256,
    // Numeric
    Abs,
    Ceil,
    Floor,
    Round,
    Greatest,
    Least,
    Log,
    Sqrt,
    ToNumber,
    // Datetime
    Bin,
    DateFloor,
    DateCeil,
    FromMillis,
    ToMillis,
    Now,
    ParseDate,
    FormatDate,
    Strftime,
    // General
    IsPresent,
    Coalesce,
    If,
    IsNumeric,
    Unmask,
    ToInt,
    ToLong,
    ToDouble,
    Haversine,
    HexToDec,
    DecToHex,
    HexToAscii,
    Case,
    MessageSize,
    QueryStartTime,
    QueryEndTime,
    QueryTimeRange,
    // JSON
    JsonParse,
    JsonStringify,
    JsonArraySize,
    JsonArrayContains,
    // IP
    Ipv4ToNumber,
    IsPrivateIp,
    IsPublicIp,
    IsReservedIp,
    IsValidIp,
    IsValidIpV4,
    IsValidIpV6,
    IsIpInSubnet,
    IsIpv4InSubnet,
    IsIpv6InSubnet,
}

/// Argument count bounds; `usize::MAX` for variadic.
pub struct Arity {
    pub min: usize,
    pub max: usize,
}

impl ScalarFunction {
    pub fn from_name(name: &str) -> Option<ScalarFunction> {
        use ScalarFunction::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "concat" => Concat,
            "strlen" => Strlen,
            "substr" => Substr,
            "replace" => Replace,
            "regexreplace" => RegexReplace,
            "trim" => Trim,
            "ltrim" => Ltrim,
            "rtrim" => Rtrim,
            "toupper" => ToUpper,
            "tolower" => ToLower,
            "strcontains" => StrContains,
            "split" => Split,
            "base64encode" => Base64Encode,
            "base64decode" => Base64Decode,
            "urlencode" => UrlEncode,
            "urldecode" => UrlDecode,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "isempty" => IsEmpty,
            "isblank" => IsBlank,
            "md5" => Md5,
            "sha256" => Sha256,
            "abs" => Abs,
            "ceil" => Ceil,
            "floor" => Floor,
            "round" => Round,
            "greatest" => Greatest,
            "least" => Least,
            "log" => Log,
            "sqrt" => Sqrt,
            "tonumber" => ToNumber,
            "bin" => Bin,
            "datefloor" => DateFloor,
            "dateceil" => DateCeil,
            "frommillis" => FromMillis,
            "tomillis" => ToMillis,
            "now" => Now,
            "parsedate" => ParseDate,
            "formatdate" => FormatDate,
            "strftime" => Strftime,
            "ispresent" => IsPresent,
            "coalesce" => Coalesce,
            "if" => If,
            "isnumeric" => IsNumeric,
            "unmask" => Unmask,
            "toint" => ToInt,
            "tolong" => ToLong,
            "todouble" => ToDouble,
            "haversine" => Haversine,
            "hextodec" => HexToDec,
            "dectohex" => DecToHex,
            "hextoascii" => HexToAscii,
            "case" => Case,
            "messagesize" => MessageSize,
            "querystarttime" => QueryStartTime,
            "queryendtime" => QueryEndTime,
            "querytimerange" => QueryTimeRange,
            "jsonparse" => JsonParse,
            "jsonstringify" => JsonStringify,
            "jsonarraysize" => JsonArraySize,
            "jsonarraycontains" => JsonArrayContains,
            "ipv4tonumber" => Ipv4ToNumber,
            "isprivateip" => IsPrivateIp,
            "ispublicip" => IsPublicIp,
            "isreservedip" => IsReservedIp,
            "isvalidip" => IsValidIp,
            "isvalidipv4" => IsValidIpV4,
            "isvalidipv6" => IsValidIpV6,
            "isipinsubnet" => IsIpInSubnet,
            "isipv4insubnet" => IsIpv4InSubnet,
            "isipv6insubnet" => IsIpv6InSubnet,
            _ => return None,
        })
    }

    pub fn arity(self) -> Arity {
        use ScalarFunction::*;
        let (min, max) = match self {
            Concat | Greatest | Least | Coalesce => (1, usize::MAX),
            Now | MessageSize | QueryStartTime | QueryEndTime | QueryTimeRange => (0, 0),
            Haversine => (4, 4),
            // Condition/value pairs, at most 10, and an optional default.
            Case => (2, 21),
            Substr => (2, 3),
            Replace | RegexReplace | If => (3, 3),
            ParseDate | FormatDate | Strftime => (2, 3),
            Trim | Ltrim | Rtrim | Round => (1, 2),
            StrContains | Split | StartsWith | EndsWith | DateFloor | DateCeil
            | JsonArrayContains | IsIpInSubnet | IsIpv4InSubnet | IsIpv6InSubnet => (2, 2),
            _ => (1, 1),
        };
        Arity { min, max }
    }

    /// Functions whose argument at this index must be a period literal.
    pub fn period_arg(self) -> Option<usize> {
        match self {
            ScalarFunction::Bin => Some(0),
            ScalarFunction::DateFloor | ScalarFunction::DateCeil => Some(1),
            _ => None,
        }
    }

    /// Evaluate a function whose arguments are all plain values. `bin`,
    /// `datefloor`, `dateceil` and `regexReplace` take literals and are
    /// evaluated by the caller.
    pub fn apply(self, args: &[Value], env: &EvalEnv) -> Value {
        use ScalarFunction::*;
        let text = |i: usize| args.get(i).and_then(Value::render);
        let num = |i: usize| args.get(i).and_then(Value::as_number);
        match self {
            Md5 | Sha256 => {
                use sha2::Digest;
                let Some(s) = text(0) else {
                    return Value::Null;
                };
                let digest: Vec<u8> = if self == Md5 {
                    md5::Md5::digest(s.as_bytes()).to_vec()
                } else {
                    sha2::Sha256::digest(s.as_bytes()).to_vec()
                };
                Value::Str(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            ParseDate | FormatDate | Strftime => {
                let offset = match args.get(2) {
                    Some(zone) => match zone.render().and_then(|z| datetime::parse_zone(&z)) {
                        Some(o) => o,
                        None => return Value::Null,
                    },
                    None => 0,
                };
                let Some(pattern) = text(1) else {
                    return Value::Null;
                };
                match self {
                    ParseDate => text(0)
                        .and_then(|t| datetime::parse_java(&t, &pattern, offset))
                        .map_or(Value::Null, Value::Time),
                    _ => {
                        let Some(ms) = args[0].as_int() else {
                            return Value::Null;
                        };
                        let formatted = if self == FormatDate {
                            datetime::format_java(ms, &pattern, offset)
                        } else {
                            datetime::format_strftime(ms, &pattern, offset)
                        };
                        formatted.map_or(Value::Null, Value::Str)
                    }
                }
            }
            Concat => {
                let mut out = String::new();
                for a in args {
                    if let Some(s) = a.render() {
                        out.push_str(&s);
                    }
                }
                Value::Str(out)
            }
            Strlen => text(0).map_or(Value::Null, |s| Value::Int(s.chars().count() as i64)),
            Substr => {
                let Some(s) = text(0) else { return Value::Null };
                let Some(start) = args[1].as_number() else {
                    return Value::Null;
                };
                let start = start.max(0.0) as usize;
                let chars = s.chars().skip(start);
                let out: String = match args.get(2).and_then(Value::as_number) {
                    Some(len) => chars.take(len.max(0.0) as usize).collect(),
                    None if args.len() == 3 => return Value::Null,
                    None => chars.collect(),
                };
                Value::Str(out)
            }
            Replace => match (text(0), text(1), text(2)) {
                (Some(s), Some(from), Some(to)) if !from.is_empty() => {
                    Value::Str(s.replace(&from, &to))
                }
                (Some(s), Some(_), Some(_)) => Value::Str(s),
                _ => Value::Null,
            },
            Trim | Ltrim | Rtrim => {
                let Some(s) = text(0) else { return Value::Null };
                let set: Option<Vec<char>> = if args.len() == 2 {
                    match text(1) {
                        Some(t) => Some(t.chars().collect()),
                        None => return Value::Null,
                    }
                } else {
                    None
                };
                let strip = |c: char| match &set {
                    Some(set) => set.contains(&c),
                    None => c.is_whitespace(),
                };
                Value::Str(match self {
                    Trim => s.trim_matches(strip).to_string(),
                    Ltrim => s.trim_start_matches(strip).to_string(),
                    _ => s.trim_end_matches(strip).to_string(),
                })
            }
            Split => match (text(0), text(1)) {
                (Some(s), Some(sep)) if !sep.is_empty() => {
                    Value::Structured(std::sync::Arc::new(serde_json::Value::Array(
                        s.split(sep.as_str())
                            .map(|p| serde_json::Value::String(p.to_string()))
                            .collect(),
                    )))
                }
                _ => Value::Null,
            },
            Base64Encode => {
                text(0).map_or(Value::Null, |s| Value::Str(base64_encode(s.as_bytes())))
            }
            Base64Decode => text(0)
                .and_then(|s| base64_decode(&s))
                .and_then(|b| String::from_utf8(b).ok())
                .map_or(Value::Null, Value::Str),
            UrlEncode => text(0).map_or(Value::Null, |s| Value::Str(url_encode(&s))),
            UrlDecode => text(0)
                .and_then(|s| url_decode(&s))
                .map_or(Value::Null, Value::Str),
            ToUpper => text(0).map_or(Value::Null, |s| Value::Str(s.to_uppercase())),
            ToLower => text(0).map_or(Value::Null, |s| Value::Str(s.to_lowercase())),
            StrContains | StartsWith | EndsWith => match (text(0), text(1)) {
                (Some(s), Some(x)) => {
                    let hit = match self {
                        StrContains => s.contains(&x),
                        StartsWith => s.starts_with(&x),
                        _ => s.ends_with(&x),
                    };
                    Value::Int(hit as i64)
                }
                _ => Value::Null,
            },
            IsEmpty => Value::Int(text(0).is_none_or(|s| s.is_empty()) as i64),
            IsBlank => Value::Int(text(0).is_none_or(|s| s.trim().is_empty()) as i64),
            Abs => match &args[0] {
                Value::Int(i) => i
                    .checked_abs()
                    .map_or(Value::Float((*i as f64).abs()), Value::Int),
                v => v.as_number().map_or(Value::Null, |f| number(f.abs())),
            },
            Ceil => num(0).map_or(Value::Null, |f| integral(f.ceil())),
            Floor => num(0).map_or(Value::Null, |f| integral(f.floor())),
            Round => {
                let Some(f) = num(0) else { return Value::Null };
                match args.get(1) {
                    None => integral(f.round()),
                    Some(d) => {
                        let Some(d) = d.as_number() else {
                            return Value::Null;
                        };
                        let scale = 10f64.powi(d.clamp(-15.0, 15.0) as i32);
                        Value::Float((f * scale).round() / scale)
                    }
                }
            }
            Greatest | Least => {
                let mut best: Option<(f64, &Value)> = None;
                for a in args {
                    let Some(f) = a.as_number() else { continue };
                    let better = match best {
                        None => true,
                        Some((b, _)) => (self == Greatest && f > b) || (self == Least && f < b),
                    };
                    if better {
                        best = Some((f, a));
                    }
                }
                match best {
                    Some((_, Value::Str(s))) => Value::number_from_str(s).unwrap_or(Value::Null),
                    Some((_, v)) => v.clone(),
                    None => Value::Null,
                }
            }
            Log => num(0).map_or(Value::Null, |f| Value::Float(f.ln())),
            Sqrt => num(0).map_or(Value::Null, |f| Value::Float(f.sqrt())),
            ToNumber => match &args[0] {
                Value::Str(s) => Value::number_from_str(s).unwrap_or(Value::Null),
                Value::Int(_) | Value::Float(_) => args[0].clone(),
                Value::Time(t) => Value::Int(*t),
                Value::Bool(b) => Value::Int(*b as i64),
                Value::Null | Value::Structured(_) => Value::Null,
            },
            FromMillis => args[0]
                .as_int()
                .or_else(|| num(0).map(|f| f as i64))
                .map_or(Value::Null, Value::Time),
            ToMillis => match &args[0] {
                Value::Time(t) => Value::Int(*t),
                v => v.as_int().map_or(Value::Null, Value::Int),
            },
            Now => Value::Int(env.now_ms.div_euclid(1000)),
            QueryStartTime => Value::Int(env.query_start_ms),
            QueryEndTime => Value::Int(env.query_end_ms),
            QueryTimeRange => Value::Int(env.query_end_ms.saturating_sub(env.query_start_ms)),
            ToInt | ToLong => {
                let Some(f) = num(0) else { return Value::Null };
                let t = f.trunc();
                let (lo, hi) = if self == ToInt {
                    (i32::MIN as f64, i32::MAX as f64)
                } else {
                    (i64::MIN as f64, i64::MAX as f64)
                };
                match args[0].as_int() {
                    Some(i) if self == ToLong => Value::Int(i),
                    _ if t >= lo && t <= hi => Value::Int(t as i64),
                    _ => Value::Null,
                }
            }
            ToDouble => num(0).map_or(Value::Null, Value::Float),
            Haversine => {
                let (Some(lat1), Some(lon1), Some(lat2), Some(lon2)) =
                    (num(0), num(1), num(2), num(3))
                else {
                    return Value::Null;
                };
                // Great-circle distance in kilometres on a sphere of the
                // Earth's mean radius.
                let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
                let dp = (lat2 - lat1).to_radians();
                let dl = (lon2 - lon1).to_radians();
                let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
                Value::Float(2.0 * 6371.0 * a.sqrt().asin())
            }
            HexToDec => text(0)
                .and_then(|s| {
                    let t = s.trim();
                    let t = t
                        .strip_prefix("0x")
                        .or_else(|| t.strip_prefix("0X"))
                        .unwrap_or(t);
                    i64::from_str_radix(t, 16).ok()
                })
                .map_or(Value::Null, Value::Int),
            DecToHex => args[0]
                .as_int()
                .map_or(Value::Null, |i| Value::Str(format!("{i:x}"))),
            HexToAscii => {
                let Some(s) = text(0) else { return Value::Null };
                let t = s.trim();
                let t = t
                    .strip_prefix("0x")
                    .or_else(|| t.strip_prefix("0X"))
                    .unwrap_or(t);
                if t.len() % 2 != 0 || !t.is_ascii() {
                    return Value::Null;
                }
                let bytes: Option<Vec<u8>> = (0..t.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
                    .collect();
                bytes
                    .and_then(|b| String::from_utf8(b).ok())
                    .map_or(Value::Null, Value::Str)
            }
            Case => {
                for pair in args.chunks(2) {
                    match pair {
                        [cond, value] if cond.truthy() => return value.clone(),
                        [default] => return default.clone(),
                        _ => {}
                    }
                }
                Value::Null
            }
            JsonParse => {
                match text(0).and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok()) {
                    Some(json @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                        Value::from_json(&json)
                    }
                    _ => Value::Null,
                }
            }
            JsonStringify => match &args[0] {
                Value::Structured(json) => Value::Str(json.to_string()),
                Value::Str(s) => Value::Str(serde_json::Value::String(s.clone()).to_string()),
                Value::Null => Value::Null,
                v => v.render().map_or(Value::Null, Value::Str),
            },
            JsonArraySize => match &args[0] {
                Value::Structured(json) => json
                    .as_array()
                    .map_or(Value::Null, |a| Value::Int(a.len() as i64)),
                _ => Value::Null,
            },
            JsonArrayContains => match &args[0] {
                // Case-sensitive: elements match by the same equality as `=`.
                Value::Structured(json) => match json.as_array() {
                    Some(items) => Value::Int(
                        items
                            .iter()
                            .any(|item| loose_eq(&Value::from_json(item), &args[1]) == Some(true))
                            as i64,
                    ),
                    None => Value::Null,
                },
                _ => Value::Null,
            },
            Ipv4ToNumber => text(0)
                .and_then(|s| s.trim().parse::<Ipv4Addr>().ok())
                .map_or(Value::Null, |ip| Value::Int(u32::from(ip) as i64)),
            IsPrivateIp | IsPublicIp | IsReservedIp => {
                let ip = text(0).and_then(|s| s.trim().parse::<IpAddr>().ok());
                Value::Bool(match (self, ip) {
                    (_, None) => false,
                    (IsPrivateIp, Some(ip)) => is_private(ip),
                    (IsReservedIp, Some(ip)) => is_reserved(ip),
                    (_, Some(ip)) => !is_private(ip) && !is_reserved(ip),
                })
            }
            IsPresent => Value::Bool(!args[0].is_null()),
            Coalesce => args
                .iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Value::Null),
            If => {
                if args[0].truthy() {
                    args[1].clone()
                } else {
                    args[2].clone()
                }
            }
            IsNumeric => {
                Value::Bool(args[0].as_number().is_some() && !matches!(args[0], Value::Bool(_)))
            }
            Unmask => args[0].clone(),
            IsValidIp | IsValidIpV4 | IsValidIpV6 => {
                let ip = text(0).and_then(|s| s.parse::<IpAddr>().ok());
                Value::Bool(match self {
                    IsValidIp => ip.is_some(),
                    IsValidIpV4 => matches!(ip, Some(IpAddr::V4(_))),
                    _ => matches!(ip, Some(IpAddr::V6(_))),
                })
            }
            IsIpInSubnet | IsIpv4InSubnet | IsIpv6InSubnet => {
                let (Some(ip), Some(cidr)) = (text(0), text(1)) else {
                    return Value::Null;
                };
                let family = match self {
                    IsIpv4InSubnet => Some(true),
                    IsIpv6InSubnet => Some(false),
                    _ => None,
                };
                Value::Bool(ip_in_subnet(&ip, &cidr, family))
            }
            Bin | DateFloor | DateCeil | RegexReplace | MessageSize => Value::Null,
        }
    }
}

fn number(f: f64) -> Value {
    Value::Float(f)
}

/// Results of ceil/floor/round are whole numbers; keep them integers when
/// they fit so they print and group as integers.
fn integral(f: f64) -> Value {
    if f.is_finite() && f.abs() < 9.0e15 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard alphabet with `=` padding (RFC 4648 section 4).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64_ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Accepts the standard and URL-safe alphabets, with or without padding;
/// anything else is not base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u32> = text
        .trim()
        .trim_end_matches('=')
        .bytes()
        .map(|c| match c {
            b'A'..=b'Z' => Some((c - b'A') as u32),
            b'a'..=b'z' => Some((c - b'a' + 26) as u32),
            b'0'..=b'9' => Some((c - b'0' + 52) as u32),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` as a space (form encoding); malformed
/// escapes or invalid UTF-8 give nothing.
fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 1918 for IPv4; unique local `fc00::/7` for IPv6.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Special-purpose ranges that are neither private nor routable on the
/// internet: this-network, loopback, link-local, shared address space
/// (100.64/10), documentation, benchmarking, multicast and 240/4.
fn is_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 0
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || v4.is_documentation()
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || v4.is_multicast()
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// `family`: `Some(true)` requires IPv4 on both sides, `Some(false)` IPv6.
pub fn ip_in_subnet(ip: &str, cidr: &str, family: Option<bool>) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, prefix) = match cidr.trim().split_once('/') {
        Some((n, p)) => (n, p.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if family != Some(false) => {
            let bits = prefix.unwrap_or(32);
            if bits > 32 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if family != Some(true) => {
            let bits = prefix.unwrap_or(128);
            if bits > 128 {
                return false;
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScalarFunction::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn call(f: ScalarFunction, args: &[Value]) -> Value {
        let env = EvalEnv {
            now_ms: 1_700_000_000_999,
            query_start_ms: 1_000,
            query_end_ms: 61_000,
        };
        f.apply(args, &env)
    }

    #[test]
    fn conversion_and_hex_functions() {
        assert_eq!(call(ToInt, &[s("3.9")]), Value::Int(3));
        assert_eq!(call(ToInt, &[s("-3.9")]), Value::Int(-3));
        assert_eq!(call(ToInt, &[Value::Float(3e10)]), Value::Null);
        assert_eq!(
            call(ToLong, &[Value::Float(3e10)]),
            Value::Int(30_000_000_000)
        );
        assert_eq!(
            call(ToLong, &[s("9007199254740993")]),
            Value::Int(9_007_199_254_740_993)
        );
        assert_eq!(call(ToDouble, &[s("2")]), Value::Float(2.0));
        assert_eq!(call(HexToDec, &[s("0xff")]), Value::Int(255));
        assert_eq!(call(HexToDec, &[s("zz")]), Value::Null);
        assert_eq!(call(DecToHex, &[Value::Int(255)]), s("ff"));
        assert_eq!(call(HexToAscii, &[s("48656c6c6f")]), s("Hello"));
        assert_eq!(call(HexToAscii, &[s("486")]), Value::Null);
        assert_eq!(call(QueryStartTime, &[]), Value::Int(1_000));
        assert_eq!(call(QueryEndTime, &[]), Value::Int(61_000));
        assert_eq!(call(QueryTimeRange, &[]), Value::Int(60_000));
    }

    #[test]
    fn case_and_haversine() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        assert_eq!(
            call(Case, &[f.clone(), s("a"), t.clone(), s("b"), s("c")]),
            s("b")
        );
        assert_eq!(call(Case, &[f.clone(), s("a"), s("default")]), s("default"));
        assert_eq!(call(Case, &[f, s("a")]), Value::Null);
        // Paris to London is about 344 km.
        let Value::Float(km) = call(
            Haversine,
            &[
                Value::Float(48.8566),
                Value::Float(2.3522),
                Value::Float(51.5074),
                Value::Float(-0.1278),
            ],
        ) else {
            panic!()
        };
        assert!((km - 343.5).abs() < 1.0, "{km}");
    }

    #[test]
    fn ip_classification() {
        assert_eq!(
            call(Ipv4ToNumber, &[s("10.0.0.1")]),
            Value::Int(167_772_161)
        );
        assert_eq!(call(Ipv4ToNumber, &[s("::1")]), Value::Null);
        assert_eq!(call(IsPrivateIp, &[s("192.168.1.1")]), Value::Bool(true));
        assert_eq!(call(IsPrivateIp, &[s("8.8.8.8")]), Value::Bool(false));
        assert_eq!(call(IsPublicIp, &[s("8.8.8.8")]), Value::Bool(true));
        assert_eq!(call(IsPublicIp, &[s("127.0.0.1")]), Value::Bool(false));
        assert_eq!(call(IsReservedIp, &[s("127.0.0.1")]), Value::Bool(true));
        assert_eq!(call(IsReservedIp, &[s("100.64.0.1")]), Value::Bool(true));
        assert_eq!(call(IsReservedIp, &[s("10.0.0.1")]), Value::Bool(false));
        assert_eq!(call(IsPublicIp, &[s("nope")]), Value::Bool(false));
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            call(Substr, &[s("xyZfooxyZ"), Value::Int(3), Value::Int(3)]),
            s("foo")
        );
        assert_eq!(call(Substr, &[s("héllo"), Value::Int(1)]), s("éllo"));
        assert_eq!(call(Substr, &[s("abc"), Value::Int(10)]), s(""));
        assert_eq!(call(Strlen, &[s("héllo")]), Value::Int(5));
        assert_eq!(call(Strlen, &[Value::Null]), Value::Null);
        assert_eq!(
            call(Concat, &[s("a"), Value::Int(1), Value::Null, s("b")]),
            s("a1b")
        );
        assert_eq!(call(Replace, &[s("a-b-c"), s("-"), s("+")]), s("a+b+c"));
        assert_eq!(call(Trim, &[s("  x ")]), s("x"));
        assert_eq!(call(Ltrim, &[s("xxaxx"), s("x")]), s("axx"));
        assert_eq!(call(Rtrim, &[s("xxaxx"), s("x")]), s("xxa"));
        assert_eq!(call(ToUpper, &[s("aB")]), s("AB"));
        assert_eq!(call(ToLower, &[s("aB")]), s("ab"));
        assert_eq!(call(StrContains, &[s("hello"), s("ell")]), Value::Int(1));
        assert_eq!(call(StrContains, &[s("hello"), s("ELL")]), Value::Int(0));
        assert_eq!(call(StartsWith, &[s("hello"), s("he")]), Value::Int(1));
        assert_eq!(call(EndsWith, &[s("hello"), s("he")]), Value::Int(0));
        assert_eq!(call(IsEmpty, &[Value::Null]), Value::Int(1));
        assert_eq!(call(IsEmpty, &[s(" ")]), Value::Int(0));
        assert_eq!(call(IsBlank, &[s(" \t")]), Value::Int(1));
    }

    #[test]
    fn codecs_round_trip() {
        for text in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "héllo wörld/?&=",
        ] {
            let encoded = base64_encode(text.as_bytes());
            assert_eq!(base64_decode(&encoded).unwrap(), text.as_bytes(), "{text}");
            assert_eq!(url_decode(&url_encode(text)).unwrap(), text);
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), Some(b"fo".to_vec()));
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(url_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(url_decode("a+b%2fc").unwrap(), "a b/c");
        assert_eq!(url_decode("%zz"), None);
        assert_eq!(url_decode("%4"), None);
        assert_eq!(call(Base64Decode, &[s("//79")]), Value::Null);
    }

    #[test]
    fn split_gives_a_list() {
        let Value::Structured(list) = call(Split, &[s("a,b,,c"), s(",")]) else {
            panic!()
        };
        assert_eq!(list.to_string(), r#"["a","b","","c"]"#);
        assert_eq!(call(Split, &[s("abc"), s("")]), Value::Null);
        assert_eq!(call(Split, &[Value::Null, s(",")]), Value::Null);
    }

    #[test]
    fn numeric_functions() {
        assert_eq!(call(Abs, &[Value::Int(-3)]), Value::Int(3));
        assert_eq!(call(Abs, &[s("-2.5")]), Value::Float(2.5));
        assert_eq!(call(Ceil, &[Value::Float(1.2)]), Value::Int(2));
        assert_eq!(call(Floor, &[Value::Float(-1.2)]), Value::Int(-2));
        assert_eq!(call(Round, &[Value::Float(2.5)]), Value::Int(3));
        assert_eq!(
            call(Round, &[Value::Float(1.23456), Value::Int(2)]),
            Value::Float(1.23)
        );
        assert_eq!(
            call(Greatest, &[Value::Int(1), s("7"), Value::Null]),
            Value::Int(7)
        );
        assert_eq!(
            call(Least, &[Value::Int(1), Value::Float(-0.5)]),
            Value::Float(-0.5)
        );
        assert_eq!(call(Sqrt, &[Value::Int(9)]), Value::Float(3.0));
        assert_eq!(call(Log, &[Value::Int(1)]), Value::Float(0.0));
        assert_eq!(call(ToNumber, &[s("12")]), Value::Int(12));
        assert_eq!(call(ToNumber, &[s("x")]), Value::Null);
    }

    #[test]
    fn general_and_time_functions() {
        assert_eq!(call(Now, &[]), Value::Int(1_700_000_000));
        assert_eq!(call(FromMillis, &[Value::Int(5)]), Value::Time(5));
        assert_eq!(call(ToMillis, &[Value::Time(5)]), Value::Int(5));
        assert_eq!(call(Coalesce, &[Value::Null, s("b")]), s("b"));
        assert_eq!(call(IsPresent, &[Value::Null]), Value::Bool(false));
        assert_eq!(call(If, &[Value::Bool(true), s("a"), s("b")]), s("a"));
        assert_eq!(call(IsNumeric, &[s("1.5")]), Value::Bool(true));
    }

    #[test]
    fn ip_functions() {
        assert!(ip_in_subnet("10.1.2.3", "10.0.0.0/8", None));
        assert!(!ip_in_subnet("11.1.2.3", "10.0.0.0/8", None));
        assert!(ip_in_subnet("2001:db8::1", "2001:db8::/32", None));
        assert!(!ip_in_subnet("2001:db8::1", "2001:db8::/32", Some(true)));
        assert!(ip_in_subnet("0.0.0.1", "1.2.3.4/0", Some(true)));
        assert!(!ip_in_subnet("x", "10.0.0.0/8", None));
        assert_eq!(call(IsValidIpV4, &[s("1.2.3.4")]), Value::Bool(true));
        assert_eq!(call(IsValidIpV6, &[s("1.2.3.4")]), Value::Bool(false));
        assert_eq!(call(IsValidIp, &[s("::1")]), Value::Bool(true));
    }
}
