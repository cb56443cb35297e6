//! LookupEvents over the event history.

use serde_json::{json, Value};
use watchtrail_protocol::{AwsError, RequestContext};

use crate::history::{History, HistoryQuery, LookupKey, StoredEvent};

const DEFAULT_MAX_RESULTS: usize = 50;

pub fn invalid_lookup_attributes(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidLookupAttributesException", message)
}

pub fn invalid_max_results() -> AwsError {
    AwsError::client(
        "InvalidMaxResultsException",
        "Value for MaxResults is invalid. It must be between 1 and 50.",
    )
}

pub fn invalid_event_category() -> AwsError {
    AwsError::client(
        "InvalidEventCategoryException",
        "The event category is not valid. The only valid value is insight.",
    )
}

fn invalid_next_token() -> AwsError {
    AwsError::client("InvalidNextTokenException", "Invalid NextToken.")
}

/// Maps the model's constraint violations on LookupEvents to its own exceptions.
pub fn refine_validation_error(input: &Value, error: AwsError) -> AwsError {
    if error.code == "SerializationException" {
        return error;
    }
    let message = error.message.as_str();
    if message.contains("maxResults") || message.contains("MaxResults") {
        return invalid_max_results();
    }
    if message.contains("eventCategory") || message.contains("EventCategory") {
        return invalid_event_category();
    }
    if message.contains("lookupAttributes") || message.contains("LookupAttributes") {
        return invalid_lookup_attributes(lookup_attribute_message(input));
    }
    error
}

fn lookup_attribute_message(input: &Value) -> String {
    let key = input
        .pointer("/LookupAttributes/0/AttributeKey")
        .and_then(Value::as_str)
        .unwrap_or("");
    if LookupKey::parse(key).is_none() {
        format!("Lookup attribute key {key} is not valid.")
    } else {
        "Lookup attribute value is not valid.".to_string()
    }
}

/// epoch seconds (the awsJson timestamp form) or ISO 8601 text.
fn timestamp_ms(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

/// A token is bound to the request that produced it: the same attribute, time range and category.
fn fingerprint(query: &HistoryQuery, category: Option<&str>) -> u64 {
    // FNV-1a: stable across builds and processes, unlike std's randomly seeded hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x100_0000_01b3);
    };
    feed(query.account_id.as_bytes());
    feed(query.region.as_bytes());
    match &query.attribute {
        Some((key, value)) => {
            feed(format!("{key:?}").as_bytes());
            feed(value.as_bytes());
        }
        None => feed(b"-"),
    }
    feed(format!("{:?}:{:?}", query.start_ms, query.end_ms).as_bytes());
    feed(category.unwrap_or("").as_bytes());
    hash
}

fn encode_token(position: (i64, i64), fingerprint: u64) -> String {
    let text = format!("{}:{}:{fingerprint:016x}", position.0, position.1);
    format!("v1{}", hex_encode(text.as_bytes()))
}

fn decode_token(token: &str, fingerprint: u64) -> Option<(i64, i64)> {
    let bytes = hex_decode(token.strip_prefix("v1")?)?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split(':');
    let time = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    let bound = u64::from_str_radix(parts.next()?, 16).ok()?;
    (parts.next().is_none() && bound == fingerprint).then_some((time, seq))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 512 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub async fn lookup_events(
    history: &std::sync::Arc<History>,
    context: &RequestContext,
    input: &Value,
) -> Result<Value, AwsError> {
    let attributes = input
        .get("LookupAttributes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if attributes.len() > 1 {
        return Err(invalid_lookup_attributes(
            "You cannot specify more than one lookup attribute.",
        ));
    }
    let attribute = match attributes.first() {
        None => None,
        Some(attribute) => {
            let key_name = attribute
                .get("AttributeKey")
                .and_then(Value::as_str)
                .unwrap_or("");
            let key = LookupKey::parse(key_name).ok_or_else(|| {
                invalid_lookup_attributes(format!("Lookup attribute key {key_name} is not valid."))
            })?;
            let value = attribute
                .get("AttributeValue")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            Some((key, value))
        }
    };
    let start_ms = input.get("StartTime").and_then(timestamp_ms);
    let end_ms = input.get("EndTime").and_then(timestamp_ms);
    if let (Some(start), Some(end)) = (start_ms, end_ms) {
        if start > end {
            return Err(AwsError::client(
                "InvalidTimeRangeException",
                "Start time must be before or equal to end time.",
            ));
        }
    }
    let limit = match input.get("MaxResults") {
        None | Some(Value::Null) => DEFAULT_MAX_RESULTS,
        Some(v) => match v.as_i64() {
            Some(n @ 1..=50) => n as usize,
            _ => return Err(invalid_max_results()),
        },
    };
    let category = input.get("EventCategory").and_then(Value::as_str);
    if let Some(category) = category {
        if category != "insight" {
            return Err(invalid_event_category());
        }
    }
    let mut query = HistoryQuery {
        account_id: context.account_id().to_string(),
        region: context.region.clone(),
        attribute,
        start_ms,
        end_ms,
        before: None,
        limit,
    };
    let bound = fingerprint(&query, category);
    if let Some(token) = input.get("NextToken").and_then(Value::as_str) {
        query.before = Some(decode_token(token, bound).ok_or_else(invalid_next_token)?);
    }
    if category == Some("insight") {
        // watchtrail computes no Insights events; the answer is an empty page, as for an
        // account without Insights enabled.
        return Ok(json!({"Events": []}));
    }
    let history = history.clone();
    let mut events = tokio::task::spawn_blocking(move || history.lookup(&query))
        .await
        .map_err(|_| AwsError::service_unavailable("event history lookup failed"))?
        .map_err(|e| {
            tracing::error!(error = %e, "event history lookup failed");
            AwsError::service_unavailable("event history lookup failed")
        })?;
    let next_token = if events.len() > limit {
        events.truncate(limit);
        events
            .last()
            .map(|last| encode_token((last.event_time_ms, last.seq), bound))
    } else {
        None
    };
    let mut response = json!({"Events": events.iter().map(event_json).collect::<Vec<_>>()});
    if let Some(token) = next_token {
        response["NextToken"] = json!(token);
    }
    Ok(response)
}

fn event_json(event: &StoredEvent) -> Value {
    let mut out = json!({
        "EventId": event.event_id,
        "EventName": event.event_name,
        "EventTime": event.event_time_ms as f64 / 1000.0,
        "EventSource": event.event_source,
        "Resources": event.resources.iter().map(|(kind, name)| json!({"ResourceType": kind, "ResourceName": name})).collect::<Vec<_>>(),
        "CloudTrailEvent": event.body,
    });
    if let Some(read_only) = &event.read_only {
        out["ReadOnly"] = json!(read_only);
    }
    if let Some(key) = &event.access_key_id {
        out["AccessKeyId"] = json!(key);
    }
    if let Some(user) = &event.username {
        out["Username"] = json!(user);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_parameters() {
        let query = HistoryQuery {
            account_id: "1".into(),
            region: "r".into(),
            attribute: Some((LookupKey::EventName, "X".into())),
            start_ms: None,
            end_ms: None,
            before: None,
            limit: 5,
        };
        let bound = fingerprint(&query, None);
        let token = encode_token((10, 3), bound);
        assert_eq!(decode_token(&token, bound), Some((10, 3)));
        let mut other = query.clone();
        other.attribute = Some((LookupKey::EventName, "Y".into()));
        assert_eq!(decode_token(&token, fingerprint(&other, None)), None);
        assert_eq!(decode_token("garbage", bound), None);
        assert_eq!(decode_token("v1zz", bound), None);
    }
}
