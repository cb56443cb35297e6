//! The parsed form of a query.

use regex::Regex;

use crate::functions::ScalarFunction;
use crate::period::Period;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Literal(Value),
    Field(String),
    Period(Period),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `like "text"` (substring), `like /re/`, `=~ /re/`.
    Like {
        expr: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Call {
        function: ScalarFunction,
        args: Vec<Expr>,
    },
    /// A regex literal passed to a function (`regexReplace(f, /re/, "x")`).
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub enum LikePattern {
    Substring(String),
    Regex(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    Avg,
    Count,
    CountStar,
    CountDistinct,
    Max,
    Min,
    Sum,
    Stddev,
    Pct,
    Earliest,
    Latest,
    SortsFirst,
    SortsLast,
}

impl AggregateKind {
    pub fn from_name(name: &str) -> Option<AggregateKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "avg" => AggregateKind::Avg,
            "count" => AggregateKind::Count,
            "count_distinct" => AggregateKind::CountDistinct,
            "max" => AggregateKind::Max,
            "min" => AggregateKind::Min,
            "sum" => AggregateKind::Sum,
            "stddev" => AggregateKind::Stddev,
            "pct" => AggregateKind::Pct,
            "earliest" => AggregateKind::Earliest,
            "latest" => AggregateKind::Latest,
            "sortsfirst" => AggregateKind::SortsFirst,
            "sortslast" => AggregateKind::SortsLast,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Aggregation {
    pub kind: AggregateKind,
    /// `None` for `count()` / `count(*)`.
    pub arg: Option<Expr>,
    /// The percentile for `pct`.
    pub percentile: f64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NamedExpr {
    pub expr: Expr,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct StatsStage {
    /// Every aggregation call, each filling the column `name`.
    pub aggregations: Vec<Aggregation>,
    /// The output columns: a bare aggregation's own column, or an
    /// expression over aggregation columns (`sum(a) / count(*)`).
    pub outputs: Vec<NamedExpr>,
    pub group_by: Vec<NamedExpr>,
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub enum ParsePattern {
    /// `"a=*,b=*"` compiled to a regex with one group per `*`, and the alias
    /// of each group.
    Glob { regex: Regex, names: Vec<String> },
    /// `/…(?<name>…)…/`: each named group becomes a field.
    Regex { regex: Regex, names: Vec<String> },
    /// `/(…)(…)/ as a, b`: the capture groups in order fill the aliases.
    RegexAliased { regex: Regex, names: Vec<String> },
    /// `logfmt as m`: the `key=value` pairs become the map `m`.
    Logfmt { name: String },
    /// `csv as a, b`: the comma-separated values fill the aliases in order.
    Csv { names: Vec<String> },
    /// `json field=F "a.b" as x`: the value at a path of a JSON text or
    /// map.
    JsonPath { path: String, name: String },
}

/// `diff` and its modifiers: which earlier window the current one is
/// compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffBaseline {
    /// `diff`: the window of equal length right before the query's.
    Period,
    /// `diff previousDay`.
    Day,
    /// `diff previousWeek`.
    Week,
    /// `diff previousMonth`: the same span one calendar month earlier.
    Month,
}

#[derive(Debug, Clone)]
pub enum Command {
    Fields(Vec<NamedExpr>),
    Display(Vec<NamedExpr>),
    Filter(Expr),
    Parse {
        source: Expr,
        pattern: ParsePattern,
        /// `multi`: one row per match instead of the first match only.
        multi: bool,
    },
    Stats(StatsStage),
    Sort(Vec<SortKey>),
    Limit(usize),
    /// `limit any N`: the first N rows found, in no particular order; the
    /// caller may stop scanning once [`crate::Execution::is_satisfied`].
    LimitAny(usize),
    Dedup(Vec<Expr>),
    /// `pattern expr`: cluster the values into templates.
    Pattern(Expr),
    /// `diff`: patterns of the current window against a baseline window.
    Diff(DiffBaseline),
}

impl Command {
    /// Commands that need every row before they can emit one.
    pub fn is_blocking(&self) -> bool {
        matches!(
            self,
            Command::Stats(_)
                | Command::Sort(_)
                | Command::Limit(_)
                | Command::LimitAny(_)
                | Command::Dedup(_)
                | Command::Pattern(_)
                | Command::Diff(_)
        )
    }
}

/// `SOURCE …` at the start of a query: which log groups to read. The engine
/// does not select groups itself; the server reads this.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceClause {
    /// `SOURCE "lg1", "lg2"`.
    pub log_group_names: Vec<String>,
    /// `SOURCE logGroups(namePrefix: [...])`.
    pub name_prefixes: Vec<String>,
    pub account_identifiers: Vec<String>,
    pub log_group_classes: Vec<String>,
    /// `START=<ms>` / `END=<ms>` as written (epoch milliseconds).
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}
