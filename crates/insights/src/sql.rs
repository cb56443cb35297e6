//! The SQL subset (`queryLanguage: SQL`): `sqlparser` reads the text, and
//! this module turns the statement into the same command pipeline the
//! Logs Insights language compiles to, so both run on one evaluator.
//!
//! Supported: one `SELECT` with expressions and aliases (or `*`), `FROM`
//! one or more log groups (comma-separated, backtick- or double-quoted),
//! `WHERE`, `GROUP BY`, `HAVING`, the aggregates COUNT(*), COUNT(x),
//! COUNT(DISTINCT x), SUM, AVG, MIN and MAX, `ORDER BY … ASC|DESC`,
//! `LIMIT n`, arithmetic, comparisons, AND/OR/NOT, IN, BETWEEN, LIKE and
//! ILIKE, IS [NOT] NULL, CASE, CAST to numbers and text, the common scalar
//! functions (LOWER, UPPER, LENGTH, CONCAT, SUBSTRING, TRIM, REPLACE, ABS,
//! CEIL, FLOOR, ROUND, SQRT, LN, COALESCE, GREATEST, LEAST) and every
//! Logs Insights scalar function by its own name. Anything else is a
//! [`ParseFailure`] with the offsets of the construct.

use sqlparser::ast::{
    self as sql, BinaryOperator, CastKind, CeilFloorKind, DataType, DateTimeField,
    DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, InTarget,
    LimitClause, ObjectNamePart, OrderByKind, OrderBySort, SelectItem, SetExpr, Spanned, Statement,
    TableFactor, UnaryOperator,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Span;

use crate::ast::{
    AggregateKind, Aggregation, BinaryOp, Command, Expr, LikePattern, NamedExpr, SortKey,
    SourceClause, StatsStage,
};
use crate::functions::ScalarFunction;
use crate::parser::{compile_regex, ParsedQuery, MAX_LIMIT};
use crate::value::Value;
use crate::ParseFailure;

type SResult<T> = Result<T, ParseFailure>;

/// Nesting bound handed to sqlparser, so deep input is an error, not a
/// stack overflow.
const SQL_RECURSION_LIMIT: usize = 48;

/// Columns `SELECT *` shows: the system fields every event has.
const STAR_COLUMNS: &[&str] = &["@timestamp", "@message", "@logStream", "@log"];

pub fn translate(text: &str) -> SResult<ParsedQuery> {
    let mut statements = Parser::new(&GenericDialect {})
        .with_recursion_limit(SQL_RECURSION_LIMIT)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| parser_error(text, e))?;
    if statements.is_empty() {
        return Err(ParseFailure::new("the query is empty", 0, text.len()));
    }
    if statements.len() > 1 {
        let span = statements[1].span();
        return Err(Translator::new(text).fail("only one SQL statement is allowed", span));
    }
    let statement = statements.remove(0);
    let mut t = Translator::new(text);
    let Statement::Query(query) = statement else {
        return Err(t.fail("only SELECT queries are supported", statement.span()));
    };
    t.query(&query)
}

/// sqlparser reports `… at Line: L, Column: C`; point at that character.
fn parser_error(text: &str, e: ParserError) -> ParseFailure {
    let message = match &e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => {
            return ParseFailure::new("the SQL query is nested too deeply", 0, text.len())
        }
    };
    let located = message.rsplit_once(" at Line: ").and_then(|(msg, at)| {
        let (line, col) = at.split_once(", Column: ")?;
        let line: usize = line.trim().parse().ok()?;
        let col: usize = col.trim().parse().ok()?;
        Some((msg.to_string(), line, col))
    });
    match located {
        Some((msg, line, col)) => {
            let start = byte_offset(text, line, col);
            let end = text[start..]
                .char_indices()
                .nth(1)
                .map_or(text.len(), |(i, _)| start + i);
            ParseFailure::new(format!("SQL syntax error: {msg}"), start, end)
        }
        None => ParseFailure::new(format!("SQL syntax error: {message}"), 0, text.len()),
    }
}

/// Byte offset of a 1-based line and (character) column.
fn byte_offset(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(l.len(), |(j, _)| j);
        }
        offset += l.len();
    }
    text.len()
}

