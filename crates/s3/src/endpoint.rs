//! Request handling: addressing (path and virtual-host style), operation selection, SigV4,
//! body decoding and checks, the operations themselves, and reporting to the `CallObserver`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Utc};
use md5::Md5;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use watchtrail_protocol::gateway::{
    CallObserver, ObservedCall, ObservedResource, RequestContext, RequestFacts,
};
use watchtrail_protocol::raw_service::RawHttpService;
use watchtrail_protocol::sigv4::{
    self, SignedRequest, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER,
};
use watchtrail_protocol::CredentialStore;

use crate::chunked;
use crate::error::S3Error;
use crate::listing::{self, Entry};
use crate::storage::{BucketStore, ObjectMeta};
use crate::xml::{self, XmlWriter};

/// The largest object body accepted in one request. Bodies are held in memory while their
/// signature and checksums are verified; larger objects go through multipart upload.
pub const DEFAULT_MAX_OBJECT_BYTES: usize = 256 << 20;

/// Headers stored with an object and returned on GET/HEAD.
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
];

/// AWS's limit on the total size of user metadata.
const MAX_USER_METADATA_BYTES: usize = 2048;

pub struct S3Endpoint {
    store: Arc<BucketStore>,
    credentials: CredentialStore,
    max_object_bytes: usize,
}

impl S3Endpoint {
    /// Opens the buckets under `root` (the server passes `DATA/s3`).
    pub fn open(root: &Path, credentials: CredentialStore) -> std::io::Result<S3Endpoint> {
        Ok(S3Endpoint {
            store: Arc::new(BucketStore::open(root)?),
            credentials,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
        })
    }

    pub fn with_max_object_bytes(mut self, bytes: usize) -> S3Endpoint {
        self.max_object_bytes = bytes;
        self
    }
}

/// What the request addresses.
#[derive(Debug, Default)]
struct Target {
    bucket: Option<String>,
    key: Option<String>,
    host: String,
}

/// A successful answer before it becomes an HTTP response.
struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: Vec<u8>,
    /// CloudTrail's responseElements for this call.
    observed: Value,
}

impl Answer {
    fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            observed: Value::Null,
        }
    }

    fn xml(body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: vec![(
                axum::http::header::CONTENT_TYPE,
                "application/xml".to_string(),
            )],
            body: body.into_bytes(),
            observed: Value::Null,
        }
    }

    fn header(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((HeaderName::from_static(name), value));
        self
    }
}

/// The parts of a request the operations need, after authentication and body decoding.
struct Call<'a> {
    target: &'a Target,
    query: &'a [(String, String)],
    headers: &'a HeaderMap,
    body: Vec<u8>,
    /// Verified `x-amz-checksum-*` values (algorithm → base64).
    checksums: BTreeMap<String, String>,
    context: &'a RequestContext,
}

impl Call<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn account(&self) -> &str {
        self.context.account_id()
    }

    fn bucket(&self) -> &str {
        self.target.bucket.as_deref().unwrap_or_default()
    }

    fn key(&self) -> &str {
        self.target.key.as_deref().unwrap_or_default()
    }
}

#[async_trait]
impl RawHttpService for S3Endpoint {
    async fn handle(
        &self,
        request: Request<Body>,
        peer: Option<SocketAddr>,
        observer: Option<&dyn CallObserver>,
    ) -> Response {
        let started = std::time::Instant::now();
        let received_at = Utc::now();
        let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase();
        let (parts, body) = request.into_parts();
        let raw_query = parts.uri.query().unwrap_or("").to_string();
        let mut facts = RequestFacts {
            request_id: request_id.clone(),
            received_at,
            source_ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
            user_agent: header_str(&parts.headers, "user-agent").to_string(),
            ..Default::default()
        };
        facts.read_claimed_credential(&parts.headers, &raw_query);
        facts.claimed_principal = facts
            .claimed_access_key_id
            .as_deref()
            .and_then(|key| self.credentials.lookup(key))
            .map(|entry| entry.principal.clone());

        let target = parse_target(&parts.headers, parts.uri.path());
        let query = parse_query(&raw_query);
        let operation = select_operation(&parts.method, &target, &query, &parts.headers);
        let operation_name = match &operation {
            Ok(name) => *name,
            Err(_) => "",
        };
        let mut context = None;
        let outcome = self
            .process(
                &parts.method,
                parts.uri.path(),
                &raw_query,
                &parts.headers,
                body,
                &target,
                &query,
                operation,
                &facts,
                &mut context,
            )
            .await;

        let status = match &outcome {
            Ok(answer) => answer.status,
            Err(e) => StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        tracing::info!(
            request_id = %request_id,
            operation = operation_name,
            bucket = target.bucket.as_deref().unwrap_or(""),
            status = status.as_u16(),
            error = outcome.as_ref().err().map(|e| e.code.as_str()).unwrap_or(""),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "s3 request"
        );

        if let Some(observer) = observer {
            let input = observed_input(&target, &query);
            let resources = observed_resources(&target);
            let aws_error = outcome.as_ref().err().map(S3Error::to_aws_error);
            let output = match &outcome {
                Ok(answer) => answer.observed.clone(),
                Err(_) => Value::Null,
            };
            let committed = observer.observe(&ObservedCall {
                context: context.as_ref(),
                request: &facts,
                service: "s3",
                operation: operation_name,
                input: Some(&input),
                outcome: match &aws_error {
                    Some(err) => Err(err),
                    None => Ok(&output),
                },
                resources: &resources,
            });
            if let Some(committed) = committed {
                committed.await;
            }
        }

        let resource = parts.uri.path().to_string();
        let is_head = parts.method == Method::HEAD;
        match outcome {
            Ok(answer) => {
                let mut response = Response::new(Body::from(answer.body));
                *response.status_mut() = answer.status;
                for (name, value) in answer.headers {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        response.headers_mut().append(name, value);
                    }
                }
                set_common_headers(response.headers_mut(), &request_id);
                response
            }
            Err(err) => {
                let body = if is_head {
                    Vec::new()
                } else {
                    err.to_xml(&request_id, &resource).into_bytes()
                };
                let mut response = Response::new(Body::from(body));
                *response.status_mut() = status;
                response.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml"),
                );
                if is_head {
                    // HEAD answers carry no body, so S3 names the error in a header.
                    if let Ok(v) = HeaderValue::from_str(&err.code) {
                        response.headers_mut().insert("x-amz-error-code", v);
                    }
                }
                set_common_headers(response.headers_mut(), &request_id);
                response
            }
        }
    }
}

