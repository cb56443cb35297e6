//! CloudWatch Logs Insights query language: parser and incremental
//! evaluator.
//!
//! ```
//! use watchtrail_insights::{parse, Event, ExecutionContext};
//!
//! let query = parse("filter status >= 500 | stats count(*) as errors by path").unwrap();
//! let mut run = query.execute(ExecutionContext::unbounded(0));
//! for (i, msg) in [r#"{"status":503,"path":"/a"}"#, r#"{"status":200,"path":"/a"}"#].iter().enumerate() {
//!     run.push(&Event {
//!         timestamp_ms: i as i64,
//!         ingestion_time_ms: i as i64,
//!         message: msg,
//!         log_stream: "s",
//!         log_group: "g",
//!         ptr: format!("ptr{i}"),
//!     });
//! }
//! let out = run.finish();
//! assert_eq!(out.rows, vec![vec![("path".to_string(), "/a".to_string()), ("errors".to_string(), "1".to_string())]]);
//! assert_eq!((out.records_scanned, out.records_matched), (2, 1));
//! ```

mod ast;
mod datetime;
mod discovery;
mod eval;
mod execution;
mod functions;
mod json_walk;
mod lexer;
mod parser;
mod patterns;
mod period;
mod row;
mod sql;
mod stats;
mod value;

use std::fmt;
use std::sync::Arc;

pub use ast::SourceClause;
pub use discovery::MAX_JSON_FIELDS;
pub use execution::Execution;
pub use parser::MAX_LIMIT;
pub use period::format_timestamp;

use ast::{Command, DiffBaseline};

/// Rows a query returns when neither the query nor the caller sets a limit.
pub const DEFAULT_LIMIT: usize = 10_000;

/// A query that failed to compile. Offsets count characters (not bytes)
/// from the start of the query text; `end` is exclusive. The server maps
/// this to `MalformedQueryException` with `queryCompileError.location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at characters {}..{}",
            self.message, self.start, self.end
        )
    }
}

impl std::error::Error for QueryError {}

/// A compile error with byte offsets, converted to [`QueryError`] at the
/// API boundary.
#[derive(Debug, Clone)]
pub(crate) struct ParseFailure {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

impl ParseFailure {
    pub fn new(message: impl Into<String>, start: usize, end: usize) -> Self {
        ParseFailure {
            message: message.into(),
            start,
            end,
        }
    }
}

/// One log event as the store or a file reader supplies it.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub timestamp_ms: i64,
    pub ingestion_time_ms: i64,
    pub message: &'a str,
    pub log_stream: &'a str,
    /// The value of `@log`; the server passes `account-id:log-group-name`.
    pub log_group: &'a str,
    /// Opaque `@ptr` for GetLogRecord.
    pub ptr: String,
}

/// Per-run settings that are not part of the query text.
#[derive(Debug, Clone, Copy)]
pub struct ExecutionContext {
    /// Inclusive time range; events outside it are skipped.
    pub start_ms: i64,
    pub end_ms: i64,
    /// For `now()`.
    pub now_ms: i64,
    /// StartQuery's `limit`; `None` means [`DEFAULT_LIMIT`].
    pub limit: Option<usize>,
}

