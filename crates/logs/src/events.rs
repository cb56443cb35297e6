//! PutLogEvents, GetLogEvents and FilterLogEvents.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use watchtrail_filter_pattern::FilterPattern;
use watchtrail_protocol::AwsError;
use watchtrail_store::{
    Direction, EventPosition, InputEvent, LogStream, ScanRequest, Scope, StoredEvent, StreamId,
    StreamOrder,
};

use crate::token::{
    binding, decode_event_token, encode_event_token, event_id, predecessor, successor, EventToken,
};
use crate::{
    group_name_or_identifier, invalid_parameter, now_ms, require_group, require_stream,
    store_error, to_value, LogsService,
};

/// PutLogEvents' batch limit, counting [`EVENT_OVERHEAD_BYTES`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const EVENT_OVERHEAD_BYTES: usize = 26;
const TWO_HOURS_MS: i64 = 2 * 3600 * 1000;
const FOURTEEN_DAYS_MS: i64 = 14 * 24 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// GetLogEvents and FilterLogEvents return at most about 1 MB of events per call.
const MAX_RESPONSE_BYTES: usize = 1_048_576;
const DEFAULT_EVENTS_LIMIT: usize = 10_000;
/// Bounds the work of one FilterLogEvents call; a very selective pattern then returns a partial
/// (possibly empty) page with a nextToken, as CloudWatch Logs does.
const FILTER_SCAN_BUDGET: u64 = 2_000_000;

#[derive(Deserialize)]
pub struct InputLogEvent {
    timestamp: i64,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsRequest {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputLogEvent>,
}

#[derive(Serialize, Default, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLogEventsInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_new_log_event_start_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_old_log_event_end_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_log_event_end_index: Option<usize>,
}

impl RejectedLogEventsInfo {
    fn is_empty(&self) -> bool {
        *self == RejectedLogEventsInfo::default()
    }
}

/// The accepted range of a chronologically ordered batch and why the rest was rejected.
#[derive(Debug, PartialEq)]
pub struct BatchVerdict {
    pub accepted: std::ops::Range<usize>,
    pub rejected: RejectedLogEventsInfo,
}

