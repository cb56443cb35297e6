//! Expression evaluation over one row.

use crate::ast::{BinaryOp, Expr, LikePattern};
use crate::functions::ScalarFunction;
use crate::row::Row;
use crate::value::{loose_cmp, loose_eq, Value};

#[derive(Debug, Clone, Copy)]
pub struct EvalEnv {
    pub now_ms: i64,
    /// The query's time range, for `queryStartTime()` and friends.
    pub query_start_ms: i64,
    pub query_end_ms: i64,
}

pub fn eval(expr: &Expr, row: &Row, env: &EvalEnv) -> Value {
    match expr {
        Expr::Literal(v) => v.clone(),
        Expr::Field(name) => field(row, name),
        // Periods and regexes only appear as arguments, where the caller
        // reads them directly.
        Expr::Period(_) | Expr::Regex(_) => Value::Null,
        Expr::Neg(inner) => match eval(inner, row, env) {
            Value::Int(i) => i
                .checked_neg()
                .map_or(Value::Float(-(i as f64)), Value::Int),
            v => v.as_number().map_or(Value::Null, |f| Value::Float(-f)),
        },
        Expr::Not(inner) => match eval(inner, row, env) {
            Value::Null => Value::Null,
            v => Value::Bool(!v.truthy()),
        },
        Expr::Binary(op, l, r) => binary(*op, l, r, row, env),
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let Some(text) = eval(expr, row, env).render() else {
                return Value::Null;
            };
            let hit = match pattern {
                LikePattern::Substring(s) => text.contains(s.as_str()),
                LikePattern::Regex(re) => re.is_match(&text),
            };
            Value::Bool(hit != *negated)
        }
        Expr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, env);
            if v.is_null() {
                return Value::Null;
            }
            let hit = list
                .iter()
                .any(|item| loose_eq(&v, &eval(item, row, env)) == Some(true));
            Value::Bool(hit != *negated)
        }
        Expr::Call { function, args } => call(*function, args, row, env),
    }
}

/// A field's value. A name the row lacks may address into a map or list
/// held by a shorter name: `j.status.code`, `j.items.0` (`j.items[0]`).
pub fn field(row: &Row, name: &str) -> Value {
    let direct = row.get(name);
    if !direct.is_null() {
        return direct.clone();
    }
    for (dot, _) in name
        .match_indices('.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        if let Value::Structured(json) = row.get(&name[..dot]) {
            return navigate(json, &name[dot + 1..]).map_or(Value::Null, Value::from_json);
        }
    }
    Value::Null
}

/// Follows a dotted path into JSON. Keys may themselves contain dots
/// (written with backticks), so every split point is tried, longest key
/// first.
pub(crate) fn navigate<'j>(
    json: &'j serde_json::Value,
    path: &str,
) -> Option<&'j serde_json::Value> {
    let step = |key: &str| match json {
        serde_json::Value::Object(map) => map.get(key),
        serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    };
    if let Some(v) = step(path) {
        return Some(v);
    }
    for (dot, _) in path
        .match_indices('.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        if let Some(v) = step(&path[..dot]).and_then(|inner| navigate(inner, &path[dot + 1..])) {
            return Some(v);
        }
    }
    None
}

fn binary(op: BinaryOp, l: &Expr, r: &Expr, row: &Row, env: &EvalEnv) -> Value {
    match op {
        // Three-valued logic: a comparison against a missing field is
        // unknown, and unknown rows never pass a filter.
        BinaryOp::And => {
            let a = eval(l, row, env);
            if !a.is_null() && !a.truthy() {
                return Value::Bool(false);
            }
            let b = eval(r, row, env);
            match (a.is_null(), b.is_null()) {
                (_, false) if !b.truthy() => Value::Bool(false),
                (false, false) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        BinaryOp::Or => {
            let a = eval(l, row, env);
            if a.truthy() {
                return Value::Bool(true);
            }
            let b = eval(r, row, env);
            if b.truthy() {
                return Value::Bool(true);
            }
            if a.is_null() || b.is_null() {
                Value::Null
            } else {
                Value::Bool(false)
            }
        }
        BinaryOp::Eq | BinaryOp::Ne => {
            let (a, b) = (eval(l, row, env), eval(r, row, env));
            loose_eq(&a, &b).map_or(Value::Null, |eq| Value::Bool(eq == (op == BinaryOp::Eq)))
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let (a, b) = (eval(l, row, env), eval(r, row, env));
            loose_cmp(&a, &b).map_or(Value::Null, |ord| {
                Value::Bool(match op {
                    BinaryOp::Lt => ord.is_lt(),
                    BinaryOp::Le => ord.is_le(),
                    BinaryOp::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                })
            })
        }
        _ => arithmetic(op, &eval(l, row, env), &eval(r, row, env)),
    }
}

pub fn arithmetic(op: BinaryOp, a: &Value, b: &Value) -> Value {
    let exact = a.as_int().zip(b.as_int());
    if let Some((x, y)) = exact {
        let r = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Mod if y == 0 => return Value::Null,
            BinaryOp::Mod => x.checked_rem(y),
            _ => None,
        };
        if let Some(r) = r {
            return Value::Int(r);
        }
    }
    let (Some(x), Some(y)) = (a.as_number(), b.as_number()) else {
        return Value::Null;
    };
    match op {
        BinaryOp::Add => Value::Float(x + y),
        BinaryOp::Sub => Value::Float(x - y),
        BinaryOp::Mul => Value::Float(x * y),
        BinaryOp::Div if y == 0.0 => Value::Null,
        BinaryOp::Div => Value::Float(x / y),
        BinaryOp::Mod if y == 0.0 => Value::Null,
        BinaryOp::Mod => Value::Float(x % y),
        BinaryOp::Pow => Value::Float(x.powf(y)),
        _ => Value::Null,
    }
}

fn call(function: ScalarFunction, args: &[Expr], row: &Row, env: &EvalEnv) -> Value {
    match function {
        ScalarFunction::Bin => {
            let Expr::Period(p) = &args[0] else {
                return Value::Null;
            };
            match row.get("@timestamp") {
                Value::Time(t) => Value::Time(p.floor(*t)),
                _ => Value::Null,
            }
        }
        ScalarFunction::DateFloor | ScalarFunction::DateCeil => {
            let Expr::Period(p) = &args[1] else {
                return Value::Null;
            };
            let Some(ms) = eval(&args[0], row, env).as_int() else {
                return Value::Null;
            };
            Value::Time(if function == ScalarFunction::DateFloor {
                p.floor(ms)
            } else {
                p.ceil(ms)
            })
        }
        ScalarFunction::MessageSize => match row.get("@message") {
            Value::Str(m) => Value::Int(m.len() as i64),
            _ => Value::Null,
        },
        ScalarFunction::RegexReplace => {
            let Expr::Regex(re) = &args[1] else {
                return Value::Null;
            };
            let (Some(s), Some(with)) = (
                eval(&args[0], row, env).render(),
                eval(&args[2], row, env).render(),
            ) else {
                return Value::Null;
            };
            Value::Str(re.replace_all(&s, with.as_str()).into_owned())
        }
        _ => {
            let values: Vec<Value> = args.iter().map(|a| eval(a, row, env)).collect();
            function.apply(&values, env)
        }
    }
}
