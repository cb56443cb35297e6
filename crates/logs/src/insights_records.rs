//! `@ptr` log record pointers, GetLogRecord and GetLogGroupFields.
//!
//! A pointer is URL-safe base64 (no padding) of 36 bytes: group id, stream id, timestamp and seq
//! (little-endian i64/i64/i64/u64) and a 4-byte check over them. The check only catches garbage
//! and edits; access control comes from resolving the group id in the caller's own scope, so a
//! pointer forged for another account's group finds nothing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use watchtrail_insights::{event_fields, Event};
use watchtrail_protocol::AwsError;
use watchtrail_store::{
    Direction, EventPosition, GroupId, ScanRequest, Scope, StoredEvent, StreamId, StreamOrder,
};

use crate::token::binding;
use crate::{
    group_name_or_identifier, invalid_parameter, now_ms, require_group, store_error, LogsService,
};

const POINTER_BYTES: usize = 36;
/// GetLogGroupFields looks at no more than this many of the newest events in its window.
pub const FIELD_SAMPLE_EVENTS: usize = 10_000;
/// GetLogGroupFields' window: 15 minutes before now, or 8 minutes either side of `time`.
const RECENT_WINDOW_MS: i64 = 15 * 60 * 1000;
const CENTERED_HALF_WINDOW_MS: i64 = 8 * 60 * 1000;

/// The event a pointer designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPointer {
    pub group: GroupId,
    pub stream: StreamId,
    pub timestamp: i64,
    pub seq: u64,
}

fn pointer_check(body: &[u8]) -> u32 {
    let h = binding(&[b"watchtrail-log-record", body]);
    (h ^ (h >> 32)) as u32
}

pub fn encode_pointer(group: GroupId, stream: StreamId, timestamp: i64, seq: u64) -> String {
    let mut bytes = [0u8; POINTER_BYTES];
    bytes[0..8].copy_from_slice(&group.to_le_bytes());
    bytes[8..16].copy_from_slice(&stream.to_le_bytes());
    bytes[16..24].copy_from_slice(&timestamp.to_le_bytes());
    bytes[24..32].copy_from_slice(&seq.to_le_bytes());
    let check = pointer_check(&bytes[..32]);
    bytes[32..].copy_from_slice(&check.to_le_bytes());
    base64url_encode(&bytes)
}

