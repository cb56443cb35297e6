//! Logs Insights: StartQuery, GetQueryResults, StopQuery and DescribeQueries.
//!
//! StartQuery validates the request, compiles the query with `watchtrail-insights`, resolves the
//! log groups (parameters or the query's `SOURCE` command) and hands a run to the
//! [`QueryRunner`](crate::insights_runs::QueryRunner); the other operations read its state.

use serde::Deserialize;
use serde_json::Value;
use watchtrail_insights::{ExecutionContext, SourceClause};
use watchtrail_protocol::AwsError;
use watchtrail_store::Scope;

use crate::insights_runs::{AdmissionError, QueryRun, QuerySpec, QueryStatus, SelectedGroup};
use crate::token::{binding, decode_listing_token, encode_listing_token};
use crate::{arn, invalid_parameter, now_ms, store_error, LogsService};

/// logGroupNames and logGroupIdentifiers take at most this many groups (model documentation).
pub const MAX_QUERY_LOG_GROUPS: usize = 50;
/// A `SOURCE logGroups(...)` selection may match at most this many groups.
pub const MAX_SOURCE_LOG_GROUPS: usize = 10_000;
/// GetQueryResults returns at most this many rows per page (model documentation).
pub const MAX_RESULTS_PAGE: usize = 10_000;
const DEFAULT_DESCRIBE_QUERIES: usize = 1000;

const NO_GROUPS: &str = "Specify exactly one of logGroupName, logGroupNames or \
     logGroupIdentifiers, or start the query with a SOURCE command.";
const SQL_WITH_GROUP_PARAMETERS: &str = "SQL queries name their log groups in the FROM clause; \
     do not also specify logGroupName, logGroupNames or logGroupIdentifiers.";
const SOURCE_WITH_GROUP_PARAMETERS: &str = "A query that starts with a SOURCE command cannot \
     also specify logGroupName, logGroupNames or logGroupIdentifiers.";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryRequest {
    query_language: Option<String>,
    log_group_name: Option<String>,
    log_group_names: Option<Vec<String>>,
    log_group_identifiers: Option<Vec<String>>,
    start_time: i64,
    end_time: i64,
    query_string: String,
    limit: Option<usize>,
}

fn group_does_not_exist(scope: &Scope, name: &str) -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        format!(
            "Log group '{name}' does not exist for account ID '{}'",
            scope.account_id
        ),
    )
}

fn limit_exceeded() -> AwsError {
    AwsError::client("LimitExceededException", "Resource limit exceeded.")
}

/// `MalformedQueryException` with its `queryCompileError`.
fn malformed_query(error: &watchtrail_insights::QueryError) -> AwsError {
    AwsError::client("MalformedQueryException", error.message.clone()).with_extra(
        "queryCompileError",
        serde_json::json!({
            "location": {
                "startCharOffset": error.start,
                "endCharOffset": error.end,
            },
            "message": error.message,
        }),
    )
}

/// The query language, refusing the ones this server cannot run.
pub fn query_language(language: Option<&str>) -> Result<String, AwsError> {
    match language.unwrap_or("CWLI") {
        "CWLI" => Ok("CWLI".to_string()),
        "SQL" => Ok("SQL".to_string()),
        other => Err(invalid_parameter(format!(
            "Query language {other} is not supported by this watchtrail server; CWLI (Logs \
             Insights QL) and SQL queries can be run."
        ))),
    }
}

/// Which of the three group parameters were given (an empty list counts as not given).
enum GroupParameter {
    None,
    Names(Vec<String>),
    Identifiers(Vec<String>),
}

fn group_parameter(request: &mut StartQueryRequest) -> Result<GroupParameter, AwsError> {
    let name = request.log_group_name.take();
    let names = request.log_group_names.take().filter(|v| !v.is_empty());
    let identifiers = request
        .log_group_identifiers
        .take()
        .filter(|v| !v.is_empty());
    let given = usize::from(name.is_some())
        + usize::from(names.is_some())
        + usize::from(identifiers.is_some());
    if given > 1 {
        return Err(invalid_parameter(
            "Exactly one of logGroupName, logGroupNames and logGroupIdentifiers may be specified.",
        ));
    }
    for list in [&names, &identifiers].into_iter().flatten() {
        if list.len() > MAX_QUERY_LOG_GROUPS {
            return Err(invalid_parameter(format!(
                "A query can include at most {MAX_QUERY_LOG_GROUPS} log groups; {} were given.",
                list.len()
            )));
        }
    }
    Ok(match (name, names, identifiers) {
        (Some(n), _, _) => GroupParameter::Names(vec![n]),
        (_, Some(n), _) => GroupParameter::Names(n),
        (_, _, Some(i)) => GroupParameter::Identifiers(i),
        _ => GroupParameter::None,
    })
}

