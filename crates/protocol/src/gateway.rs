//! The HTTP front door: authenticates every request with SigV4 and dispatches awsJson 1.1 calls
//! (`POST /` with `X-Amz-Target: <prefix>.<Operation>`) to the service that owns the prefix.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::credentials::{CredentialStore, Principal};
use crate::error::AwsError;
use crate::model::{validate_input, ServiceModel};
use crate::sigv4::{self, SignedRequest};

/// AWS's largest request bodies (PutLogEvents: 1 MiB of events plus JSON framing) fit well within this.
pub const MAX_REQUEST_BODY_BYTES: usize = 8 << 20;

/// Everything a service may know about the caller.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub principal: Principal,
    pub access_key_id: String,
    /// From the signature's credential scope.
    pub region: String,
    pub source_ip: String,
    pub user_agent: String,
    pub received_at: DateTime<Utc>,
}

impl RequestContext {
    pub fn account_id(&self) -> &str {
        &self.principal.account_id
    }
}

/// A service speaking awsJson 1.1.
#[async_trait]
pub trait AwsJsonService: Send + Sync {
    fn model(&self) -> &ServiceModel;
    /// Exception name for model-constraint violations (CloudWatch Logs: `InvalidParameterException`).
    fn validation_error_code(&self) -> &'static str;
    /// Handles a validated request; `Value::Null` becomes an empty `{}` response.
    async fn call(
        &self,
        context: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError>;
}

/// Observes every call, successful or not (CloudTrail recording hooks in here).
pub trait CallObserver: Send + Sync {
    fn observe(&self, call: &ObservedCall<'_>);
}

pub struct ObservedCall<'a> {
    pub context: Option<&'a RequestContext>,
    pub service: &'a str,
    pub operation: &'a str,
    pub input: Option<&'a Value>,
    pub outcome: Result<&'a Value, &'a AwsError>,
}

pub struct Gateway {
    services: Vec<Arc<dyn AwsJsonService>>,
    credentials: CredentialStore,
    observer: Option<Arc<dyn CallObserver>>,
}

impl Gateway {
    pub fn new(credentials: CredentialStore) -> Self {
        Gateway {
            services: Vec::new(),
            credentials,
            observer: None,
        }
    }

