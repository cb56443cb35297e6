//! Log stream operations.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use watchtrail_protocol::AwsError;
use watchtrail_store::{LogStream, Scope, StreamCursor, StreamOrder};

use crate::token::{decode_listing_token, encode_listing_token};
use crate::{
    arn, group_name_or_identifier, invalid_parameter, now_ms, require_group, store_error, to_value,
    LogsService,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamRequest {
    log_group_name: String,
    log_stream_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogStreamShape {
    log_stream_name: String,
    creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_ingestion_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload_sequence_token: Option<String>,
    arn: String,
    /// AWS reports 0 for streams since 2019 (the figure lives on the group).
    stored_bytes: u64,
}

pub async fn create_log_stream(
    service: &LogsService,
    scope: &Scope,
    request: LogStreamRequest,
) -> Result<Value, AwsError> {
    let group = require_group(service, scope, &request.log_group_name).await?;
    service
        .store
        .create_log_stream(group.id, &request.log_stream_name, now_ms())
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

pub async fn delete_log_stream(
    service: &LogsService,
    scope: &Scope,
    request: LogStreamRequest,
) -> Result<Value, AwsError> {
    let group = require_group(service, scope, &request.log_group_name).await?;
    service
        .store
        .delete_log_stream(group.id, &request.log_stream_name)
        .await
        .map_err(store_error)?;
    Ok(Value::Null)
}

fn encode_cursor(order: StreamOrder, stream: &LogStream) -> String {
    match order {
        StreamOrder::LogStreamName => encode_listing_token("sn", &stream.name),
        StreamOrder::LastEventTime => {
            let ts = stream
                .last_event_timestamp
                .map(|t| t.to_string())
                .unwrap_or_default();
            encode_listing_token("st", &format!("{ts}\n{}", stream.name))
        }
    }
}

fn decode_cursor(order: StreamOrder, token: &str) -> Option<StreamCursor> {
    match order {
        StreamOrder::LogStreamName => decode_listing_token("sn", token).map(StreamCursor::Name),
        StreamOrder::LastEventTime => {
            let raw = decode_listing_token("st", token)?;
            let (ts, name) = raw.split_once('\n')?;
            let ts = if ts.is_empty() {
                None
            } else {
                Some(ts.parse().ok()?)
            };
            Some(StreamCursor::LastEventTime(ts, name.to_string()))
        }
    }
}

pub async fn describe_log_streams(
    service: &LogsService,
    scope: &Scope,
    request: DescribeLogStreamsRequest,
) -> Result<Value, AwsError> {
    let group_name =
        group_name_or_identifier(scope, request.log_group_name, request.log_group_identifier)?;
    let order = match request.order_by.as_deref() {
        None | Some("LogStreamName") => StreamOrder::LogStreamName,
        Some(_) => StreamOrder::LastEventTime,
    };
    if order == StreamOrder::LastEventTime && request.log_stream_name_prefix.is_some() {
        return Err(invalid_parameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let group = require_group(service, scope, &group_name).await?;
    let limit = request.limit.unwrap_or(50);
    let after = match &request.next_token {
        Some(t) => Some(
            decode_cursor(order, t)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        ),
        None => None,
    };
    let mut streams = service
        .store
        .list_log_streams(
            group.id,
            order,
            request.log_stream_name_prefix.as_deref(),
            request.descending.unwrap_or(false),
            after,
            limit + 1,
        )
        .await
        .map_err(store_error)?;
    let more = streams.len() > limit;
    streams.truncate(limit);
    let shapes: Vec<LogStreamShape> = streams
        .iter()
        .map(|s| LogStreamShape {
            log_stream_name: s.name.clone(),
            creation_time: s.creation_time,
            first_event_timestamp: s.first_event_timestamp,
            last_event_timestamp: s.last_event_timestamp,
            last_ingestion_time: s.last_ingestion_time,
            upload_sequence_token: s
                .last_ingestion_time
                .map(|_| crate::events::sequence_token(s.id)),
            arn: arn::log_stream_arn(scope, &group.name, &s.name),
            stored_bytes: 0,
        })
        .collect();
    let mut out = serde_json::json!({ "logStreams": to_value(&shapes)? });
    if more {
        if let Some(last) = streams.last() {
            out["nextToken"] = Value::String(encode_cursor(order, last));
        }
    }
    Ok(out)
}