impl S3Endpoint {
    #[allow(clippy::too_many_arguments)]
    async fn process(
        &self,
        method: &Method,
        raw_path: &str,
        raw_query: &str,
        headers: &HeaderMap,
        body: Body,
        target: &Target,
        query: &[(String, String)],
        operation: Result<&'static str, S3Error>,
        facts: &RequestFacts,
        context_out: &mut Option<RequestContext>,
    ) -> Result<Answer, S3Error> {
        // Chunk framing adds well under 1% at the chunk sizes clients use.
        let limit = self.max_object_bytes + self.max_object_bytes / 50 + (64 << 10);
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            S3Error::new(
                400,
                "EntityTooLarge",
                format!(
                    "Your proposed upload exceeds the maximum allowed size of {} bytes for one request; use multipart upload.",
                    self.max_object_bytes
                ),
            )
        })?;
        let sigv2_query = query.iter().any(|(k, _)| k == "AWSAccessKeyId")
            && query.iter().any(|(k, _)| k == "Signature");
        if sigv2_query || header_str(headers, "authorization").starts_with("AWS ") {
            return Err(S3Error::invalid_request(
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            ));
        }
        let signed = SignedRequest {
            method,
            raw_path,
            raw_query,
            headers,
            body: &body,
        };
        let (verified, mut signer) =
            sigv4::verify_with_chunk_signer(&signed, &self.credentials, facts.received_at)
                .map_err(|e| S3Error::from_auth(&e, facts.claimed_access_key_id.as_deref()))?;
        if verified.service != "s3" {
            return Err(S3Error::new(
                400,
                "AuthorizationHeaderMalformed",
                format!(
                    "The authorization header is malformed; incorrect service \"{}\". This endpoint belongs to \"s3\".",
                    verified.service
                ),
            ));
        }
        let context = RequestContext {
            request_id: facts.request_id.clone(),
            principal: verified.principal.clone(),
            access_key_id: verified.access_key_id.clone(),
            region: verified.region.clone(),
            source_ip: facts.source_ip.clone(),
            user_agent: facts.user_agent.clone(),
            received_at: facts.received_at,
        };
        *context_out = Some(context.clone());
        let operation = operation?;

        let declared = header_str(headers, "x-amz-content-sha256");
        let decoded = match declared {
            STREAMING_SIGNED | STREAMING_SIGNED_TRAILER => {
                Some(chunked::decode(&body, Some(&mut signer))?)
            }
            STREAMING_UNSIGNED_TRAILER => Some(chunked::decode(&body, None)?),
            _ => None,
        };
        let (body, trailers) = match decoded {
            Some(decoded) => {
                let expected = header_str(headers, "x-amz-decoded-content-length");
                if expected.parse::<usize>().ok() != Some(decoded.data.len()) {
                    return Err(S3Error::new(
                        400,
                        "IncompleteBody",
                        "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header",
                    ));
                }
                (decoded.data, decoded.trailers)
            }
            None => (body.to_vec(), Vec::new()),
        };
        if body.len() > self.max_object_bytes {
            return Err(S3Error::new(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            ));
        }
        check_content_md5(headers, &body)?;
        let checksums = check_checksums(headers, &trailers, &body)?;

        let call = Call {
            target,
            query,
            headers,
            body,
            checksums,
            context: &context,
        };
        let answer = self.execute(operation, &call).await?;
        Ok(answer)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&BucketStore) -> Result<T, S3Error> + Send + 'static,
    ) -> Result<T, S3Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "s3 storage task failed");
                Err(S3Error::internal())
            })
    }

    async fn execute(&self, operation: &str, call: &Call<'_>) -> Result<Answer, S3Error> {
        match operation {
            "ListBuckets" => self.list_buckets(call),
            "CreateBucket" => self.create_bucket(call).await,
            "HeadBucket" => {
                let info = self.store.bucket(call.account(), call.bucket())?;
                Ok(Answer::empty(StatusCode::OK).header("x-amz-bucket-region", info.region))
            }
            "GetBucketLocation" => {
                let info = self.store.bucket(call.account(), call.bucket())?;
                let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                // us-east-1 is the empty constraint, which clients read as null.
                let location = if info.region == "us-east-1" {
                    ""
                } else {
                    &info.region
                };
                out.push_str(&format!(
                    "<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                    xml::NAMESPACE,
                    xml::escape(location)
                ));
                Ok(Answer::xml(out))
            }
            "DeleteBucket" => {
                let (account, bucket) = (call.account().to_string(), call.bucket().to_string());
                self.blocking(move |s| s.delete_bucket(&account, &bucket))
                    .await?;
                Ok(Answer::empty(StatusCode::NO_CONTENT))
            }
            "ListObjects" | "ListObjectsV2" => self.list_objects(operation, call),
            "PutObject" => self.put_object(call).await,
            "CopyObject" => self.copy_object(call).await,
            "GetObject" | "HeadObject" => self.get_object(operation, call).await,
            "DeleteObject" => {
                let (account, bucket, key) = owned(call);
                self.blocking(move |s| s.delete_object(&account, &bucket, &key))
                    .await?;
                Ok(Answer::empty(StatusCode::NO_CONTENT))
            }
            "DeleteObjects" => self.delete_objects(call).await,
            "CreateMultipartUpload" => {
                check_key(call.key())?;
                check_unsupported_put_headers(call.headers)?;
                let (headers, user_metadata) = object_headers(call.headers)?;
                let (account, bucket, key) = owned(call);
                let upload_id = self
                    .blocking(move |s| {
                        s.create_upload(&account, &bucket, &key, headers, user_metadata)
                    })
                    .await?;
                let mut w = XmlWriter::new("InitiateMultipartUploadResult");
                w.element("Bucket", call.bucket())
                    .element("Key", call.key())
                    .element("UploadId", &upload_id);
                Ok(Answer::xml(w.finish("InitiateMultipartUploadResult")))
            }
            "UploadPart" => {
                let number = part_number(call.param("partNumber").unwrap_or_default())?;
                let upload_id = call.param("uploadId").unwrap_or_default().to_string();
                let (account, bucket, key) = owned(call);
                let body = call.body.clone();
                let etag = self
                    .blocking(move |s| {
                        s.put_part(&account, &bucket, &key, &upload_id, number, &body)
                    })
                    .await?;
                Ok(Answer::empty(StatusCode::OK).header("etag", format!("\"{etag}\"")))
            }
            "CompleteMultipartUpload" => self.complete_upload(call).await,
            "AbortMultipartUpload" => {
                let upload_id = call.param("uploadId").unwrap_or_default().to_string();
                let (account, bucket, key) = owned(call);
                self.blocking(move |s| s.abort_upload(&account, &bucket, &key, &upload_id))
                    .await?;
                Ok(Answer::empty(StatusCode::NO_CONTENT))
            }
            other => Err(S3Error::not_implemented(other)),
        }
    }

    fn list_buckets(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        let mut w = XmlWriter::new("ListAllMyBucketsResult");
        owner(&mut w, call.account());
        w.open("Buckets");
        for bucket in self.store.list_buckets(call.account()) {
            w.open("Bucket")
                .element("Name", &bucket.name)
                .element("CreationDate", &timestamp(bucket.created))
                .element("BucketRegion", &bucket.region)
                .close("Bucket");
        }
        w.close("Buckets");
        Ok(Answer::xml(w.finish("ListAllMyBucketsResult")))
    }

    async fn create_bucket(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        let name = call.bucket().to_string();
        check_bucket_name(&name)?;
        for header in ["x-amz-bucket-object-lock-enabled", "x-amz-object-ownership"] {
            if call.header(header).is_some() {
                return Err(S3Error::not_implemented(header));
            }
        }
        if let Some(acl) = call.header("x-amz-acl") {
            if acl != "private" {
                return Err(S3Error::not_implemented("x-amz-acl other than private"));
            }
        }
        let constraint = if call.body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let root = xml::parse(&call.body).ok_or_else(S3Error::malformed_xml)?;
            if root.name != "CreateBucketConfiguration" {
                return Err(S3Error::malformed_xml());
            }
            for child in &root.children {
                if child.name != "LocationConstraint" {
                    return Err(S3Error::not_implemented(&format!(
                        "CreateBucketConfiguration/{}",
                        child.name
                    )));
                }
            }
            root.child("LocationConstraint")
                .map(|c| c.text.clone())
                .filter(|c| !c.is_empty())
        };
        let region = &call.context.region;
        let region = match constraint {
            Some(c) if c == "us-east-1" => {
                return Err(S3Error::new(
                    400,
                    "InvalidLocationConstraint",
                    "The specified location-constraint is not valid",
                )
                .with("LocationConstraint", &c))
            }
            Some(c) if &c != region => {
                return Err(S3Error::new(
                    400,
                    "IllegalLocationConstraintException",
                    format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
                ))
            }
            Some(c) => c,
            None if region != "us-east-1" => {
                return Err(S3Error::new(
                    400,
                    "IllegalLocationConstraintException",
                    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
                ))
            }
            None => "us-east-1".to_string(),
        };
        let account = call.account().to_string();
        let bucket = name.clone();
        self.blocking(move |s| s.create_bucket(&account, &bucket, &region))
            .await?;
        Ok(Answer::empty(StatusCode::OK).header("location", format!("/{name}")))
    }

    fn list_objects(&self, operation: &str, call: &Call<'_>) -> Result<Answer, S3Error> {
        let v2 = operation == "ListObjectsV2";
        let prefix = call.param("prefix").unwrap_or_default();
        let delimiter = call.param("delimiter").unwrap_or_default();
        let url_encode = match call.param("encoding-type") {
            None => false,
            Some("url") => true,
            Some(other) => {
                return Err(S3Error::invalid_argument(
                    "Invalid Encoding Method specified in Request",
                    "encoding-type",
                    other,
                ))
            }
        };
        let max_keys = match call.param("max-keys") {
            None => 1000,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => n.min(1000) as usize,
                _ => {
                    return Err(S3Error::invalid_argument(
                        "Provided max-keys not an integer or within integer range",
                        "max-keys",
                        v,
                    ))
                }
            },
        };
        let fetch_owner = match call.param("fetch-owner") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(S3Error::invalid_argument(
                    "Invalid value for fetch-owner",
                    "fetch-owner",
                    other,
                ))
            }
        };
        let continuation = call.param("continuation-token");
        let after = if v2 {
            match continuation {
                Some(token) => decode_token(token).ok_or_else(|| {
                    S3Error::invalid_argument(
                        "The continuation token provided is incorrect",
                        "continuation-token",
                        token,
                    )
                })?,
                None => call.param("start-after").unwrap_or_default().to_string(),
            }
        } else {
            call.param("marker").unwrap_or_default().to_string()
        };
        let enc = |s: &str| {
            if url_encode {
                percent_encoding::utf8_percent_encode(s, URL_ENCODE).to_string()
            } else {
                s.to_string()
            }
        };
        let root = "ListBucketResult";
        let account = call.account();
        let body = self.store.with_objects(account, call.bucket(), |objects| {
            let page = listing::list(objects, prefix, delimiter, &after, max_keys);
            let mut w = XmlWriter::new(root);
            w.element("Name", call.bucket())
                .element("Prefix", &enc(prefix));
            if v2 {
                if let Some(token) = continuation {
                    w.element("ContinuationToken", token);
                }
                if let Some(start_after) = call.param("start-after") {
                    w.element("StartAfter", &enc(start_after));
                }
                w.element("KeyCount", &page.entries.len().to_string());
            } else {
                w.element("Marker", &enc(&after));
            }
            w.element("MaxKeys", &max_keys.to_string());
            if !delimiter.is_empty() {
                w.element("Delimiter", &enc(delimiter));
            }
            if url_encode {
                w.element("EncodingType", "url");
            }
            w.element("IsTruncated", if page.truncated { "true" } else { "false" });
            if page.truncated {
                let last = page.last().unwrap_or_default();
                if v2 {
                    w.element("NextContinuationToken", &encode_token(last));
                } else if !delimiter.is_empty() {
                    // As on S3: without a delimiter, clients resume from the last key listed.
                    w.element("NextMarker", &enc(last));
                }
            }
            for entry in &page.entries {
                if let Entry::Object(meta) = entry {
                    w.open("Contents")
                        .element("Key", &enc(&meta.key))
                        .element("LastModified", &timestamp(meta.last_modified))
                        .element("ETag", &format!("\"{}\"", meta.etag))
                        .element("Size", &meta.size.to_string());
                    if !v2 || fetch_owner {
                        owner(&mut w, account);
                    }
                    w.element("StorageClass", "STANDARD").close("Contents");
                }
            }
            for entry in &page.entries {
                if let Entry::CommonPrefix(common) = entry {
                    w.open("CommonPrefixes")
                        .element("Prefix", &enc(common))
                        .close("CommonPrefixes");
                }
            }
            w.finish(root)
        })?;
        Ok(Answer::xml(body))
    }

    async fn put_object(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        check_key(call.key())?;
        check_unsupported_put_headers(call.headers)?;
        let (headers, user_metadata) = object_headers(call.headers)?;
        let etag = hex::encode(Md5::digest(&call.body));
        let meta = ObjectMeta {
            key: call.key().to_string(),
            size: call.body.len() as u64,
            etag: etag.clone(),
            last_modified: Utc::now(),
            headers,
            user_metadata,
            checksums: call.checksums.clone(),
        };
        let create_only = match call.header("if-none-match") {
            None => false,
            Some("*") => true,
            Some(_) => return Err(S3Error::not_implemented("If-None-Match other than *")),
        };
        if call.header("if-match").is_some() {
            return Err(S3Error::not_implemented("If-Match on PutObject"));
        }
        let (account, bucket, key) = owned(call);
        if create_only {
            let exists = self.store.head_object(&account, &bucket, &key);
            match exists {
                Ok(_) => {
                    return Err(S3Error::new(
                        412,
                        "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold",
                    )
                    .with("Condition", "If-None-Match"))
                }
                Err(e) if e.code == "NoSuchKey" => {}
                Err(e) => return Err(e),
            }
        }
        let body = call.body.clone();
        self.blocking(move |s| s.put_object(&account, &bucket, meta, &body))
            .await?;
        let mut answer = Answer::empty(StatusCode::OK).header("etag", format!("\"{etag}\""));
        answer.observed = json!({});
        Ok(answer)
    }

    async fn copy_object(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        check_key(call.key())?;
        check_unsupported_put_headers(call.headers)?;
        let source = call.header("x-amz-copy-source").unwrap_or_default();
        let source = percent_encoding::percent_decode_str(source)
            .decode_utf8()
            .map_err(|_| {
                S3Error::invalid_argument(
                    "Invalid copy source encoding",
                    "x-amz-copy-source",
                    source,
                )
            })?
            .into_owned();
        if source.contains("?versionId=") {
            return Err(S3Error::not_implemented("x-amz-copy-source with versionId"));
        }
        let (source_bucket, source_key) = source
            .trim_start_matches('/')
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                    "x-amz-copy-source",
                    &source,
                )
            })?;
        let directive = call.header("x-amz-metadata-directive").unwrap_or("COPY");
        let replace = match directive {
            "COPY" => false,
            "REPLACE" => true,
            other => {
                return Err(S3Error::invalid_argument(
                    "Unknown metadata directive.",
                    "x-amz-metadata-directive",
                    other,
                ))
            }
        };
        let (source_bucket, source_key) = (source_bucket.to_string(), source_key.to_string());
        let account = call.account().to_string();
        if source_bucket == call.bucket() && source_key == call.key() && !replace {
            return Err(S3Error::invalid_request("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."));
        }
        let (headers, user_metadata) = if replace {
            let (h, m) = object_headers(call.headers)?;
            (Some(h), Some(m))
        } else {
            (None, None)
        };
        let (bucket, key) = (call.bucket().to_string(), call.key().to_string());
        let meta = self
            .blocking(move |s| {
                let (source_meta, content) = s.get_object(&account, &source_bucket, &source_key)?;
                let meta = ObjectMeta {
                    key: key.clone(),
                    size: source_meta.size,
                    etag: source_meta.etag.clone(),
                    last_modified: Utc::now(),
                    headers: headers.unwrap_or(source_meta.headers),
                    user_metadata: user_metadata.unwrap_or(source_meta.user_metadata),
                    checksums: source_meta.checksums,
                };
                s.put_object(&account, &bucket, meta.clone(), &content)?;
                Ok(meta)
            })
            .await?;
        let mut w = XmlWriter::new("CopyObjectResult");
        w.element("LastModified", &timestamp(meta.last_modified))
            .element("ETag", &format!("\"{}\"", meta.etag));
        Ok(Answer::xml(w.finish("CopyObjectResult")))
    }

    async fn get_object(&self, operation: &str, call: &Call<'_>) -> Result<Answer, S3Error> {
        let (account, bucket, key) = owned(call);
        let head = operation == "HeadObject";
        let (meta, content) = if head {
            (self.store.head_object(&account, &bucket, &key)?, Vec::new())
        } else {
            self.blocking(move |s| s.get_object(&account, &bucket, &key))
                .await?
        };
        if let Some(answer) = check_conditions(call, &meta)? {
            return Ok(answer);
        }
        let size = meta.size;
        let range = match call.header("range") {
            Some(value) => parse_range(value, size)?,
            None => None,
        };
        let mut answer = Answer::empty(StatusCode::OK);
        for (name, value) in &meta.headers {
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                answer.headers.push((name, value.clone()));
            }
        }
        if !meta.headers.contains_key("content-type") {
            answer.headers.push((
                axum::http::header::CONTENT_TYPE,
                "binary/octet-stream".to_string(),
            ));
        }
        for (name, value) in call.query {
            let header = match name.as_str() {
                "response-content-type" => axum::http::header::CONTENT_TYPE,
                "response-content-language" => axum::http::header::CONTENT_LANGUAGE,
                "response-expires" => axum::http::header::EXPIRES,
                "response-cache-control" => axum::http::header::CACHE_CONTROL,
                "response-content-disposition" => axum::http::header::CONTENT_DISPOSITION,
                "response-content-encoding" => axum::http::header::CONTENT_ENCODING,
                _ => continue,
            };
            answer.headers.retain(|(n, _)| *n != header);
            answer.headers.push((header, value.clone()));
        }
        for (name, value) in &meta.user_metadata {
            if let Ok(name) = HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()) {
                answer.headers.push((name, value.clone()));
            }
        }
        answer = answer
            .header("etag", format!("\"{}\"", meta.etag))
            .header("last-modified", http_date(meta.last_modified))
            .header("accept-ranges", "bytes".to_string());
        if range.is_none() && call.header("x-amz-checksum-mode") == Some("ENABLED") {
            for (algorithm, value) in &meta.checksums {
                if let Ok(name) =
                    HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
                {
                    answer.headers.push((name, value.clone()));
                }
            }
            if !meta.checksums.is_empty() {
                answer = answer.header("x-amz-checksum-type", "FULL_OBJECT".to_string());
            }
        }
        match range {
            Some((start, end)) => {
                answer.status = StatusCode::PARTIAL_CONTENT;
                answer = answer.header("content-range", format!("bytes {start}-{end}/{size}"));
                if head {
                    answer = answer.header("content-length", (end - start + 1).to_string());
                } else {
                    answer.body = content[start as usize..=end as usize].to_vec();
                }
            }
            None => {
                if head {
                    answer = answer.header("content-length", size.to_string());
                } else {
                    answer.body = content;
                }
            }
        }
        Ok(answer)
    }

    async fn delete_objects(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        let root = xml::parse(&call.body).ok_or_else(S3Error::malformed_xml)?;
        if root.name != "Delete" {
            return Err(S3Error::malformed_xml());
        }
        let quiet = root
            .child("Quiet")
            .map(|q| q.text == "true")
            .unwrap_or(false);
        let mut keys = Vec::new();
        for object in root.children_named("Object") {
            if object.child("VersionId").is_some() {
                return Err(S3Error::not_implemented("DeleteObjects with VersionId"));
            }
            keys.push(
                object
                    .child("Key")
                    .ok_or_else(S3Error::malformed_xml)?
                    .text
                    .clone(),
            );
        }
        if keys.is_empty() || keys.len() > 1000 {
            return Err(S3Error::malformed_xml());
        }
        let (account, bucket, _) = owned(call);
        let results = self
            .blocking(move |s| {
                s.bucket(&account, &bucket)?;
                Ok(keys
                    .into_iter()
                    .map(|key| {
                        let result = s.delete_object(&account, &bucket, &key);
                        (key, result)
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        let mut w = XmlWriter::new("DeleteResult");
        for (key, result) in results {
            match result {
                Ok(()) if quiet => {}
                Ok(()) => {
                    w.open("Deleted").element("Key", &key).close("Deleted");
                }
                Err(e) => {
                    w.open("Error")
                        .element("Key", &key)
                        .element("Code", &e.code)
                        .element("Message", &e.message)
                        .close("Error");
                }
            }
        }
        Ok(Answer::xml(w.finish("DeleteResult")))
    }

    async fn complete_upload(&self, call: &Call<'_>) -> Result<Answer, S3Error> {
        let root = xml::parse(&call.body).ok_or_else(S3Error::malformed_xml)?;
        if root.name != "CompleteMultipartUpload" {
            return Err(S3Error::malformed_xml());
        }
        let mut parts = Vec::new();
        for part in root.children_named("Part") {
            let number = part_number(
                &part
                    .child("PartNumber")
                    .ok_or_else(S3Error::malformed_xml)?
                    .text,
            )?;
            let etag = part
                .child("ETag")
                .ok_or_else(S3Error::malformed_xml)?
                .text
                .trim_matches('"')
                .to_string();
            if parts.last().is_some_and(|(last, _)| *last >= number) {
                return Err(S3Error::new(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."));
            }
            parts.push((number, etag));
        }
        if parts.is_empty() {
            return Err(S3Error::malformed_xml());
        }
        let upload_id = call.param("uploadId").unwrap_or_default().to_string();
        let (account, bucket, key) = owned(call);
        let meta = self
            .blocking(move |s| s.complete_upload(&account, &bucket, &key, &upload_id, &parts))
            .await?;
        let mut w = XmlWriter::new("CompleteMultipartUploadResult");
        w.element(
            "Location",
            &format!(
                "http://{}/{}/{}",
                call.target.host,
                call.bucket(),
                call.key()
            ),
        )
        .element("Bucket", call.bucket())
        .element("Key", call.key())
        .element("ETag", &format!("\"{}\"", meta.etag));
        Ok(Answer::xml(w.finish("CompleteMultipartUploadResult")))
    }
}

fn owned(call: &Call<'_>) -> (String, String, String) {
    (
        call.account().to_string(),
        call.bucket().to_string(),
        call.key().to_string(),
    )
}

fn owner(w: &mut XmlWriter, account: &str) {
    w.open("Owner")
        .element("ID", &canonical_user_id(account))
        .element("DisplayName", account)
        .close("Owner");
}

/// A stable 64-hex-digit canonical user id per account, the shape S3 uses.
fn canonical_user_id(account: &str) -> String {
    hex::encode(Sha256::digest(format!(
        "watchtrail-canonical-user:{account}"
    )))
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", v.clone());
        headers.insert("x-amz-id-2", v);
    }
    headers.insert("server", HeaderValue::from_static("watchtrail"));
}

/// S3's `encoding-type=url`: everything but unreserved characters and `/` is percent-encoded.
const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("wt1:{last}"))
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("wt1:")
        .map(str::to_string)
}

fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', "%20"))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// Virtual-host style when the Host is `<bucket>.localhost` or `<bucket>.s3.<…>`; otherwise
/// the bucket is the first path segment.
fn parse_target(headers: &HeaderMap, raw_path: &str) -> Target {
    let host = header_str(headers, "host").to_string();
    let hostname = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    let virtual_bucket = hostname
        .strip_suffix(".localhost")
        .or_else(|| hostname.split_once(".s3.").map(|(bucket, _)| bucket))
        .or_else(|| hostname.split_once(".s3-").map(|(bucket, _)| bucket))
        .filter(|b| !b.is_empty());
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let (bucket, key) = match virtual_bucket {
        Some(bucket) => (Some(bucket.to_string()), Some(path)),
        None => match path.split_once('/') {
            Some((bucket, key)) => (Some(decode(bucket)), Some(key)),
            None => (Some(decode(path)), None),
        },
    };
    Target {
        bucket: bucket.filter(|b| !b.is_empty()),
        key: key.filter(|k| !k.is_empty()).map(decode),
        host,
    }
}

const LIST_V1_PARAMS: &[&str] = &["prefix", "delimiter", "marker", "max-keys", "encoding-type"];
const LIST_V2_PARAMS: &[&str] = &[
    "list-type",
    "prefix",
    "delimiter",
    "continuation-token",
    "start-after",
    "max-keys",
    "encoding-type",
    "fetch-owner",
];
const GET_OBJECT_PARAMS: &[&str] = &[
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
];

/// Picks the operation from method, addressing and query; anything S3 has but this endpoint
/// does not (ACLs, policies, versioning, tagging, …) is `NotImplemented` by name.
fn select_operation(
    method: &Method,
    target: &Target,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<&'static str, S3Error> {
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    let extra = |allowed: &[&str]| -> Option<String> {
        query
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !allowed.contains(k) && *k != "x-id" && !k.starts_with("X-Amz-"))
            .map(str::to_string)
    };
    let only = |allowed: &[&str], operation: &'static str| match extra(allowed) {
        Some(param) => Err(S3Error::not_implemented(&format!(
            "the '{param}' subresource"
        ))),
        None => Ok(operation),
    };
    let copy = headers.contains_key("x-amz-copy-source");
    match (&target.bucket, &target.key) {
        (None, _) => match *method {
            Method::GET => only(&[], "ListBuckets"),
            _ => Err(method_not_allowed()),
        },
        (Some(_), None) => match *method {
            Method::PUT => only(&[], "CreateBucket"),
            Method::HEAD => only(&[], "HeadBucket"),
            Method::DELETE => only(&[], "DeleteBucket"),
            Method::GET if has("location") => only(&["location"], "GetBucketLocation"),
            Method::GET if query.iter().any(|(k, v)| k == "list-type" && v == "2") => {
                only(LIST_V2_PARAMS, "ListObjectsV2")
            }
            Method::GET if has("list-type") => Err(S3Error::invalid_argument(
                "Invalid List Type specified in Request",
                "list-type",
                query
                    .iter()
                    .find(|(k, _)| k == "list-type")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default(),
            )),
            Method::GET => only(LIST_V1_PARAMS, "ListObjects"),
            Method::POST if has("delete") => only(&["delete"], "DeleteObjects"),
            _ => Err(method_not_allowed()),
        },
        (Some(_), Some(_)) => match *method {
            Method::PUT if has("uploadId") || has("partNumber") => {
                if copy {
                    Err(S3Error::not_implemented("UploadPartCopy"))
                } else {
                    only(&["uploadId", "partNumber"], "UploadPart")
                }
            }
            Method::PUT if copy => only(&[], "CopyObject"),
            Method::PUT => only(&[], "PutObject"),
            Method::GET => only(GET_OBJECT_PARAMS, "GetObject"),
            Method::HEAD => only(GET_OBJECT_PARAMS, "HeadObject"),
            Method::DELETE if has("uploadId") => only(&["uploadId"], "AbortMultipartUpload"),
            Method::DELETE => only(&[], "DeleteObject"),
            Method::POST if has("uploads") => only(&["uploads"], "CreateMultipartUpload"),
            Method::POST if has("uploadId") => only(&["uploadId"], "CompleteMultipartUpload"),
            _ => Err(method_not_allowed()),
        },
    }
}

fn method_not_allowed() -> S3Error {
    S3Error::new(
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

/// AWS's rules for new bucket names (general purpose buckets).
fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    let bytes = name.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !name.starts_with("xn--")
        && !name.starts_with("sthree-")
        && !name.ends_with("-s3alias")
        && !name.ends_with("--ol-s3");
    if valid {
        Ok(())
    } else {
        Err(S3Error::new(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid.",
        )
        .with("BucketName", name))
    }
}

fn check_key(key: &str) -> Result<(), S3Error> {
    if key.len() > 1024 {
        return Err(S3Error::new(400, "KeyTooLongError", "Your key is too long")
            .with("Size", &key.len().to_string())
            .with("MaxSizeAllowed", "1024"));
    }
    Ok(())
}

fn part_number(value: &str) -> Result<u32, S3Error> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                value,
            )
        })
}