/// Applies PutLogEvents' per-event time rules to timestamps already known to be in order.
pub fn judge_batch(
    timestamps: &[i64],
    now: i64,
    retention_days: Option<i32>,
) -> Result<BatchVerdict, AwsError> {
    let too_old_end = timestamps.partition_point(|&t| t < now - FOURTEEN_DAYS_MS);
    let expired_end = match retention_days {
        Some(days) => timestamps.partition_point(|&t| t < now - i64::from(days) * DAY_MS),
        None => 0,
    };
    let too_new_start = timestamps.partition_point(|&t| t <= now + TWO_HOURS_MS);
    let start = too_old_end.max(expired_end).min(too_new_start);
    let accepted = start..too_new_start;
    if accepted.len() > 1 && timestamps[accepted.end - 1] - timestamps[accepted.start] > DAY_MS {
        return Err(invalid_parameter(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let rejected = RejectedLogEventsInfo {
        too_new_log_event_start_index: (too_new_start < timestamps.len()).then_some(too_new_start),
        too_old_log_event_end_index: (too_old_end > 0).then_some(too_old_end),
        expired_log_event_end_index: (expired_end > 0).then_some(expired_end),
    };
    Ok(BatchVerdict { accepted, rejected })
}

/// Sequence tokens are deprecated and ignored on input; clients still expect one back.
pub fn sequence_token(stream: StreamId) -> String {
    format!("{:056}", stream)
}

pub async fn put_log_events(
    service: &LogsService,
    scope: &Scope,
    request: PutLogEventsRequest,
) -> Result<Value, AwsError> {
    let size: usize = request
        .log_events
        .iter()
        .map(|e| e.message.len() + EVENT_OVERHEAD_BYTES)
        .sum();
    if size > MAX_BATCH_BYTES {
        return Err(invalid_parameter(format!(
            "Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if request
        .log_events
        .windows(2)
        .any(|w| w[1].timestamp < w[0].timestamp)
    {
        return Err(invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let group = require_group(service, scope, &request.log_group_name).await?;
    let stream = require_stream(service, group.id, &request.log_stream_name).await?;

    let now = now_ms();
    let timestamps: Vec<i64> = request.log_events.iter().map(|e| e.timestamp).collect();
    let verdict = judge_batch(&timestamps, now, group.retention_in_days)?;
    if !verdict.accepted.is_empty() {
        let events: Vec<InputEvent> = request
            .log_events
            .into_iter()
            .skip(verdict.accepted.start)
            .take(verdict.accepted.len())
            .map(|e| InputEvent {
                timestamp: e.timestamp,
                message: e.message,
            })
            .collect();
        service
            .store
            .append(group.id, stream.id, now, events)
            .await
            .map_err(store_error)?;
    }
    let mut out = serde_json::json!({ "nextSequenceToken": sequence_token(stream.id) });
    if !verdict.rejected.is_empty() {
        out["rejectedLogEventsInfo"] = to_value(&verdict.rejected)?;
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutputLogEvent<'a> {
    timestamp: i64,
    message: &'a str,
    ingestion_time: i64,
}

fn position(event: &StoredEvent) -> EventPosition {
    EventPosition {
        timestamp: event.timestamp,
        seq: event.seq,
    }
}

/// Keeps the leading events that fit in one ~1 MB response (always at least one, so a single
/// huge event still makes progress); returns whether any were cut.
fn truncate_to_response_size(events: &mut Vec<StoredEvent>) -> bool {
    let mut bytes = 0usize;
    let keep = events
        .iter()
        .take_while(|e| {
            bytes += e.message.len() + EVENT_OVERHEAD_BYTES;
            bytes <= MAX_RESPONSE_BYTES
        })
        .count()
        .max(1.min(events.len()));
    let cut = keep < events.len();
    events.truncate(keep);
    cut
}

fn invalid_token() -> AwsError {
    invalid_parameter("The specified nextToken is invalid.")
}

pub async fn get_log_events(
    service: &LogsService,
    scope: &Scope,
    request: GetLogEventsRequest,
) -> Result<Value, AwsError> {
    let group_name =
        group_name_or_identifier(scope, request.log_group_name, request.log_group_identifier)?;
    let group = require_group(service, scope, &group_name).await?;
    let stream = require_stream(service, group.id, &request.log_stream_name).await?;
    let token_binding = binding(&[&group.id.to_le_bytes(), &stream.id.to_le_bytes()]);
    let token = match &request.next_token {
        Some(t) => Some(decode_event_token(t, token_binding).ok_or_else(invalid_token)?),
        None => None,
    };
    let (direction, after) = match token {
        Some(EventToken::Forward(p)) => (Direction::Forward, Some(p)),
        Some(EventToken::Backward(p)) => (Direction::Backward, Some(p)),
        None if request.start_from_head.unwrap_or(false) => (Direction::Forward, None),
        None => (Direction::Backward, None),
    };
    let limit = request.limit.unwrap_or(DEFAULT_EVENTS_LIMIT);
    let page = service
        .store
        .scan(
            ScanRequest {
                group_id: group.id,
                streams: Some(vec![stream.id]),
                start_time: request.start_time,
                end_time: request.end_time,
                after,
                direction,
                limit,
                max_scanned: None,
            },
            None,
        )
        .await
        .map_err(store_error)?;

    let mut events = page.events;
    truncate_to_response_size(&mut events);
    if direction == Direction::Backward {
        events.reverse();
    }

    let (forward, backward) = match (events.first(), events.last()) {
        (Some(first), Some(last)) => (
            EventToken::Forward(position(last)),
            EventToken::Backward(position(first)),
        ),
        _ => match token {
            Some(EventToken::Forward(p)) => {
                (EventToken::Forward(p), EventToken::Backward(successor(p)))
            }
            Some(EventToken::Backward(p)) => {
                (EventToken::Forward(predecessor(p)), EventToken::Backward(p))
            }
            None => {
                let start = EventPosition {
                    timestamp: request.start_time.unwrap_or(i64::MIN / 4),
                    seq: 0,
                };
                let end = EventPosition {
                    timestamp: request.end_time.unwrap_or(i64::MAX / 4),
                    seq: 0,
                };
                (
                    EventToken::Forward(predecessor(start)),
                    EventToken::Backward(end),
                )
            }
        },
    };
    let encode = |t: EventToken| match (&request.next_token, token) {
        // AWS returns the very token it was given once the end is reached.
        (Some(original), Some(given)) if given == t => original.clone(),
        _ => encode_event_token(t, token_binding),
    };
    let shapes: Vec<OutputLogEvent<'_>> = events
        .iter()
        .map(|e| OutputLogEvent {
            timestamp: e.timestamp,
            message: &e.message,
            ingestion_time: e.ingestion_time,
        })
        .collect();
    Ok(serde_json::json!({
        "events": to_value(&shapes)?,
        "nextForwardToken": encode(forward),
        "nextBackwardToken": encode(backward),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FilteredLogEvent<'a> {
    log_stream_name: &'a str,
    timestamp: i64,
    message: &'a str,
    ingestion_time: i64,
    event_id: String,
}

pub async fn filter_log_events(
    service: &LogsService,
    scope: &Scope,
    request: FilterLogEventsRequest,
) -> Result<Value, AwsError> {
    let group_name =
        group_name_or_identifier(scope, request.log_group_name, request.log_group_identifier)?;
    if request.log_stream_names.is_some() && request.log_stream_name_prefix.is_some() {
        return Err(invalid_parameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
        ));
    }
    let pattern = match request.filter_pattern.as_deref() {
        Some(text) => Some(FilterPattern::parse(text).map_err(|e| invalid_parameter(e.message))?),
        None => None,
    };
    let group = require_group(service, scope, &group_name).await?;

    let all_streams: Vec<LogStream> = service
        .store
        .list_log_streams(
            group.id,
            StreamOrder::LogStreamName,
            request.log_stream_name_prefix.as_deref(),
            false,
            None,
            usize::MAX,
        )
        .await
        .map_err(store_error)?;
    let names: HashMap<StreamId, &str> = all_streams
        .iter()
        .map(|s| (s.id, s.name.as_str()))
        .collect();
    let selection: Option<Vec<StreamId>> =
        match (&request.log_stream_names, &request.log_stream_name_prefix) {
            (Some(wanted), _) => Some(
                all_streams
                    .iter()
                    .filter(|s| wanted.contains(&s.name))
                    .map(|s| s.id)
                    .collect(),
            ),
            (None, Some(_)) => Some(all_streams.iter().map(|s| s.id).collect()),
            (None, None) => None,
        };

    let mut selection_key: Vec<u8> = Vec::new();
    if let Some(ids) = &selection {
        for id in ids {
            selection_key.extend_from_slice(&id.to_le_bytes());
        }
    }
    let token_binding = binding(&[
        &group.id.to_le_bytes(),
        &selection_key,
        request.filter_pattern.as_deref().unwrap_or("").as_bytes(),
        &request.start_time.unwrap_or(-1).to_le_bytes(),
        &request.end_time.unwrap_or(-1).to_le_bytes(),
    ]);
    let after = match &request.next_token {
        Some(t) => match decode_event_token(t, token_binding) {
            Some(EventToken::Forward(p)) => Some(p),
            _ => return Err(invalid_token()),
        },
        None => None,
    };
    if selection.as_ref().is_some_and(Vec::is_empty) {
        return Ok(serde_json::json!({ "events": [], "searchedLogStreams": [] }));
    }

    let limit = request.limit.unwrap_or(DEFAULT_EVENTS_LIMIT);
    let matcher = pattern.filter(|p| !p.is_match_all());
    let predicate = |message: &str| matcher.as_ref().is_none_or(|p| p.matches(message));
    let page = service
        .store
        .scan(
            ScanRequest {
                group_id: group.id,
                streams: selection,
                start_time: request.start_time,
                end_time: request.end_time,
                after,
                direction: Direction::Forward,
                limit,
                max_scanned: Some(FILTER_SCAN_BUDGET),
            },
            Some(&predicate),
        )
        .await
        .map_err(store_error)?;

    let mut events = page.events;
    let truncated = truncate_to_response_size(&mut events);
    let resume = if truncated {
        events.last().map(position)
    } else {
        page.resume_after.or(events.last().map(position))
    };
    let shapes: Vec<FilteredLogEvent<'_>> = events
        .iter()
        .map(|e| FilteredLogEvent {
            log_stream_name: names.get(&e.stream_id).copied().unwrap_or(""),
            timestamp: e.timestamp,
            message: &e.message,
            ingestion_time: e.ingestion_time,
            event_id: event_id(position(e)),
        })
        .collect();
    let mut out = serde_json::json!({ "events": to_value(&shapes)?, "searchedLogStreams": [] });
    if truncated || !page.exhausted {
        if let Some(p) = resume {
            out["nextToken"] =
                Value::String(encode_event_token(EventToken::Forward(p), token_binding));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn stored(size: usize) -> StoredEvent {
        StoredEvent {
            stream_id: 1,
            timestamp: 0,
            ingestion_time: 0,
            seq: 0,
            message: "x".repeat(size),
        }
    }

    #[test]
    fn responses_stop_at_one_megabyte_but_always_make_progress() {
        let mut events = vec![stored(600_000), stored(600_000)];
        assert!(truncate_to_response_size(&mut events));
        assert_eq!(events.len(), 1);
        let mut huge = vec![stored(2_000_000)];
        assert!(!truncate_to_response_size(&mut huge));
        assert_eq!(huge.len(), 1, "one oversized event is still returned");
        let mut small: Vec<StoredEvent> = (0..100).map(|_| stored(100)).collect();
        assert!(!truncate_to_response_size(&mut small));
        assert_eq!(small.len(), 100);
    }

    #[test]
    fn batch_rules_split_old_new_and_expired() {
        let ts = [
            NOW - FOURTEEN_DAYS_MS - 1,
            NOW - 3 * DAY_MS,
            NOW - 1000,
            NOW,
            NOW + TWO_HOURS_MS + 1,
        ];
        let err = judge_batch(&ts, NOW, None).unwrap_err();
        assert!(
            err.message.contains("24 hours"),
            "valid events spanning 3 days must fail"
        );

        let ts = [
            NOW - FOURTEEN_DAYS_MS - 1,
            NOW - 1000,
            NOW,
            NOW + TWO_HOURS_MS + 1,
        ];
        let verdict = judge_batch(&ts, NOW, None).unwrap();
        assert_eq!(verdict.accepted, 1..3);
        assert_eq!(verdict.rejected.too_old_log_event_end_index, Some(1));
        assert_eq!(verdict.rejected.too_new_log_event_start_index, Some(3));
        assert_eq!(verdict.rejected.expired_log_event_end_index, None);

        let ts = [NOW - 2 * DAY_MS, NOW - 1000];
        let verdict = judge_batch(&ts, NOW, Some(1)).unwrap();
        assert_eq!(verdict.accepted, 1..2);
        assert_eq!(verdict.rejected.expired_log_event_end_index, Some(1));

        let ts = [NOW + TWO_HOURS_MS + 5];
        let verdict = judge_batch(&ts, NOW, None).unwrap();
        assert!(verdict.accepted.is_empty());
        assert_eq!(verdict.rejected.too_new_log_event_start_index, Some(0));

        let ts = [NOW, NOW + TWO_HOURS_MS];
        assert_eq!(
            judge_batch(&ts, NOW, None).unwrap().accepted,
            0..2,
            "exactly 2 h ahead is still accepted"
        );
    }
}