struct Translator<'a> {
    text: &'a str,
    /// Names and aliases of the FROM log groups, which may qualify columns.
    qualifiers: Vec<String>,
    referenced: Vec<String>,
    /// Aggregations met so far when aggregates are allowed.
    aggregations: Vec<Aggregation>,
    aggregates_allowed: bool,
    /// Post-aggregation names: SQL text of a GROUP BY expression or a
    /// SELECT item, and the column that holds it.
    outputs: Vec<(String, String)>,
}

fn hidden_name(i: usize) -> String {
    format!("\u{1}sql{i}")
}

impl<'a> Translator<'a> {
    fn new(text: &'a str) -> Self {
        Translator {
            text,
            qualifiers: Vec::new(),
            referenced: Vec::new(),
            aggregations: Vec::new(),
            aggregates_allowed: false,
            outputs: Vec::new(),
        }
    }

    fn fail(&self, message: impl Into<String>, span: Span) -> ParseFailure {
        if span.start.line == 0 {
            return ParseFailure::new(message, 0, self.text.len());
        }
        let start = byte_offset(
            self.text,
            span.start.line as usize,
            span.start.column as usize,
        );
        let end = byte_offset(self.text, span.end.line as usize, span.end.column as usize);
        ParseFailure::new(message, start, end.max(start))
    }

    fn query(&mut self, q: &sql::Query) -> SResult<ParsedQuery> {
        if q.with.is_some() {
            return Err(self.fail("WITH is not supported", q.span()));
        }
        if q.fetch.is_some() || !q.locks.is_empty() || q.for_clause.is_some() {
            return Err(self.fail(
                "only SELECT … FROM … WHERE … GROUP BY … HAVING … ORDER BY … LIMIT is supported",
                q.span(),
            ));
        }
        if !q.pipe_operators.is_empty() || q.settings.is_some() || q.format_clause.is_some() {
            return Err(self.fail(
                "pipe operators, SETTINGS and FORMAT are not supported",
                q.span(),
            ));
        }
        let SetExpr::Select(select) = q.body.as_ref() else {
            return Err(self.fail(
                "only a single SELECT is supported (no UNION, INTERSECT, EXCEPT, VALUES or subqueries)",
                q.body.span(),
            ));
        };
        let select: &sql::Select = select;
        if let Some(d) = &select.distinct {
            let span = select.select_token.0.span;
            return Err(self.fail(
                format!("{d} is not supported: use GROUP BY to get distinct values"),
                span,
            ));
        }
        if select.top.is_some()
            || select.into.is_some()
            || !select.lateral_views.is_empty()
            || select.prewhere.is_some()
            || !select.cluster_by.is_empty()
            || !select.distribute_by.is_empty()
            || !select.sort_by.is_empty()
            || !select.named_window.is_empty()
            || select.qualify.is_some()
            || !select.connect_by.is_empty()
            || select.exclude.is_some()
        {
            return Err(self.fail("this SELECT clause is not supported", select.span()));
        }
        let source = self.from(select)?;
        let mut commands = Vec::new();
        if let Some(w) = &select.selection {
            commands.push(Command::Filter(self.expr(w)?));
        }
        let group_exprs: &[sql::Expr] = match &select.group_by {
            GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => exprs,
            other => {
                return Err(self.fail(
                    "GROUP BY ALL and GROUP BY modifiers are not supported",
                    group_by_span(other, select),
                ))
            }
        };
        let aggregated = !group_exprs.is_empty() || self.has_aggregate(&select.projection)?;
        let columns = if aggregated {
            self.aggregated_select(select, group_exprs, &mut commands)?
        } else {
            if let Some(h) = &select.having {
                return Err(self.fail("HAVING needs GROUP BY or an aggregate", h.span()));
            }
            self.plain_select(select, &mut commands)?
        };
        if let Some(order_by) = &q.order_by {
            let OrderByKind::Expressions(items) = &order_by.kind else {
                return Err(self.fail("ORDER BY ALL is not supported", q.span()));
            };
            let mut keys = Vec::new();
            for item in items {
                if item.options.nulls_first.is_some() || item.with_fill.is_some() {
                    return Err(self.fail(
                        "NULLS FIRST/LAST and WITH FILL are not supported: missing values sort last",
                        item.span(),
                    ));
                }
                let descending = match &item.options.sort {
                    None | Some(OrderBySort::Asc) => false,
                    Some(OrderBySort::Desc) => true,
                    Some(OrderBySort::Using(_)) => {
                        return Err(self.fail("ORDER BY … USING is not supported", item.span()))
                    }
                };
                let expr = self.post_aggregate_expr(&item.expr, aggregated)?;
                keys.push(SortKey { expr, descending });
            }
            if aggregated && self.aggregations.len() > self.stats_aggregation_count(&commands) {
                return Err(self.fail(
                    "ORDER BY may only use aggregates that the SELECT list or HAVING computes",
                    q.span(),
                ));
            }
            commands.push(Command::Sort(keys));
        }
        if let Some(limit) = &q.limit_clause {
            commands.push(self.limit(limit)?);
        }
        commands.push(Command::Display(
            columns
                .into_iter()
                .map(|name| NamedExpr {
                    expr: Expr::Field(name.clone()),
                    name,
                })
                .collect(),
        ));
        Ok(ParsedQuery {
            source: Some(source),
            commands,
            referenced_fields: std::mem::take(&mut self.referenced),
        })
    }