/// Headers that would change how S3 stores or protects an object; refused rather than ignored.
fn check_unsupported_put_headers(headers: &HeaderMap) -> Result<(), S3Error> {
    for (name, value) in headers {
        let name = name.as_str();
        let value = value.to_str().unwrap_or("");
        let unsupported = name.starts_with("x-amz-server-side-encryption")
            || name.starts_with("x-amz-object-lock-")
            || name.starts_with("x-amz-grant-")
            || name == "x-amz-tagging"
            || name == "x-amz-website-redirect-location"
            || (name == "x-amz-storage-class" && value != "STANDARD")
            || (name == "x-amz-acl" && value != "private" && value != "bucket-owner-full-control");
        if unsupported {
            return Err(S3Error::not_implemented(&format!("the {name} header")));
        }
    }
    Ok(())
}

/// The stored headers and `x-amz-meta-*` user metadata of an upload.
#[allow(clippy::type_complexity)]
fn object_headers(
    headers: &HeaderMap,
) -> Result<(BTreeMap<String, String>, BTreeMap<String, String>), S3Error> {
    let mut stored = BTreeMap::new();
    for name in STORED_HEADERS {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            // aws-chunked is the transfer framing, not the object's encoding.
            let value = if name == "content-encoding" {
                let rest: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.eq_ignore_ascii_case("aws-chunked") && !v.is_empty())
                    .collect();
                if rest.is_empty() {
                    continue;
                }
                rest.join(",")
            } else {
                value.to_string()
            };
            stored.insert(name.to_string(), value);
        }
    }
    let mut user = BTreeMap::new();
    let mut total = 0;
    for (name, value) in headers {
        if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            total += meta.len() + value.len();
            user.insert(meta.to_string(), value);
        }
    }
    if total > MAX_USER_METADATA_BYTES {
        return Err(S3Error::new(
            400,
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
        )
        .with("Size", &total.to_string())
        .with("MaxSizeAllowed", &MAX_USER_METADATA_BYTES.to_string()));
    }
    Ok((stored, user))
}

