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
    /// Lets a service answer a model violation with the operation's own exception where AWS
    /// does (CloudTrail's LookupEvents: `InvalidMaxResultsException`, …).
    fn refine_validation_error(
        &self,
        _operation: &str,
        _input: &Value,
        error: AwsError,
    ) -> AwsError {
        error
    }
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
    /// Called once per request before the response is sent. A returned future is awaited before
    /// the response goes out: that is how "a management call answered means its record is
    /// durable" holds. Return `None` when nothing needs waiting for (e.g. an unwanted data event).
    fn observe(&self, call: &ObservedCall<'_>) -> Option<RecordCommitted>;
    /// Whether `observe` will look at the request input of this call; when not, the gateway
    /// skips copying it.
    fn wants_input(&self, _service: &str, _operation: &str) -> bool {
        true
    }
}

/// Resolves once the observer's record of a call is durable.
pub type RecordCommitted = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

pub struct ObservedCall<'a> {
    /// Present when the signature verified.
    pub context: Option<&'a RequestContext>,
    /// What is known about the request even when its signature did not verify.
    pub request: &'a RequestFacts,
    /// The signing name of the service (`logs`, `cloudtrail`, `s3`), or the credential scope's
    /// service when no service owns the request.
    pub service: &'a str,
    pub operation: &'a str,
    pub input: Option<&'a Value>,
    pub outcome: Result<&'a Value, &'a AwsError>,
    /// Resources the caller already knows (S3 buckets/objects); the recorder derives the rest
    /// from `input` for the awsJson services.
    pub resources: &'a [ObservedResource],
}

/// Request facts that do not depend on a verified signature.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub request_id: String,
    pub received_at: DateTime<Utc>,
    pub source_ip: String,
    pub user_agent: String,
    /// Access key id, region and service named by the request's SigV4 credential, whether or not
    /// the signature verified (CloudTrail records who tried).
    pub claimed_access_key_id: Option<String>,
    pub claimed_region: Option<String>,
    pub claimed_service: Option<String>,
    /// The principal owning `claimed_access_key_id`, when the key is known.
    pub claimed_principal: Option<Principal>,
    /// Present when the request arrived over TLS.
    pub tls: Option<TlsDetails>,
}

/// CloudTrail's `tlsDetails`.
#[derive(Debug, Clone, Default)]
pub struct TlsDetails {
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

/// A resource a call touched, as CloudTrail's `resources[]` names it.
#[derive(Debug, Clone)]
pub struct ObservedResource {
    /// e.g. `AWS::S3::Object`.
    pub resource_type: String,
    pub arn: String,
}

impl RequestFacts {
    /// Reads the SigV4 credential (`Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request`
    /// or the presigned `X-Amz-Credential`) without verifying anything.
    pub fn read_claimed_credential(&mut self, headers: &HeaderMap, raw_query: &str) {
        let from_header = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split_once("Credential="))
            .map(|(_, rest)| {
                rest.split([',', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
        let credential = from_header.or_else(|| {
            raw_query.split('&').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                (name == "X-Amz-Credential").then(|| {
                    percent_encoding::percent_decode_str(value)
                        .decode_utf8_lossy()
                        .into_owned()
                })
            })
        });
        let Some(credential) = credential else { return };
        let mut parts = credential.split('/');
        let key = parts.next().unwrap_or_default();
        if key.is_empty() || key.len() > 128 {
            return;
        }
        self.claimed_access_key_id = Some(key.to_string());
        let _date = parts.next();
        self.claimed_region = parts.next().filter(|r| !r.is_empty()).map(str::to_string);
        self.claimed_service = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    }
}

pub struct Gateway {
    services: Vec<Arc<dyn AwsJsonService>>,
    credentials: CredentialStore,
    observer: Option<Arc<dyn CallObserver>>,
    /// Requests signed for service `s3` (and unsigned non-awsJson ones) go here, body unread.
    s3: Option<Arc<dyn crate::raw_service::RawHttpService>>,
}

impl Gateway {
    pub fn new(credentials: CredentialStore) -> Self {
        Gateway {
            services: Vec::new(),
            credentials,
            observer: None,
            s3: None,
        }
    }

    pub fn with_s3(mut self, s3: Arc<dyn crate::raw_service::RawHttpService>) -> Self {
        self.s3 = Some(s3);
        self
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
        if let Some(s3) = self
            .s3
            .as_ref()
            .filter(|_| crate::raw_service::is_s3_request(&request))
        {
            return s3.handle(request, peer, self.observer.as_deref()).await;
        }
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
            // botocore sends the model's full prefix (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`),
            // the Rust SDK only the shape name after the last dot.
            .find(|s| {
                let own = &s.model().target_prefix;
                own == prefix || own.rsplit('.').next() == Some(prefix)
            });
        let mut facts = RequestFacts {
            request_id: request_id.to_string(),
            received_at,
            source_ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            user_agent: headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            ..Default::default()
        };
        if self.observer.is_some() {
            facts.read_claimed_credential(headers, signed.raw_query);
            facts.claimed_principal = facts
                .claimed_access_key_id
                .as_deref()
                .and_then(|key| self.credentials.lookup(key))
                .map(|entry| entry.principal.clone());
        }
        let service_name = service
            .map(|s| s.model().signing_name.clone())
            .or_else(|| facts.claimed_service.clone())
            .unwrap_or_default();

        let verified = match verification {
            Ok(v) => v,
            Err(err) => {
                self.notify(None, &facts, &service_name, operation, None, Err(&err))
                    .await;
                return Err(err);
            }
        };
        let context = RequestContext {
            request_id: request_id.to_string(),
            principal: verified.principal.clone(),
            access_key_id: verified.access_key_id.clone(),
            region: verified.region.clone(),
            source_ip: facts.source_ip.clone(),
            user_agent: facts.user_agent.clone(),
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
            Ok((input, output)) => {
                self.notify(
                    Some(&context),
                    &facts,
                    &service_name,
                    operation,
                    Some(input),
                    Ok(output),
                )
                .await
            }
            Err((input, err)) => {
                self.notify(
                    Some(&context),
                    &facts,
                    &service_name,
                    operation,
                    input.as_ref(),
                    Err(err),
                )
                .await
            }
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
            let err = service.refine_validation_error(operation, &input, err);
            return Err((Some(input), err));
        }
        // PutLogEvents inputs run to megabytes: copy only what an observer will record.
        let observed_input = if self
            .observer
            .as_ref()
            .is_some_and(|o| o.wants_input(&model.signing_name, operation))
        {
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

    async fn notify(
        &self,
        context: Option<&RequestContext>,
        request: &RequestFacts,
        service: &str,
        operation: &str,
        input: Option<&Value>,
        outcome: Result<&Value, &AwsError>,
    ) {
        let Some(observer) = &self.observer else {
            return;
        };
        let committed = observer.observe(&ObservedCall {
            context,
            request,
            service,
            operation,
            input,
            outcome,
            resources: &[],
        });
        if let Some(committed) = committed {
            committed.await;
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
