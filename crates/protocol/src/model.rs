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
    shapes: Vec<Shape>,
    operations: HashMap<String, Option<usize>>,
    /// `X-Amz-Target` prefix, e.g. `Logs_20140328`.
    pub target_prefix: String,
    /// SigV4 service name, e.g. `logs`.
    pub signing_name: String,
}

/// A model shape compiled once at startup: validation runs on every request (PutLogEvents walks
/// up to 10,000 list members), so it must not look shapes up by name or allocate while walking.
struct Shape {
    kind: ShapeKind,
    min: Option<i64>,
    max: Option<i64>,
    pattern: Option<(String, Regex)>,
    enum_values: Option<Vec<String>>,
}

enum ShapeKind {
    Structure {
        members: Vec<Member>,
    },
    List {
        member: Option<usize>,
    },
    Map {
        key: Option<usize>,
        value: Option<usize>,
    },
    String,
    Integer,
    Long,
    Float,
    Boolean,
    Timestamp,
    Blob,
    Other,
}

impl ShapeKind {
    fn name(&self) -> &'static str {
        match self {
            ShapeKind::Structure { .. } => "structure",
            ShapeKind::List { .. } => "list",
            ShapeKind::Map { .. } => "map",
            ShapeKind::String => "string",
            ShapeKind::Integer => "integer",
            ShapeKind::Long => "long",
            ShapeKind::Float => "double",
            ShapeKind::Boolean => "boolean",
            ShapeKind::Timestamp => "timestamp",
            ShapeKind::Blob => "blob",
            ShapeKind::Other => "value",
        }
    }
}

struct Member {
    name: String,
    shape: Option<usize>,
    required: bool,
}

