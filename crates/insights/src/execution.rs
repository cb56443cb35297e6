//! Incremental evaluation: events arrive in any order through `push`; the
//! commands that need all rows (stats, sort, limit, dedup) run at `finish`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::ast::{Command, Expr, NamedExpr, ParsePattern, SortKey};
use crate::discovery::FieldExtractor;
use crate::eval::{eval, EvalEnv};
use crate::row::Row;
use crate::stats::StatsAccumulator;
use crate::value::{sort_cmp, Value};
use crate::{Event, ExecutionContext, QueryOutput, QueryPlan, DEFAULT_LIMIT};

#[derive(Debug, Clone)]
enum Collected {
    Rows(Vec<Row>),
    Stats(StatsAccumulator),
}

/// A running query. Cheap to clone, so `partial` can finish a copy.
#[derive(Debug, Clone)]
pub struct Execution {
    plan: Arc<QueryPlan>,
    env_now_ms: i64,
    ctx: ExecutionContext,
    /// Commands before the first blocking one run per event.
    streaming_end: usize,
    collected: Collected,
    /// When the rows after streaming only need ordering and a row cap, keep
    /// at most about this many between prunes.
    keep_top: Option<usize>,
    seq: u64,
    records_matched: u64,
    records_scanned: u64,
    bytes_scanned: u64,
}

impl Execution {
    pub(crate) fn new(plan: Arc<QueryPlan>, ctx: ExecutionContext) -> Self {
        let streaming_end = plan
            .commands
            .iter()
            .position(Command::is_blocking)
            .unwrap_or(plan.commands.len());
        let collected = match plan.commands.get(streaming_end) {
            Some(Command::Stats(_)) => Collected::Stats(StatsAccumulator::new()),
            _ => Collected::Rows(Vec::new()),
        };
        let final_limit = ctx.limit.unwrap_or(DEFAULT_LIMIT);
        let keep_top = if plan.aggregated {
            None
        } else {
            // Pruning is exact only if nothing after the ordering can drop
            // rows: just sort and/or limit, then projections.
            let rest = &plan.commands[streaming_end..];
            let mut cap = final_limit;
            let mut ok = true;
            let mut seen_limit = false;
            for c in rest {
                match c {
                    Command::Sort(_) if !seen_limit => {}
                    Command::Limit(n) if !seen_limit => {
                        cap = cap.min(*n);
                        seen_limit = true;
                    }
                    Command::Fields(_) | Command::Display(_) | Command::Unmask => {}
                    _ => ok = false,
                }
            }
            ok.then_some(cap)
        };
        Execution {
            env_now_ms: ctx.now_ms,
            plan,
            ctx,
            streaming_end,
            collected,
            keep_top,
            seq: 0,
            records_matched: 0,
            records_scanned: 0,
            bytes_scanned: 0,
        }
    }

    fn env(&self) -> EvalEnv {
        EvalEnv {
            now_ms: self.env_now_ms,
            query_start_ms: self.ctx.start_ms,
            query_end_ms: self.ctx.end_ms,
        }
    }

    /// Feed one event. Events outside the context's time range are ignored
    /// and not counted as scanned.
    pub fn push(&mut self, event: &Event<'_>) {
        if event.timestamp_ms < self.ctx.start_ms || event.timestamp_ms > self.ctx.end_ms {
            return;
        }
        self.records_scanned += 1;
        self.bytes_scanned += event.message.len() as u64;
        let mut row = Row {
            fields: FieldExtractor::extract(event, Some(&self.plan.discovered_fields)),
            timestamp_ms: event.timestamp_ms,
            ptr: Some(Arc::from(event.ptr.as_str())),
            seq: self.seq,
        };
        self.seq += 1;
        let env = self.env();
        for command in &self.plan.commands[..self.streaming_end] {
            if !apply_streaming(command, &mut row, &env) {
                return;
            }
        }
        self.records_matched += 1;
        match &mut self.collected {
            Collected::Stats(acc) => {
                let Some(Command::Stats(stage)) = self.plan.commands.get(self.streaming_end) else {
                    return;
                };
                acc.add(stage, &row, &env);
            }
            Collected::Rows(rows) => {
                rows.push(row);
                if let Some(k) = self.keep_top {
                    if rows.len() >= 2 * k + 1024 {
                        let order = first_order(&self.plan, self.streaming_end);
                        sort_rows(rows, order, &env);
                        rows.truncate(k);
                    }
                }
            }
        }
    }

    /// Results so far, as if no more events were coming.
    pub fn partial(&self) -> QueryOutput {
        self.clone().finish()
    }

