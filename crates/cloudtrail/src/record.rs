//! The contract between call recording and everything that consumes records (event history,
//! trail delivery, CloudWatch Logs delivery).

use serde_json::Value;

/// CloudTrail's `eventCategory`. Management events always go to event history; data events only
/// reach trails whose event selectors ask for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventCategory {
    Management,
    Data,
}

impl EventCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            EventCategory::Management => "Management",
            EventCategory::Data => "Data",
        }
    }
}

/// One CloudTrail record plus the attributes consumers route and index on, so they need not
/// re-read the JSON.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// `eventTime` in epoch milliseconds.
    pub event_time_ms: i64,
    pub event_id: String,
    /// e.g. `logs.amazonaws.com`.
    pub event_source: String,
    pub event_name: String,
    pub category: EventCategory,
    pub read_only: bool,
    /// `recipientAccountId`.
    pub account_id: String,
    /// `awsRegion`.
    pub region: String,
    /// The complete record exactly as it appears in a trail's log file.
    pub body: Value,
}

impl AuditRecord {
    /// Reads a record from a trail file (or any CloudTrail JSON record). `None` when the fields
    /// event history needs (eventID, eventTime, eventSource, eventName, account, region) are
    /// missing or malformed.
    pub fn from_trail_json(body: Value) -> Option<AuditRecord> {
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        let event_id = text("eventID").filter(|s| !s.is_empty())?;
        let event_time_ms = parse_event_time(body.get("eventTime")?.as_str()?)?;
        let event_source = text("eventSource")?;
        let event_name = text("eventName")?;
        let account_id = text("recipientAccountId")
            .or_else(|| {
                body.pointer("/userIdentity/accountId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .filter(|s| !s.is_empty())?;
        let region = text("awsRegion").filter(|s| !s.is_empty())?;
        let category = match body.get("eventCategory").and_then(Value::as_str) {
            Some("Data") => EventCategory::Data,
            _ if body.get("managementEvent") == Some(&Value::Bool(false)) => EventCategory::Data,
            _ => EventCategory::Management,
        };
        let read_only = match body.get("readOnly") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Some(AuditRecord {
            event_time_ms,
            event_id,
            event_source,
            event_name,
            category,
            read_only,
            account_id,
            region,
            body,
        })
    }
}

/// CloudTrail's `eventTime` (`2014-03-06T21:22:54Z`, occasionally with fractional seconds).
pub fn parse_event_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A consumer of records. `wants` is asked before a record is built, so a call nobody wants
/// (a data event with no trail selecting it) costs no serialization.
pub trait RecordSink: Send + Sync {
    fn wants(&self, event_source: &str, event_name: &str, category: EventCategory) -> bool;
    fn accept(&self, record: &AuditRecord);
}
