//! Grouped aggregation for `stats`.

use std::collections::{HashMap, HashSet};

use crate::ast::{AggregateKind, Aggregation, Expr, StatsStage};
use crate::eval::{eval, EvalEnv};
use crate::row::Row;
use crate::value::{sort_cmp, Value};

#[derive(Debug, Clone)]
enum Accumulator {
    Count(u64),
    Distinct(HashSet<String>),
    Sum {
        int: i64,
        float: f64,
        all_int: bool,
        seen: bool,
    },
    Avg {
        sum: f64,
        n: u64,
    },
    /// Sums of deviations from the first value (the shifted-data
    /// algorithm): exact for small integers, stable when values are large
    /// but close together.
    Stddev {
        n: u64,
        shift: f64,
        sum: f64,
        sum_sq: f64,
    },
    Extreme {
        best: Option<(f64, Value)>,
        max: bool,
    },
    Pct(Vec<f64>),
    /// `earliest`/`latest`: the value from the event with the smallest or
    /// largest (timestamp, arrival) pair.
    ByTime {
        best: Option<(i64, u64, Value)>,
        latest: bool,
    },
    /// `sortsFirst`/`sortsLast`: the value that sorts first or last.
    BySort {
        best: Option<Value>,
        last: bool,
    },
}

impl Accumulator {
    fn new(kind: AggregateKind) -> Self {
        match kind {
            AggregateKind::Count | AggregateKind::CountStar => Accumulator::Count(0),
            AggregateKind::CountDistinct => Accumulator::Distinct(HashSet::new()),
            AggregateKind::Sum => Accumulator::Sum {
                int: 0,
                float: 0.0,
                all_int: true,
                seen: false,
            },
            AggregateKind::Avg => Accumulator::Avg { sum: 0.0, n: 0 },
            AggregateKind::Stddev => Accumulator::Stddev {
                n: 0,
                shift: 0.0,
                sum: 0.0,
                sum_sq: 0.0,
            },
            AggregateKind::Min => Accumulator::Extreme {
                best: None,
                max: false,
            },
            AggregateKind::Max => Accumulator::Extreme {
                best: None,
                max: true,
            },
            AggregateKind::Pct => Accumulator::Pct(Vec::new()),
            AggregateKind::Earliest => Accumulator::ByTime {
                best: None,
                latest: false,
            },
            AggregateKind::Latest => Accumulator::ByTime {
                best: None,
                latest: true,
            },
            AggregateKind::SortsFirst => Accumulator::BySort {
                best: None,
                last: false,
            },
            AggregateKind::SortsLast => Accumulator::BySort {
                best: None,
                last: true,
            },
        }
    }

