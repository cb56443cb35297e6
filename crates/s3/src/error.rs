//! S3's XML error shape (`<Error><Code>…</Code><Message>…</Message>…</Error>`) with AWS's codes.

use watchtrail_protocol::AwsError;

use crate::xml::escape;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Extra elements AWS includes (`BucketName`, `Key`, `UploadId`, …), in order.
    pub details: Vec<(String, String)>,
}

impl S3Error {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> S3Error {
        S3Error {
            status,
            code: code.to_string(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> S3Error {
        self.details.push((name.to_string(), value.to_string()));
        self
    }

    pub fn no_such_bucket(bucket: &str) -> S3Error {
        S3Error::new(404, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> S3Error {
        S3Error::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    pub fn access_denied() -> S3Error {
        S3Error::new(403, "AccessDenied", "Access Denied")
    }

    pub fn invalid_argument(message: &str, name: &str, value: &str) -> S3Error {
        S3Error::new(400, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    pub fn invalid_request(message: impl Into<String>) -> S3Error {
        S3Error::new(400, "InvalidRequest", message)
    }

    pub fn not_implemented(what: &str) -> S3Error {
        S3Error::new(
            501,
            "NotImplemented",
            format!("A header or query you provided implies functionality that is not implemented: {what} is not supported by watchtrail's S3 endpoint."),
        )
    }

    pub fn malformed_xml() -> S3Error {
        S3Error::new(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
    }

    pub fn internal() -> S3Error {
        S3Error::new(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// Stored bytes failed their checksum: answered as an error, never as content.
    pub fn corrupt() -> S3Error {
        S3Error::new(
            500,
            "InternalError",
            "The stored object failed checksum verification and is not served.",
        )
    }

    /// Maps a SigV4 verification failure to the code and status S3 uses for it.
    pub fn from_auth(err: &AwsError, access_key_id: Option<&str>) -> S3Error {
        match err.code.as_str() {
            "InvalidSignatureException" if err.message.starts_with("Signature expired") => {
                S3Error::new(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
            }
            "InvalidSignatureException" if err.message.starts_with("Signature not yet current") => {
                S3Error::new(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
            }
            "InvalidSignatureException" if err.message.starts_with("Date in Credential scope") => {
                S3Error::new(400, "AuthorizationHeaderMalformed", err.message.clone())
            }
            "InvalidSignatureException" => S3Error::new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            )
            .with("AWSAccessKeyId", access_key_id.unwrap_or_default()),
            "UnrecognizedClientException" => S3Error::new(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
            .with("AWSAccessKeyId", access_key_id.unwrap_or_default()),
            "MissingAuthenticationTokenException" => S3Error::access_denied(),
            "XAmzContentSHA256Mismatch" => S3Error::new(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
            "NotImplemented" => S3Error::new(501, "NotImplemented", err.message.clone()),
            "IncompleteSignatureException" => {
                S3Error::new(400, "AuthorizationHeaderMalformed", err.message.clone())
            }
            _ => S3Error::new(400, "InvalidRequest", err.message.clone()),
        }
    }

    pub fn to_xml(&self, request_id: &str, resource: &str) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        out.push_str(&format!(
            "<Code>{}</Code><Message>{}</Message>",
            escape(&self.code),
            escape(&self.message)
        ));
        for (name, value) in &self.details {
            out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        }
        out.push_str(&format!(
            "<Resource>{}</Resource><RequestId>{}</RequestId></Error>",
            escape(resource),
            escape(request_id)
        ));
        out
    }

    /// The same error in the shape the `CallObserver` (CloudTrail) records.
    pub fn to_aws_error(&self) -> AwsError {
        AwsError::new(
            axum::http::StatusCode::from_u16(self.status)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            self.code.clone(),
            self.message.clone(),
        )
    }
}