fn check_content_md5(headers: &HeaderMap, body: &[u8]) -> Result<(), S3Error> {
    let Some(declared) = headers.get("content-md5") else {
        return Ok(());
    };
    let declared = base64::engine::general_purpose::STANDARD
        .decode(declared.as_bytes())
        .ok()
        .filter(|d| d.len() == 16)
        .ok_or_else(|| {
            S3Error::new(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified was invalid.",
            )
        })?;
    if declared.as_slice() != Md5::digest(body).as_slice() {
        return Err(S3Error::new(
            400,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    Ok(())
}

/// Verifies `x-amz-checksum-*` values from headers or the aws-chunked trailer; returns them.
fn check_checksums(
    headers: &HeaderMap,
    trailers: &[(String, String)],
    body: &[u8],
) -> Result<BTreeMap<String, String>, S3Error> {
    let mut verified = BTreeMap::new();
    let from_headers = headers.iter().filter_map(|(name, value)| {
        let algorithm = name.as_str().strip_prefix("x-amz-checksum-")?;
        // `-algorithm` (CreateMultipartUpload) asks for checksums on the parts, which then carry
        // their own `x-amz-checksum-*` values, verified here.
        (!matches!(algorithm, "mode" | "type" | "algorithm")).then(|| {
            (
                algorithm.to_string(),
                value.to_str().unwrap_or("").to_string(),
            )
        })
    });
    let from_trailers = trailers.iter().filter_map(|(name, value)| {
        Some((
            name.strip_prefix("x-amz-checksum-")?.to_string(),
            value.clone(),
        ))
    });
    for (algorithm, declared) in from_headers.chain(from_trailers) {
        let actual = match algorithm.as_str() {
            "crc32" => crc32fast::hash(body).to_be_bytes().to_vec(),
            "crc32c" => crc32c::crc32c(body).to_be_bytes().to_vec(),
            "sha256" => Sha256::digest(body).to_vec(),
            other => {
                return Err(S3Error::not_implemented(&format!(
                    "the {} checksum algorithm (use CRC32, CRC32C or SHA256)",
                    other.to_ascii_uppercase()
                )))
            }
        };
        let declared_bytes = base64::engine::general_purpose::STANDARD
            .decode(declared.trim())
            .map_err(|_| {
                S3Error::invalid_request(format!(
                    "Value for x-amz-checksum-{algorithm} header is invalid."
                ))
            })?;
        if declared_bytes != actual {
            return Err(S3Error::new(
                400,
                "BadDigest",
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.to_ascii_uppercase()
                ),
            ));
        }
        verified.insert(algorithm, declared.trim().to_string());
    }
    Ok(verified)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive (start, end). Syntax S3 does not understand is
/// ignored (the whole object is returned), as HTTP prescribes; an unsatisfiable range is 416.
fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Err(S3Error::not_implemented("multiple byte ranges"));
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = || {
        S3Error::new(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", value)
        .with("ActualObjectSize", &size.to_string())
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(unsatisfiable());
        }
        (size.saturating_sub(suffix), size - 1)
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return Ok(None);
        };
        let end = if last.is_empty() {
            size.saturating_sub(1)
        } else {
            match last.parse::<u64>() {
                Ok(end) if end >= start => end.min(size.saturating_sub(1)),
                _ => return Ok(None),
            }
        };
        if start >= size {
            return Err(unsatisfiable());
        }
        (start, end)
    };
    Ok(Some(range))
}

/// If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since on GET and HEAD.
fn check_conditions(call: &Call<'_>, meta: &ObjectMeta) -> Result<Option<Answer>, S3Error> {
    let etag_matches = |value: &str| {
        value
            .split(',')
            .map(|v| v.trim().trim_matches('"'))
            .any(|v| v == "*" || v == meta.etag)
    };
    // Last-Modified is sent with second precision; compare at that precision.
    let modified = meta.last_modified.timestamp();
    let date = |name: &str| {
        call.header(name)
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
    };
    let failed = || {
        S3Error::new(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    let not_modified =
        || Answer::empty(StatusCode::NOT_MODIFIED).header("etag", format!("\"{}\"", meta.etag));
    if let Some(value) = call.header("if-match") {
        if !etag_matches(value) {
            return Err(failed().with("Condition", "If-Match"));
        }
    } else if let Some(since) = date("if-unmodified-since") {
        if modified > since {
            return Err(failed().with("Condition", "If-Unmodified-Since"));
        }
    }
    if let Some(value) = call.header("if-none-match") {
        if etag_matches(value) {
            return Ok(Some(not_modified()));
        }
    } else if let Some(since) = date("if-modified-since") {
        if modified <= since {
            return Ok(Some(not_modified()));
        }
    }
    Ok(None)
}

/// CloudTrail's requestParameters for an S3 call.
fn observed_input(target: &Target, query: &[(String, String)]) -> Value {
    let mut input = serde_json::Map::new();
    if let Some(bucket) = &target.bucket {
        input.insert("bucketName".into(), json!(bucket));
    }
    input.insert("Host".into(), json!(target.host));
    if let Some(key) = &target.key {
        input.insert("key".into(), json!(key));
    }
    for (name, value) in query {
        if !name.starts_with("X-Amz-") && name != "x-id" {
            input.insert(name.clone(), json!(value));
        }
    }
    Value::Object(input)
}

fn observed_resources(target: &Target) -> Vec<ObservedResource> {
    let mut resources = Vec::new();
    if let Some(bucket) = &target.bucket {
        if let Some(key) = &target.key {
            resources.push(ObservedResource {
                resource_type: "AWS::S3::Object".into(),
                arn: format!("arn:aws:s3:::{bucket}/{key}"),
            });
        }
        resources.push(ObservedResource {
            resource_type: "AWS::S3::Bucket".into(),
            arn: format!("arn:aws:s3:::{bucket}"),
        });
    }
    resources
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_str(host).unwrap());
        h
    }

    #[test]
    fn path_and_virtual_host_addressing() {
        let t = parse_target(&headers("127.0.0.1:4588"), "/logs/a%2Fb/c%20d");
        assert_eq!(t.bucket.as_deref(), Some("logs"));
        assert_eq!(t.key.as_deref(), Some("a/b/c d"));
        let t = parse_target(&headers("logs.localhost:4588"), "/AWSLogs/x.json.gz");
        assert_eq!(t.bucket.as_deref(), Some("logs"));
        assert_eq!(t.key.as_deref(), Some("AWSLogs/x.json.gz"));
        let t = parse_target(&headers("my.bucket.s3.us-east-1.example.com"), "/");
        assert_eq!(t.bucket.as_deref(), Some("my.bucket"));
        assert_eq!(t.key, None);
        let t = parse_target(&headers("localhost:4588"), "/");
        assert_eq!(t.bucket, None);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-4", 10).unwrap(), Some((0, 4)));
        assert_eq!(parse_range("bytes=5-", 10).unwrap(), Some((5, 9)));
        assert_eq!(parse_range("bytes=-3", 10).unwrap(), Some((7, 9)));
        assert_eq!(parse_range("bytes=2-100", 10).unwrap(), Some((2, 9)));
        assert_eq!(parse_range("bytes=5-2", 10).unwrap(), None);
        assert_eq!(parse_range("items=1-2", 10).unwrap(), None);
        assert_eq!(
            parse_range("bytes=10-", 10).unwrap_err().code,
            "InvalidRange"
        );
        assert_eq!(
            parse_range("bytes=0-1,3-4", 10).unwrap_err().code,
            "NotImplemented"
        );
    }

    #[test]
    fn bucket_names() {
        for good in ["abc", "my.bucket-1", "a1b"] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "Abc",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "a_b",
            &"a".repeat(64),
        ] {
            assert_eq!(
                check_bucket_name(bad).unwrap_err().code,
                "InvalidBucketName",
                "{bad}"
            );
        }
    }

    #[test]
    fn continuation_tokens_round_trip_and_refuse_garbage() {
        assert_eq!(
            decode_token(&encode_token("a/b ü")).as_deref(),
            Some("a/b ü")
        );
        assert_eq!(decode_token("bm9wZQ=="), None);
        assert_eq!(decode_token("%%%"), None);
    }
}
