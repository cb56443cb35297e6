//! AWS-shaped errors: `{"__type": "...Exception", "message": "..."}` with an HTTP status.

use axum::http::StatusCode;
use serde_json::json;

/// An error as the client will see it. `code` is the bare exception name (no `namespace#`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Extra top-level members some exceptions carry (e.g. `expectedSequenceToken`, `queryCompileError`).
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AwsError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            extra: None,
        }
    }

    /// A 400 client error; the common case.
    pub fn client(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_string(), value);
        self
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }

    pub fn throttling(message: impl Into<String>) -> Self {
        Self::client("ThrottlingException", message)
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            message,
        )
    }

    pub fn body(&self) -> Vec<u8> {
        let mut object = serde_json::Map::new();
        object.insert("__type".into(), json!(self.code));
        object.insert("message".into(), json!(self.message));
        if let Some(extra) = &self.extra {
            for (k, v) in extra {
                object.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&serde_json::Value::Object(object))
            .expect("a JSON map always serializes")
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
