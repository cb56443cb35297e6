//! The gateway's `CallObserver`: turns every call into a CloudTrail record, commits management
//! events to the event history before the response goes out, and hands records to sinks (trails)
//! that want them.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use watchtrail_protocol::{CallObserver, ObservedCall, RecordCommitted};

use crate::history::History;
use crate::identity::{unknown_identity, user_identity};
use crate::operations::{classify, request_parameters, resources_of, response_elements};
use crate::record::{AuditRecord, EventCategory, RecordSink};

pub const EVENT_VERSION: &str = "1.08";

pub struct Recorder {
    history: Arc<History>,
    sinks: RwLock<Vec<Arc<dyn RecordSink>>>,
    /// Account and region for calls whose key is unknown (nobody's account is known).
    home_account_id: String,
    home_region: String,
}

impl Recorder {
    pub fn new(history: Arc<History>, home_account_id: &str, home_region: &str) -> Recorder {
        Recorder {
            history,
            sinks: RwLock::new(Vec::new()),
            home_account_id: home_account_id.to_string(),
            home_region: home_region.to_string(),
        }
    }

    /// Adds a consumer (a trail delivering files) of every record it `wants`.
    pub fn add_sink(&self, sink: Arc<dyn RecordSink>) {
        self.sinks.write().expect("sinks lock").push(sink);
    }

    /// Builds the record of one call.
    pub fn build(
        &self,
        call: &ObservedCall<'_>,
        category: EventCategory,
        read_only: bool,
    ) -> AuditRecord {
        let facts = call.request;
        let (account_id, region, identity) = match call.context {
            Some(context) => (
                context.principal.account_id.clone(),
                context.region.clone(),
                user_identity(&context.principal, &context.access_key_id),
            ),
            None => {
                let region = facts
                    .claimed_region
                    .clone()
                    .unwrap_or_else(|| self.home_region.clone());
                match (&facts.claimed_principal, &facts.claimed_access_key_id) {
                    (Some(principal), Some(key)) => (
                        principal.account_id.clone(),
                        region,
                        user_identity(principal, key),
                    ),
                    (_, key) => (
                        self.home_account_id.clone(),
                        region,
                        unknown_identity(key.as_deref()),
                    ),
                }
            }
        };
        let service = if call.service.is_empty() {
            "unknown"
        } else {
            call.service
        };
        let event_source = format!("{service}.amazonaws.com");
        let event_name = if call.operation.is_empty() {
            "Unknown"
        } else {
            call.operation
        };
        let class = classify(service, event_name);
        let completed: DateTime<Utc> = Utc::now();
        let mut record = Map::new();
        record.insert("eventVersion".into(), json!(EVENT_VERSION));
        record.insert("userIdentity".into(), identity);
        record.insert(
            "eventTime".into(),
            json!(completed.to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        record.insert("eventSource".into(), json!(event_source));
        record.insert("eventName".into(), json!(event_name));
        record.insert("awsRegion".into(), json!(region));
        record.insert("sourceIPAddress".into(), json!(facts.source_ip));
        record.insert("userAgent".into(), json!(truncate(&facts.user_agent, 1024)));
        if let Err(err) = call.outcome {
            record.insert("errorCode".into(), json!(err.code));
            record.insert("errorMessage".into(), json!(truncate(&err.message, 1024)));
        }
        record.insert(
            "requestParameters".into(),
            request_parameters(service, event_name, call.input),
        );
        record.insert(
            "responseElements".into(),
            response_elements(class, call.outcome.ok()),
        );
        record.insert("requestID".into(), json!(facts.request_id));
        let event_id = uuid::Uuid::new_v4().to_string();
        record.insert("eventID".into(), json!(event_id));
        record.insert("readOnly".into(), json!(read_only));
        let mut resources: Vec<Value> = call
            .resources
            .iter()
            .map(|r| json!({"accountId": account_id, "type": r.resource_type, "ARN": r.arn}))
            .collect();
        if resources.is_empty() {
            resources = resources_of(service, call.input, &account_id, &region)
                .into_iter()
                .map(|(arn, kind)| json!({"accountId": account_id, "type": kind, "ARN": arn}))
                .collect();
        }
        if !resources.is_empty() {
            record.insert("resources".into(), Value::Array(resources));
        }
        record.insert("eventType".into(), json!("AwsApiCall"));
        record.insert(
            "managementEvent".into(),
            json!(category == EventCategory::Management),
        );
        record.insert("recipientAccountId".into(), json!(account_id));
        record.insert("eventCategory".into(), json!(category.as_str()));
        if let Some(tls) = &facts.tls {
            record.insert(
                "tlsDetails".into(),
                json!({
                    "tlsVersion": tls.tls_version,
                    "cipherSuite": tls.cipher_suite,
                    "clientProvidedHostHeader": tls.client_provided_host_header,
                }),
            );
        }
        AuditRecord {
            event_time_ms: completed.timestamp_millis(),
            event_id,
            event_source,
            event_name: event_name.to_string(),
            category,
            read_only,
            account_id,
            region,
            body: Value::Object(record),
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl CallObserver for Recorder {
    fn wants_input(&self, service: &str, operation: &str) -> bool {
        let class = classify(service, operation);
        class.category == EventCategory::Management
            || self.sinks.read().expect("sinks lock").iter().any(|s| {
                s.wants(
                    &format!("{service}.amazonaws.com"),
                    operation,
                    class.category,
                )
            })
    }

    fn observe(&self, call: &ObservedCall<'_>) -> Option<RecordCommitted> {
        if call.service.is_empty() && call.operation.is_empty() {
            // Neither a service nor an operation: not an API call (e.g. a stray GET).
            return None;
        }
        let service = if call.service.is_empty() {
            "unknown"
        } else {
            call.service
        };
        let class = classify(service, call.operation);
        let event_source = format!("{service}.amazonaws.com");
        let sinks = self.sinks.read().expect("sinks lock");
        let wanting: Vec<&Arc<dyn RecordSink>> = sinks
            .iter()
            .filter(|s| s.wants(&event_source, call.operation, class.category))
            .collect();
        if class.category == EventCategory::Data && wanting.is_empty() {
            // Data events never reach event history; with no trail selecting them they cost
            // only this check.
            return None;
        }
        let record = self.build(call, class.category, class.read_only);
        for sink in wanting {
            sink.accept(&record);
        }
        drop(sinks);
        if class.category != EventCategory::Management {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        self.history.submit(record, Some(tx));
        Some(Box::pin(async move {
            match rx.await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "recording a management event failed"),
                Err(_) => {
                    tracing::error!("event history writer stopped before committing a record")
                }
            }
        }))
    }
}