impl ExecutionContext {
    /// No time restriction, for files and tests.
    pub fn unbounded(now_ms: i64) -> Self {
        ExecutionContext {
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            now_ms,
            limit: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryOutput {
    /// Each row's fields in display order, values as CloudWatch renders
    /// them. Fields missing from a row are left out of it.
    pub rows: Vec<Vec<(String, String)>>,
    pub records_matched: u64,
    pub records_scanned: u64,
    pub bytes_scanned: u64,
}

#[derive(Debug)]
pub(crate) struct QueryPlan {
    pub commands: Vec<Command>,
    /// Output columns, before `@ptr`.
    pub columns: Vec<String>,
    pub aggregated: bool,
    /// A `diff` query's baseline: events of that earlier window are
    /// pushed too.
    pub diff: Option<DiffBaseline>,
    /// The non-system fields the query reads: discovery produces only these
    /// (none at all when the list is empty).
    pub discovered_fields: Vec<String>,
}

/// A parsed and validated query.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    source: Option<SourceClause>,
    plan: Arc<QueryPlan>,
}

impl Query {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The `SOURCE` clause, if the query starts with one.
    pub fn source(&self) -> Option<&SourceClause> {
        self.source.as_ref()
    }

    /// True when the query has `stats`, `pattern` or `diff`: rows are
    /// aggregates and carry no `@ptr`.
    pub fn is_aggregate(&self) -> bool {
        self.plan.aggregated
    }

    /// The columns the query displays (rows leave out the ones they lack),
    /// not counting the `@ptr` of non-aggregated rows.
    pub fn columns(&self) -> &[String] {
        &self.plan.columns
    }

    /// The time range the caller must scan to run the query over
    /// `[start_ms, end_ms]` (inclusive): the same range, except that `diff`
    /// also needs its comparison window, which lies before it. Pass the
    /// original range in [`ExecutionContext`]; the execution splits the
    /// events into the two windows itself (events between the windows, as
    /// with `diff previousDay` over a short range, are ignored).
    pub fn required_range(&self, start_ms: i64, end_ms: i64) -> (i64, i64) {
        match self
            .plan
            .diff
            .and_then(|b| patterns::baseline_window(b, start_ms, end_ms))
        {
            Some((baseline_start, _)) => (baseline_start.min(start_ms), end_ms),
            None => (start_ms, end_ms),
        }
    }

    pub fn execute(&self, ctx: ExecutionContext) -> Execution {
        Execution::new(Arc::clone(&self.plan), ctx)
    }
}

/// Compiles a Logs Insights (`queryLanguage: CWLI`) query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let parsed = parser::QueryParser::new(text)
        .parse()
        .map_err(|f| query_error(text, f))?;
    Ok(build_query(text, parsed))
}

/// Compiles a SQL (`queryLanguage: SQL`) query: the subset the crate
/// README documents. The `FROM` log groups are in
/// `Query::source().log_group_names`, in the order written.
pub fn parse_sql(text: &str) -> Result<Query, QueryError> {
    let parsed = sql::translate(text).map_err(|f| query_error(text, f))?;
    Ok(build_query(text, parsed))
}

fn query_error(text: &str, f: ParseFailure) -> QueryError {
    let start = f.start.min(text.len());
    let end = f.end.clamp(start, text.len());
    let to_chars = |byte: usize| text[..floor_char_boundary(text, byte)].chars().count();
    QueryError {
        message: f.message,
        start: to_chars(start),
        end: to_chars(end),
    }
}

fn build_query(text: &str, parsed: parser::ParsedQuery) -> Query {
    let mut columns: Option<Vec<String>> = None;
    let mut display: Option<Vec<String>> = None;
    let mut aggregated = false;
    let mut diff = None;
    for command in &parsed.commands {
        match command {
            Command::Fields(items) => {
                let cols = columns.get_or_insert_with(Vec::new);
                for item in items {
                    if !cols.contains(&item.name) {
                        cols.push(item.name.clone());
                    }
                }
            }
            Command::Display(items) => {
                display = Some(items.iter().map(|i| i.name.clone()).collect())
            }
            Command::Stats(stage) => {
                aggregated = true;
                let mut cols: Vec<String> = stage.group_by.iter().map(|g| g.name.clone()).collect();
                cols.extend(stage.outputs.iter().map(|o| o.name.clone()));
                columns = Some(cols);
                display = None;
            }
            Command::Pattern(_) | Command::Diff(_) => {
                aggregated = true;
                let names = if let Command::Diff(b) = command {
                    diff = Some(*b);
                    patterns::DIFF_COLUMNS
                } else {
                    patterns::PATTERN_COLUMNS
                };
                columns = Some(names.iter().map(|n| n.to_string()).collect());
                display = None;
            }
            _ => {}
        }
    }
    Query {
        text: text.to_string(),
        source: parsed.source,
        plan: Arc::new(QueryPlan {
            commands: parsed.commands,
            // Without fields, display or stats, Logs Insights shows the
            // timestamp and the raw message.
            columns: display
                .or(columns)
                .unwrap_or_else(|| vec!["@timestamp".to_string(), "@message".to_string()]),
            aggregated,
            diff,
            discovered_fields: {
                let mut names: Vec<String> = parsed
                    .referenced_fields
                    .into_iter()
                    .filter(|name| !discovery::SYSTEM_FIELDS.contains(&name.as_str()))
                    .collect();
                names.sort();
                names.dedup();
                names
            },
        }),
    }
}

/// Every field of one event as Logs Insights would discover it, rendered
/// as in query results: system fields first, then discovered ones. For
/// GetLogRecord and GetLogGroupFields.
pub fn event_fields(event: &Event<'_>) -> Vec<(String, String)> {
    discovery::FieldExtractor::extract(event, None)
        .into_iter()
        .filter_map(|(name, value)| value.display().map(|v| (name, v)))
        .collect()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