    pub fn with_service(mut self, service: Arc<dyn AwsJsonService>) -> Self {
        self.services.push(service);
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn into_router(self) -> axum::Router {
        let gateway = Arc::new(self);
        axum::Router::new()
            .route("/health", axum::routing::get(health))
            .fallback(handle)
            .with_state(gateway)
    }

    async fn dispatch(&self, request: Request<Body>, peer: Option<SocketAddr>) -> Response {
        let started = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let (parts, body) = request.into_parts();
        let body = match axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => {
                let err = AwsError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLargeException",
                    format!("Request body exceeds the maximum of {MAX_REQUEST_BODY_BYTES} bytes"),
                );
                return error_response(&err, &request_id);
            }
        };
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", ""));
        let outcome = self
            .authenticate_and_call(
                &parts.method,
                &parts.uri,
                &parts.headers,
                &body,
                prefix,
                operation,
                &request_id,
                peer,
            )
            .await;
        let status = match &outcome {
            Ok(_) => StatusCode::OK,
            Err(e) => e.status,
        };
        tracing::info!(
            request_id = %request_id,
            target = %target,
            status = status.as_u16(),
            error = outcome.as_ref().err().map(|e| e.code.as_str()).unwrap_or(""),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        match outcome {
            Ok(value) => {
                let body = if value.is_null() {
                    b"{}".to_vec()
                } else {
                    serde_json::to_vec(&value).unwrap_or_default()
                };
                let mut response = Response::new(Body::from(body));
                set_common_headers(response.headers_mut(), &request_id);
                response
            }
            Err(err) => error_response(&err, &request_id),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn authenticate_and_call(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
        prefix: &str,
        operation: &str,
        request_id: &str,
        peer: Option<SocketAddr>,
    ) -> Result<Value, AwsError> {
        let signed = SignedRequest {
            method,
            raw_path: uri.path(),
            raw_query: uri.query().unwrap_or(""),
            headers,
            body,
        };
        let received_at = Utc::now();
        let verification = sigv4::verify(&signed, &self.credentials, received_at);
        let service = self
            .services
            .iter()
            .find(|s| s.model().target_prefix == prefix);
        let service_name = service
            .map(|s| s.model().signing_name.clone())
            .unwrap_or_default();

        let verified = match verification {
            Ok(v) => v,
            Err(err) => {
                self.notify(None, &service_name, operation, None, Err(&err));
                return Err(err);
            }
        };
        let context = RequestContext {
            request_id: request_id.to_string(),
            principal: verified.principal.clone(),
            access_key_id: verified.access_key_id.clone(),
            region: verified.region.clone(),
            source_ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            user_agent: headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            received_at,
        };
        let result = self
            .call(
                service,
                &verified.service,
                method,
                operation,
                body,
                &context,
            )
            .await;
        match &result {
            Ok((input, output)) => self.notify(
                Some(&context),
                &service_name,
                operation,
                Some(input),
                Ok(output),
            ),
            Err((input, err)) => self.notify(
                Some(&context),
                &service_name,
                operation,
                input.as_ref(),
                Err(err),
            ),
        }
        result.map(|(_, output)| output).map_err(|(_, err)| err)
    }

    async fn call(
        &self,
        service: Option<&Arc<dyn AwsJsonService>>,
        scope_service: &str,
        method: &Method,
        operation: &str,
        body: &Bytes,
        context: &RequestContext,
    ) -> Result<(Value, Value), (Option<Value>, AwsError)> {
        let Some(service) = service else {
            return Err((None, AwsError::client("UnknownOperationException", "")));
        };
        let model = service.model();
        if scope_service != model.signing_name {
            return Err((
                None,
                AwsError::client(
                    "InvalidSignatureException",
                    format!(
                        "Credential should be scoped to correct service: '{}'. ",
                        model.signing_name
                    ),
                ),
            ));
        }
        if method != Method::POST || !model.has_operation(operation) {
            return Err((None, AwsError::client("UnknownOperationException", "")));
        }
        let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            match serde_json::from_slice(body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    return Err((
                        None,
                        AwsError::serialization(
                            "Start of structure or map found where not expected.",
                        ),
                    ))
                }
                Err(e) => {
                    return Err((
                        None,
                        AwsError::serialization(format!("Malformed JSON request body: {e}")),
                    ))
                }
            }
        };
        if let Err(err) = validate_input(model, operation, &input, service.validation_error_code())
        {
            return Err((Some(input), err));
        }
        let observed_input = if self.observer.is_some() {
            Some(input.clone())
        } else {
            None
        };
        // A panic in a handler must not drop the connection without an AWS-shaped answer.
        let call = std::panic::AssertUnwindSafe(service.call(context, operation, input));
        match futures_util::FutureExt::catch_unwind(call).await {
            Ok(Ok(output)) => Ok((observed_input.unwrap_or(Value::Null), output)),
            Ok(Err(err)) => Err((observed_input, err)),
            Err(_) => {
                tracing::error!(request_id = %context.request_id, operation, "handler panicked");
                Err((
                    observed_input,
                    AwsError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalFailure",
                        "The request processing has failed because of an unknown error.",
                    ),
                ))
            }
        }
    }

    fn notify(
        &self,
        context: Option<&RequestContext>,
        service: &str,
        operation: &str,
        input: Option<&Value>,
        outcome: Result<&Value, &AwsError>,
    ) {
        if let Some(observer) = &self.observer {
            observer.observe(&ObservedCall {
                context,
                service,
                operation,
                input,
                outcome,
            });
        }
    }
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
}

fn error_response(err: &AwsError, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(err.body()));
    *response.status_mut() = err.status;
    set_common_headers(response.headers_mut(), request_id);
    if let Ok(v) = HeaderValue::from_str(&err.code) {
        response.headers_mut().insert("x-amzn-errortype", v);
    }
    response
}

async fn health() -> impl IntoResponse {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        "{\"status\":\"ok\"}",
    )
}

async fn handle(State(gateway): State<Arc<Gateway>>, request: Request<Body>) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    gateway.dispatch(request, peer).await
}
