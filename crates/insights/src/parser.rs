//! Recursive-descent parser for the Logs Insights query language.

use regex::{Regex, RegexBuilder};

use crate::ast::*;
use crate::functions::ScalarFunction;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::value::Value;
use crate::ParseFailure;

/// Largest `limit` a query may ask for (StartQuery's own `limit` ceiling).
pub const MAX_LIMIT: usize = 100_000;
const MAX_STATS_STAGES: usize = 2;
/// Compiled-regex size cap, so a hostile pattern cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

type PResult<T> = Result<T, ParseFailure>;
/// How deeply expressions may nest (parentheses, `not`, unary minus,
/// function arguments), so hostile input cannot overflow the stack.
pub const MAX_EXPR_DEPTH: usize = 64;
/// Why `unmask` is always refused: AWS requires a data protection policy
/// on the log group, and watchtrail has none, so nothing is ever masked.
const UNMASK_ERROR: &str = "unmask needs a data protection policy on the log group, and watchtrail has no data protection policies: no data is masked, so there is nothing to unmask";

/// Commands this engine recognises but does not evaluate yet; they are
/// rejected with an error instead of being ignored.
const UNSUPPORTED_COMMANDS: &[&str] = &[
    "anomaly",
    "unnest",
    "lookup",
    "join",
    "addtotals",
    "autoregress",
    "logcompare",
    "filldown",
    "fillmissing",
    "cidrlookup",
    "outlier",
    "accum",
    "appendcols",
    "sessionize",
    "countfrequent",
    "relevantfields",
    "expand",
    "head",
    "tail",
];

pub struct QueryParser<'a> {
    lexer: Lexer<'a>,
    pos: usize,
    stats_seen: usize,
    /// Output names of the first stats stage, which are all a second stage
    /// may read.
    first_stats_outputs: Vec<String>,
    in_stats: bool,
    /// True while parsing a stats output expression outside any
    /// aggregation's arguments: the only place aggregations may appear.
    aggregation_allowed: bool,
    /// Aggregations of the stats command being parsed.
    pending_aggregations: Vec<Aggregation>,
    /// Field references of the command being parsed, with their spans.
    field_refs: Vec<(String, usize, usize)>,
    all_field_refs: Vec<String>,
    period_allowed: bool,
    regex_allowed: bool,
    depth: usize,
}

pub struct ParsedQuery {
    pub source: Option<SourceClause>,
    pub commands: Vec<Command>,
    /// Every field name the query reads, so execution can skip discovery
    /// when only system fields are needed.
    pub referenced_fields: Vec<String>,
}

impl<'a> QueryParser<'a> {
    pub fn new(text: &'a str) -> Self {
        QueryParser {
            lexer: Lexer::new(text),
            pos: 0,
            stats_seen: 0,
            first_stats_outputs: Vec::new(),
            in_stats: false,
            aggregation_allowed: false,
            pending_aggregations: Vec::new(),
            field_refs: Vec::new(),
            all_field_refs: Vec::new(),
            period_allowed: false,
            regex_allowed: false,
            depth: 0,
        }
    }

    fn peek(&self) -> PResult<Token> {
        self.lexer.token_at(self.pos)
    }

    fn bump(&mut self) -> PResult<Token> {
        let t = self.peek()?;
        self.pos = t.end;
        Ok(t)
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        let t = self.peek()?;
        if t.kind == kind {
            self.pos = t.end;
            Ok(t)
        } else {
            Err(unexpected(self.lexer.source(), &t, what))
        }
    }

    fn eat_keyword(&mut self, kw: &str) -> PResult<bool> {
        let t = self.peek()?;
        if t.is_keyword(kw) {
            self.pos = t.end;
            return Ok(true);
        }
        Ok(false)
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.lexer.source()[start..end].trim().to_string()
    }