    fn stats_aggregation_count(&self, commands: &[Command]) -> usize {
        commands
            .iter()
            .find_map(|c| match c {
                Command::Stats(s) => Some(s.aggregations.len()),
                _ => None,
            })
            .unwrap_or(0)
    }

    fn from(&mut self, select: &sql::Select) -> SResult<SourceClause> {
        if select.from.is_empty() {
            return Err(self.fail(
                "FROM must name at least one log group, such as FROM `my-log-group`",
                select.span(),
            ));
        }
        let mut names = Vec::new();
        for table in &select.from {
            if let Some(join) = table.joins.first() {
                return Err(self.fail("JOIN is not supported", join.relation.span()));
            }
            let TableFactor::Table {
                name, alias, args, ..
            } = &table.relation
            else {
                return Err(self.fail(
                    "FROM takes log group names; subqueries and table functions are not supported",
                    table.relation.span(),
                ));
            };
            if args.is_some() {
                return Err(self.fail("table functions are not supported", table.relation.span()));
            }
            let mut parts = Vec::new();
            for part in &name.0 {
                match part {
                    ObjectNamePart::Identifier(ident) => parts.push(ident.value.clone()),
                    ObjectNamePart::Function(_) => {
                        return Err(self.fail("table functions are not supported", name.span()))
                    }
                }
            }
            let group = parts.join(".");
            if group.is_empty() {
                return Err(self.fail("a log group name cannot be empty", name.span()));
            }
            self.qualifiers.push(group.clone());
            if let Some(alias) = alias {
                self.qualifiers.push(alias.name.value.clone());
            }
            if !names.contains(&group) {
                names.push(group);
            }
        }
        Ok(SourceClause {
            log_group_names: names,
            ..SourceClause::default()
        })
    }

