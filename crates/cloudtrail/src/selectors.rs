//! Event selectors, basic and advanced: AWS's validation rules and the matching that decides which
//! records a trail logs.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use watchtrail_protocol::AwsError;

use crate::record::EventCategory;

const MAX_BASIC_SELECTORS: usize = 5;
const MAX_DATA_RESOURCE_VALUES: usize = 250;
const MAX_ADVANCED_VALUES: usize = 500;
const BASIC_DATA_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];
const EXCLUDABLE_SOURCES: &[&str] = &["kms.amazonaws.com", "rdsdata.amazonaws.com"];
const ADVANCED_FIELDS: &[&str] = &[
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "errorCode",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "vpcEndpointId",
];
const MANAGEMENT_FIELDS: &[&str] = &["eventCategory", "eventSource", "readOnly"];
const OPERATORS: &[&str] = &[
    "Equals",
    "StartsWith",
    "EndsWith",
    "NotEquals",
    "NotStartsWith",
    "NotEndsWith",
];

/// A trail's selectors as stored and as GetEventSelectors returns them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub enum EventSelectors {
    /// No PutEventSelectors yet: every management event, read and write.
    #[default]
    Default,
    Basic(Vec<Value>),
    Advanced(Vec<Value>),
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidEventSelectorsException", message)
}

impl EventSelectors {
    /// Validates a PutEventSelectors request (already checked against the model's types).
    pub fn from_request(input: &Value) -> Result<EventSelectors, AwsError> {
        match (
            input.get("EventSelectors").filter(|v| !v.is_null()),
            input.get("AdvancedEventSelectors").filter(|v| !v.is_null()),
        ) {
            (Some(_), Some(_)) => Err(AwsError::client(
                "InvalidParameterCombinationException",
                "You cannot apply both event selectors and advanced event selectors to a trail.",
            )),
            (None, None) => Err(invalid(
                "You must specify either EventSelectors or AdvancedEventSelectors.",
            )),
            (Some(basic), None) => {
                validate_basic(basic.as_array().map(Vec::as_slice).unwrap_or(&[]))
            }
            (None, Some(advanced)) => {
                validate_advanced(advanced.as_array().map(Vec::as_slice).unwrap_or(&[]))
            }
        }
    }

    pub fn is_custom(&self) -> bool {
        !matches!(self, EventSelectors::Default)
    }

    /// The members of a Get/PutEventSelectors response besides TrailARN.
    pub fn response_members(&self) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        match self {
            EventSelectors::Default => {
                out.insert(
                    "EventSelectors".into(),
                    json!([{"ReadWriteType": "All", "IncludeManagementEvents": true,
                            "DataResources": [], "ExcludeManagementEventSources": []}]),
                );
            }
            EventSelectors::Basic(list) => {
                out.insert("EventSelectors".into(), Value::Array(list.clone()));
            }
            EventSelectors::Advanced(list) => {
                out.insert("AdvancedEventSelectors".into(), Value::Array(list.clone()));
            }
        }
        out
    }

    /// Whether a record with these attributes could be selected. Attributes not yet known
    /// (`None`: before the record is built) count as matching, so `wants` never drops a record
    /// that `accepts` would take.
    pub fn selects(&self, record: &RecordFields<'_>) -> bool {
        match self {
            EventSelectors::Default => record.category == EventCategory::Management,
            EventSelectors::Basic(list) => list.iter().any(|s| basic_selects(s, record)),
            EventSelectors::Advanced(list) => list.iter().any(|s| advanced_selects(s, record)),
        }
    }
}

/// The record attributes selectors look at.
pub struct RecordFields<'a> {
    pub category: EventCategory,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub read_only: Option<bool>,
    /// The full record, once built.
    pub body: Option<&'a Value>,
}