    pub fn parse(mut self) -> PResult<ParsedQuery> {
        let mut source = None;
        let mut commands = Vec::new();
        // Position of the first sort/limit/dedup, which no stats may follow.
        let mut blocking_before_stats: Option<(String, usize, usize)> = None;
        let mut dedup_at = None;
        // `pattern`/`diff` and stats each turn rows into aggregates; a query
        // has at most one of those kinds.
        let mut clustering: Option<String> = None;
        loop {
            let t = self.peek()?;
            if t.kind == TokenKind::End {
                let (s, e) = (t.start, t.end);
                if commands.is_empty() && source.is_none() {
                    return Err(ParseFailure::new("the query is empty", s, e));
                }
                return Err(ParseFailure::new("expected a command after '|'", s, e));
            }
            let Some(kw) = t.keyword() else {
                return Err(ParseFailure::new(
                    "expected a command such as fields, filter or stats",
                    t.start,
                    t.end,
                ));
            };
            if kw == "source" {
                if source.is_some() || !commands.is_empty() {
                    return Err(ParseFailure::new(
                        "SOURCE must be the first command of the query",
                        t.start,
                        t.end,
                    ));
                }
                self.bump()?;
                source = Some(self.parse_source()?);
            } else {
                if dedup_at.is_some() && kw != "limit" {
                    return Err(ParseFailure::new(
                        "only limit may follow dedup",
                        t.start,
                        t.end,
                    ));
                }
                self.field_refs.clear();
                let command = self.parse_command(&kw, &t)?;
                self.all_field_refs
                    .extend(self.field_refs.iter().map(|(n, _, _)| n.clone()));
                match &command {
                    Command::Pattern(_) | Command::Diff(_) => {
                        if let Some(first) = &clustering {
                            return Err(ParseFailure::new(
                                format!("{kw} cannot follow {first}: a query has one stats, pattern or diff stage"),
                                t.start,
                                t.end,
                            ));
                        }
                        if self.stats_seen > 0 {
                            return Err(ParseFailure::new(
                                format!("{kw} cannot follow stats: it clusters log events, not aggregated rows"),
                                t.start,
                                t.end,
                            ));
                        }
                        clustering = Some(kw.clone());
                    }
                    Command::Stats(_) => {
                        if let Some(first) = &clustering {
                            return Err(ParseFailure::new(
                                format!("stats cannot follow {first}"),
                                t.start,
                                t.end,
                            ));
                        }
                        if let Some((name, _, _)) = &blocking_before_stats {
                            return Err(ParseFailure::new(
                                format!("stats must come before {name}: sort, limit and dedup apply to the final rows"),
                                t.start,
                                t.end,
                            ));
                        }
                    }
                    Command::Sort(_)
                    | Command::Limit(_)
                    | Command::LimitAny(_)
                    | Command::Dedup(_) => {
                        if blocking_before_stats.is_none() {
                            blocking_before_stats = Some((kw.clone(), t.start, t.end));
                        }
                        if matches!(command, Command::Dedup(_)) {
                            dedup_at = Some(t.start);
                        }
                    }
                    _ => {}
                }
                commands.push(command);
            }
            let t = self.peek()?;
            match t.kind {
                TokenKind::End => break,
                TokenKind::Pipe => {
                    self.bump()?;
                }
                _ => {
                    return Err(unexpected(
                        self.lexer.source(),
                        &t,
                        "'|' or the end of the query",
                    ))
                }
            }
        }
        Ok(ParsedQuery {
            source,
            commands,
            referenced_fields: self.all_field_refs,
        })
    }

    fn parse_command(&mut self, kw: &str, t: &Token) -> PResult<Command> {
        match kw {
            "fields" | "display" => {
                self.bump()?;
                let items = self.parse_named_list()?;
                Ok(if kw == "fields" {
                    Command::Fields(items)
                } else {
                    Command::Display(items)
                })
            }
            "filter" | "where" => {
                self.bump()?;
                Ok(Command::Filter(self.parse_expr()?))
            }
            "filterindex" => {
                self.bump()?;
                self.parse_filter_index()
            }
            "stats" => {
                self.bump()?;
                self.parse_stats(t)
            }
            "sort" => {
                self.bump()?;
                let mut keys = Vec::new();
                loop {
                    let expr = self.parse_expr()?;
                    let descending = if self.eat_keyword("desc")? {
                        true
                    } else {
                        self.eat_keyword("asc")?;
                        false
                    };
                    keys.push(SortKey { expr, descending });
                    if self.peek()?.kind != TokenKind::Comma {
                        break;
                    }
                    self.bump()?;
                }
                Ok(Command::Sort(keys))
            }
            "limit" => {
                self.bump()?;
                let any = self.eat_keyword("any")?;
                let n = self.bump()?;
                match n.kind {
                    TokenKind::Int(v) if (1..=MAX_LIMIT as i64).contains(&v) => Ok(if any {
                        Command::LimitAny(v as usize)
                    } else {
                        Command::Limit(v as usize)
                    }),
                    TokenKind::Int(_) => Err(ParseFailure::new(
                        format!("limit must be between 1 and {MAX_LIMIT}"),
                        n.start,
                        n.end,
                    )),
                    _ => Err(unexpected(
                        self.lexer.source(),
                        &n,
                        "a whole number of rows",
                    )),
                }
            }
            "parse" => {
                self.bump()?;
                self.parse_parse()
            }
            "dedup" => {
                self.bump()?;
                let mut keys = Vec::new();
                loop {
                    let n = self.bump()?;
                    match n.kind {
                        TokenKind::Name { text, .. } => {
                            self.field_refs.push((text.clone(), n.start, n.end));
                            keys.push(Expr::Field(text));
                        }
                        _ => return Err(unexpected(self.lexer.source(), &n, "a field name")),
                    }
                    if self.peek()?.kind != TokenKind::Comma {
                        break;
                    }
                    self.bump()?;
                }
                Ok(Command::Dedup(keys))
            }
            "unmask" => Err(ParseFailure::new(UNMASK_ERROR, t.start, t.end)),
            "pattern" => {
                self.bump()?;
                Ok(Command::Pattern(self.parse_expr()?))
            }
            "json" => {
                // `json field=F "a.b" as x`, from AWS's parse page.
                self.bump()?;
                let k = self.bump()?;
                if !k.is_keyword("field") {
                    return Err(unexpected(self.lexer.source(), &k, "field=<name>"));
                }
                self.expect(TokenKind::Eq, "'='")?;
                let f = self.bump()?;
                let TokenKind::Name { text: field, .. } = f.kind else {
                    return Err(unexpected(self.lexer.source(), &f, "a field name"));
                };
                self.field_refs.push((field.clone(), f.start, f.end));
                let p = self.bump()?;
                let TokenKind::Str(path) = p.kind else {
                    return Err(unexpected(
                        self.lexer.source(),
                        &p,
                        "a quoted key path such as \"user.name\"",
                    ));
                };
                if path.is_empty() {
                    return Err(ParseFailure::new("the key path is empty", p.start, p.end));
                }
                let (names, names_start) =
                    self.parse_as_names("'as' and the name of the new field")?;
                if names.len() != 1 {
                    return Err(ParseFailure::new(
                        "json field=… takes one name after 'as'",
                        names_start,
                        self.pos,
                    ));
                }
                Ok(Command::Parse {
                    source: Expr::Field(field),
                    pattern: ParsePattern::JsonPath {
                        path,
                        name: names.into_iter().next().unwrap_or_default(),
                    },
                    multi: false,
                })
            }
            "diff" => {
                self.bump()?;
                let m = self.peek()?;
                let baseline =
                    match m.keyword().as_deref() {
                        Some("previousday") => DiffBaseline::Day,
                        Some("previousweek") => DiffBaseline::Week,
                        Some("previousmonth") => DiffBaseline::Month,
                        _ if matches!(m.kind, TokenKind::Pipe | TokenKind::End) => {
                            return Ok(Command::Diff(DiffBaseline::Period))
                        }
                        _ => return Err(unexpected(
                            self.lexer.source(),
                            &m,
                            "previousDay, previousWeek, previousMonth, '|' or the end of the query",
                        )),
                    };
                self.bump()?;
                Ok(Command::Diff(baseline))
            }
            _ if UNSUPPORTED_COMMANDS.contains(&kw) => Err(ParseFailure::new(
                format!("the {kw} command is not supported by watchtrail yet"),
                t.start,
                t.end,
            )),
            _ => Err(ParseFailure::new(
                format!("unknown command '{}'", self.text(t.start, t.end)),
                t.start,
                t.end,
            )),
        }
    }

    fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_named_expr()?);
            if self.peek()?.kind != TokenKind::Comma {
                return Ok(items);
            }
            self.bump()?;
        }
    }

    fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let start = self.peek()?.start;
        let expr = self.parse_expr()?;
        let end = self.pos;
        let name = self.parse_alias()?.unwrap_or_else(|| match &expr {
            Expr::Field(name) => name.clone(),
            _ => self.text(start, end),
        });
        Ok(NamedExpr { expr, name })
    }

    fn parse_alias(&mut self) -> PResult<Option<String>> {
        if !self.eat_keyword("as")? {
            return Ok(None);
        }
        let n = self.bump()?;
        match n.kind {
            TokenKind::Name { text, .. } => Ok(Some(text)),
            _ => Err(unexpected(
                self.lexer.source(),
                &n,
                "a field name after 'as'",
            )),
        }
    }

    fn parse_filter_index(&mut self) -> PResult<Command> {
        let start = self.peek()?.start;
        let expr = self.parse_expr()?;
        let ok = match &expr {
            Expr::Binary(BinaryOp::Eq, l, r) => {
                matches!(**l, Expr::Field(_)) && matches!(**r, Expr::Literal(_))
            }
            Expr::In {
                expr,
                list,
                negated: false,
            } => {
                matches!(**expr, Expr::Field(_))
                    && list.iter().all(|e| matches!(e, Expr::Literal(_)))
            }
            _ => false,
        };
        if !ok {
            return Err(ParseFailure::new(
                "filterIndex takes 'field = value' or 'field in [values]'",
                start,
                self.pos,
            ));
        }
        Ok(Command::Filter(expr))
    }

    fn parse_stats(&mut self, stats_token: &Token) -> PResult<Command> {
        if self.stats_seen >= MAX_STATS_STAGES {
            return Err(ParseFailure::new(
                "a query may have at most 2 stats commands",
                stats_token.start,
                stats_token.end,
            ));
        }
        self.in_stats = true;
        self.pending_aggregations.clear();
        let mut outputs = Vec::new();
        loop {
            let start = self.peek()?.start;
            let first = self.pending_aggregations.len();
            let refs_before = self.field_refs.len();
            self.aggregation_allowed = true;
            let expr = self.parse_expr();
            self.aggregation_allowed = false;
            let expr = expr?;
            let end = self.pos;
            if self.pending_aggregations.len() == first {
                // Without an aggregation, an output may only combine the
                // outputs before it (`max(a) as hi, min(a) as lo, hi - lo as range`).
                let own = &self.field_refs[refs_before..];
                let combines_outputs = !own.is_empty()
                    && own
                        .iter()
                        .all(|(name, _, _)| outputs.iter().any(|o: &NamedExpr| o.name == *name));
                if !combines_outputs {
                    return Err(ParseFailure::new(
                        "stats expects an aggregation such as count(*), sum(x) or avg(x), or an expression over earlier stats outputs",
                        start,
                        end.max(start + 1),
                    ));
                }
                self.field_refs.truncate(refs_before);
            }
            let name = self.parse_alias()?.unwrap_or_else(|| self.text(start, end));
            let single = matches!(&expr, Expr::Field(f) if *f == hidden_aggregation_name(first))
                && self.pending_aggregations.len() == first + 1;
            if single {
                // A bare aggregation is its own output column.
                self.pending_aggregations[first].name = name.clone();
                outputs.push(NamedExpr {
                    expr: Expr::Field(name.clone()),
                    name,
                });
            } else {
                outputs.push(NamedExpr { expr, name });
            }
            if self.peek()?.kind != TokenKind::Comma {
                break;
            }
            self.bump()?;
        }
        let aggregations = std::mem::take(&mut self.pending_aggregations);
        let mut group_by = Vec::new();
        if self.eat_keyword("by")? {
            group_by = self.parse_named_list()?;
        }
        self.in_stats = false;
        if self.stats_seen == 1 {
            for (name, s, e) in &self.field_refs {
                if !self.first_stats_outputs.iter().any(|o| o == name) {
                    return Err(ParseFailure::new(
                        format!("the second stats may only use fields produced by the first stats; '{name}' is not one of them"),
                        *s,
                        *e,
                    ));
                }
            }
        }
        self.stats_seen += 1;
        let mut names: Vec<String> = group_by.iter().map(|g| g.name.clone()).collect();
        names.extend(outputs.iter().map(|o| o.name.clone()));
        self.first_stats_outputs = names;
        Ok(Command::Stats(StatsStage {
            aggregations,
            outputs,
            group_by,
        }))
    }

    /// The arguments of an aggregation whose name and `(` were consumed;
    /// returns a reference to its (hidden) result column.
    fn parse_aggregation_call(&mut self, mut kind: AggregateKind) -> PResult<Expr> {
        let mut arg = None;
        let mut percentile = 0.0;
        let next = self.peek()?;
        if kind == AggregateKind::Count && next.kind == TokenKind::Star {
            self.bump()?;
            kind = AggregateKind::CountStar;
        } else if kind == AggregateKind::Count && next.kind == TokenKind::RParen {
            kind = AggregateKind::CountStar;
        } else {
            arg = Some(self.parse_expr()?);
            if kind == AggregateKind::Pct {
                self.expect(TokenKind::Comma, "',' and a percentile")?;
                let p = self.bump()?;
                percentile = match p.kind {
                    TokenKind::Int(v) if (0..=100).contains(&v) => v as f64,
                    TokenKind::Float(v) if (0.0..=100.0).contains(&v) => v,
                    _ => {
                        return Err(unexpected(
                            self.lexer.source(),
                            &p,
                            "a percentile between 0 and 100",
                        ))
                    }
                };
            }
        }
        self.expect(TokenKind::RParen, "')'")?;
        let name = hidden_aggregation_name(self.pending_aggregations.len());
        self.pending_aggregations.push(Aggregation {
            kind,
            arg,
            percentile,
            name: name.clone(),
        });
        Ok(Expr::Field(name))
    }

    fn parse_parse(&mut self) -> PResult<Command> {
        let mut t = self.peek()?;
        let is_mode = |t: &Token| t.is_keyword("logfmt") || t.is_keyword("csv");
        // `parse logfmt as m` reads @message; `parse f logfmt as m` reads f.
        let mode_without_field = is_mode(&t) && self.lexer.token_at(t.end)?.is_keyword("as");
        let source = match &t.kind {
            TokenKind::Name { text, .. } if !mode_without_field => {
                let name = text.clone();
                self.bump()?;
                self.field_refs.push((name.clone(), t.start, t.end));
                t = self.peek()?;
                Expr::Field(name)
            }
            _ => Expr::Field("@message".to_string()),
        };
        let pattern = match t.kind {
            TokenKind::Str(glob) => {
                self.bump()?;
                let stars = glob.matches('*').count();
                if stars == 0 {
                    return Err(ParseFailure::new(
                        "a parse pattern needs at least one '*'",
                        t.start,
                        t.end,
                    ));
                }
                let (names, names_start) =
                    self.parse_as_names("'as' and one field name per '*'")?;
                if names.len() != stars {
                    return Err(ParseFailure::new(
                        format!(
                            "the pattern has {stars} '*' but {} field names follow 'as'",
                            names.len()
                        ),
                        names_start,
                        self.pos,
                    ));
                }
                ParsePattern::Glob {
                    regex: glob_regex(&glob, t.start, t.end)?,
                    names,
                }
            }
            TokenKind::Slash => {
                let r = self.lexer.regex_at(t.start)?;
                self.pos = r.end;
                let TokenKind::Regex { pattern, flags } = r.kind else {
                    unreachable!()
                };
                let regex = compile_regex(&pattern, &flags, r.start, r.end)?;
                if self.peek()?.is_keyword("as") {
                    // AWS's multi-match sample: `/(\d+\.\d+\.\d+\.\d+)/ as ip_addr multi`.
                    let groups = regex.captures_len() - 1;
                    let (names, names_start) = self.parse_as_names("'as'")?;
                    if names.len() != groups {
                        return Err(ParseFailure::new(
                            format!(
                                "the regex has {groups} capture group(s) but {} field names follow 'as'",
                                names.len()
                            ),
                            names_start,
                            self.pos,
                        ));
                    }
                    ParsePattern::RegexAliased { regex, names }
                } else {
                    let names: Vec<String> = regex
                        .capture_names()
                        .flatten()
                        .map(str::to_string)
                        .collect();
                    if names.is_empty() {
                        return Err(ParseFailure::new(
                            "a parse regex needs named groups such as (?<name>...), or 'as' and one name per group",
                            r.start,
                            r.end,
                        ));
                    }
                    ParsePattern::Regex { regex, names }
                }
            }
            _ if t.is_keyword("logfmt") => {
                self.bump()?;
                let (names, names_start) = self.parse_as_names("'as' and the name of the map")?;
                if names.len() != 1 {
                    return Err(ParseFailure::new(
                        "parse … logfmt takes one name after 'as': the map that holds the key-value pairs",
                        names_start,
                        self.pos,
                    ));
                }
                ParsePattern::Logfmt {
                    name: names.into_iter().next().unwrap_or_default(),
                }
            }
            _ if t.is_keyword("csv") => {
                self.bump()?;
                let (names, _) = self.parse_as_names("'as' and one field name per column")?;
                ParsePattern::Csv { names }
            }
            _ if t.is_keyword("json") => {
                return Err(ParseFailure::new(
                    "parse has no json mode: JSON messages are discovered automatically, and maps from jsonParse are read with dots",
                    t.start,
                    t.end,
                ));
            }
            _ => {
                return Err(unexpected(
                    self.lexer.source(),
                    &t,
                    "a glob pattern \"…\", a regex /…/, logfmt or csv",
                ))
            }
        };
        let next = self.peek()?;
        let multi = next.is_keyword("multi");
        if multi {
            if !matches!(
                pattern,
                ParsePattern::Regex { .. } | ParsePattern::RegexAliased { .. }
            ) {
                return Err(ParseFailure::new(
                    "multi only applies to a regex pattern",
                    next.start,
                    next.end,
                ));
            }
            self.bump()?;
        }
        Ok(Command::Parse {
            source,
            pattern,
            multi,
        })
    }

    /// `as a, b, c`; returns the names and where they start.
    fn parse_as_names(&mut self, expected: &str) -> PResult<(Vec<String>, usize)> {
        if !self.eat_keyword("as")? {
            let n = self.peek()?;
            return Err(unexpected(self.lexer.source(), &n, expected));
        }
        let names_start = self.peek()?.start;
        let mut names = Vec::new();
        loop {
            let n = self.bump()?;
            match n.kind {
                TokenKind::Name { text, .. } => names.push(text),
                _ => return Err(unexpected(self.lexer.source(), &n, "a field name")),
            }
            // `multi` ends the list: `/(…)/ as ip multi`.
            if self.peek()?.kind != TokenKind::Comma {
                break;
            }
            self.bump()?;
        }
        Ok((names, names_start))
    }

    fn parse_source(&mut self) -> PResult<SourceClause> {
        let mut clause = SourceClause::default();
        let t = self.peek()?;
        if t.is_keyword("loggroups") {
            self.bump()?;
            self.expect(TokenKind::LParen, "'('")?;
            if self.peek()?.kind != TokenKind::RParen {
                loop {
                    let key = self.bump()?;
                    let Some(k) = key.keyword() else {
                        return Err(unexpected(
                            self.lexer.source(),
                            &key,
                            "namePrefix, accountIdentifiers or class",
                        ));
                    };
                    self.expect(TokenKind::Colon, "':'")?;
                    let values = self.parse_string_list()?;
                    match k.as_str() {
                        "nameprefix" => {
                            if values.len() > 5 {
                                return Err(ParseFailure::new(
                                    "namePrefix takes at most 5 prefixes",
                                    key.start,
                                    self.pos,
                                ));
                            }
                            clause.name_prefixes = values;
                        }
                        "accountidentifiers" => {
                            if values.len() > 20 {
                                return Err(ParseFailure::new(
                                    "accountIdentifiers takes at most 20 accounts",
                                    key.start,
                                    self.pos,
                                ));
                            }
                            clause.account_identifiers = values;
                        }
                        "class" => clause.log_group_classes = values,
                        _ => {
                            return Err(unexpected(
                                self.lexer.source(),
                                &key,
                                "namePrefix, accountIdentifiers or class",
                            ))
                        }
                    }
                    if self.peek()?.kind != TokenKind::Comma {
                        break;
                    }
                    self.bump()?;
                }
            }
            self.expect(TokenKind::RParen, "')'")?;
        } else {
            loop {
                let s = self.bump()?;
                match s.kind {
                    TokenKind::Str(name) => clause.log_group_names.push(name),
                    _ => {
                        return Err(unexpected(
                            self.lexer.source(),
                            &s,
                            "a quoted log group name or logGroups(…)",
                        ))
                    }
                }
                if self.peek()?.kind != TokenKind::Comma {
                    break;
                }
                self.bump()?;
            }
        }
        for (kw, is_start) in [("start", true), ("end", false)] {
            if self.eat_keyword(kw)? {
                self.expect(TokenKind::Eq, "'='")?;
                let n = self.bump()?;
                let TokenKind::Int(v) = n.kind else {
                    return Err(unexpected(self.lexer.source(), &n, "epoch milliseconds"));
                };
                if is_start {
                    clause.start_ms = Some(v);
                } else {
                    clause.end_ms = Some(v);
                }
            }
        }
        Ok(clause)
    }

    fn parse_string_list(&mut self) -> PResult<Vec<String>> {
        let t = self.bump()?;
        match t.kind {
            TokenKind::Str(s) => Ok(vec![s]),
            TokenKind::LBracket => {
                let mut out = Vec::new();
                if self.peek()?.kind != TokenKind::RBracket {
                    loop {
                        let s = self.bump()?;
                        match s.kind {
                            TokenKind::Str(v) => out.push(v),
                            _ => {
                                return Err(unexpected(self.lexer.source(), &s, "a quoted string"))
                            }
                        }
                        if self.peek()?.kind != TokenKind::Comma {
                            break;
                        }
                        self.bump()?;
                    }
                }
                self.expect(TokenKind::RBracket, "']'")?;
                Ok(out)
            }
            _ => Err(unexpected(
                self.lexer.source(),
                &t,
                "a quoted string or a [list]",
            )),
        }
    }

    // ---- expressions -------------------------------------------------

    pub fn parse_expr(&mut self) -> PResult<Expr> {
        self.nest()?;
        let e = self.parse_or();
        self.depth -= 1;
        e
    }

    fn nest(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            let t = self.peek()?;
            self.depth -= 1;
            return Err(ParseFailure::new(
                format!("the expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
                t.start,
                t.end,
            ));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> PResult<Expr> {
        let mut left = self.parse_and()?;
        while self.eat_keyword("or")? {
            let right = self.parse_and()?;
            left = Expr::Binary(BinaryOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> PResult<Expr> {
        let mut left = self.parse_not()?;
        while self.eat_keyword("and")? {
            let right = self.parse_not()?;
            left = Expr::Binary(BinaryOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> PResult<Expr> {
        let t = self.peek()?;
        if t.is_keyword("not") || t.kind == TokenKind::Not {
            self.bump()?;
            self.nest()?;
            let inner = self.parse_not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.parse_comparison()
    }

    fn parse_comparison(&mut self) -> PResult<Expr> {
        let left = self.parse_additive()?;
        let t = self.peek()?;
        let op = match t.kind {
            TokenKind::Eq => Some(BinaryOp::Eq),
            TokenKind::Ne => Some(BinaryOp::Ne),
            TokenKind::Lt => Some(BinaryOp::Lt),
            TokenKind::Le => Some(BinaryOp::Le),
            TokenKind::Gt => Some(BinaryOp::Gt),
            TokenKind::Ge => Some(BinaryOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump()?;
            let right = self.parse_additive()?;
            return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
        }
        if t.kind == TokenKind::RegexMatch {
            self.bump()?;
            let pattern = self.parse_like_pattern()?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern,
                negated: false,
            });
        }
        let mut negated = false;
        let mut t = t;
        if t.is_keyword("not") {
            let after = self.lexer.token_at(t.end)?;
            if after.is_keyword("like") || after.is_keyword("in") {
                self.bump()?;
                negated = true;
                t = after;
            } else {
                return Ok(left);
            }
        }
        if t.is_keyword("like") {
            self.bump()?;
            let pattern = self.parse_like_pattern()?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern,
                negated,
            });
        }
        if t.is_keyword("in") {
            self.bump()?;
            self.expect(TokenKind::LBracket, "'[' to start the list")?;
            let mut list = Vec::new();
            if self.peek()?.kind != TokenKind::RBracket {
                loop {
                    list.push(self.parse_additive()?);
                    if self.peek()?.kind != TokenKind::Comma {
                        break;
                    }
                    self.bump()?;
                }
            }
            self.expect(TokenKind::RBracket, "']' to close the list")?;
            return Ok(Expr::In {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        Ok(left)
    }

    /// `like` and `=~` are synonyms: a quoted string is a substring test, a
    /// `/regex/` literal a regex search.
    fn parse_like_pattern(&mut self) -> PResult<LikePattern> {
        let t = self.peek()?;
        match t.kind {
            TokenKind::Slash => {
                let r = self.lexer.regex_at(t.start)?;
                self.pos = r.end;
                let TokenKind::Regex { pattern, flags } = r.kind else {
                    unreachable!()
                };
                Ok(LikePattern::Regex(compile_regex(
                    &pattern, &flags, r.start, r.end,
                )?))
            }
            TokenKind::Str(s) => {
                self.bump()?;
                Ok(LikePattern::Substring(s))
            }
            _ => Err(unexpected(self.lexer.source(), &t, "a string or a /regex/")),
        }
    }

    fn parse_additive(&mut self) -> PResult<Expr> {
        let mut left = self.parse_multiplicative()?;
        loop {
            let op = match self.peek()?.kind {
                TokenKind::Plus => BinaryOp::Add,
                TokenKind::Minus => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.bump()?;
            let right = self.parse_multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn parse_multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.parse_power()?;
        loop {
            let op = match self.peek()?.kind {
                TokenKind::Star => BinaryOp::Mul,
                TokenKind::Slash => BinaryOp::Div,
                TokenKind::Percent => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.bump()?;
            let right = self.parse_power()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn parse_power(&mut self) -> PResult<Expr> {
        let base = self.parse_unary()?;
        if self.peek()?.kind == TokenKind::Caret {
            self.bump()?;
            self.nest()?;
            let exp = self.parse_power();
            self.depth -= 1;
            let exp = exp?;
            return Ok(Expr::Binary(BinaryOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        match self.peek()?.kind {
            TokenKind::Minus => {
                self.bump()?;
                self.nest()?;
                let inner = self.parse_unary();
                self.depth -= 1;
                let inner = inner?;
                Ok(match inner {
                    Expr::Literal(Value::Int(i)) => Expr::Literal(Value::Int(i.wrapping_neg())),
                    Expr::Literal(Value::Float(f)) => Expr::Literal(Value::Float(-f)),
                    other => Expr::Neg(Box::new(other)),
                })
            }
            TokenKind::Plus => {
                self.bump()?;
                self.nest()?;
                let inner = self.parse_unary();
                self.depth -= 1;
                inner
            }
            _ => self.parse_primary(),
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let t = self.bump()?;
        match t.kind {
            TokenKind::Int(i) => Ok(Expr::Literal(Value::Int(i))),
            TokenKind::Float(f) => Ok(Expr::Literal(Value::Float(f))),
            TokenKind::Str(s) => Ok(Expr::Literal(Value::Str(s))),
            TokenKind::Period(p) => {
                if self.period_allowed {
                    Ok(Expr::Period(p))
                } else {
                    Err(ParseFailure::new(
                        "a time period is only allowed as the period of bin, datefloor or dateceil",
                        t.start,
                        t.end,
                    ))
                }
            }
            TokenKind::Slash => {
                let r = self.lexer.regex_at(t.start)?;
                self.pos = r.end;
                if !self.regex_allowed {
                    return Err(ParseFailure::new(
                        "a regex literal is only allowed after like or =~, in parse, and as the pattern of regexReplace",
                        r.start,
                        r.end,
                    ));
                }
                let TokenKind::Regex { pattern, flags } = r.kind else {
                    unreachable!()
                };
                Ok(Expr::Regex(compile_regex(
                    &pattern, &flags, r.start, r.end,
                )?))
            }
            TokenKind::LParen => {
                let (p, r) = (self.period_allowed, self.regex_allowed);
                self.period_allowed = false;
                self.regex_allowed = false;
                let e = self.parse_expr();
                self.period_allowed = p;
                self.regex_allowed = r;
                let e = e?;
                self.expect(TokenKind::RParen, "')'")?;
                Ok(e)
            }
            TokenKind::Name { ref text, quoted } => {
                let next = self.peek()?;
                if !quoted && next.kind == TokenKind::LParen && next.start == t.end {
                    return self.parse_call(&t, text);
                }
                let mut name = text.clone();
                // `list[1]` addresses the flattened field `list.1`.
                while self.peek()?.kind == TokenKind::LBracket && self.peek()?.start == self.pos {
                    self.bump()?;
                    let i = self.bump()?;
                    let TokenKind::Int(idx) = i.kind else {
                        return Err(unexpected(self.lexer.source(), &i, "an array index"));
                    };
                    self.expect(TokenKind::RBracket, "']'")?;
                    name = format!("{name}.{idx}");
                }
                self.field_refs.push((name.clone(), t.start, self.pos));
                Ok(Expr::Field(name))
            }
            _ => Err(unexpected(
                self.lexer.source(),
                &t,
                "a value, field or function",
            )),
        }
    }

    fn parse_call(&mut self, name_token: &Token, name: &str) -> PResult<Expr> {
        self.bump()?; // (
        if let Some(kind) = AggregateKind::from_name(name) {
            if self.aggregation_allowed {
                self.aggregation_allowed = false;
                let call = self.parse_aggregation_call(kind);
                self.aggregation_allowed = true;
                return call;
            }
            if self.in_stats && self.stats_seen == 0 {
                return Err(ParseFailure::new(
                    "an aggregation cannot be used here: not inside another aggregation and not in by",
                    name_token.start,
                    name_token.end,
                ));
            }
            if self.stats_seen == 0 {
                return Err(ParseFailure::new(
                    format!("{name} is an aggregation and can only be used in stats"),
                    name_token.start,
                    name_token.end,
                ));
            }
            // After stats, `count(*)` names the column stats produced.
            let mut depth = 1;
            while depth > 0 {
                let t = self.bump()?;
                match t.kind {
                    TokenKind::LParen => depth += 1,
                    TokenKind::RParen => depth -= 1,
                    TokenKind::End => {
                        return Err(ParseFailure::new("missing ')'", name_token.start, t.end))
                    }
                    _ => {}
                }
            }
            let text = self.text(name_token.start, self.pos);
            self.field_refs
                .push((text.clone(), name_token.start, self.pos));
            return Ok(Expr::Field(text));
        }
        let Some(function) = ScalarFunction::from_name(name) else {
            return Err(ParseFailure::new(
                format!("unknown function '{name}'"),
                name_token.start,
                name_token.end,
            ));
        };
        if function == ScalarFunction::Unmask {
            return Err(ParseFailure::new(
                UNMASK_ERROR,
                name_token.start,
                name_token.end,
            ));
        }
        if function == ScalarFunction::Bin {
            // bin() reads @timestamp; count it as a reference for the
            // second-stats rule and for discovery.
            self.field_refs
                .push(("@timestamp".to_string(), name_token.start, name_token.end));
        }
        let mut args = Vec::new();
        if self.peek()?.kind != TokenKind::RParen {
            loop {
                let (p, r) = (self.period_allowed, self.regex_allowed);
                self.period_allowed = function.period_arg() == Some(args.len());
                self.regex_allowed = function == ScalarFunction::RegexReplace && args.len() == 1;
                let arg = self.parse_expr();
                self.period_allowed = p;
                self.regex_allowed = r;
                args.push(arg?);
                if self.peek()?.kind != TokenKind::Comma {
                    break;
                }
                self.bump()?;
            }
        }
        let close = self.expect(TokenKind::RParen, "')' or ','")?;
        let arity = function.arity();
        if args.len() < arity.min || args.len() > arity.max {
            let expected = if arity.min == arity.max {
                format!("{}", arity.min)
            } else if arity.max == usize::MAX {
                format!("at least {}", arity.min)
            } else {
                format!("{} to {}", arity.min, arity.max)
            };
            return Err(ParseFailure::new(
                format!("{name} takes {expected} argument(s), got {}", args.len()),
                name_token.start,
                close.end,
            ));
        }
        if let Some(i) = function.period_arg() {
            if !matches!(args[i], Expr::Period(_)) {
                return Err(ParseFailure::new(
                    format!("{name} needs a time period such as 5m or 1h"),
                    name_token.start,
                    close.end,
                ));
            }
        }
        if matches!(
            function,
            ScalarFunction::ParseDate | ScalarFunction::FormatDate | ScalarFunction::Strftime
        ) {
            // Literal patterns and zones are checked now, so a typo is a
            // compile error instead of a column of missing values.
            if let Expr::Literal(Value::Str(pattern)) = &args[1] {
                let checked = if function == ScalarFunction::Strftime {
                    crate::datetime::check_strftime(pattern)
                } else {
                    crate::datetime::check_java_pattern(pattern)
                };
                if let Err(message) = checked {
                    return Err(ParseFailure::new(message, name_token.start, close.end));
                }
            }
            if let Some(Expr::Literal(Value::Str(zone))) = args.get(2) {
                if crate::datetime::parse_zone(zone).is_none() {
                    return Err(ParseFailure::new(
                        format!("time zone '{zone}' is not supported: use UTC or a fixed offset such as +05:30 (named zones need a time-zone database watchtrail does not carry)"),
                        name_token.start,
                        close.end,
                    ));
                }
            }
        }
        if function == ScalarFunction::RegexReplace {
            let pattern = match &args[1] {
                Expr::Regex(r) => Some(r.clone()),
                Expr::Literal(Value::Str(s)) => {
                    Some(compile_regex(s, "", name_token.start, close.end)?)
                }
                _ => None,
            };
            let Some(pattern) = pattern else {
                return Err(ParseFailure::new(
                    "regexReplace needs a /regex/ or string pattern",
                    name_token.start,
                    close.end,
                ));
            };
            args[1] = Expr::Regex(pattern);
        }
        // After stats, `bin(5m)` or `round(avg(x), 1)` written again names
        // the stats column, whose inputs are gone from the rows.
        let text = self.text(name_token.start, close.end);
        if !self.in_stats && self.stats_seen > 0 && self.first_stats_outputs.contains(&text) {
            self.field_refs
                .push((text.clone(), name_token.start, close.end));
            return Ok(Expr::Field(text));
        }
        Ok(Expr::Call { function, args })
    }
}

/// Column name for an aggregation used inside a larger stats expression;
/// the control character keeps it apart from any name a query can write.
fn hidden_aggregation_name(index: usize) -> String {
    format!("\u{1}aggregation{index}")
}

fn unexpected(src: &str, t: &Token, expected: &str) -> ParseFailure {
    let found = match &t.kind {
        TokenKind::End => "the end of the query".to_string(),
        _ => format!("'{}'", src.get(t.start..t.end).unwrap_or("")),
    };
    ParseFailure::new(
        format!("expected {expected}, found {found}"),
        t.start,
        t.end.max(t.start),
    )
}

pub fn compile_regex(pattern: &str, flags: &str, start: usize, end: usize) -> PResult<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            let last = detail
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            ParseFailure::new(format!("invalid regular expression: {last}"), start, end)
        })
}

/// A glob's `*`s become capture groups. All but a final trailing `*` are
/// lazy, so `"[*] *"` splits at the first `] `; a trailing `*` takes the rest.
fn glob_regex(glob: &str, start: usize, end: usize) -> PResult<Regex> {
    let parts: Vec<&str> = glob.split('*').collect();
    let mut pattern = String::from("(?s)");
    for (i, part) in parts.iter().enumerate() {
        pattern.push_str(&regex::escape(part));
        if i + 1 < parts.len() {
            let trailing = i + 2 == parts.len() && parts[i + 1].is_empty();
            pattern.push_str(if trailing { "(.*)" } else { "(.*?)" });
        }
    }
    compile_regex(&pattern, "", start, end)
}
