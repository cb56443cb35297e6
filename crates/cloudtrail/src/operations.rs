//! What CloudTrail knows about each operation: management or data event, read-only or not, which
//! request and response members are secrets or payloads, and which resources it touches.

use serde_json::{Map, Value};

use crate::record::EventCategory;

pub const SENSITIVE: &str = "<sensitiveDataRemoved>";

/// How one operation is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationClass {
    pub category: EventCategory,
    pub read_only: bool,
}

/// CloudWatch Logs operations treated as data events.
///
/// AWS's data-event resource table lists only `AWS::Logs::LogGroupAuthorization`
/// (`CallWithBearerToken`) and `AWS::Logs::ScheduledQuery` for CloudWatch Logs; the event-level
/// operations below are not in AWS's management-event history at all. watchtrail records them as
/// `eventCategory: Data` (resource type `AWS::Logs::LogGroup`) so a trail can opt in with an
/// advanced event selector, and keeps them out of LookupEvents like every data event.
const LOGS_DATA_EVENTS: &[&str] = &[
    "PutLogEvents",
    "GetLogEvents",
    "FilterLogEvents",
    "GetLogRecord",
    "GetLogObject",
    "GetQueryResults",
    "StartLiveTail",
];

/// S3 object-level operations (`AWS::S3::Object`) and bucket listings are data events in AWS;
/// bucket configuration calls are management events.
const S3_DATA_EVENTS: &[&str] = &[
    "GetObject",
    "PutObject",
    "HeadObject",
    "DeleteObject",
    "DeleteObjects",
    "CopyObject",
    "ListObjects",
    "ListObjectsV2",
    "HeadBucket",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
];

pub fn classify(service: &str, operation: &str) -> OperationClass {
    let category = match service {
        "logs" if LOGS_DATA_EVENTS.contains(&operation) => EventCategory::Data,
        "s3" if S3_DATA_EVENTS.contains(&operation) => EventCategory::Data,
        _ => EventCategory::Management,
    };
    OperationClass {
        category,
        read_only: is_read_only(operation),
    }
}

fn is_read_only(operation: &str) -> bool {
    const READ_PREFIXES: &[&str] = &[
        "Describe", "Get", "List", "Lookup", "Head", "Filter", "Test",
    ];
    READ_PREFIXES.iter().any(|p| operation.starts_with(p))
        || matches!(operation, "StartLiveTail" | "StartQuery")
}

/// Request members that never reach a record: log event payloads. Their value is replaced.
fn request_payload_members(service: &str, operation: &str) -> &'static [&'static str] {
    match (service, operation) {
        ("logs", "PutLogEvents") => &["logEvents"],
        ("logs", "TestMetricFilter") => &["logEventMessages"],
        ("logs", "TestTransformer") => &["logEventMessages"],
        _ => &[],
    }
}