/// Group names selected by a `SOURCE` command, in the order given (names), or matching it.
async fn source_groups(
    service: &LogsService,
    scope: &Scope,
    source: &SourceClause,
) -> Result<Vec<String>, AwsError> {
    if let Some(other) = source
        .account_identifiers
        .iter()
        .find(|a| **a != scope.account_id)
    {
        return Err(invalid_parameter(format!(
            "SOURCE accountIdentifiers: account {other} is not this account; cross-account \
             queries are not supported by this watchtrail server."
        )));
    }
    let mut names: Vec<String> = Vec::new();
    for name in &source.log_group_names {
        names.push(arn::resolve_identifier(scope, name)?);
    }
    if !source.name_prefixes.is_empty() {
        // AWS's default class for SOURCE logGroups(...) is STANDARD.
        let classes: Vec<&str> = if source.log_group_classes.is_empty() {
            vec!["STANDARD"]
        } else {
            source
                .log_group_classes
                .iter()
                .map(String::as_str)
                .collect()
        };
        for prefix in &source.name_prefixes {
            let groups = service
                .store
                .list_log_groups(scope, Some(prefix), None, MAX_SOURCE_LOG_GROUPS + 1)
                .await
                .map_err(store_error)?;
            for g in groups {
                if classes.contains(&g.log_group_class.as_str()) && !names.contains(&g.name) {
                    names.push(g.name);
                }
            }
        }
        if names.len() > MAX_SOURCE_LOG_GROUPS {
            return Err(invalid_parameter(format!(
                "The SOURCE command selects more than {MAX_SOURCE_LOG_GROUPS} log groups."
            )));
        }
        if names.is_empty() {
            return Err(AwsError::client(
                "ResourceNotFoundException",
                "The SOURCE command selects no log groups.",
            ));
        }
    }
    Ok(names)
}

/// How DescribeQueries shows a query: AWS prefixes the text with the `SOURCE` clause it ran
/// with (`SOURCE "lg" START=<start>000 END=<end>999 | <query>`).
pub fn described_query(groups: &[String], start_ms: i64, end_ms: i64, text: &str) -> String {
    let quoted: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        "SOURCE {} START={start_ms} END={end_ms} | {text}",
        quoted.join(", ")
    )
}

