//! Tagging: TagResource/UntagResource/ListTagsForResource and the legacy *LogGroup forms.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use watchtrail_protocol::AwsError;
use watchtrail_store::{LogGroupChange, Scope};

use crate::groups::validate_tags;
use crate::{arn, require_group, store_error, LogsService};

const MAX_TAGS: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnRequest {
    resource_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagLogGroupRequest {
    log_group_name: String,
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagLogGroupRequest {
    log_group_name: String,
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsLogGroupRequest {
    log_group_name: String,
}

fn group_from_arn(scope: &Scope, resource_arn: &str) -> Result<String, AwsError> {
    let (arn_scope, name) = arn::parse_log_group_arn(resource_arn)?;
    if arn_scope != *scope {
        return Err(arn::not_found_group());
    }
    Ok(name)
}

async fn add_tags(
    service: &LogsService,
    scope: &Scope,
    name: &str,
    tags: BTreeMap<String, String>,
) -> Result<(), AwsError> {
    validate_tags(&tags)?;
    let group = require_group(service, scope, name).await?;
    let merged = group
        .tags
        .keys()
        .chain(tags.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if merged > MAX_TAGS {
        return Err(AwsError::client(
            "TooManyTagsException",
            "A resource can have no more than 50 tags.",
        )
        .with_extra(
            "resourceName",
            Value::String(arn::log_group_arn(scope, name)),
        ));
    }
    service
        .store
        .update_log_group(scope, name, LogGroupChange::AddTags(tags))
        .await
        .map_err(store_error)?;
    Ok(())
}

async fn remove_tags(
    service: &LogsService,
    scope: &Scope,
    name: &str,
    keys: Vec<String>,
) -> Result<(), AwsError> {
    require_group(service, scope, name).await?;
    service
        .store
        .update_log_group(scope, name, LogGroupChange::RemoveTags(keys))
        .await
        .map_err(store_error)?;
    Ok(())
}

async fn tags_of(service: &LogsService, scope: &Scope, name: &str) -> Result<Value, AwsError> {
    let group = require_group(service, scope, name).await?;
    Ok(serde_json::json!({ "tags": group.tags }))
}

pub async fn tag_resource(
    service: &LogsService,
    scope: &Scope,
    request: TagResourceRequest,
) -> Result<Value, AwsError> {
    let name = group_from_arn(scope, &request.resource_arn)?;
    add_tags(service, scope, &name, request.tags).await?;
    Ok(Value::Null)
}

pub async fn untag_resource(
    service: &LogsService,
    scope: &Scope,
    request: UntagResourceRequest,
) -> Result<Value, AwsError> {
    let name = group_from_arn(scope, &request.resource_arn)?;
    remove_tags(service, scope, &name, request.tag_keys).await?;
    Ok(Value::Null)
}

pub async fn list_tags_for_resource(
    service: &LogsService,
    scope: &Scope,
    request: ResourceArnRequest,
) -> Result<Value, AwsError> {
    let name = group_from_arn(scope, &request.resource_arn)?;
    tags_of(service, scope, &name).await
}

pub async fn tag_log_group(
    service: &LogsService,
    scope: &Scope,
    request: TagLogGroupRequest,
) -> Result<Value, AwsError> {
    add_tags(service, scope, &request.log_group_name, request.tags).await?;
    Ok(Value::Null)
}

pub async fn untag_log_group(
    service: &LogsService,
    scope: &Scope,
    request: UntagLogGroupRequest,
) -> Result<Value, AwsError> {
    remove_tags(service, scope, &request.log_group_name, request.tags).await?;
    Ok(Value::Null)
}

pub async fn list_tags_log_group(
    service: &LogsService,
    scope: &Scope,
    request: ListTagsLogGroupRequest,
) -> Result<Value, AwsError> {
    tags_of(service, scope, &request.log_group_name).await
}