    fn has_aggregate(&mut self, items: &[SelectItem]) -> SResult<bool> {
        let saved = std::mem::take(&mut self.aggregations);
        let referenced = self.referenced.len();
        self.aggregates_allowed = true;
        for item in items {
            if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
                // Errors surface again when the item is translated for real.
                let _ = self.expr(e);
            }
        }
        self.aggregates_allowed = false;
        let found = !self.aggregations.is_empty();
        self.aggregations = saved;
        // This was a dry run: forget its references, keep WHERE's.
        self.referenced.truncate(referenced);
        Ok(found)
    }

    fn item_name(&self, expr: &sql::Expr, alias: Option<&sql::Ident>) -> String {
        if let Some(a) = alias {
            return a.value.clone();
        }
        match expr {
            sql::Expr::Identifier(_) | sql::Expr::CompoundIdentifier(_) => {
                self.path(expr).unwrap_or_else(|| expr.to_string())
            }
            _ => expr.to_string(),
        }
    }

    fn plain_select(
        &mut self,
        select: &sql::Select,
        commands: &mut Vec<Command>,
    ) -> SResult<Vec<String>> {
        let mut items = Vec::new();
        let mut columns = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(opts) => {
                    if opts.opt_exclude.is_some()
                        || opts.opt_except.is_some()
                        || opts.opt_replace.is_some()
                        || opts.opt_rename.is_some()
                        || opts.opt_ilike.is_some()
                    {
                        return Err(self.fail("* with options is not supported", item.span()));
                    }
                    columns.extend(STAR_COLUMNS.iter().map(|c| c.to_string()));
                }
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let alias = match item {
                        SelectItem::ExprWithAlias { alias, .. } => Some(alias),
                        _ => None,
                    };
                    let name = self.item_name(e, alias);
                    let expr = self.expr(e)?;
                    columns.push(name.clone());
                    items.push(NamedExpr { expr, name });
                }
                _ => {
                    return Err(self.fail(
                        "this SELECT item is not supported: use expressions, aliases or *",
                        item.span(),
                    ))
                }
            }
        }
        if !items.is_empty() {
            commands.push(Command::Fields(items));
        }
        Ok(columns)
    }

    fn aggregated_select(
        &mut self,
        select: &sql::Select,
        group_exprs: &[sql::Expr],
        commands: &mut Vec<Command>,
    ) -> SResult<Vec<String>> {
        // A SELECT alias of a grouping expression names its column.
        let alias_of = |g: &sql::Expr| {
            select.projection.iter().find_map(|item| match item {
                SelectItem::ExprWithAlias { expr, alias } if expr == g => Some(alias),
                _ => None,
            })
        };
        let mut group_by = Vec::new();
        for g in group_exprs {
            let name = self.item_name(g, alias_of(g));
            let expr = self.expr(g)?;
            self.outputs.push((g.to_string(), name.clone()));
            group_by.push(NamedExpr { expr, name });
        }
        let mut outputs = Vec::new();
        let mut columns = Vec::new();
        for item in &select.projection {
            let (e, alias) = match item {
                SelectItem::UnnamedExpr(e) => (e, None),
                SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
                _ => {
                    return Err(self.fail(
                        "with GROUP BY or aggregates, SELECT lists grouping expressions and aggregates, not *",
                        item.span(),
                    ))
                }
            };
            if let Some((_, name)) = self.outputs.iter().find(|(text, _)| *text == e.to_string()) {
                columns.push(name.clone());
                continue;
            }
            let name = self.item_name(e, alias);
            self.aggregates_allowed = true;
            let expr = self.expr(e);
            self.aggregates_allowed = false;
            let expr = expr?;
            // Outside an aggregate, only grouping expressions and earlier
            // outputs are defined.
            if !self.only_aggregate_refs(&expr) {
                return Err(self.fail(
                    "this SELECT item must be in GROUP BY or inside an aggregate function",
                    e.span(),
                ));
            }
            self.outputs.push((e.to_string(), name.clone()));
            columns.push(name.clone());
            outputs.push(NamedExpr { expr, name });
        }
        let having = match &select.having {
            Some(h) => Some(self.post_aggregate_expr(h, true)?),
            None => None,
        };
        // A bare aggregate output takes over the aggregation's own column.
        for output in &mut outputs {
            if let Expr::Field(f) = &output.expr {
                if let Some(agg) = self.aggregations.iter_mut().find(|a| a.name == *f) {
                    agg.name = output.name.clone();
                    output.expr = Expr::Field(output.name.clone());
                }
            }
        }
        commands.push(Command::Stats(StatsStage {
            aggregations: self.aggregations.clone(),
            outputs,
            group_by,
        }));
        if let Some(h) = having {
            commands.push(Command::Filter(h));
        }
        Ok(columns)
    }

    /// True if every field the expression reads is an aggregation column.
    fn only_aggregate_refs(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Field(f) => {
                self.aggregations.iter().any(|a| a.name == *f)
                    || self.outputs.iter().any(|(_, name)| name == f)
            }
            Expr::Literal(_) | Expr::Period(_) | Expr::Regex(_) => true,
            Expr::Neg(e) | Expr::Not(e) => self.only_aggregate_refs(e),
            Expr::Binary(_, l, r) => self.only_aggregate_refs(l) && self.only_aggregate_refs(r),
            Expr::Like { expr, .. } => self.only_aggregate_refs(expr),
            Expr::In { expr, list, .. } => {
                self.only_aggregate_refs(expr) && list.iter().all(|e| self.only_aggregate_refs(e))
            }
            Expr::Call { args, .. } => args.iter().all(|e| self.only_aggregate_refs(e)),
        }
    }

    /// HAVING and ORDER BY: a SELECT item or grouping expression written
    /// again names its column; aggregates are allowed after GROUP BY.
    fn post_aggregate_expr(&mut self, e: &sql::Expr, aggregated: bool) -> SResult<Expr> {
        if let Some((_, name)) = self.outputs.iter().find(|(text, _)| *text == e.to_string()) {
            return Ok(Expr::Field(name.clone()));
        }
        self.aggregates_allowed = aggregated;
        let out = self.expr(e);
        self.aggregates_allowed = false;
        out
    }

    fn limit(&self, limit: &LimitClause) -> SResult<Command> {
        let (n, offset) = match limit {
            LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    return Err(self.fail("LIMIT BY is not supported", limit_by[0].span()));
                }
                (limit.as_ref(), offset.as_ref().map(|o| o.value.span()))
            }
            LimitClause::OffsetCommaLimit { offset, .. } => (None, Some(offset.span())),
        };
        if let Some(span) = offset {
            return Err(self.fail("OFFSET is not supported", span));
        }
        let Some(n) = n else {
            return Err(self.fail("LIMIT needs a number of rows", Span::empty()));
        };
        match n {
            sql::Expr::Value(v) => match &v.value {
                sql::Value::Number(s, _) => match s.parse::<usize>() {
                    Ok(k) if (1..=MAX_LIMIT).contains(&k) => Ok(Command::Limit(k)),
                    _ => {
                        Err(self.fail(format!("LIMIT must be between 1 and {MAX_LIMIT}"), n.span()))
                    }
                },
                _ => Err(self.fail("LIMIT needs a whole number of rows", n.span())),
            },
            _ => Err(self.fail("LIMIT needs a whole number of rows", n.span())),
        }
    }

    /// `a`, `` `@message` ``, `t.a.b` (a FROM name or alias first is dropped).
    fn path(&self, e: &sql::Expr) -> Option<String> {
        match e {
            sql::Expr::Identifier(i) => Some(i.value.clone()),
            sql::Expr::CompoundIdentifier(parts) => {
                let skip = usize::from(
                    parts.len() > 1 && self.qualifiers.iter().any(|q| *q == parts[0].value),
                );
                Some(
                    parts[skip..]
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join("."),
                )
            }
            _ => None,
        }
    }

    fn expr(&mut self, e: &sql::Expr) -> SResult<Expr> {
        use sql::Expr as S;
        Ok(match e {
            S::Identifier(_) | S::CompoundIdentifier(_) => {
                let name = self.path(e).unwrap_or_default();
                self.referenced.push(name.clone());
                Expr::Field(name)
            }
            S::Value(v) => Expr::Literal(match &v.value {
                sql::Value::Number(s, _) => match s.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => match s.parse::<f64>() {
                        Ok(f) => Value::Float(f),
                        Err(_) => return Err(self.fail("this number is out of range", e.span())),
                    },
                },
                sql::Value::SingleQuotedString(s) | sql::Value::DoubleQuotedString(s) => {
                    Value::Str(s.clone())
                }
                sql::Value::Boolean(b) => Value::Bool(*b),
                sql::Value::Null => {
                    return Err(self.fail(
                        "NULL literals are not supported: use IS NULL or IS NOT NULL",
                        e.span(),
                    ))
                }
                _ => return Err(self.fail("this kind of literal is not supported", e.span())),
            }),
            S::Nested(inner) => self.expr(inner)?,
            S::UnaryOp { op, expr } => {
                let inner = self.expr(expr)?;
                match op {
                    UnaryOperator::Not => Expr::Not(Box::new(inner)),
                    UnaryOperator::Minus => Expr::Neg(Box::new(inner)),
                    UnaryOperator::Plus => inner,
                    _ => {
                        return Err(
                            self.fail(format!("the operator {op} is not supported"), e.span())
                        )
                    }
                }
            }
            S::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Plus => BinaryOp::Add,
                    BinaryOperator::Minus => BinaryOp::Sub,
                    BinaryOperator::Multiply => BinaryOp::Mul,
                    BinaryOperator::Divide => BinaryOp::Div,
                    BinaryOperator::Modulo => BinaryOp::Mod,
                    BinaryOperator::Eq => BinaryOp::Eq,
                    BinaryOperator::NotEq => BinaryOp::Ne,
                    BinaryOperator::Lt => BinaryOp::Lt,
                    BinaryOperator::LtEq => BinaryOp::Le,
                    BinaryOperator::Gt => BinaryOp::Gt,
                    BinaryOperator::GtEq => BinaryOp::Ge,
                    BinaryOperator::And => BinaryOp::And,
                    BinaryOperator::Or => BinaryOp::Or,
                    BinaryOperator::StringConcat => {
                        let (l, r) = (self.expr(left)?, self.expr(right)?);
                        return Ok(Expr::Call {
                            function: ScalarFunction::Concat,
                            args: vec![l, r],
                        });
                    }
                    other => {
                        return Err(
                            self.fail(format!("the operator {other} is not supported"), e.span())
                        )
                    }
                };
                Expr::Binary(op, Box::new(self.expr(left)?), Box::new(self.expr(right)?))
            }
            S::IsNull(inner) | S::IsNotNull(inner) => {
                let present = Expr::Call {
                    function: ScalarFunction::IsPresent,
                    args: vec![self.expr(inner)?],
                };
                if matches!(e, S::IsNull(_)) {
                    Expr::Not(Box::new(present))
                } else {
                    present
                }
            }
            S::In {
                expr,
                target,
                negated,
                ..
            } => {
                let InTarget::List(list) = target else {
                    return Err(self.fail(
                        "IN takes a list of values; subqueries are not supported",
                        e.span(),
                    ));
                };
                let expr = Box::new(self.expr(expr)?);
                let list = list
                    .iter()
                    .map(|x| self.expr(x))
                    .collect::<SResult<Vec<_>>>()?;
                Expr::In {
                    expr,
                    list,
                    negated: *negated,
                }
            }
            S::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr)?;
                let within = Expr::Binary(
                    BinaryOp::And,
                    Box::new(Expr::Binary(
                        BinaryOp::Ge,
                        Box::new(x.clone()),
                        Box::new(self.expr(low)?),
                    )),
                    Box::new(Expr::Binary(
                        BinaryOp::Le,
                        Box::new(x),
                        Box::new(self.expr(high)?),
                    )),
                );
                if *negated {
                    Expr::Not(Box::new(within))
                } else {
                    within
                }
            }
            S::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | S::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any || escape_char.is_some() {
                    return Err(self.fail("LIKE ANY and LIKE … ESCAPE are not supported", e.span()));
                }
                let Ok(Expr::Literal(Value::Str(p))) = self.expr(pattern) else {
                    return Err(self.fail("LIKE needs a quoted pattern", pattern.span()));
                };
                let span = pattern.span();
                let f = self.fail("", span);
                let flags = if matches!(e, S::ILike { .. }) {
                    "is"
                } else {
                    "s"
                };
                let regex = compile_regex(&like_to_regex(&p), flags, f.start, f.end)?;
                Expr::Like {
                    expr: Box::new(self.expr(expr)?),
                    pattern: LikePattern::Regex(regex),
                    negated: *negated,
                }
            }
            S::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if conditions.len() > 10 {
                    return Err(self.fail("CASE takes at most 10 WHEN branches", e.span()));
                }
                let operand = match operand {
                    Some(o) => Some(self.expr(o)?),
                    None => None,
                };
                let mut args = Vec::new();
                for when in conditions {
                    let c = self.expr(&when.condition)?;
                    args.push(match &operand {
                        Some(o) => Expr::Binary(BinaryOp::Eq, Box::new(o.clone()), Box::new(c)),
                        None => c,
                    });
                    args.push(self.expr(&when.result)?);
                }
                if let Some(d) = else_result {
                    args.push(self.expr(d)?);
                }
                Expr::Call {
                    function: ScalarFunction::Case,
                    args,
                }
            }
            S::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some() || !matches!(kind, CastKind::Cast | CastKind::DoubleColon) {
                    return Err(self.fail("only CAST(x AS type) is supported", e.span()));
                }
                let function = match data_type {
                    DataType::Int(_)
                    | DataType::Integer(_)
                    | DataType::SmallInt(_)
                    | DataType::TinyInt(_) => ScalarFunction::ToInt,
                    DataType::BigInt(_) => ScalarFunction::ToLong,
                    DataType::Double(_)
                    | DataType::DoublePrecision
                    | DataType::Float(_)
                    | DataType::Real
                    | DataType::Decimal(_)
                    | DataType::Numeric(_) => ScalarFunction::ToDouble,
                    DataType::Varchar(_)
                    | DataType::String(_)
                    | DataType::Text
                    | DataType::Char(_) => ScalarFunction::Concat,
                    other => {
                        return Err(self.fail(
                            format!(
                            "CAST to {other} is not supported: use INT, BIGINT, DOUBLE or VARCHAR"
                        ),
                            e.span(),
                        ))
                    }
                };
                Expr::Call {
                    function,
                    args: vec![self.expr(expr)?],
                }
            }
            S::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.expr(expr)?];
                // SQL counts from 1, substr from 0.
                let from = match substring_from {
                    Some(f) => Expr::Binary(
                        BinaryOp::Sub,
                        Box::new(self.expr(f)?),
                        Box::new(Expr::Literal(Value::Int(1))),
                    ),
                    None => Expr::Literal(Value::Int(0)),
                };
                args.push(from);
                if let Some(n) = substring_for {
                    args.push(self.expr(n)?);
                }
                Expr::Call {
                    function: ScalarFunction::Substr,
                    args,
                }
            }
            S::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                if trim_what.is_some() || trim_characters.is_some() {
                    return Err(self.fail(
                        "TRIM with characters is not supported: use trim(s, chars)",
                        e.span(),
                    ));
                }
                let function = match trim_where {
                    None | Some(sql::TrimWhereField::Both) => ScalarFunction::Trim,
                    Some(sql::TrimWhereField::Leading) => ScalarFunction::Ltrim,
                    Some(sql::TrimWhereField::Trailing) => ScalarFunction::Rtrim,
                };
                Expr::Call {
                    function,
                    args: vec![self.expr(expr)?],
                }
            }
            S::Ceil { expr, field } | S::Floor { expr, field } => {
                if !matches!(
                    field,
                    CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
                ) {
                    return Err(self.fail("CEIL/FLOOR take one number", e.span()));
                }
                Expr::Call {
                    function: if matches!(e, S::Ceil { .. }) {
                        ScalarFunction::Ceil
                    } else {
                        ScalarFunction::Floor
                    },
                    args: vec![self.expr(expr)?],
                }
            }
            S::Function(f) => self.function(f, e)?,
            _ => return Err(self.fail("this SQL expression is not supported", e.span())),
        })
    }

    fn function(&mut self, f: &sql::Function, whole: &sql::Expr) -> SResult<Expr> {
        let span = whole.span();
        let name = match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(i)] => i.value.to_ascii_lowercase(),
            _ => return Err(self.fail(format!("unknown function '{}'", f.name), span)),
        };
        // Bare `user` is SQL's USER function to sqlparser, but in logs it is
        // a field far more often; niladic functions are otherwise refused.
        if matches!(f.args, FunctionArguments::None) {
            if name == "user" {
                self.referenced.push("user".to_string());
                return Ok(Expr::Field("user".to_string()));
            }
            return Err(self.fail(
                format!("unknown or unsupported function '{name}' (quote a field with this name in backticks)"),
                span,
            ));
        }
        if f.filter.is_some()
            || f.null_treatment.is_some()
            || f.over.is_some()
            || !f.within_group.is_empty()
        {
            return Err(self.fail("FILTER, OVER and WITHIN GROUP are not supported", span));
        }
        if !matches!(f.parameters, FunctionArguments::None) {
            return Err(self.fail("this function syntax is not supported", span));
        }
        let (distinct, raw_args): (bool, Vec<&FunctionArg>) = match &f.args {
            FunctionArguments::None => (false, Vec::new()),
            FunctionArguments::List(list) => {
                if !list.clauses.is_empty() {
                    return Err(
                        self.fail("clauses inside function arguments are not supported", span)
                    );
                }
                (
                    matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
                    list.args.iter().collect(),
                )
            }
            FunctionArguments::Subquery(_) => {
                return Err(self.fail("subqueries are not supported", span))
            }
        };
        let mut star = false;
        let mut arg_exprs: Vec<&sql::Expr> = Vec::new();
        for a in &raw_args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => arg_exprs.push(x),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                _ => {
                    return Err(self.fail(
                        "named and qualified-wildcard arguments are not supported",
                        span,
                    ))
                }
            }
        }
        let aggregate = match name.as_str() {
            "count" if star && arg_exprs.is_empty() && !distinct => Some(AggregateKind::CountStar),
            "count" if distinct => Some(AggregateKind::CountDistinct),
            "count" => Some(AggregateKind::Count),
            "sum" => Some(AggregateKind::Sum),
            "avg" => Some(AggregateKind::Avg),
            "min" => Some(AggregateKind::Min),
            "max" => Some(AggregateKind::Max),
            _ => None,
        };
        if let Some(kind) = aggregate {
            if !self.aggregates_allowed {
                return Err(self.fail(
                    format!("{} is an aggregate: it is allowed in SELECT, HAVING and ORDER BY, not inside another aggregate or in WHERE/GROUP BY", name.to_uppercase()),
                    span,
                ));
            }
            if distinct && kind != AggregateKind::CountDistinct {
                return Err(self.fail(
                    format!("{}(DISTINCT …) is not supported", name.to_uppercase()),
                    span,
                ));
            }
            let arg = match (kind, arg_exprs.as_slice()) {
                (AggregateKind::CountStar, []) => None,
                (_, [x]) if !star => {
                    self.aggregates_allowed = false;
                    let a = self.expr(x);
                    self.aggregates_allowed = true;
                    Some(a?)
                }
                _ => {
                    return Err(
                        self.fail(format!("{} takes one argument", name.to_uppercase()), span)
                    )
                }
            };
            // The same aggregate written twice (SELECT and HAVING) is one column.
            let text = whole.to_string();
            if let Some((_, existing)) = self.outputs.iter().find(|(t, _)| *t == text) {
                return Ok(Expr::Field(existing.clone()));
            }
            let agg_name = hidden_name(self.aggregations.len());
            self.aggregations.push(Aggregation {
                kind,
                arg,
                percentile: 0.0,
                name: agg_name.clone(),
            });
            self.referenced.push(agg_name.clone());
            return Ok(Expr::Field(agg_name));
        }
        if star || distinct {
            return Err(self.fail(format!("{name} does not take * or DISTINCT"), span));
        }
        let function = match name.as_str() {
            "lower" | "lcase" => ScalarFunction::ToLower,
            "upper" | "ucase" => ScalarFunction::ToUpper,
            "length" | "char_length" | "character_length" => ScalarFunction::Strlen,
            "ln" => ScalarFunction::Log,
            "ceiling" => ScalarFunction::Ceil,
            // `log` is the natural log in Logs Insights but base 10 in
            // several SQL dialects; refuse it rather than guess.
            "log" => {
                return Err(self.fail(
                    "LOG is ambiguous in SQL: use LN for the natural logarithm",
                    span,
                ))
            }
            "substr" | "substring" => {
                return self.expr(&sql::Expr::Substring {
                    expr: Box::new(
                        arg_exprs
                            .first()
                            .map(|e| (*e).clone())
                            .ok_or_else(|| self.fail("SUBSTRING takes 2 or 3 arguments", span))?,
                    ),
                    substring_from: arg_exprs.get(1).map(|e| Box::new((*e).clone())),
                    substring_for: arg_exprs.get(2).map(|e| Box::new((*e).clone())),
                    special: false,
                    shorthand: false,
                })
            }
            other => match ScalarFunction::from_name(other) {
                Some(
                    ScalarFunction::Bin
                    | ScalarFunction::DateFloor
                    | ScalarFunction::DateCeil
                    | ScalarFunction::RegexReplace
                    | ScalarFunction::Unmask,
                )
                | None => {
                    return Err(
                        self.fail(format!("unknown or unsupported function '{other}'"), span)
                    )
                }
                Some(f) => f,
            },
        };
        let arity = function.arity();
        if arg_exprs.len() < arity.min || arg_exprs.len() > arity.max {
            return Err(self.fail(
                format!(
                    "{name} takes {} to {} arguments",
                    arity.min,
                    arity.max.min(99)
                ),
                span,
            ));
        }
        let args = arg_exprs
            .iter()
            .map(|x| self.expr(x))
            .collect::<SResult<Vec<_>>>()?;
        Ok(Expr::Call { function, args })
    }
}

fn group_by_span(_g: &GroupByExpr, select: &sql::Select) -> Span {
    select.span()
}

/// SQL LIKE to an anchored regex: `%` any run, `_` one character.
fn like_to_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}
