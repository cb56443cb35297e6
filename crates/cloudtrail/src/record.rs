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

/// A consumer of records. `wants` is asked before a record is built, so a call nobody wants
/// (a data event with no trail selecting it) costs no serialization.
pub trait RecordSink: Send + Sync {
    fn wants(&self, event_source: &str, event_name: &str, category: EventCategory) -> bool;
    fn accept(&self, record: &AuditRecord);
}
