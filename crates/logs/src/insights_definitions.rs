//! Saved Logs Insights queries: PutQueryDefinition, DescribeQueryDefinitions and
//! DeleteQueryDefinition, kept durably in the catalog per account and region.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use watchtrail_protocol::AwsError;
use watchtrail_store::{SavedQuery, Scope};

use crate::insights_runs::new_query_id;
use crate::token::{decode_listing_token, encode_listing_token};
use crate::{invalid_parameter, now_ms, store_error, to_value, LogsService};

/// Query definitions per account and region. AWS's quota page lists 1,000 saved queries per
/// account per Region.
pub const MAX_QUERY_DEFINITIONS: u64 = 1000;
const DEFAULT_DESCRIBE_DEFINITIONS: usize = 1000;

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryParameter {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQueryDefinitionRequest {
    query_language: Option<String>,
    name: String,
    query_definition_id: Option<String>,
    log_group_names: Option<Vec<String>>,
    query_string: String,
    client_token: Option<String>,
    parameters: Option<Vec<QueryParameter>>,
}

/// The part of a definition the catalog keeps opaque.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct DefinitionBody {
    query_string: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    log_group_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<QueryParameter>,
}

fn definition_not_found() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified query definition does not exist.",
    )
}

fn definition_language(language: Option<&str>) -> String {
    language.unwrap_or("CWLI").to_string()
}

pub async fn put_query_definition(
    service: &LogsService,
    scope: &Scope,
    request: PutQueryDefinitionRequest,
) -> Result<Value, AwsError> {
    let language = definition_language(request.query_language.as_deref());
    let parameters = request.parameters.unwrap_or_default();
    if !parameters.is_empty() && language != "CWLI" {
        return Err(invalid_parameter(
            "Query parameters are supported only for Logs Insights QL (CWLI) queries.",
        ));
    }
    let body = DefinitionBody {
        query_string: request.query_string,
        log_group_names: request.log_group_names.unwrap_or_default(),
        parameters,
    };
    let body = serde_json::to_string(&body)
        .map_err(|e| AwsError::client("InternalFailure", e.to_string()))?;
    let store = &service.store;
    let (id, client_token) = match request.query_definition_id {
        Some(id) => {
            // An update replaces every field (the model: "No current values are retained").
            let existing = store
                .saved_query(scope, &id)
                .await
                .map_err(store_error)?
                .ok_or_else(definition_not_found)?;
            (id, existing.client_token)
        }
        None => {
            if let Some(token) = &request.client_token {
                if let Some(existing) = store
                    .saved_query_by_client_token(scope, token)
                    .await
                    .map_err(store_error)?
                {
                    // A retried create: answer what the first attempt created.
                    return Ok(serde_json::json!({ "queryDefinitionId": existing.id }));
                }
            }
            if store
                .count_saved_queries(scope)
                .await
                .map_err(store_error)?
                >= MAX_QUERY_DEFINITIONS
            {
                return Err(AwsError::client(
                    "LimitExceededException",
                    "Resource limit exceeded.",
                ));
            }
            (new_query_id(), request.client_token)
        }
    };
    store
        .put_saved_query(
            scope,
            SavedQuery {
                id: id.clone(),
                name: request.name,
                language,
                client_token,
                last_modified: now_ms(),
                body,
            },
        )
        .await
        .map_err(store_error)?;
    Ok(serde_json::json!({ "queryDefinitionId": id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueryDefinitionsRequest {
    query_language: Option<String>,
    query_definition_name_prefix: Option<String>,
    max_results: Option<usize>,
    next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryDefinitionShape {
    query_language: String,
    query_definition_id: String,
    name: String,
    query_string: String,
    last_modified: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    log_group_names: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<QueryParameter>,
}

/// Listing tokens carry the last `(name, id)` returned.
fn encode_definitions_token(name: &str, id: &str) -> String {
    encode_listing_token("qd", &format!("{id}\n{name}"))
}

fn decode_definitions_token(token: &str) -> Option<(String, String)> {
    let key = decode_listing_token("qd", token)?;
    let (id, name) = key.split_once('\n')?;
    Some((name.to_string(), id.to_string()))
}

pub async fn describe_query_definitions(
    service: &LogsService,
    scope: &Scope,
    request: DescribeQueryDefinitionsRequest,
) -> Result<Value, AwsError> {
    let after = match &request.next_token {
        Some(t) => Some(
            decode_definitions_token(t)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        ),
        None => None,
    };
    let limit = request.max_results.unwrap_or(DEFAULT_DESCRIBE_DEFINITIONS);
    let mut saved = service
        .store
        .list_saved_queries(
            scope,
            request.query_definition_name_prefix.as_deref(),
            request.query_language.as_deref(),
            after,
            limit + 1,
        )
        .await
        .map_err(store_error)?;
    let more = saved.len() > limit;
    saved.truncate(limit);
    let mut shapes = Vec::with_capacity(saved.len());
    for q in &saved {
        let body: DefinitionBody = serde_json::from_str(&q.body).map_err(|e| {
            tracing::error!(id = %q.id, error = %e, "unreadable saved query");
            AwsError::service_unavailable("A stored query definition could not be read")
        })?;
        shapes.push(QueryDefinitionShape {
            query_language: q.language.clone(),
            query_definition_id: q.id.clone(),
            name: q.name.clone(),
            query_string: body.query_string,
            last_modified: q.last_modified,
            log_group_names: body.log_group_names,
            parameters: body.parameters,
        });
    }
    let mut out = serde_json::json!({ "queryDefinitions": to_value(&shapes)? });
    if more {
        if let Some(last) = saved.last() {
            out["nextToken"] = Value::String(encode_definitions_token(&last.name, &last.id));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQueryDefinitionRequest {
    query_definition_id: String,
}

pub async fn delete_query_definition(
    service: &LogsService,
    scope: &Scope,
    request: DeleteQueryDefinitionRequest,
) -> Result<Value, AwsError> {
    if !service
        .store
        .delete_saved_query(scope, &request.query_definition_id)
        .await
        .map_err(store_error)?
    {
        return Err(definition_not_found());
    }
    Ok(serde_json::json!({ "success": true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_tokens_roundtrip_names_with_any_characters() {
        let t = encode_definitions_token("ops/errors\u{e9} x", "1234-abcd");
        assert_eq!(
            decode_definitions_token(&t),
            Some(("ops/errors\u{e9} x".to_string(), "1234-abcd".to_string()))
        );
        assert_eq!(decode_definitions_token("qd_zz"), None);
        assert_eq!(decode_definitions_token("garbage"), None);
    }
}
