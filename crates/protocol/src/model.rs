//! Request validation driven by the AWS service model (botocore's `service-2.json`).
//!
//! AWS validates every input against the model's constraints before the service sees it and
//! reports all violations in one message (`1 validation error detected: Value '…' at '…' failed to
//! satisfy constraint: …`). Validating from the model itself keeps every operation's limits exactly
//! AWS's, including operations added later.

use std::collections::HashMap;
use std::io::Read;

use regex::Regex;
use serde_json::Value;

use crate::error::AwsError;

pub struct ServiceModel {
    shapes: serde_json::Map<String, Value>,
    operations: HashMap<String, Option<String>>,
    patterns: HashMap<String, Option<Regex>>,
    /// `X-Amz-Target` prefix, e.g. `Logs_20140328`.
    pub target_prefix: String,
    /// SigV4 service name, e.g. `logs`.
    pub signing_name: String,
}

/// One violated constraint, rendered as AWS renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// The request body did not have the model's types (a string where a number belongs...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch(pub String);

pub const LOGS_MODEL: &[u8] = include_bytes!("../models/logs-2014-03-28.json.gz");
pub const CLOUDTRAIL_MODEL: &[u8] = include_bytes!("../models/cloudtrail-2013-11-01.json.gz");

impl ServiceModel {
    pub fn from_gzip(bytes: &[u8]) -> Result<ServiceModel, String> {
        let mut json = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut json)
            .map_err(|e| format!("decompressing model: {e}"))?;
        let model: Value =
            serde_json::from_str(&json).map_err(|e| format!("parsing model: {e}"))?;
        let metadata = &model["metadata"];
        let target_prefix = metadata["targetPrefix"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let signing_name = metadata["signingName"]
            .as_str()
            .or(metadata["endpointPrefix"].as_str())
            .unwrap_or_default()
            .to_string();
        let shapes = model["shapes"]
            .as_object()
            .cloned()
            .ok_or("model has no shapes")?;
        let operations = model["operations"]
            .as_object()
            .ok_or("model has no operations")?
            .iter()
            .map(|(name, op)| {
                (
                    name.clone(),
                    op["input"]["shape"].as_str().map(String::from),
                )
            })
            .collect();
        let mut patterns = HashMap::new();
        for shape in shapes.values() {
            if let Some(pattern) = shape["pattern"].as_str() {
                patterns
                    .entry(pattern.to_string())
                    .or_insert_with(|| Regex::new(&format!("^(?:{pattern})$")).ok());
            }
        }
        Ok(ServiceModel {
            shapes,
            operations,
            patterns,
            target_prefix,
            signing_name,
        })
    }

