//! Services whose wire protocol is not awsJson (S3's REST-XML): the gateway hands them the whole
//! request before reading the body, so they can apply their own size limits and body encodings.

use std::net::SocketAddr;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::Response;

use crate::gateway::CallObserver;
use crate::sigv4;

#[async_trait]
pub trait RawHttpService: Send + Sync {
    /// Authenticates (SigV4) and answers `request`, reporting the call to `observer`.
    async fn handle(
        &self,
        request: Request<Body>,
        peer: Option<SocketAddr>,
        observer: Option<&dyn CallObserver>,
    ) -> Response;
}

/// Whether `request` is meant for the S3 endpoint: its SigV4 credential scope names `s3`, or it
/// names no SigV4 scope and is not awsJson-shaped (awsJson is always `POST /`), so S3 answers it in
/// S3's shape (an unsigned or SigV2 request gets S3's error, not an awsJson one).
pub fn is_s3_request(request: &Request<Body>) -> bool {
    let query = request.uri().query().unwrap_or("");
    match sigv4::scope_service(request.headers(), query) {
        Some(service) => service == "s3",
        None => request.method() != Method::POST || request.uri().path() != "/",
    }
}
