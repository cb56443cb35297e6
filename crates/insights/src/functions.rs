//! Scalar functions usable in `fields`, `filter`, `display`, `sort`, stats
//! arguments and `by` clauses. Names are case-insensitive.

use std::net::IpAddr;

use crate::value::Value;

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
    StartsWith,
    EndsWith,
    IsEmpty,
    IsBlank,
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
    // General
    IsPresent,
    Coalesce,
    If,
    IsNumeric,
    Unmask,
    // IP
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
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "isempty" => IsEmpty,
            "isblank" => IsBlank,
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
            "ispresent" => IsPresent,
            "coalesce" => Coalesce,
            "if" => If,
            "isnumeric" => IsNumeric,
            "unmask" => Unmask,
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
            Now => (0, 0),
            Substr => (2, 3),
            Replace | RegexReplace | If => (3, 3),
            Trim | Ltrim | Rtrim | Round => (1, 2),
            StrContains | StartsWith | EndsWith | DateFloor | DateCeil | IsIpInSubnet
            | IsIpv4InSubnet | IsIpv6InSubnet => (2, 2),
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
    pub fn apply(self, args: &[Value], now_ms: i64) -> Value {
        use ScalarFunction::*;
        let text = |i: usize| args.get(i).and_then(Value::render);
        let num = |i: usize| args.get(i).and_then(Value::as_number);
        match self {
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
                Value::Null => Value::Null,
            },
            FromMillis => args[0]
                .as_int()
                .or_else(|| num(0).map(|f| f as i64))
                .map_or(Value::Null, Value::Time),
            ToMillis => match &args[0] {
                Value::Time(t) => Value::Int(*t),
                v => v.as_int().map_or(Value::Null, Value::Int),
            },
            Now => Value::Int(now_ms.div_euclid(1000)),
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
            Bin | DateFloor | DateCeil | RegexReplace => Value::Null,
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
        f.apply(args, 1_700_000_000_999)
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