    fn add(&mut self, agg: &Aggregation, row: &Row, env: &EvalEnv) {
        let value = match &agg.arg {
            None => {
                if let Accumulator::Count(n) = self {
                    *n += 1;
                }
                return;
            }
            Some(expr) => eval(expr, row, env),
        };
        if value.is_null() {
            return;
        }
        match self {
            Accumulator::Count(n) => *n += 1,
            Accumulator::Distinct(set) => {
                if let Some(s) = value.render() {
                    set.insert(s);
                }
            }
            Accumulator::Sum {
                int,
                float,
                all_int,
                seen,
            } => {
                let Some(f) = value.as_number() else { return };
                *seen = true;
                *float += f;
                if *all_int {
                    match value.as_int().and_then(|i| int.checked_add(i)) {
                        Some(sum) if f.fract() == 0.0 => *int = sum,
                        _ => *all_int = false,
                    }
                }
            }
            Accumulator::Avg { sum, n } => {
                if let Some(f) = value.as_number() {
                    *sum += f;
                    *n += 1;
                }
            }
            Accumulator::Stddev {
                n,
                shift,
                sum,
                sum_sq,
            } => {
                if let Some(f) = value.as_number() {
                    if *n == 0 {
                        *shift = f;
                    }
                    *n += 1;
                    let d = f - *shift;
                    *sum += d;
                    *sum_sq += d * d;
                }
            }
            Accumulator::Extreme { best, max } => {
                let Some(f) = value.as_number() else { return };
                let better = match best {
                    None => true,
                    Some((b, _)) => (*max && f > *b) || (!*max && f < *b),
                };
                if better {
                    // Keep the value's own type so min(@timestamp) is a date.
                    let keep = match value {
                        Value::Str(s) => Value::number_from_str(&s).unwrap_or(Value::Float(f)),
                        v => v,
                    };
                    *best = Some((f, keep));
                }
            }
            Accumulator::Pct(values) => {
                if let Some(f) = value.as_number() {
                    values.push(f);
                }
            }
            Accumulator::ByTime { best, latest } => {
                let key = (row.timestamp_ms, row.seq);
                let better = match best {
                    None => true,
                    Some((t, s, _)) => {
                        if *latest {
                            key > (*t, *s)
                        } else {
                            key < (*t, *s)
                        }
                    }
                };
                if better {
                    *best = Some((key.0, key.1, value));
                }
            }
            Accumulator::BySort { best, last } => {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let ord = sort_cmp(&value, b);
                        if *last {
                            ord.is_gt()
                        } else {
                            ord.is_lt()
                        }
                    }
                };
                if better {
                    *best = Some(value);
                }
            }
        }
    }

    fn result(&self, percentile: f64) -> Value {
        match self {
            Accumulator::Count(n) => Value::Int(*n as i64),
            Accumulator::Distinct(set) => Value::Int(set.len() as i64),
            Accumulator::Sum { seen: false, .. } => Value::Null,
            Accumulator::Sum {
                int, all_int: true, ..
            } => Value::Int(*int),
            Accumulator::Sum { float, .. } => Value::Float(*float),
            Accumulator::Avg { n: 0, .. } => Value::Null,
            Accumulator::Avg { sum, n } => Value::Float(sum / *n as f64),
            Accumulator::Stddev { n: 0, .. } => Value::Null,
            Accumulator::Stddev { n: 1, .. } => Value::Float(0.0),
            // Sample standard deviation (n - 1).
            Accumulator::Stddev { n, sum, sum_sq, .. } => {
                let n = *n as f64;
                let variance = ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0);
                Value::Float(variance.sqrt())
            }
            Accumulator::Extreme { best, .. } => {
                best.as_ref().map_or(Value::Null, |(_, v)| v.clone())
            }
            Accumulator::Pct(values) => {
                if values.is_empty() {
                    return Value::Null;
                }
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                // Nearest rank: the smallest value with at least p% of the
                // values at or below it.
                let rank = (percentile / 100.0 * sorted.len() as f64).ceil() as usize;
                let f = sorted[rank.clamp(1, sorted.len()) - 1];
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::Int(f as i64)
                } else {
                    Value::Float(f)
                }
            }
            Accumulator::ByTime { best, .. } => {
                best.as_ref().map_or(Value::Null, |(_, _, v)| v.clone())
            }
            Accumulator::BySort { best, .. } => best.clone().unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Clone)]
struct Group {
    keys: Vec<Value>,
    accumulators: Vec<Accumulator>,
}

/// Running state of one `stats` command.
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    groups: Vec<Group>,
    index: HashMap<Vec<Option<String>>, usize>,
}

impl StatsAccumulator {
    pub fn new() -> Self {
        StatsAccumulator {
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }

    pub fn add(&mut self, stage: &StatsStage, row: &Row, env: &EvalEnv) {
        let keys: Vec<Value> = stage
            .group_by
            .iter()
            .map(|g| eval(&g.expr, row, env))
            .collect();
        // Groups are keyed by the rendered value, so 200 and "200" share one.
        let key: Vec<Option<String>> = keys.iter().map(Value::render).collect();
        let slot = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.groups.push(Group {
                    keys,
                    accumulators: stage
                        .aggregations
                        .iter()
                        .map(|a| Accumulator::new(a.kind))
                        .collect(),
                });
                self.index.insert(key, self.groups.len() - 1);
                self.groups.len() - 1
            }
        };
        let group = &mut self.groups[slot];
        for (acc, agg) in group.accumulators.iter_mut().zip(&stage.aggregations) {
            acc.add(agg, row, env);
        }
    }

    /// One row per group: group-by columns then aggregations, groups in
    /// ascending order of their keys.
    pub fn rows(&self, stage: &StatsStage, env: &EvalEnv) -> Vec<Row> {
        let mut order: Vec<&Group> = self.groups.iter().collect();
        order.sort_by(|a, b| {
            a.keys
                .iter()
                .zip(&b.keys)
                .map(|(x, y)| sort_cmp(x, y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        order
            .into_iter()
            .enumerate()
            .map(|(i, g)| {
                let mut fields = Vec::with_capacity(g.keys.len() + g.accumulators.len());
                for (named, key) in stage.group_by.iter().zip(&g.keys) {
                    fields.push((named.name.clone(), key.clone()));
                }
                for (agg, acc) in stage.aggregations.iter().zip(&g.accumulators) {
                    fields.push((agg.name.clone(), acc.result(agg.percentile)));
                }
                let mut row = Row {
                    fields,
                    timestamp_ms: 0,
                    ptr: None,
                    seq: i as u64,
                    window: crate::row::Window::CURRENT,
                };
                for output in &stage.outputs {
                    if !matches!(&output.expr, Expr::Field(f) if *f == output.name) {
                        let v = eval(&output.expr, &row, env);
                        row.set(&output.name, v);
                    }
                }
                row
            })
            .collect()
    }
}