    pub fn has_operation(&self, operation: &str) -> bool {
        self.operations.contains_key(operation)
    }

    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }

    /// Checks `input` against the operation's input shape.
    pub fn validate(&self, operation: &str, input: &Value) -> Result<Vec<Violation>, TypeMismatch> {
        let mut violations = Vec::new();
        if let Some(Some(shape)) = self.operations.get(operation) {
            self.check(shape, input, "", &mut violations)?;
        }
        Ok(violations)
    }

    fn check(
        &self,
        shape_name: &str,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) -> Result<(), TypeMismatch> {
        let Some(shape) = self.shapes.get(shape_name) else {
            return Ok(());
        };
        let kind = shape["type"].as_str().unwrap_or("");
        if value.is_null() {
            return Ok(());
        }
        let mismatch = || TypeMismatch(format!("Expected {kind} for '{}'", display_path(path)));
        match kind {
            "structure" => {
                let object = value.as_object().ok_or_else(mismatch)?;
                let required: Vec<&str> = shape["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if let Some(members) = shape["members"].as_object() {
                    for (member, spec) in members {
                        let child_path = join(path, member);
                        match object.get(member) {
                            None | Some(Value::Null) => {
                                if required.contains(&member.as_str()) {
                                    out.push(Violation(format!(
                                        "Value null at '{child_path}' failed to satisfy constraint: Member must not be null"
                                    )));
                                }
                            }
                            Some(child) => {
                                if let Some(child_shape) = spec["shape"].as_str() {
                                    self.check(child_shape, child, &child_path, out)?;
                                }
                            }
                        }
                    }
                }
            }
            "list" => {
                let items = value.as_array().ok_or_else(mismatch)?;
                self.check_length(shape, items.len(), value, path, out);
                if let Some(member) = shape["member"]["shape"].as_str() {
                    for (i, item) in items.iter().enumerate() {
                        if item.is_null() {
                            continue;
                        }
                        self.check(member, item, &format!("{path}.{}.member", i + 1), out)?;
                    }
                }
            }
            "map" => {
                let object = value.as_object().ok_or_else(mismatch)?;
                self.check_length(shape, object.len(), value, path, out);
                let key_shape = shape["key"]["shape"].as_str();
                let value_shape = shape["value"]["shape"].as_str();
                for (k, v) in object {
                    if let Some(key_shape) = key_shape {
                        let mut key_violations = Vec::new();
                        self.check(
                            key_shape,
                            &Value::String(k.clone()),
                            path,
                            &mut key_violations,
                        )?;
                        out.extend(key_violations.into_iter().map(|Violation(v)| {
                            Violation(v.replacen("failed to satisfy constraint: ", "failed to satisfy constraint: Map keys must satisfy constraint: [", 1) + "]")
                        }));
                    }
                    if let Some(value_shape) = value_shape {
                        let mut value_violations = Vec::new();
                        self.check(value_shape, v, path, &mut value_violations)?;
                        out.extend(value_violations.into_iter().map(|Violation(v)| {
                            Violation(v.replacen("failed to satisfy constraint: ", "failed to satisfy constraint: Map value must satisfy constraint: [", 1) + "]")
                        }));
                    }
                }
            }
            "string" => {
                let s = value.as_str().ok_or_else(mismatch)?;
                let chars = s.chars().count();
                self.check_length(shape, chars, value, path, out);
                if let Some(pattern) = shape["pattern"].as_str() {
                    if let Some(Some(regex)) = self.patterns.get(pattern) {
                        if !regex.is_match(s) {
                            out.push(Violation(format!(
                                "Value '{s}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
                            )));
                        }
                    }
                }
                if let Some(values) = shape["enum"].as_array() {
                    if !values.iter().any(|v| v.as_str() == Some(s)) {
                        let set: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                        out.push(Violation(format!(
                            "Value '{s}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                            set.join(", ")
                        )));
                    }
                }
            }
            "integer" | "long" => {
                let n = value.as_i64().ok_or_else(mismatch)?;
                if kind == "integer" && i32::try_from(n).is_err() {
                    return Err(mismatch());
                }
                if let Some(min) = shape["min"].as_i64() {
                    if n < min {
                        out.push(Violation(format!(
                            "Value '{n}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                        )));
                    }
                }
                if let Some(max) = shape["max"].as_i64() {
                    if n > max {
                        out.push(Violation(format!(
                            "Value '{n}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                        )));
                    }
                }
            }
            "double" | "float" => {
                value.as_f64().ok_or_else(mismatch)?;
            }
            "boolean" => {
                value.as_bool().ok_or_else(mismatch)?;
            }
            "timestamp" => {
                if !(value.is_number() || value.is_string()) {
                    return Err(mismatch());
                }
            }
            "blob" => {
                value.as_str().ok_or_else(mismatch)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn check_length(
        &self,
        shape: &Value,
        len: usize,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let shown = render(value);
        if let Some(min) = shape["min"].as_u64() {
            if (len as u64) < min {
                out.push(Violation(format!(
                    "Value {shown} at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
                )));
            }
        }
        if let Some(max) = shape["max"].as_u64() {
            if (len as u64) > max {
                out.push(Violation(format!(
                    "Value {shown} at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max}"
                )));
            }
        }
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "input"
    } else {
        path
    }
}

fn render(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Array(items) if items.len() > 5 => format!("'[...{} items]'", items.len()),
        other => format!("'{other}'"),
    }
}

/// Renders violations as AWS's one-message summary.
pub fn violations_message(violations: &[Violation]) -> String {
    let count = violations.len();
    let noun = if count == 1 {
        "validation error"
    } else {
        "validation errors"
    };
    let details: Vec<&str> = violations.iter().map(|v| v.0.as_str()).collect();
    format!("{count} {noun} detected: {}", details.join("; "))
}

/// Validates and converts the outcome into the service's error code.
pub fn validate_input(
    model: &ServiceModel,
    operation: &str,
    input: &Value,
    error_code: &str,
) -> Result<(), AwsError> {
    match model.validate(operation, input) {
        Err(TypeMismatch(message)) => Err(AwsError::serialization(message)),
        Ok(violations) if violations.is_empty() => Ok(()),
        Ok(violations) => Err(AwsError::client(
            error_code,
            violations_message(&violations),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn logs() -> ServiceModel {
        ServiceModel::from_gzip(LOGS_MODEL).unwrap()
    }

    #[test]
    fn model_metadata() {
        let model = logs();
        assert_eq!(model.target_prefix, "Logs_20140328");
        assert_eq!(model.signing_name, "logs");
        assert!(model.has_operation("PutLogEvents"));
        let trail = ServiceModel::from_gzip(CLOUDTRAIL_MODEL).unwrap();
        assert_eq!(
            trail.target_prefix,
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
        );
    }

    #[test]
    fn required_pattern_and_range_violations_are_listed_like_aws() {
        let model = logs();
        let v = model.validate("CreateLogGroup", &json!({})).unwrap();
        assert_eq!(v, vec![Violation("Value null at 'logGroupName' failed to satisfy constraint: Member must not be null".into())]);

        let v = model
            .validate("CreateLogGroup", &json!({"logGroupName": "bad name!"}))
            .unwrap();
        assert_eq!(
            violations_message(&v),
            "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        );

        let v = model
            .validate(
                "DescribeLogGroups",
                &json!({"limit": 51, "logGroupClass": "NOPE"}),
            )
            .unwrap();
        assert_eq!(v.len(), 2);
        assert!(violations_message(&v).starts_with("2 validation errors detected: "));
        assert!(v.iter().any(|x| x
            .0
            .contains("Member must have value less than or equal to 50")));
        assert!(v.iter().any(|x| x.0.contains(
            "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]"
        )));
    }

    #[test]
    fn nested_list_members_use_coral_paths() {
        let model = logs();
        let v = model
            .validate("PutLogEvents", &json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "x"}, {"message": ""}]}))
            .unwrap();
        let text = violations_message(&v);
        assert!(text.contains("Value null at 'logEvents.2.member.timestamp' failed to satisfy constraint: Member must not be null"), "{text}");
        assert!(text.contains("at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{text}");
    }

    #[test]
    fn type_mismatch_is_a_serialization_error() {
        let model = logs();
        let err = validate_input(
            &model,
            "DescribeLogGroups",
            &json!({"limit": "ten"}),
            "InvalidParameterException",
        )
        .unwrap_err();
        assert_eq!(err.code, "SerializationException");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_json_never_panics(body in ".{0,200}") {
            let model = logs();
            if let Ok(value) = serde_json::from_str::<Value>(&body) {
                for op in ["PutLogEvents", "DescribeLogGroups", "FilterLogEvents", "TagResource"] {
                    let _ = model.validate(op, &value);
                }
            }
        }
    }
}
