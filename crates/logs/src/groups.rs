//! Log group operations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use watchtrail_protocol::AwsError;
use watchtrail_store::{LogGroup, LogGroupChange, NewLogGroup, Scope};

use crate::token::{decode_listing_token, encode_listing_token};
use crate::{
    arn, invalid_parameter, now_ms, require_group, store_error, to_value, LogsService,
    RETENTION_DAYS,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupRequest {
    log_group_name: String,
    kms_key_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    log_group_class: Option<String>,
    deletion_protection_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupNameRequest {
    log_group_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsRequest {
    account_identifiers: Option<Vec<String>>,
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
    #[allow(dead_code)]
    include_linked_accounts: Option<bool>,
    log_group_class: Option<String>,
    log_group_identifiers: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListLogGroupsRequest {
    log_group_name_pattern: Option<String>,
    log_group_class: Option<String>,
    account_identifiers: Option<Vec<String>>,
    next_token: Option<String>,
    limit: Option<usize>,
    log_group_tags: Option<Vec<Value>>,
    data_sources: Option<Vec<Value>>,
    field_index_names: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRetentionPolicyRequest {
    log_group_name: String,
    retention_in_days: i32,
}

/// The `LogGroup` shape of the model.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogGroupShape {
    log_group_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_in_days: Option<i32>,
    metric_filter_count: i64,
    arn: String,
    stored_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    log_group_class: String,
    log_group_arn: String,
    deletion_protection_enabled: bool,
}

fn log_group_shape(group: &LogGroup) -> LogGroupShape {
    LogGroupShape {
        log_group_name: group.name.clone(),
        creation_time: group.creation_time,
        retention_in_days: group.retention_in_days,
        metric_filter_count: 0,
        arn: arn::log_group_arn_wildcard(&group.scope, &group.name),
        stored_bytes: group.stored_bytes,
        kms_key_id: group.kms_key_id.clone(),
        log_group_class: group.log_group_class.clone(),
        log_group_arn: arn::log_group_arn(&group.scope, &group.name),
        deletion_protection_enabled: group.deletion_protection_enabled,
    }
}

pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
    if let Some(key) = tags.keys().find(|k| k.starts_with("aws:")) {
        return Err(invalid_parameter(format!(
            "Tag keys starting with 'aws:' are reserved for AWS use: {key}"
        )));
    }
    Ok(())
}

pub async fn create_log_group(
    service: &LogsService,
    scope: &Scope,
    request: CreateLogGroupRequest,
) -> Result<Value, AwsError> {
    if request.log_group_name.starts_with("aws/") {
        return Err(invalid_parameter(
            "Log group names starting with 'aws/' are reserved for AWS services.",
        ));
    }
    let tags = request.tags.unwrap_or_default();
    validate_tags(&tags)?;
    if let Some(key) = &request.kms_key_id {
        if !key.starts_with("arn:") {
            return Err(invalid_parameter(format!("Invalid KMS key ARN: {key}")));
        }
    }
    let group = NewLogGroup {
        name: request.log_group_name,
        creation_time: now_ms(),
        log_group_class: request.log_group_class.unwrap_or_else(|| "STANDARD".into()),
        kms_key_id: request.kms_key_id,
        deletion_protection_enabled: request.deletion_protection_enabled.unwrap_or(false),
        tags,
    };
    service
        .store
        .create_log_group(scope, group)
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

pub async fn delete_log_group(
    service: &LogsService,
    scope: &Scope,
    request: LogGroupNameRequest,
) -> Result<Value, AwsError> {
    let group = require_group(service, scope, &request.log_group_name).await?;
    if group.deletion_protection_enabled {
        return Err(AwsError::client(
            "ValidationException",
            "Log group deletion protection is enabled. Disable it before deleting the log group.",
        ));
    }
    service
        .store
        .delete_log_group(scope, &request.log_group_name)
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

fn check_own_accounts(scope: &Scope, accounts: &Option<Vec<String>>) -> Result<(), AwsError> {
    if let Some(accounts) = accounts {
        if let Some(other) = accounts.iter().find(|a| **a != scope.account_id) {
            return Err(invalid_parameter(format!(
                "Account {other} is not linked to this monitoring account."
            )));
        }
    }
    Ok(())
}

fn invalid_token() -> AwsError {
    invalid_parameter("The specified nextToken is invalid.")
}

pub async fn describe_log_groups(
    service: &LogsService,
    scope: &Scope,
    request: DescribeLogGroupsRequest,
) -> Result<Value, AwsError> {
    if request.log_group_name_prefix.is_some() && request.log_group_name_pattern.is_some() {
        return Err(invalid_parameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    if request.log_group_identifiers.is_some()
        && (request.log_group_name_prefix.is_some() || request.log_group_name_pattern.is_some())
    {
        return Err(invalid_parameter(
            "LogGroup identifiers and LogGroup name prefix or pattern are mutually exclusive parameters.",
        ));
    }
    check_own_accounts(scope, &request.account_identifiers)?;
    let limit = request.limit.unwrap_or(50);
    let after = match &request.next_token {
        Some(t) => Some(decode_listing_token("dlg", t).ok_or_else(invalid_token)?),
        None => None,
    };

    let mut selected: Vec<LogGroup> = Vec::new();
    let mut more = false;
    if let Some(identifiers) = &request.log_group_identifiers {
        let mut names: Vec<String> = identifiers
            .iter()
            .filter_map(|id| arn::resolve_identifier(scope, id).ok())
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            if after.as_deref().is_some_and(|a| name.as_str() <= a) {
                continue;
            }
            if let Some(group) = service
                .store
                .log_group(scope, &name)
                .await
                .map_err(store_error)?
            {
                if selected.len() == limit {
                    more = true;
                    break;
                }
                selected.push(group);
            }
        }
    } else {
        let pattern = request.log_group_name_pattern.as_deref();
        let class = request.log_group_class.as_deref();
        (selected, more) = select_log_groups(
            service,
            scope,
            request.log_group_name_prefix.as_deref(),
            after.clone(),
            limit,
            |group| {
                pattern.is_none_or(|p| group.name.contains(p))
                    && class.is_none_or(|c| group.log_group_class == c)
            },
        )
        .await?;
    }
    let next_token = if more {
        selected
            .last()
            .map(|g| encode_listing_token("dlg", &g.name))
    } else {
        None
    };
    let groups: Value = if request.log_group_name_pattern.is_some() {
        // AWS documents that a pattern search returns only these three members.
        selected
            .iter()
            .map(|g| {
                serde_json::json!({
                    "logGroupName": g.name,
                    "creationTime": g.creation_time,
                    "arn": arn::log_group_arn_wildcard(&g.scope, &g.name),
                })
            })
            .collect()
    } else {
        to_value(&selected.iter().map(log_group_shape).collect::<Vec<_>>())?
    };
    let mut out = serde_json::json!({ "logGroups": groups });
    if let Some(token) = next_token {
        out["nextToken"] = Value::String(token);
    }
    Ok(out)
}

/// Pages through the store's name-ordered groups after `after` until `limit` of them pass `keep`
/// (filters the store cannot apply, like substring patterns and class); also says whether more
/// matching groups follow.
async fn select_log_groups(
    service: &LogsService,
    scope: &Scope,
    prefix: Option<&str>,
    after: Option<String>,
    limit: usize,
    keep: impl Fn(&LogGroup) -> bool,
) -> Result<(Vec<LogGroup>, bool), AwsError> {
    let mut cursor = after;
    let mut selected = Vec::new();
    let batch = (limit + 1).max(100);
    loop {
        let page = service
            .store
            .list_log_groups(scope, prefix, cursor.as_deref(), batch)
            .await
            .map_err(store_error)?;
        let exhausted = page.len() < batch;
        for group in page {
            cursor = Some(group.name.clone());
            if keep(&group) {
                if selected.len() == limit {
                    return Ok((selected, true));
                }
                selected.push(group);
            }
        }
        if exhausted {
            return Ok((selected, false));
        }
    }
}

/// ListLogGroups' `logGroupNamePattern`: up to five `|`-separated alternatives; `^` anchors an
/// alternative at the start of the name, otherwise it matches anywhere. Case-sensitive.
fn matches_list_pattern(pattern: &str, name: &str) -> bool {
    pattern
        .split('|')
        .any(|alternative| match alternative.strip_prefix('^') {
            Some(prefix) => name.starts_with(prefix),
            None => name.contains(alternative),
        })
}

pub async fn list_log_groups(
    service: &LogsService,
    scope: &Scope,
    request: ListLogGroupsRequest,
) -> Result<Value, AwsError> {
    check_own_accounts(scope, &request.account_identifiers)?;
    if request.log_group_tags.is_some()
        || request.data_sources.is_some()
        || request.field_index_names.is_some()
    {
        return Err(invalid_parameter(
            "Filtering by logGroupTags, dataSources or fieldIndexNames is not supported by this watchtrail server yet.",
        ));
    }
    let limit = request.limit.unwrap_or(50);
    let after = match &request.next_token {
        Some(t) => Some(decode_listing_token("llg", t).ok_or_else(invalid_token)?),
        None => None,
    };
    let pattern = request.log_group_name_pattern.as_deref();
    let class = request.log_group_class.as_deref();
    let (selected, more) = select_log_groups(service, scope, None, after, limit, |group| {
        pattern.is_none_or(|p| matches_list_pattern(p, &group.name))
            && class.is_none_or(|c| group.log_group_class == c)
    })
    .await?;
    let summaries: Vec<Value> = selected
        .iter()
        .map(|g| {
            serde_json::json!({
                "logGroupName": g.name,
                "logGroupArn": arn::log_group_arn(&g.scope, &g.name),
                "logGroupClass": g.log_group_class,
            })
        })
        .collect();
    let mut out = serde_json::json!({ "logGroups": summaries });
    if more {
        if let Some(last) = selected.last() {
            out["nextToken"] = Value::String(encode_listing_token("llg", &last.name));
        }
    }
    Ok(out)
}

pub async fn put_retention_policy(
    service: &LogsService,
    scope: &Scope,
    request: PutRetentionPolicyRequest,
) -> Result<Value, AwsError> {
    if !RETENTION_DAYS.contains(&request.retention_in_days) {
        let set: Vec<String> = RETENTION_DAYS.iter().map(i32::to_string).collect();
        return Err(invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            request.retention_in_days,
            set.join(", ")
        )));
    }
    require_group(service, scope, &request.log_group_name).await?;
    service
        .store
        .update_log_group(
            scope,
            &request.log_group_name,
            LogGroupChange::SetRetention(Some(request.retention_in_days)),
        )
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

pub async fn delete_retention_policy(
    service: &LogsService,
    scope: &Scope,
    request: LogGroupNameRequest,
) -> Result<Value, AwsError> {
    require_group(service, scope, &request.log_group_name).await?;
    service
        .store
        .update_log_group(
            scope,
            &request.log_group_name,
            LogGroupChange::SetRetention(None),
        )
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pattern_alternatives() {
        assert!(matches_list_pattern("^/app|worker", "/app/web"));
        assert!(matches_list_pattern("^/app|worker", "/svc/worker-1"));
        assert!(!matches_list_pattern("^/app|worker", "/svc/app"));
        assert!(!matches_list_pattern("Worker", "/svc/worker"));
    }
}