pub async fn start_query(
    service: &LogsService,
    scope: &Scope,
    mut request: StartQueryRequest,
) -> Result<Value, AwsError> {
    let language = query_language(request.query_language.as_deref())?;
    let parameter = group_parameter(&mut request)?;
    if request.end_time < request.start_time {
        return Err(invalid_parameter(
            "endTime must be greater than or equal to startTime.",
        ));
    }
    let sql = language == "SQL";
    let query = if sql {
        watchtrail_insights::parse_sql(&request.query_string)
    } else {
        watchtrail_insights::parse(&request.query_string)
    }
    .map_err(|e| malformed_query(&e))?;
    // SQL names its log groups in FROM, which the compiled query carries as its source.
    let source = query.source();
    let names: Vec<String> = match (parameter, source) {
        (GroupParameter::None, None) => return Err(invalid_parameter(NO_GROUPS)),
        (GroupParameter::None, Some(clause)) => source_groups(service, scope, clause).await?,
        (_, Some(_)) if sql => return Err(invalid_parameter(SQL_WITH_GROUP_PARAMETERS)),
        (_, Some(_)) => return Err(invalid_parameter(SOURCE_WITH_GROUP_PARAMETERS)),
        (GroupParameter::Names(names), None) => names,
        (GroupParameter::Identifiers(ids), None) => ids
            .iter()
            .map(|i| arn::resolve_identifier(scope, i))
            .collect::<Result<_, _>>()?,
    };
    let mut groups = Vec::with_capacity(names.len());
    for name in &names {
        let group = service
            .store
            .log_group(scope, name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| group_does_not_exist(scope, name))?;
        if !groups.iter().any(|g: &SelectedGroup| g.id == group.id) {
            groups.push(SelectedGroup {
                id: group.id,
                name: group.name,
            });
        }
    }
    // StartQuery's times are inclusive epoch seconds; SOURCE ... START/END are epoch ms.
    let start_ms = source
        .and_then(|s| s.start_ms)
        .unwrap_or_else(|| request.start_time.saturating_mul(1000));
    let end_ms = source
        .and_then(|s| s.end_ms)
        .unwrap_or_else(|| request.end_time.saturating_mul(1000).saturating_add(999));
    if end_ms < start_ms {
        return Err(invalid_parameter(
            "endTime must be greater than or equal to startTime.",
        ));
    }
    let now = now_ms();
    let execution = query.execute(ExecutionContext {
        start_ms,
        end_ms,
        now_ms: now,
        limit: request.limit,
    });
    let described = if source.is_some() {
        request.query_string.clone()
    } else {
        described_query(&names, start_ms, end_ms, &request.query_string)
    };
    // `diff` compares with a window before the query's own: scan both.
    let (scan_start_ms, scan_end_ms) = query.required_range(start_ms, end_ms);
    let spec = QuerySpec {
        scope: scope.clone(),
        language,
        described_query: described,
        groups,
        start_ms: scan_start_ms,
        end_ms: scan_end_ms,
        execution,
    };
    let run = service
        .insights
        .admit(&spec, now)
        .map_err(|AdmissionError::TooManyConcurrentQueries| limit_exceeded())?;
    let id = run.id.clone();
    service.insights.spawn(service.store.clone(), run, spec);
    Ok(serde_json::json!({ "queryId": id }))
}

fn query_not_found() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified query does not exist.",
    )
}

