//! Dynamically typed values. A field may hold a number in one event and a
//! string in another, so every operator coerces at evaluation time.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::period::format_timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A missing field or the result of an operation on one.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Epoch milliseconds; rendered as a date.
    Time(i64),
    /// A map or list from `jsonParse`: readable with `m.key` / `l[0]` and the
    /// JSON functions, null to string, number and date functions, never
    /// equal to anything.
    Structured(Arc<Json>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A JSON value as a query value: objects and arrays stay structured,
    /// `true`/`false` become text as in discovery, `null` is missing.
    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Str(b.to_string()),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Str(s.clone()),
            Json::Object(_) | Json::Array(_) => Value::Structured(Arc::new(json.clone())),
        }
    }

    /// How a result row shows the value: like [`Value::render`], plus maps
    /// and lists as compact JSON.
    pub fn display(&self) -> Option<String> {
        match self {
            Value::Structured(json) => Some(json.to_string()),
            v => v.render(),
        }
    }

    /// The numeric reading of a value. Strings count when they are a plain
    /// decimal number, because fields extracted by `parse` are text and
    /// queries routinely do arithmetic on them.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Time(t) => Some(*t as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => parse_decimal(s),
            Value::Null | Value::Structured(_) => None,
        }
    }

    /// The integer reading, for operators that keep integers exact.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Time(t) => Some(*t),
            Value::Bool(b) => Some(*b as i64),
            Value::Str(s) => {
                let t = s.trim();
                if looks_numeric(t) {
                    t.parse::<i64>().ok()
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A number value from text: integers stay integers.
    pub fn number_from_str(s: &str) -> Option<Value> {
        let t = s.trim();
        if !looks_numeric(t) {
            return None;
        }
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::Int(i));
        }
        t.parse::<f64>().ok().map(Value::Float)
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0 && !f.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::Time(_) | Value::Structured(_) => true,
        }
    }

    /// The text of a value as string functions see it, and as results show it.
    /// Booleans print as `1`/`0`, the values Logs Insights documents for its
    /// predicate functions (`strcontains`, `isempty`, …).
    pub fn render(&self) -> Option<String> {
        Some(match self {
            Value::Null | Value::Structured(_) => return None,
            Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => render_float(*f),
            Value::Str(s) => s.clone(),
            Value::Time(t) => format_timestamp(*t),
        })
    }
}

fn looks_numeric(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    body.starts_with(|c: char| c.is_ascii_digit())
        || (body.starts_with('.') && body[1..].starts_with(|c: char| c.is_ascii_digit()))
}

fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    if !looks_numeric(t) {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Integral doubles print without a fraction (`avg` of 2 and 4 is `3`), the
/// rest in the shortest form that reads back to the same double.
pub fn render_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    format!("{f}")
}

/// Equality as `=`, `!=` and `in` see it: numerically when both sides read as
/// numbers, otherwise by text. `None` when either side is missing.
pub fn loose_eq(a: &Value, b: &Value) -> Option<bool> {
    if a.is_null() || b.is_null() {
        return None;
    }
    if matches!(a, Value::Structured(_)) || matches!(b, Value::Structured(_)) {
        return Some(false);
    }
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        if !matches!((a, b), (Value::Str(_), Value::Str(_))) {
            return Some(x == y);
        }
    }
    Some(a.render() == b.render())
}

/// Ordering for `<`, `>` and friends, with the same coercions as [`loose_eq`].
pub fn loose_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null()
        || b.is_null()
        || matches!(a, Value::Structured(_))
        || matches!(b, Value::Structured(_))
    {
        return None;
    }
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number()) {
        return x.partial_cmp(&y);
    }
    Some(a.render().cmp(&b.render()))
}

/// Total order for `sort`, `sortsFirst` and stats group output: numbers
/// (and numeric text) before other text, missing values last.
pub fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    // Maps and lists cannot be sorted; they sort with the missing values.
    let absent = |v: &Value| v.is_null() || matches!(v, Value::Structured(_));
    match (absent(a), absent(b)) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    match (a.as_number(), b.as_number()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.render().cmp(&b.render()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_numbers_like_cloudwatch() {
        assert_eq!(render_float(3.0), "3");
        assert_eq!(render_float(2.5), "2.5");
        assert_eq!(render_float(-0.125), "-0.125");
        assert_eq!(render_float(f64::NAN), "NaN");
        assert_eq!(Value::Int(-7).render().unwrap(), "-7");
        assert_eq!(Value::Time(0).render().unwrap(), "1970-01-01 00:00:00.000");
    }

    #[test]
    fn coerces_numeric_text_only() {
        assert_eq!(Value::Str(" 42 ".into()).as_number(), Some(42.0));
        assert_eq!(Value::Str("1e3".into()).as_number(), Some(1000.0));
        assert_eq!(Value::Str("inf".into()).as_number(), None);
        assert_eq!(Value::Str("NaN".into()).as_number(), None);
        assert_eq!(Value::Str("abc".into()).as_number(), None);
        assert_eq!(Value::Str(".5".into()).as_number(), Some(0.5));
    }

    #[test]
    fn equality_across_types() {
        let s200 = Value::Str("200".into());
        assert_eq!(loose_eq(&s200, &Value::Int(200)), Some(true));
        assert_eq!(
            loose_eq(&Value::Str("01".into()), &Value::Str("1".into())),
            Some(false)
        );
        assert_eq!(loose_eq(&Value::Null, &Value::Int(1)), None);
        assert_eq!(
            loose_cmp(&Value::Str("10".into()), &Value::Str("9".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(sort_cmp(&Value::Null, &Value::Int(1)), Ordering::Greater);
        assert_eq!(
            sort_cmp(&Value::Int(5), &Value::Str("a".into())),
            Ordering::Less
        );
    }
}