/// Member names that are secrets wherever they appear (any service, request or response).
fn is_secret_member(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    const SECRET_WORDS: &[&str] = &[
        "secretaccesskey",
        "sessiontoken",
        "password",
        "privatekey",
        "secretkey",
        "secretstring",
        "secretbinary",
        "authorization",
    ];
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// `requestParameters`: the validated input with payloads and secrets replaced.
pub fn request_parameters(service: &str, operation: &str, input: Option<&Value>) -> Value {
    let Some(Value::Object(map)) = input else {
        return Value::Null;
    };
    let payload = request_payload_members(service, operation);
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = if payload.contains(&key.as_str()) {
            Value::String(SENSITIVE.into())
        } else {
            redact_secrets(value)
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// `responseElements`: null for read-only calls, data events, failures and empty answers, as AWS
/// records them; otherwise the output with secrets replaced.
pub fn response_elements(class: OperationClass, output: Option<&Value>) -> Value {
    if class.read_only || class.category == EventCategory::Data {
        return Value::Null;
    }
    match output {
        Some(Value::Object(map)) if !map.is_empty() => redact_secrets(&Value::Object(map.clone())),
        _ => Value::Null,
    }
}

pub fn redact_secrets(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_member(k) && !v.is_null() {
                        Value::String(SENSITIVE.into())
                    } else {
                        redact_secrets(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_secrets).collect()),
        other => other.clone(),
    }
}

/// A resource for `resources[]`: (ARN, type).
pub type RecordResource = (String, String);

/// Resources named by an awsJson request, for `resources[]` and LookupEvents' ResourceType/Name.
pub fn resources_of(
    service: &str,
    input: Option<&Value>,
    account_id: &str,
    region: &str,
) -> Vec<RecordResource> {
    let Some(input) = input else {
        return Vec::new();
    };
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let mut out = Vec::new();
    match service {
        "logs" => {
            let group = text("logGroupName").or_else(|| text("logGroupIdentifier"));
            if let Some(group) = group {
                let arn = if group.starts_with("arn:") {
                    group.trim_end_matches(":*").to_string()
                } else {
                    format!("arn:aws:logs:{region}:{account_id}:log-group:{group}")
                };
                out.push((arn, "AWS::Logs::LogGroup".to_string()));
            }
            if let Some(arn) = text("resourceArn") {
                if !out.iter().any(|(a, _)| a == arn) {
                    out.push((arn.to_string(), "AWS::Logs::LogGroup".to_string()));
                }
            }
        }
        "cloudtrail" => {
            let name = text("Name")
                .or_else(|| text("TrailName"))
                .or_else(|| text("ResourceId"));
            if let Some(name) = name {
                let arn = if name.starts_with("arn:") {
                    name.to_string()
                } else {
                    format!("arn:aws:cloudtrail:{region}:{account_id}:trail/{name}")
                };
                out.push((arn, "AWS::CloudTrail::Trail".to_string()));
            }
        }
        _ => {}
    }
    out
}

/// LookupEvents' `ResourceName` for a resource: the name a person would type (a log group's name,
/// an instance id); the ARN when nothing shorter is known.
pub fn lookup_resource_name(arn: &str) -> String {
    if let Some(rest) = arn.split_once(":log-group:").map(|(_, r)| r) {
        return rest.trim_end_matches(":*").to_string();
    }
    arn.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_log_events_is_a_data_write_without_payloads() {
        let class = classify("logs", "PutLogEvents");
        assert_eq!(class.category, EventCategory::Data);
        assert!(!class.read_only);
        let params = request_parameters(
            "logs",
            "PutLogEvents",
            Some(
                &json!({"logGroupName": "g", "logEvents": [{"message": "secret payload", "timestamp": 1}]}),
            ),
        );
        assert_eq!(params["logEvents"], SENSITIVE);
        assert_eq!(params["logGroupName"], "g");
        assert_eq!(
            response_elements(class, Some(&json!({"nextSequenceToken": "1"}))),
            Value::Null
        );
    }

    #[test]
    fn management_classes() {
        let describe = classify("logs", "DescribeLogGroups");
        assert_eq!(describe.category, EventCategory::Management);
        assert!(describe.read_only);
        let create = classify("logs", "CreateLogGroup");
        assert!(!create.read_only);
        assert_eq!(
            classify("cloudtrail", "LookupEvents").category,
            EventCategory::Management
        );
        assert!(classify("cloudtrail", "LookupEvents").read_only);
        assert_eq!(classify("s3", "PutObject").category, EventCategory::Data);
        assert_eq!(
            classify("s3", "CreateBucket").category,
            EventCategory::Management
        );
    }

    #[test]
    fn secrets_are_replaced_at_any_depth() {
        let value =
            json!({"a": {"SecretAccessKey": "x", "list": [{"password": "p"}]}, "keep": "k"});
        let out = redact_secrets(&value);
        assert_eq!(out["a"]["SecretAccessKey"], SENSITIVE);
        assert_eq!(out["a"]["list"][0]["password"], SENSITIVE);
        assert_eq!(out["keep"], "k");
    }

    #[test]
    fn log_group_resources() {
        let r = resources_of(
            "logs",
            Some(&json!({"logGroupName": "/app"})),
            "111122223333",
            "eu-west-1",
        );
        assert_eq!(r[0].0, "arn:aws:logs:eu-west-1:111122223333:log-group:/app");
        assert_eq!(lookup_resource_name(&r[0].0), "/app");
    }
}