fn require_run(
    service: &LogsService,
    scope: &Scope,
    id: &str,
) -> Result<std::sync::Arc<QueryRun>, AwsError> {
    service.insights.get(scope, id).ok_or_else(query_not_found)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsRequest {
    query_id: String,
    next_token: Option<String>,
    max_items: Option<usize>,
}

fn results_token_binding(query_id: &str) -> u64 {
    binding(&[b"query-results", query_id.as_bytes()])
}

fn encode_results_token(query_id: &str, offset: usize) -> String {
    format!("r{offset}.{:016x}", results_token_binding(query_id))
}

fn decode_results_token(query_id: &str, token: &str) -> Option<usize> {
    let (offset, bound) = token.strip_prefix('r')?.split_once('.')?;
    if u64::from_str_radix(bound, 16).ok()? != results_token_binding(query_id) {
        return None;
    }
    offset.parse().ok()
}

pub async fn get_query_results(
    service: &LogsService,
    scope: &Scope,
    request: GetQueryResultsRequest,
) -> Result<Value, AwsError> {
    let run = require_run(service, scope, &request.query_id)?;
    let offset = match &request.next_token {
        Some(t) => decode_results_token(&run.id, t)
            .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        None => 0,
    };
    let page_size = request
        .max_items
        .unwrap_or(MAX_RESULTS_PAGE)
        .min(MAX_RESULTS_PAGE);
    let snapshot = service.insights.snapshot(&run).await;
    let empty = watchtrail_insights::QueryOutput::default();
    let output = snapshot.output.as_deref().unwrap_or(&empty);
    let rows: Vec<Value> = output
        .rows
        .iter()
        .skip(offset)
        .take(page_size)
        .map(|row| {
            Value::Array(
                row.iter()
                    .map(|(field, value)| serde_json::json!({ "field": field, "value": value }))
                    .collect(),
            )
        })
        .collect();
    let mut out = serde_json::json!({
        "queryLanguage": run.language,
        "results": rows,
        "statistics": {
            "recordsMatched": output.records_matched as f64,
            "recordsScanned": output.records_scanned as f64,
            "bytesScanned": output.bytes_scanned as f64,
            "logGroupsScanned": snapshot.groups_scanned as f64,
        },
        "status": snapshot.status.as_str(),
    });
    // Only final results are paged: partial ones change between calls.
    let next = offset.saturating_add(page_size);
    if snapshot.status == QueryStatus::Complete && next < output.rows.len() {
        out["nextToken"] = Value::String(encode_results_token(&run.id, next));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopQueryRequest {
    query_id: String,
}

pub async fn stop_query(
    service: &LogsService,
    scope: &Scope,
    request: StopQueryRequest,
) -> Result<Value, AwsError> {
    let run = require_run(service, scope, &request.query_id)?;
    if !service.insights.cancel(&run).await {
        // The model: "If the query has already ended, the operation returns an error indicating
        // that the specified query is not running."
        return Err(invalid_parameter(format!(
            "Query {} is not running; its status is {}.",
            run.id,
            run.status().as_str()
        )));
    }
    Ok(serde_json::json!({ "success": true }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesRequest {
    log_group_name: Option<String>,
    status: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
    query_language: Option<String>,
}

pub async fn describe_queries(
    service: &LogsService,
    scope: &Scope,
    request: DescribeQueriesRequest,
) -> Result<Value, AwsError> {
    let after = match &request.next_token {
        Some(t) => Some(
            decode_listing_token("q", t)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        ),
        None => None,
    };
    let limit = request.max_results.unwrap_or(DEFAULT_DESCRIBE_QUERIES);
    let mut runs: Vec<std::sync::Arc<QueryRun>> = service
        .insights
        .list(scope)
        .into_iter()
        .filter(|r| {
            request
                .log_group_name
                .as_ref()
                .is_none_or(|g| r.group_names.contains(g))
        })
        .filter(|r| {
            request
                .status
                .as_deref()
                .is_none_or(|s| r.status().as_str() == s)
        })
        .filter(|r| {
            request
                .query_language
                .as_deref()
                .is_none_or(|l| r.language == l)
        })
        .collect();
    if let Some(after) = &after {
        let at = runs
            .iter()
            .position(|r| r.id == *after)
            .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?;
        runs.drain(..=at);
    }
    let more = runs.len() > limit;
    runs.truncate(limit);
    let queries: Vec<Value> = runs
        .iter()
        .map(|r| {
            let mut q = serde_json::json!({
                "queryLanguage": r.language,
                "queryId": r.id,
                "queryString": r.described_query,
                "status": r.status().as_str(),
                "createTime": r.create_time,
            });
            if let Some(first) = r.group_names.first() {
                q["logGroupName"] = Value::String(first.clone());
            }
            q
        })
        .collect();
    let mut out = serde_json::json!({ "queries": queries });
    if more {
        if let Some(last) = runs.last() {
            out["nextToken"] = Value::String(encode_listing_token("q", &last.id));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_query_matches_aws_echo() {
        assert_eq!(
            described_query(
                &["lg".into()],
                1_700_000_000_000,
                1_700_000_300_999,
                "fields @message"
            ),
            "SOURCE \"lg\" START=1700000000000 END=1700000300999 | fields @message"
        );
        assert_eq!(
            described_query(&["a".into(), "b".into()], 0, 999, "stats count(*)"),
            "SOURCE \"a\", \"b\" START=0 END=999 | stats count(*)"
        );
    }

    #[test]
    fn results_tokens_are_bound_to_their_query() {
        let t = encode_results_token("q1", 10_000);
        assert_eq!(decode_results_token("q1", &t), Some(10_000));
        assert_eq!(decode_results_token("q2", &t), None);
        assert_eq!(decode_results_token("q1", "garbage"), None);
    }

    #[test]
    fn cwli_and_sql_run_ppl_is_refused() {
        assert_eq!(query_language(None).unwrap(), "CWLI");
        assert_eq!(query_language(Some("CWLI")).unwrap(), "CWLI");
        assert_eq!(query_language(Some("SQL")).unwrap(), "SQL");
        let err = query_language(Some("PPL")).unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
        assert!(err.message.contains("PPL"), "{}", err.message);
    }

    #[test]
    fn compile_errors_carry_offsets() {
        let err = watchtrail_insights::parse("fields @message | bogus x").unwrap_err();
        let aws = malformed_query(&err);
        assert_eq!(aws.code, "MalformedQueryException");
        let extra = aws.extra.unwrap();
        let location = &extra["queryCompileError"]["location"];
        assert_eq!(location["startCharOffset"], err.start);
        assert_eq!(location["endCharOffset"], err.end);
    }
}