    pub fn finish(self) -> QueryOutput {
        let env = self.env();
        let plan = &self.plan;
        let mut index = self.streaming_end;
        let mut rows = match self.collected {
            Collected::Rows(mut rows) => {
                // Rows reach the first blocking command in the default
                // `@timestamp desc` order unless that command is a sort.
                if !plan.aggregated && !matches!(plan.commands.get(index), Some(Command::Sort(_))) {
                    sort_rows(&mut rows, None, &env);
                }
                rows
            }
            Collected::Stats(acc) => {
                let Some(Command::Stats(stage)) = plan.commands.get(index) else {
                    unreachable!()
                };
                index += 1;
                acc.rows(stage, &env)
            }
        };
        for command in &plan.commands[index..] {
            match command {
                Command::Sort(keys) => sort_rows(&mut rows, Some(keys), &env),
                Command::Limit(n) => rows.truncate(*n),
                Command::Dedup(keys) => dedup(&mut rows, keys, &env),
                Command::Stats(stage) => {
                    let mut acc = StatsAccumulator::new();
                    for row in &rows {
                        acc.add(stage, row, &env);
                    }
                    rows = acc.rows(stage, &env);
                }
                streaming => rows.retain_mut(|row| apply_streaming(streaming, row, &env)),
            }
        }
        rows.truncate(self.ctx.limit.unwrap_or(DEFAULT_LIMIT));
        QueryOutput {
            rows: rows.iter().map(|r| render_row(plan, r)).collect(),
            records_matched: self.records_matched,
            records_scanned: self.records_scanned,
            bytes_scanned: self.bytes_scanned,
        }
    }
}

fn first_order(plan: &QueryPlan, from: usize) -> Option<&[SortKey]> {
    match plan.commands.get(from) {
        Some(Command::Sort(keys)) => Some(keys),
        _ => None,
    }
}

/// Runs a per-row command; `false` drops the row.
fn apply_streaming(command: &Command, row: &mut Row, env: &EvalEnv) -> bool {
    match command {
        Command::Fields(items) | Command::Display(items) => {
            compute(items, row, env);
            true
        }
        Command::Filter(expr) => eval(expr, row, env).truthy(),
        Command::Parse { source, pattern } => {
            let Some(text) = eval(source, row, env).render() else {
                return true;
            };
            let (regex, names) = match pattern {
                ParsePattern::Glob { regex, names } | ParsePattern::Regex { regex, names } => {
                    (regex, names)
                }
            };
            if let Some(caps) = regex.captures(&text) {
                let values: Vec<(String, Value)> = match pattern {
                    ParsePattern::Glob { .. } => names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| {
                            (
                                n.clone(),
                                caps.get(i + 1)
                                    .map_or(Value::Null, |m| Value::Str(m.as_str().into())),
                            )
                        })
                        .collect(),
                    ParsePattern::Regex { .. } => names
                        .iter()
                        .map(|n| {
                            (
                                n.clone(),
                                caps.name(n)
                                    .map_or(Value::Null, |m| Value::Str(m.as_str().into())),
                            )
                        })
                        .collect(),
                };
                for (n, v) in values {
                    row.set(&n, v);
                }
            }
            true
        }
        Command::Unmask => true,
        Command::Stats(_) | Command::Sort(_) | Command::Limit(_) | Command::Dedup(_) => true,
    }
}

fn compute(items: &[NamedExpr], row: &mut Row, env: &EvalEnv) {
    for item in items {
        if let Expr::Field(name) = &item.expr {
            if name == &item.name {
                continue;
            }
        }
        let v = eval(&item.expr, row, env);
        row.set(&item.name, v);
    }
}

/// Stable sort by the keys, then arrival order; `None` is the default
/// `@timestamp desc`.
fn sort_rows(rows: &mut Vec<Row>, keys: Option<&[SortKey]>, env: &EvalEnv) {
    match keys {
        None => rows.sort_by(|a, b| b.timestamp_ms.cmp(&a.timestamp_ms).then(a.seq.cmp(&b.seq))),
        Some(keys) => {
            // Evaluate each key once per row, not once per comparison.
            let mut keyed: Vec<(Vec<Value>, Row)> = rows
                .drain(..)
                .map(|r| (keys.iter().map(|k| eval(&k.expr, &r, env)).collect(), r))
                .collect();
            keyed.sort_by(|(ka, ra), (kb, rb)| {
                for ((x, y), key) in ka.iter().zip(kb).zip(keys) {
                    // Missing values go last in either direction.
                    let ord = match (x.is_null(), y.is_null()) {
                        (false, false) if key.descending => sort_cmp(y, x),
                        _ => sort_cmp(x, y),
                    };
                    if ord.is_ne() {
                        return ord;
                    }
                }
                ra.seq.cmp(&rb.seq)
            });
            rows.extend(keyed.into_iter().map(|(_, row)| row));
        }
    }
}

/// Keeps the first row of each key combination in the current order. A row
/// with a missing key is never a duplicate.
fn dedup(rows: &mut Vec<Row>, keys: &[Expr], env: &EvalEnv) {
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    rows.retain(|row| {
        let key: Option<Vec<String>> = keys.iter().map(|k| eval(k, row, env).render()).collect();
        match key {
            None => true,
            Some(key) => seen.insert(key),
        }
    });
}

fn render_row(plan: &QueryPlan, row: &Row) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in &plan.columns {
        if let Some(v) = crate::eval::field(row, name).display() {
            out.push((name.clone(), v));
        }
    }
    if !plan.aggregated {
        if let Some(ptr) = &row.ptr {
            out.push(("@ptr".to_string(), ptr.to_string()));
        }
    }
    out
}
