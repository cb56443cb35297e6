//! Incremental evaluation: events arrive in any order through `push`; the
//! commands that need all rows (stats, sort, limit, dedup) run at `finish`.

use std::collections::HashSet;
use std::sync::Arc;

use regex::Captures;

use crate::ast::{Command, Expr, NamedExpr, ParsePattern, SortKey};
use crate::discovery::FieldExtractor;
use crate::eval::{eval, EvalEnv};
use crate::patterns;
use crate::row::{Row, Window};
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
    /// `limit any N` right after the streaming commands: collect N rows,
    /// then ignore further events.
    any_cap: Option<usize>,
    /// A `diff` query's comparison window (inclusive).
    baseline: Option<(i64, i64)>,
    /// Rows one event turned into, reused between events.
    scratch: Vec<Row>,
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
        let any_cap = match plan.commands.get(streaming_end) {
            Some(Command::LimitAny(n)) => Some((*n).min(final_limit)),
            _ => None,
        };
        let baseline = plan
            .diff
            .and_then(|b| patterns::baseline_window(b, ctx.start_ms, ctx.end_ms));
        let keep_top = if plan.aggregated || any_cap.is_some() {
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
                    Command::Fields(_) | Command::Display(_) => {}
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
            any_cap,
            baseline,
            scratch: Vec::new(),
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

    /// Feed one event. Events outside the context's time range (and, for
    /// `diff`, outside the comparison window) are ignored and not counted
    /// as scanned.
    pub fn push(&mut self, event: &Event<'_>) {
        let ts = event.timestamp_ms;
        let window = Window {
            current: ts >= self.ctx.start_ms && ts <= self.ctx.end_ms,
            baseline: self.baseline.is_some_and(|(s, e)| ts >= s && ts <= e),
        };
        if (!window.current && !window.baseline) || self.is_satisfied() {
            return;
        }
        self.records_scanned += 1;
        self.bytes_scanned += event.message.len() as u64;
        let row = Row {
            fields: FieldExtractor::extract(event, Some(&self.plan.discovered_fields)),
            timestamp_ms: ts,
            ptr: self.needs_ptr().then(|| Arc::from(event.ptr.as_str())),
            seq: 0,
            window,
        };
        let env = self.env();
        let plan = Arc::clone(&self.plan);
        let mut out = std::mem::take(&mut self.scratch);
        stream_row(&plan.commands[..self.streaming_end], row, &env, &mut out);
        if !out.is_empty() {
            self.records_matched += 1;
        }
        for mut row in out.drain(..) {
            row.seq = self.seq;
            self.seq += 1;
            self.collect(row, &plan, &env);
        }
        self.scratch = out;
    }

    fn collect(&mut self, row: Row, plan: &QueryPlan, env: &EvalEnv) {
        match &mut self.collected {
            Collected::Stats(acc) => {
                let Some(Command::Stats(stage)) = plan.commands.get(self.streaming_end) else {
                    return;
                };
                acc.add(stage, &row, env);
            }
            Collected::Rows(rows) => {
                if self.any_cap.is_some_and(|cap| rows.len() >= cap) {
                    return;
                }
                rows.push(row);
                if let Some(k) = self.keep_top {
                    if rows.len() >= 2 * k + 1024 {
                        let order = first_order(plan, self.streaming_end);
                        sort_rows(rows, order, env);
                        rows.truncate(k);
                    }
                }
            }
        }
    }

    /// True once a `limit any N` query has its N rows: the caller may stop
    /// scanning, further events are ignored.
    /// Whether rows can show `@ptr`. When false (`stats`, `pattern`, `diff`), `push` ignores
    /// [`Event::ptr`], so callers on the scan path may pass an empty one instead of encoding it.
    pub fn needs_ptr(&self) -> bool {
        !self.plan.aggregated
    }

    pub fn is_satisfied(&self) -> bool {
        match (&self.collected, self.any_cap) {
            (Collected::Rows(rows), Some(cap)) => rows.len() >= cap,
            _ => false,
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
                // `@timestamp desc` order unless that command orders them
                // itself, wants arrival order (`limit any`) or ignores order.
                if !matches!(
                    plan.commands.get(index),
                    Some(
                        Command::Sort(_)
                            | Command::LimitAny(_)
                            | Command::Pattern(_)
                            | Command::Diff(_)
                    )
                ) {
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
                Command::Limit(n) | Command::LimitAny(n) => rows.truncate(*n),
                Command::Pattern(expr) => rows = patterns::pattern_rows(expr, &rows, &env),
                Command::Diff(_) => rows = patterns::diff_rows(&rows, &env),
                Command::Dedup(keys) => dedup(&mut rows, keys, &env),
                Command::Stats(stage) => {
                    let mut acc = StatsAccumulator::new();
                    for row in &rows {
                        acc.add(stage, row, &env);
                    }
                    rows = acc.rows(stage, &env);
                }
                streaming => {
                    let mut out = Vec::with_capacity(rows.len());
                    for row in rows {
                        stream_row(std::slice::from_ref(streaming), row, &env, &mut out);
                    }
                    rows = out;
                }
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

/// What a per-row command did to a row.
enum Step {
    Keep,
    Drop,
    /// `parse … multi` found several matches: one row each.
    Split(Vec<Row>),
}

/// Runs the per-row commands over one row, pushing every row that comes
/// out (none if a filter drops it, several after `parse … multi`).
fn stream_row(commands: &[Command], mut row: Row, env: &EvalEnv, out: &mut Vec<Row>) {
    for (i, command) in commands.iter().enumerate() {
        match apply_streaming(command, &mut row, env) {
            Step::Keep => {}
            Step::Drop => return,
            Step::Split(rows) => {
                for r in rows {
                    stream_row(&commands[i + 1..], r, env, out);
                }
                return;
            }
        }
    }
    out.push(row);
}

fn apply_streaming(command: &Command, row: &mut Row, env: &EvalEnv) -> Step {
    match command {
        Command::Fields(items) | Command::Display(items) => {
            compute(items, row, env);
            Step::Keep
        }
        Command::Filter(expr) => {
            if eval(expr, row, env).truthy() {
                Step::Keep
            } else {
                Step::Drop
            }
        }
        Command::Parse {
            source,
            pattern,
            multi,
        } => {
            // Events whose source is missing or does not match are kept
            // without the new fields.
            let value = eval(source, row, env);
            if let ParsePattern::JsonPath { path, name } = pattern {
                let found = match &value {
                    Value::Structured(json) => {
                        crate::eval::navigate(json, path).map(Value::from_json)
                    }
                    Value::Str(s) => serde_json::from_str::<serde_json::Value>(s)
                        .ok()
                        .and_then(|json| crate::eval::navigate(&json, path).map(Value::from_json)),
                    _ => None,
                };
                if let Some(v) = found.filter(|v| !v.is_null()) {
                    row.set(name, v);
                }
                return Step::Keep;
            }
            let Some(text) = value.render() else {
                return Step::Keep;
            };
            match pattern {
                ParsePattern::Glob { regex, .. }
                | ParsePattern::Regex { regex, .. }
                | ParsePattern::RegexAliased { regex, .. } => {
                    if *multi {
                        let all: Vec<Captures> = regex.captures_iter(&text).collect();
                        if all.len() > 1 {
                            return Step::Split(
                                all.iter()
                                    .map(|caps| {
                                        let mut r = row.clone();
                                        set_captures(pattern, caps, &mut r);
                                        r
                                    })
                                    .collect(),
                            );
                        }
                        if let Some(caps) = all.first() {
                            set_captures(pattern, caps, row);
                        }
                    } else if let Some(caps) = regex.captures(&text) {
                        set_captures(pattern, &caps, row);
                    }
                }
                ParsePattern::Logfmt { name } => {
                    let pairs = parse_logfmt(&text);
                    if !pairs.is_empty() {
                        row.set(
                            name,
                            Value::Structured(Arc::new(serde_json::Value::Object(pairs))),
                        );
                    }
                }
                ParsePattern::Csv { names } => {
                    for (name, value) in names.iter().zip(parse_csv_line(&text)) {
                        row.set(name, Value::Str(value));
                    }
                }
                ParsePattern::JsonPath { .. } => {}
            }
            Step::Keep
        }
        Command::Stats(_)
        | Command::Sort(_)
        | Command::Limit(_)
        | Command::LimitAny(_)
        | Command::Dedup(_)
        | Command::Pattern(_)
        | Command::Diff(_) => Step::Keep,
    }
}

fn set_captures(pattern: &ParsePattern, caps: &Captures<'_>, row: &mut Row) {
    let text_of =
        |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| Value::Str(m.as_str().into()));
    match pattern {
        ParsePattern::Glob { names, .. } | ParsePattern::RegexAliased { names, .. } => {
            for (i, n) in names.iter().enumerate() {
                row.set(n, text_of(caps.get(i + 1)));
            }
        }
        ParsePattern::Regex { names, .. } => {
            for n in names {
                row.set(n, text_of(caps.name(n)));
            }
        }
        ParsePattern::Logfmt { .. } | ParsePattern::Csv { .. } | ParsePattern::JsonPath { .. } => {}
    }
}

/// `key=value key2="quoted value" flag`: a bare key gets an empty value; a
/// later duplicate key wins, as in the Go logfmt decoders.
pub(crate) fn parse_logfmt(text: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                end = i;
                break;
            }
            chars.next();
        }
        let key = &text[start..end];
        let mut value = String::new();
        if chars.peek().is_some_and(|(_, c)| *c == '=') {
            chars.next();
            if chars.peek().is_some_and(|(_, c)| *c == '"') {
                chars.next();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some((_, 'n')) => value.push('\n'),
                            Some((_, 't')) => value.push('\t'),
                            Some((_, other)) => value.push(other),
                            None => break,
                        },
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        if !key.is_empty() {
            map.insert(key.to_string(), serde_json::Value::String(value));
        }
    }
    map
}

/// One CSV record (RFC 4180): commas separate values, a double-quoted value
/// may contain commas and `""` for a quote.
pub(crate) fn parse_csv_line(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        value.push('"');
                    } else {
                        break;
                    }
                } else {
                    value.push(c);
                }
            }
            // Anything between the closing quote and the comma is kept.
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push(value);
        if chars.next().is_none() {
            return out;
        }
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