pub fn decode_pointer(text: &str) -> Option<RecordPointer> {
    let bytes = base64url_decode(text)?;
    if bytes.len() != POINTER_BYTES {
        return None;
    }
    let word = |i: usize| -> [u8; 8] { bytes[i..i + 8].try_into().expect("8 bytes") };
    let check = u32::from_le_bytes(bytes[32..].try_into().expect("4 bytes"));
    if check != pointer_check(&bytes[..32]) {
        return None;
    }
    Some(RecordPointer {
        group: i64::from_le_bytes(word(0)),
        stream: i64::from_le_bytes(word(8)),
        timestamp: i64::from_le_bytes(word(16)),
        seq: u64::from_le_bytes(word(24)),
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = ALPHABET.iter().position(|a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    // Reject non-canonical encodings (stray bits in the last character).
    (base64url_encode(&out) == text).then_some(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogRecordRequest {
    log_record_pointer: String,
    /// watchtrail does no data-protection masking, so every record is already unmasked.
    #[allow(dead_code)]
    unmask: Option<bool>,
}

fn invalid_pointer() -> AwsError {
    invalid_parameter("The specified logRecordPointer is invalid.")
}

fn record_not_found() -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        "The specified log record does not exist.",
    )
}

pub async fn get_log_record(
    service: &LogsService,
    scope: &Scope,
    request: GetLogRecordRequest,
) -> Result<Value, AwsError> {
    let pointer = decode_pointer(&request.log_record_pointer).ok_or_else(invalid_pointer)?;
    let group = service
        .store
        .log_group_by_id(pointer.group)
        .await
        .map_err(store_error)?
        .filter(|g| g.scope == *scope)
        .ok_or_else(record_not_found)?;
    let stream = service
        .store
        .list_log_streams(
            group.id,
            StreamOrder::LogStreamName,
            None,
            false,
            None,
            usize::MAX,
        )
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|s| s.id == pointer.stream)
        .ok_or_else(record_not_found)?;
    let event = find_event(service, pointer)
        .await?
        .ok_or_else(record_not_found)?;
    let log_value = format!("{}:{}", scope.account_id, group.name);
    let fields = event_fields(&Event {
        timestamp_ms: event.timestamp,
        ingestion_time_ms: event.ingestion_time,
        message: &event.message,
        log_stream: &stream.name,
        log_group: &log_value,
        ptr: request.log_record_pointer.clone(),
    });
    let record: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(serde_json::json!({ "logRecord": record }))
}

/// Pages through the events of the pointer's stream at its timestamp until its seq turns up.
async fn find_event(
    service: &LogsService,
    pointer: RecordPointer,
) -> Result<Option<StoredEvent>, AwsError> {
    let mut after: Option<EventPosition> = None;
    loop {
        let page = service
            .store
            .scan(
                ScanRequest {
                    group_id: pointer.group,
                    streams: Some(vec![pointer.stream]),
                    start_time: Some(pointer.timestamp),
                    end_time: Some(pointer.timestamp.saturating_add(1)),
                    after,
                    direction: Direction::Forward,
                    limit: 1000,
                    max_scanned: None,
                },
                None,
            )
            .await
            .map_err(store_error)?;
        let last = page.events.last().map(|e| EventPosition {
            timestamp: e.timestamp,
            seq: e.seq,
        });
        if let Some(found) = page.events.into_iter().find(|e| e.seq == pointer.seq) {
            return Ok(Some(found));
        }
        if page.exhausted || last.is_none() || last.is_some_and(|p| p.seq > pointer.seq) {
            return Ok(None);
        }
        after = last;
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogGroupFieldsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    time: Option<i64>,
}

/// The time window GetLogGroupFields samples, `[start, end)` in epoch ms: the model documents
/// "the 8 minutes before and 8 minutes after" `time` (epoch seconds), else "the most recent 15
/// minutes up to the current time".
pub fn field_window(time_seconds: Option<i64>, now_ms: i64) -> (i64, i64) {
    match time_seconds {
        Some(t) => {
            let center = t.saturating_mul(1000);
            (
                center.saturating_sub(CENTERED_HALF_WINDOW_MS),
                center
                    .saturating_add(CENTERED_HALF_WINDOW_MS)
                    .saturating_add(1),
            )
        }
        None => (
            now_ms.saturating_sub(RECENT_WINDOW_MS),
            now_ms.saturating_add(1),
        ),
    }
}

/// `(name, percent)` for each field seen in `events_fields`, sorted by percent (highest first)
/// then name. Percentages are rounded to the nearest integer.
pub fn field_percentages(events_fields: &[Vec<String>]) -> Vec<(String, i64)> {
    let total = events_fields.len();
    if total == 0 {
        return Vec::new();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for fields in events_fields {
        for name in fields {
            *counts.entry(name.as_str()).or_default() += 1;
        }
    }
    let mut out: Vec<(String, i64)> = counts
        .into_iter()
        .map(|(name, n)| (name.to_string(), ((n * 200 + total) / (2 * total)) as i64))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

pub async fn get_log_group_fields(
    service: &LogsService,
    scope: &Scope,
    request: GetLogGroupFieldsRequest,
) -> Result<Value, AwsError> {
    let name =
        group_name_or_identifier(scope, request.log_group_name, request.log_group_identifier)?;
    let group = require_group(service, scope, &name).await?;
    let (start, end) = field_window(request.time, now_ms());
    let streams: std::collections::HashMap<StreamId, String> = service
        .store
        .list_log_streams(
            group.id,
            StreamOrder::LogStreamName,
            None,
            false,
            None,
            usize::MAX,
        )
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let page = service
        .store
        .scan(
            ScanRequest {
                group_id: group.id,
                streams: None,
                start_time: Some(start),
                end_time: Some(end),
                after: None,
                direction: Direction::Backward,
                limit: FIELD_SAMPLE_EVENTS,
                max_scanned: None,
            },
            None,
        )
        .await
        .map_err(store_error)?;
    let log_value = format!("{}:{}", scope.account_id, group.name);
    let sampled: Vec<Vec<String>> = tokio::task::spawn_blocking(move || {
        page.events
            .iter()
            .map(|e| {
                event_fields(&Event {
                    timestamp_ms: e.timestamp,
                    ingestion_time_ms: e.ingestion_time,
                    message: &e.message,
                    log_stream: streams.get(&e.stream_id).map(String::as_str).unwrap_or(""),
                    log_group: &log_value,
                    ptr: String::new(),
                })
                .into_iter()
                .map(|(name, _)| name)
                .collect()
            })
            .collect()
    })
    .await
    .map_err(|e| AwsError::service_unavailable(format!("field discovery failed: {e}")))?;
    let fields: Vec<Value> = field_percentages(&sampled)
        .into_iter()
        .map(|(name, percent)| serde_json::json!({ "name": name, "percent": percent }))
        .collect();
    Ok(serde_json::json!({ "logGroupFields": fields }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_roundtrip_and_reject_garbage_and_edits() {
        for (g, s, t, q) in [(1, 2, 1_700_000_000_123, 42), (i64::MAX, -1, -5, u64::MAX)] {
            let p = encode_pointer(g, s, t, q);
            assert_eq!(p.len(), 48);
            assert!(p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(
                decode_pointer(&p),
                Some(RecordPointer {
                    group: g,
                    stream: s,
                    timestamp: t,
                    seq: q
                })
            );
            // Change one character: the check fails (or the encoding is no longer canonical).
            let mut edited = p.clone().into_bytes();
            edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
            assert_eq!(decode_pointer(&String::from_utf8(edited).unwrap()), None);
        }
        for garbage in ["", "abc", "!!!!", "not a pointer at all", &"A".repeat(48)] {
            assert_eq!(decode_pointer(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(plain.as_bytes()), encoded);
            assert_eq!(base64url_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("Zh"), None, "non-canonical trailing bits");
    }

    #[test]
    fn field_window_follows_the_model_documentation() {
        assert_eq!(
            field_window(Some(1_000), 0),
            (1_000_000 - 480_000, 1_000_000 + 480_001)
        );
        assert_eq!(
            field_window(None, 2_000_000),
            (2_000_000 - 900_000, 2_000_001)
        );
    }

    #[test]
    fn field_percentages_round_and_sort_by_frequency() {
        let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let sample = vec![
            v(&["@message", "a"]),
            v(&["@message", "b"]),
            v(&["@message", "a"]),
        ];
        assert_eq!(
            field_percentages(&sample),
            vec![
                ("@message".to_string(), 100),
                ("a".to_string(), 67),
                ("b".to_string(), 33)
            ]
        );
        assert!(field_percentages(&[]).is_empty());
    }
}