/// Where a value sits in the input, rendered (`logEvents.2.member.message`) only when a
/// constraint fails, so the common path allocates nothing.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Member(Path::Root, name) => (*name).to_string(),
            Path::Member(parent, name) => format!("{}.{name}", parent.render()),
            Path::Index(parent, i) => format!("{}.{i}.member", parent.render()),
        }
    }
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
        let raw = model["shapes"].as_object().ok_or("model has no shapes")?;
        let index: HashMap<&str, usize> = raw
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let lookup = |v: &Value| v["shape"].as_str().and_then(|n| index.get(n).copied());
        let mut regexes: HashMap<String, Option<Regex>> = HashMap::new();
        let shapes = raw
            .values()
            .map(|shape| {
                let required: Vec<&str> = shape["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let kind = match shape["type"].as_str().unwrap_or("") {
                    "structure" => ShapeKind::Structure {
                        members: shape["members"]
                            .as_object()
                            .map(|members| {
                                members
                                    .iter()
                                    .map(|(name, spec)| Member {
                                        name: name.clone(),
                                        shape: lookup(spec),
                                        required: required.contains(&name.as_str()),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    },
                    "list" => ShapeKind::List {
                        member: lookup(&shape["member"]),
                    },
                    "map" => ShapeKind::Map {
                        key: lookup(&shape["key"]),
                        value: lookup(&shape["value"]),
                    },
                    "string" => ShapeKind::String,
                    "integer" => ShapeKind::Integer,
                    "long" => ShapeKind::Long,
                    "double" | "float" => ShapeKind::Float,
                    "boolean" => ShapeKind::Boolean,
                    "timestamp" => ShapeKind::Timestamp,
                    "blob" => ShapeKind::Blob,
                    _ => ShapeKind::Other,
                };
                let pattern = shape["pattern"].as_str().and_then(|p| {
                    regexes
                        .entry(p.to_string())
                        .or_insert_with(|| Regex::new(&format!("^(?:{p})$")).ok())
                        .clone()
                        .map(|r| (p.to_string(), r))
                });
                Shape {
                    kind,
                    min: shape["min"].as_i64(),
                    max: shape["max"].as_i64(),
                    pattern,
                    enum_values: shape["enum"].as_array().map(|v| {
                        v.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    }),
                }
            })
            .collect();
        let operations = model["operations"]
            .as_object()
            .ok_or("model has no operations")?
            .iter()
            .map(|(name, op)| (name.clone(), lookup(&op["input"])))
            .collect();
        Ok(ServiceModel {
            shapes,
            operations,
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
            self.check(*shape, input, Path::Root, &mut violations)?;
        }
        Ok(violations)
    }

    fn check(
        &self,
        shape_index: usize,
        value: &Value,
        path: Path<'_>,
        out: &mut Vec<Violation>,
    ) -> Result<(), TypeMismatch> {
        let shape = &self.shapes[shape_index];
        if value.is_null() {
            return Ok(());
        }
        let mismatch = || {
            let rendered = path.render();
            TypeMismatch(format!(
                "Expected {} for '{}'",
                shape.kind.name(),
                if rendered.is_empty() {
                    "input".to_string()
                } else {
                    rendered
                }
            ))
        };
        match &shape.kind {
            ShapeKind::Structure { members } => {
                let object = value.as_object().ok_or_else(mismatch)?;
                for member in members {
                    match object.get(&member.name) {
                        None | Some(Value::Null) => {
                            if member.required {
                                out.push(Violation(format!(
                                    "Value null at '{}' failed to satisfy constraint: Member must not be null",
                                    Path::Member(&path, &member.name).render()
                                )));
                            }
                        }
                        Some(child) => {
                            if let Some(child_shape) = member.shape {
                                self.check(
                                    child_shape,
                                    child,
                                    Path::Member(&path, &member.name),
                                    out,
                                )?;
                            }
                        }
                    }
                }
            }
            ShapeKind::List { member } => {
                let items = value.as_array().ok_or_else(mismatch)?;
                check_length(shape, items.len(), value, &path, out);
                if let Some(member) = member {
                    for (i, item) in items.iter().enumerate() {
                        if !item.is_null() {
                            self.check(*member, item, Path::Index(&path, i + 1), out)?;
                        }
                    }
                }
            }
            ShapeKind::Map {
                key,
                value: value_shape,
            } => {
                let object = value.as_object().ok_or_else(mismatch)?;
                check_length(shape, object.len(), value, &path, out);
                for (k, v) in object {
                    if let Some(key_shape) = key {
                        let mut key_violations = Vec::new();
                        self.check(
                            *key_shape,
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
                        self.check(*value_shape, v, path, &mut value_violations)?;
                        out.extend(value_violations.into_iter().map(|Violation(v)| {
                            Violation(v.replacen("failed to satisfy constraint: ", "failed to satisfy constraint: Map value must satisfy constraint: [", 1) + "]")
                        }));
                    }
                }
            }
            ShapeKind::String => {
                let s = value.as_str().ok_or_else(mismatch)?;
                // Length constraints count characters. Counting them is only needed when the byte
                // length could break a bound: characters <= bytes <= 4 * characters.
                let bytes = s.len() as i64;
                let may_violate = shape.max.is_some_and(|m| bytes > m)
                    || shape.min.is_some_and(|m| bytes / 4 < m);
                let len = if may_violate {
                    s.chars().count()
                } else {
                    s.len()
                };
                check_length(shape, len, value, &path, out);
                if let Some((pattern, regex)) = &shape.pattern {
                    if !regex.is_match(s) {
                        out.push(Violation(format!(
                            "Value '{s}' at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}",
                            path.render()
                        )));
                    }
                }
                if let Some(values) = &shape.enum_values {
                    if !values.iter().any(|v| v == s) {
                        out.push(Violation(format!(
                            "Value '{s}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                            path.render(),
                            values.join(", ")
                        )));
                    }
                }
            }
            ShapeKind::Integer | ShapeKind::Long => {
                let n = value.as_i64().ok_or_else(mismatch)?;
                if matches!(shape.kind, ShapeKind::Integer) && i32::try_from(n).is_err() {
                    return Err(mismatch());
                }
                if let Some(min) = shape.min {
                    if n < min {
                        out.push(Violation(format!(
                            "Value '{n}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {min}",
                            path.render()
                        )));
                    }
                }
                if let Some(max) = shape.max {
                    if n > max {
                        out.push(Violation(format!(
                            "Value '{n}' at '{}' failed to satisfy constraint: Member must have value less than or equal to {max}",
                            path.render()
                        )));
                    }
                }
            }
            ShapeKind::Float => {
                value.as_f64().ok_or_else(mismatch)?;
            }
            ShapeKind::Boolean => {
                value.as_bool().ok_or_else(mismatch)?;
            }
            ShapeKind::Timestamp => {
                if !(value.is_number() || value.is_string()) {
                    return Err(mismatch());
                }
            }
            ShapeKind::Blob => {
                value.as_str().ok_or_else(mismatch)?;
            }
            ShapeKind::Other => {}
        }
        Ok(())
    }
}

fn check_length(
    shape: &Shape,
    len: usize,
    value: &Value,
    path: &Path<'_>,
    out: &mut Vec<Violation>,
) {
    if let Some(min) = shape.min {
        if (len as i64) < min {
            out.push(Violation(format!(
                "Value {} at '{}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                render(value),
                path.render()
            )));
        }
    }
    if let Some(max) = shape.max {
        if (len as i64) > max {
            out.push(Violation(format!(
                "Value {} at '{}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                render(value),
                path.render()
            )));
        }
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
    fn lengths_count_characters_not_bytes() {
        let model = logs();
        let ok = "é".repeat(512);
        let v = model
            .validate(
                "CreateLogStream",
                &json!({"logGroupName": "g", "logStreamName": ok}),
            )
            .unwrap();
        assert!(v.is_empty(), "{v:?}");
        let long = "é".repeat(513);
        let v = model
            .validate(
                "CreateLogStream",
                &json!({"logGroupName": "g", "logStreamName": long}),
            )
            .unwrap();
        assert_eq!(v.len(), 1);
        assert!(v[0]
            .0
            .contains("Member must have length less than or equal to 512"));
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
