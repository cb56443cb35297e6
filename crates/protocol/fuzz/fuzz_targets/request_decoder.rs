//! The request decoder never panics: arbitrary bytes as a JSON body are validated against every
//! CloudWatch Logs operation's input shape, and arbitrary Authorization headers go through SigV4.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use watchtrail_protocol::model::{validate_input, ServiceModel, LOGS_MODEL};
use watchtrail_protocol::sigv4::{verify, SignedRequest};
use watchtrail_protocol::CredentialStore;

fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_gzip(LOGS_MODEL).unwrap())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let ops: Vec<&str> = model().operation_names().collect();
        for op in ops {
            let _ = validate_input(model(), op, &value, "InvalidParameterException");
        }
    }
    let text = String::from_utf8_lossy(data);
    let mut headers = axum::http::HeaderMap::new();
    let (auth, rest) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(v) = axum::http::HeaderValue::from_str(auth) {
        headers.insert("authorization", v);
    }
    if let Ok(v) = axum::http::HeaderValue::from_str(rest.get(..16).unwrap_or(rest)) {
        headers.insert("x-amz-date", v);
    }
    let credentials = CredentialStore::with_root("AKIDEXAMPLE", "secret", "123456789012");
    let request = SignedRequest { method: &axum::http::Method::POST, raw_path: "/", raw_query: rest, headers: &headers, body: data };
    let _ = verify(&request, &credentials, chrono::Utc::now());
});