impl RecordFields<'_> {
    /// The record's values for an advanced-selector field; `None` when not known yet.
    fn values(&self, field: &str) -> Option<Vec<String>> {
        let single = |v: &str| Some(vec![v.to_string()]);
        match field {
            "eventCategory" => single(self.category.as_str()),
            "eventSource" => single(self.event_source),
            "eventName" => single(self.event_name),
            "readOnly" => self.read_only.map(|r| vec![r.to_string()]),
            _ => {
                let body = self.body?;
                let strings = |v: &Value| v.as_str().map(String::from).into_iter().collect();
                Some(match field {
                    "resources.type" | "resources.ARN" => {
                        let member = if field == "resources.type" {
                            "type"
                        } else {
                            "ARN"
                        };
                        body["resources"]
                            .as_array()
                            .map(|r| {
                                r.iter()
                                    .filter_map(|res| res[member].as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default()
                    }
                    "userIdentity.arn" => strings(&body["userIdentity"]["arn"]),
                    "sessionCredentialFromConsole" => match &body["sessionCredentialFromConsole"] {
                        Value::Bool(b) => vec![b.to_string()],
                        other => strings(other),
                    },
                    other => strings(&body[other]),
                })
            }
        }
    }
}

fn validate_basic(list: &[Value]) -> Result<EventSelectors, AwsError> {
    if list.len() > MAX_BASIC_SELECTORS {
        return Err(invalid(format!(
            "A trail can have up to {MAX_BASIC_SELECTORS} event selectors; {} were specified.",
            list.len()
        )));
    }
    let mut total_values = 0;
    let mut normalized = Vec::with_capacity(list.len());
    for selector in list {
        let mut resources = Vec::new();
        for resource in selector["DataResources"].as_array().into_iter().flatten() {
            let kind = resource["Type"].as_str().unwrap_or("");
            if !BASIC_DATA_TYPES.contains(&kind) {
                return Err(invalid(format!(
                    "Invalid DataResource type {kind:?}: basic event selectors accept {}.",
                    BASIC_DATA_TYPES.join(", ")
                )));
            }
            let values: Vec<&str> = resource["Values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if values.is_empty() {
                return Err(invalid(format!(
                    "DataResource of type {kind} must specify at least one value."
                )));
            }
            for value in &values {
                let ok = match kind {
                    "AWS::S3::Object" => {
                        *value == "arn:aws:s3" || value.starts_with("arn:aws:s3:::")
                    }
                    "AWS::Lambda::Function" => {
                        *value == "arn:aws:lambda" || value.starts_with("arn:aws:lambda:")
                    }
                    _ => *value == "arn:aws:dynamodb" || value.starts_with("arn:aws:dynamodb:"),
                };
                if !ok {
                    return Err(invalid(format!(
                        "Value {value} for DataResources.Values is invalid."
                    )));
                }
            }
            total_values += values.len();
            resources.push(json!({"Type": kind, "Values": values}));
        }
        if total_values > MAX_DATA_RESOURCE_VALUES {
            return Err(invalid(format!(
                "A trail can have up to {MAX_DATA_RESOURCE_VALUES} data resource values across all event selectors."
            )));
        }
        let excluded: Vec<&str> = selector["ExcludeManagementEventSources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(bad) = excluded.iter().find(|s| !EXCLUDABLE_SOURCES.contains(s)) {
            return Err(invalid(format!(
                "Invalid ExcludeManagementEventSources value {bad}: only {} can be excluded.",
                EXCLUDABLE_SOURCES.join(" and ")
            )));
        }
        normalized.push(json!({
            "ReadWriteType": selector["ReadWriteType"].as_str().unwrap_or("All"),
            "IncludeManagementEvents": selector["IncludeManagementEvents"].as_bool().unwrap_or(true),
            "DataResources": resources,
            "ExcludeManagementEventSources": excluded,
        }));
    }
    Ok(EventSelectors::Basic(normalized))
}

fn validate_advanced(list: &[Value]) -> Result<EventSelectors, AwsError> {
    let mut total_values = 0;
    let mut normalized = Vec::with_capacity(list.len());
    for selector in list {
        let fields = selector["FieldSelectors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let field_of = |name: &str| fields.iter().find(|f| f["Field"].as_str() == Some(name));
        let Some(category) = field_of("eventCategory") else {
            return Err(invalid(
                "Each advanced event selector must include a field selector for eventCategory.",
            ));
        };
        let categories: Vec<&str> = category["Equals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if categories.len() != 1
            || OPERATORS
                .iter()
                .any(|op| *op != "Equals" && !category[op].is_null())
        {
            return Err(invalid(
                "The eventCategory field selector must use Equals with exactly one value.",
            ));
        }
        let is_data = match categories[0] {
            "Management" => false,
            "Data" => true,
            other => {
                return Err(invalid(format!(
                    "Invalid value {other} for eventCategory: trails accept Management or Data."
                )))
            }
        };
        let mut seen = Vec::new();
        for field in &fields {
            let name = field["Field"].as_str().unwrap_or("");
            if seen.contains(&name) {
                return Err(invalid(format!(
                    "Field {name} appears more than once in an advanced event selector."
                )));
            }
            seen.push(name);
            if !ADVANCED_FIELDS.contains(&name) {
                return Err(invalid(format!("Invalid field name {name}.")));
            }
            if !is_data && !MANAGEMENT_FIELDS.contains(&name) {
                return Err(invalid(format!(
                    "Field {name} is not supported for management events; use eventCategory, eventSource or readOnly."
                )));
            }
            let used: Vec<&str> = OPERATORS
                .iter()
                .copied()
                .filter(|op| !field[*op].is_null())
                .collect();
            if used.is_empty() {
                return Err(invalid(format!(
                    "Field selector {name} must specify at least one operator."
                )));
            }
            for op in &used {
                let values = field[*op].as_array().cloned().unwrap_or_default();
                total_values += values.len();
                if name == "readOnly" {
                    if *op != "Equals" || values.len() != 1 {
                        return Err(invalid(
                            "The readOnly field selector must use Equals with one value, true or false.",
                        ));
                    }
                    if !matches!(values[0].as_str(), Some("true" | "false")) {
                        return Err(invalid(format!(
                            "Invalid value {} for readOnly: use true or false.",
                            values[0]
                        )));
                    }
                }
                if name == "resources.type" && (*op != "Equals" || values.len() != 1) {
                    return Err(invalid(
                        "The resources.type field selector must use Equals with exactly one value.",
                    ));
                }
            }
        }
        if is_data && field_of("resources.type").is_none() {
            return Err(invalid(
                "Advanced event selectors for data events must include a field selector for resources.type.",
            ));
        }
        let mut out = serde_json::Map::new();
        if let Some(name) = selector["Name"].as_str() {
            out.insert("Name".into(), json!(name));
        }
        out.insert("FieldSelectors".into(), Value::Array(fields));
        normalized.push(Value::Object(out));
    }
    if total_values > MAX_ADVANCED_VALUES {
        return Err(invalid(format!(
            "A trail can have up to {MAX_ADVANCED_VALUES} conditions across all advanced event selectors."
        )));
    }
    Ok(EventSelectors::Advanced(normalized))
}

fn read_write_matches(selector: &Value, read_only: Option<bool>) -> bool {
    match (
        selector["ReadWriteType"].as_str().unwrap_or("All"),
        read_only,
    ) {
        ("All", _) | (_, None) => true,
        ("ReadOnly", Some(r)) => r,
        ("WriteOnly", Some(r)) => !r,
        _ => false,
    }
}

fn basic_selects(selector: &Value, record: &RecordFields<'_>) -> bool {
    if !read_write_matches(selector, record.read_only) {
        return false;
    }
    match record.category {
        EventCategory::Management => {
            selector["IncludeManagementEvents"]
                .as_bool()
                .unwrap_or(true)
                && !selector["ExcludeManagementEventSources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| s.as_str() == Some(record.event_source))
        }
        EventCategory::Data => selector["DataResources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|resource| data_resource_selects(resource, record)),
    }
}

fn data_resource_selects(resource: &Value, record: &RecordFields<'_>) -> bool {
    let source = match resource["Type"].as_str().unwrap_or("") {
        "AWS::S3::Object" => "s3.amazonaws.com",
        "AWS::Lambda::Function" => "lambda.amazonaws.com",
        _ => "dynamodb.amazonaws.com",
    };
    if record.event_source != source {
        return false;
    }
    let Some(arns) = record.values("resources.ARN") else {
        return true;
    };
    resource["Values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|value| {
            // "arn:aws:s3" alone selects every bucket; otherwise the value is an ARN prefix.
            !value.contains(":::") && value.matches(':').count() <= 2
                || arns.iter().any(|arn| arn.starts_with(value))
        })
}

fn advanced_selects(selector: &Value, record: &RecordFields<'_>) -> bool {
    selector["FieldSelectors"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|field| {
            let Some(values) = record.values(field["Field"].as_str().unwrap_or("")) else {
                return true;
            };
            field_selects(field, &values)
        })
}

fn field_selects(field: &Value, values: &[String]) -> bool {
    let list = |op: &str| -> Vec<&str> {
        field[op]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    // Multi-valued fields (resources.*) match when any value satisfies every operator.
    let one = |value: &str| {
        let check = |op: &str, test: &dyn Fn(&str) -> bool, positive: bool| {
            if field[op].is_null() {
                return true;
            }
            let hit = list(op).iter().any(|c| test(c));
            hit == positive
        };
        check("Equals", &|c| value == c, true)
            && check("StartsWith", &|c| value.starts_with(c), true)
            && check("EndsWith", &|c| value.ends_with(c), true)
            && check("NotEquals", &|c| value == c, false)
            && check("NotStartsWith", &|c| value.starts_with(c), false)
            && check("NotEndsWith", &|c| value.ends_with(c), false)
    };
    if values.is_empty() {
        return one("");
    }
    values.iter().any(|v| one(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(
        category: EventCategory,
        source: &'a str,
        name: &'a str,
        ro: bool,
    ) -> RecordFields<'a> {
        RecordFields {
            category,
            event_source: source,
            event_name: name,
            read_only: Some(ro),
            body: None,
        }
    }

    #[test]
    fn default_selects_management_only() {
        let s = EventSelectors::Default;
        assert!(s.selects(&fields(
            EventCategory::Management,
            "logs.amazonaws.com",
            "CreateLogGroup",
            false
        )));
        assert!(!s.selects(&fields(
            EventCategory::Data,
            "logs.amazonaws.com",
            "PutLogEvents",
            false
        )));
    }

    #[test]
    fn basic_read_write_and_exclusions() {
        let s = EventSelectors::from_request(&json!({"EventSelectors": [
            {"ReadWriteType": "WriteOnly", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
        ]}))
        .unwrap();
        assert!(s.selects(&fields(
            EventCategory::Management,
            "logs.amazonaws.com",
            "CreateLogGroup",
            false
        )));
        assert!(!s.selects(&fields(
            EventCategory::Management,
            "logs.amazonaws.com",
            "DescribeLogGroups",
            true
        )));
        assert!(!s.selects(&fields(
            EventCategory::Management,
            "kms.amazonaws.com",
            "Encrypt",
            false
        )));
        let err = EventSelectors::from_request(&json!({"EventSelectors": [
            {"DataResources": [{"Type": "AWS::Foo::Bar", "Values": ["x"]}]}
        ]}))
        .unwrap_err();
        assert_eq!(err.code, "InvalidEventSelectorsException");
    }

    #[test]
    fn advanced_data_events_by_source_and_name() {
        let s = EventSelectors::from_request(&json!({"AdvancedEventSelectors": [
            {"Name": "log writes", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::Logs::LogGroup"]},
                {"Field": "eventSource", "Equals": ["logs.amazonaws.com"]},
                {"Field": "eventName", "NotStartsWith": ["Get", "Filter"]}
            ]}
        ]}))
        .unwrap();
        assert!(s.selects(&fields(
            EventCategory::Data,
            "logs.amazonaws.com",
            "PutLogEvents",
            false
        )));
        assert!(!s.selects(&fields(
            EventCategory::Data,
            "logs.amazonaws.com",
            "GetLogEvents",
            true
        )));
        assert!(!s.selects(&fields(
            EventCategory::Management,
            "logs.amazonaws.com",
            "CreateLogGroup",
            false
        )));
        let body = json!({"resources": [{"type": "AWS::Logs::LogGroup", "ARN": "arn:aws:logs:us-east-1:1:log-group:a"}]});
        let mut with_body = fields(
            EventCategory::Data,
            "logs.amazonaws.com",
            "PutLogEvents",
            false,
        );
        with_body.body = Some(&body);
        assert!(s.selects(&with_body));
        let other = json!({"resources": [{"type": "AWS::S3::Object"}]});
        with_body.body = Some(&other);
        assert!(!s.selects(&with_body));
    }

    #[test]
    fn advanced_validation_errors() {
        for bad in [
            json!([{"FieldSelectors": [{"Field": "eventName", "Equals": ["x"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Insight"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "eventName", "Equals": ["x"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "readOnly", "Equals": ["maybe"]}]}]),
            json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                       {"Field": "eventSource"}]}]),
        ] {
            let err =
                EventSelectors::from_request(&json!({"AdvancedEventSelectors": bad})).unwrap_err();
            assert_eq!(err.code, "InvalidEventSelectorsException", "{bad}");
        }
        let both = EventSelectors::from_request(
            &json!({"EventSelectors": [], "AdvancedEventSelectors": []}),
        )
        .unwrap_err();
        assert_eq!(both.code, "InvalidParameterCombinationException");
    }
}
