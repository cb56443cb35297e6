//! AWS Signature Version 4 verification (header form and presigned query form).
//!
//! The server recomputes the signature from the request it actually received, so any change to the
//! method, path, query, signed headers or body after signing is detected. Comparison is constant
//! time so the expected signature cannot be probed byte by byte.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credentials::{CredentialStore, Principal};
use crate::error::AwsError;

type HmacSha256 = Hmac<Sha256>;

/// Requests older or newer than this relative to the server clock are refused, as AWS does.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The verified facts of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub principal: Principal,
    pub access_key_id: String,
    pub region: String,
    pub service: String,
    pub signed_at: DateTime<Utc>,
}

/// What the verifier needs of a request.
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    /// The path exactly as sent (still percent-encoded).
    pub raw_path: &'a str,
    /// The query string exactly as sent, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

struct ParsedAuthorization {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    presigned_expires: Option<i64>,
}

fn incomplete(message: impl Into<String>) -> AwsError {
    AwsError::client("IncompleteSignatureException", message)
}

fn missing_token() -> AwsError {
    AwsError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
}

pub fn signature_mismatch() -> AwsError {
    AwsError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

/// Verifies `request` against `credentials` at time `now`.
pub fn verify(
    request: &SignedRequest<'_>,
    credentials: &CredentialStore,
    now: DateTime<Utc>,
) -> Result<VerifiedSignature, AwsError> {
    verify_with_chunk_signer(request, credentials, now).map(|(verified, _)| verified)
}

/// The payload hashes S3 accepts for `aws-chunked` bodies; the body is then verified chunk by
/// chunk (see [`ChunkSigner`]) by the S3 endpoint, not hashed whole here.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// Verifies chunk and trailer signatures of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body:
/// each chunk's signature chains from the previous one, starting at the request's seed signature.
pub struct ChunkSigner {
    key: Vec<u8>,
    amz_date: String,
    scope: String,
    previous: String,
}

impl std::fmt::Debug for ChunkSigner {
    // The derived signing key is as good as the secret for this day, region and service.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// Checks the signature of the next chunk (the final, empty chunk included) and advances the chain.
    pub fn verify_chunk(&mut self, data: &[u8], provided: &str) -> bool {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(b"")),
            hex::encode(Sha256::digest(data))
        );
        self.check(&string_to_sign, provided)
    }

    /// Checks `x-amz-trailer-signature` over the canonical trailing headers (`name:value\n` each).
    pub fn verify_trailer(&mut self, canonical_trailers: &str, provided: &str) -> bool {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(canonical_trailers.as_bytes()))
        );
        self.check(&string_to_sign, provided)
    }

    /// Signs the next chunk as a client would (for tests and outgoing streaming uploads).
    pub fn sign_chunk(&mut self, data: &[u8]) -> String {
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            hex::encode(Sha256::digest(b"")),
            hex::encode(Sha256::digest(data))
        );
        let signature = hex::encode(hmac(&self.key, string_to_sign.as_bytes()));
        self.previous.clone_from(&signature);
        signature
    }

    /// A signer for the client side, seeded with the request's own signature.
    pub fn for_client(
        credentials: &SigningCredentials<'_>,
        amz_date: &str,
        seed_signature: &str,
    ) -> ChunkSigner {
        let date = &amz_date[..amz_date.len().min(8)];
        ChunkSigner {
            key: signing_key(
                credentials.secret_access_key,
                date,
                credentials.region,
                credentials.service,
            ),
            amz_date: amz_date.to_string(),
            scope: format!(
                "{date}/{}/{}/aws4_request",
                credentials.region, credentials.service
            ),
            previous: seed_signature.to_string(),
        }
    }

    fn check(&mut self, string_to_sign: &str, provided: &str) -> bool {
        let expected = hex::encode(hmac(&self.key, string_to_sign.as_bytes()));
        let provided = provided.to_ascii_lowercase();
        let ok = expected.len() == provided.len()
            && bool::from(expected.as_bytes().ct_eq(provided.as_bytes()));
        if ok {
            self.previous = expected;
        }
        ok
    }
}

/// The service named by a request's SigV4 credential scope (`Authorization` header or presigned
/// `X-Amz-Credential`), without verifying anything; used to route before the body is read.
pub fn scope_service<'a>(headers: &'a HeaderMap, raw_query: &'a str) -> Option<String> {
    let credential = if let Some(value) = header_str(headers, "authorization") {
        value
            .split([',', ' '])
            .find_map(|part| part.trim().strip_prefix("Credential="))?
            .to_string()
    } else {
        parse_query(raw_query)
            .into_iter()
            .find(|(k, _)| k == "X-Amz-Credential")?
            .1
    };
    credential.split('/').nth(3).map(str::to_string)
}

/// Like [`verify`], also returning the chunk signer for a streaming-signed body.
pub fn verify_with_chunk_signer(
    request: &SignedRequest<'_>,
    credentials: &CredentialStore,
    now: DateTime<Utc>,
) -> Result<(VerifiedSignature, ChunkSigner), AwsError> {
    let auth = parse_authorization(request)?;

    let signed_at = parse_amz_date(&auth.amz_date)
        .ok_or_else(|| incomplete(format!("Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601", auth.amz_date)))?;
    if !auth.amz_date.starts_with(&auth.date) {
        return Err(signature_mismatch_scope(&auth.date, &auth.amz_date));
    }
    check_skew(signed_at, now, auth.presigned_expires)?;

    let Some(entry) = credentials.lookup(&auth.access_key_id) else {
        return Err(AwsError::client(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };

    let payload_hash = payload_hash(request, auth.service == "s3")?;
    let canonical = canonical_request(
        request,
        &auth.signed_headers,
        &payload_hash,
        auth.service == "s3",
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        auth.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(
        &entry.secret_access_key,
        &auth.date,
        &auth.region,
        &auth.service,
    );
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let provided = auth.signature.to_ascii_lowercase();
    if expected.len() != provided.len()
        || !bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
    {
        tracing::debug!(access_key_id = %auth.access_key_id, "signature mismatch");
        return Err(signature_mismatch());
    }

    let signer = ChunkSigner {
        key,
        amz_date: auth.amz_date,
        scope,
        previous: expected,
    };
    Ok((
        VerifiedSignature {
            principal: entry.principal.clone(),
            access_key_id: auth.access_key_id,
            region: auth.region,
            service: auth.service,
            signed_at,
        },
        signer,
    ))
}

fn signature_mismatch_scope(scope_date: &str, amz_date: &str) -> AwsError {
    AwsError::client(
        "InvalidSignatureException",
        format!("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.", &amz_date[..amz_date.len().min(8)]),
    )
}

fn check_skew(
    signed_at: DateTime<Utc>,
    now: DateTime<Utc>,
    presigned_expires: Option<i64>,
) -> Result<(), AwsError> {
    let fmt = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    if let Some(expires) = presigned_expires {
        let deadline = signed_at + chrono::Duration::seconds(expires);
        if now > deadline {
            return Err(AwsError::client(
                "InvalidSignatureException",
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                    fmt(deadline),
                    fmt(now),
                    fmt(now)
                ),
            ));
        }
        if signed_at > now + chrono::Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
            return Err(not_yet_current(signed_at, now));
        }
        return Ok(());
    }
    let skew = chrono::Duration::seconds(MAX_CLOCK_SKEW_SECONDS);
    if signed_at < now - skew {
        return Err(AwsError::client(
            "InvalidSignatureException",
            format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                fmt(signed_at),
                fmt(now - skew),
                fmt(now)
            ),
        ));
    }
    if signed_at > now + skew {
        return Err(not_yet_current(signed_at, now));
    }
    Ok(())
}

fn not_yet_current(signed_at: DateTime<Utc>, now: DateTime<Utc>) -> AwsError {
    let fmt = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let skew = chrono::Duration::seconds(MAX_CLOCK_SKEW_SECONDS);
    AwsError::client(
        "InvalidSignatureException",
        format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            fmt(signed_at),
            fmt(now + skew),
            fmt(now)
        ),
    )
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn parse_authorization(request: &SignedRequest<'_>) -> Result<ParsedAuthorization, AwsError> {
    if let Some(value) = header_str(request.headers, "authorization") {
        return parse_authorization_header(value, request.headers);
    }
    if request.headers.contains_key("authorization") {
        return Err(incomplete("Authorization header is not valid ASCII"));
    }
    let query = parse_query(request.raw_query);
    if query.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
        return parse_presigned(&query);
    }
    Err(missing_token())
}

fn parse_credential(credential: &str) -> Result<(String, String, String, String), AwsError> {
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region. Credential='{credential}'"
        )));
    }
    if parts[0].is_empty() || parts[1].len() != 8 || parts[2].is_empty() || parts[3].is_empty() {
        return Err(incomplete(format!(
            "Credential should be scoped correctly. Credential='{credential}'"
        )));
    }
    Ok((
        parts[0].into(),
        parts[1].into(),
        parts[2].into(),
        parts[3].into(),
    ))
}

fn parse_authorization_header(
    value: &str,
    headers: &HeaderMap,
) -> Result<ParsedAuthorization, AwsError> {
    let Some(rest) = value.strip_prefix(ALGORITHM) else {
        let algorithm = value.split_whitespace().next().unwrap_or("");
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only 'AWS4-HMAC-SHA256' is supported."
        )));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    let amz_date = header_str(headers, "x-amz-date");
    if amz_date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    if !missing.is_empty() {
        return Err(incomplete(format!(
            "{} Authorization={value}",
            missing.join(" ")
        )));
    }
    let (access_key_id, date, region, service) = parse_credential(credential.unwrap_or_default())?;
    let signed_headers: Vec<String> = signed_headers
        .unwrap_or_default()
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(signature_mismatch());
    }
    Ok(ParsedAuthorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature: signature.unwrap_or_default().to_string(),
        amz_date: amz_date.unwrap_or_default().to_string(),
        presigned_expires: None,
    })
}

fn parse_presigned(query: &[(String, String)]) -> Result<ParsedAuthorization, AwsError> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Only 'AWS4-HMAC-SHA256' is supported."
        )));
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) = (
        get("X-Amz-Credential"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
    ) else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders' and 'X-Amz-Date'.",
        ));
    };
    let expires = match get("X-Amz-Expires") {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|e| (1..=604_800).contains(e))
            .ok_or_else(|| incomplete("X-Amz-Expires must be between 1 and 604800 seconds"))?,
        None => 900,
    };
    let (access_key_id, date, region, service) = parse_credential(credential)?;
    Ok(ParsedAuthorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers
            .split(';')
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        signature: signature.to_string(),
        amz_date: amz_date.to_string(),
        presigned_expires: Some(expires),
    })
}

fn parse_amz_date(value: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()?;
    Some(Utc.from_utc_datetime(&naive))
}

fn payload_hash(request: &SignedRequest<'_>, is_s3: bool) -> Result<String, AwsError> {
    let actual = || hex::encode(Sha256::digest(request.body));
    match header_str(request.headers, "x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => Ok("UNSIGNED-PAYLOAD".into()),
        Some(
            declared @ (STREAMING_SIGNED | STREAMING_SIGNED_TRAILER | STREAMING_UNSIGNED_TRAILER),
        ) if is_s3 => Ok(declared.to_string()),
        Some(declared) if declared.starts_with("STREAMING-") => Err(AwsError::client(
            "NotImplemented",
            "Streaming (aws-chunked) payload signing is not supported; sign the whole payload.",
        )),
        Some(declared) => {
            let actual = actual();
            if !declared.eq_ignore_ascii_case(&actual) {
                return Err(AwsError::client(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            Ok(declared.to_ascii_lowercase())
        }
        None if request.raw_query.contains("X-Amz-Signature=") => Ok("UNSIGNED-PAYLOAD".into()),
        None => Ok(actual()),
    }
}

/// Characters left as-is by SigV4's URI encoding (RFC 3986 unreserved).
const SIGV4_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const SIGV4_PATH_ENCODE: &percent_encoding::AsciiSet = &SIGV4_ENCODE.remove(b'/');

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SIGV4_ENCODE).to_string()
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

fn canonical_request(
    request: &SignedRequest<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    is_s3: bool,
) -> String {
    let path = if request.raw_path.is_empty() {
        "/"
    } else {
        request.raw_path
    };
    // S3 signs the path as sent; every other service signs it percent-encoded once more.
    let canonical_path = if is_s3 {
        path.to_string()
    } else {
        percent_encoding::utf8_percent_encode(path, SIGV4_PATH_ENCODE).to_string()
    };

    let mut query: Vec<(String, String)> = parse_query(request.raw_query)
        .into_iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut headers: BTreeMap<&str, String> = BTreeMap::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse_whitespace(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        headers.insert(name, values.join(","));
    }
    let mut out = String::with_capacity(256);
    out.push_str(request.method.as_str());
    out.push('\n');
    out.push_str(&canonical_path);
    out.push('\n');
    out.push_str(&canonical_query);
    out.push('\n');
    for (name, value) in &headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

fn collapse_whitespace(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// A request about to be signed (by tests, the load generator and outgoing calls).
pub struct OutgoingRequest<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    /// Headers to sign besides `host` and `x-amz-date`, which are added.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

pub struct SigningCredentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// Signs a request the way AWS SDKs do and returns the headers to send (all but `host`).
pub fn sign_headers(
    request: &OutgoingRequest<'_>,
    credentials: &SigningCredentials<'_>,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let payload_hash = hex::encode(Sha256::digest(request.body));
    let canonical_path =
        percent_encoding::utf8_percent_encode(request.path, SIGV4_PATH_ENCODE).to_string();
    sign_with(request, credentials, now, &canonical_path, &payload_hash)
}

/// Signs an S3 request: the path is signed as given (already percent-encoded, as S3 expects) and
/// `payload_hash` is the `x-amz-content-sha256` value (a hex digest, `UNSIGNED-PAYLOAD` or a
/// `STREAMING-…` marker), which the caller must also send as that header.
pub fn sign_s3_headers(
    request: &OutgoingRequest<'_>,
    credentials: &SigningCredentials<'_>,
    now: DateTime<Utc>,
    payload_hash: &str,
) -> Vec<(String, String)> {
    sign_with(request, credentials, now, request.path, payload_hash)
}

fn sign_with(
    request: &OutgoingRequest<'_>,
    credentials: &SigningCredentials<'_>,
    now: DateTime<Utc>,
    canonical_path: &str,
    payload_hash: &str,
) -> Vec<(String, String)> {
    let OutgoingRequest {
        method,
        host,
        path,
        headers,
        body: _,
    } = *request;
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let canonical_path = canonical_path
        .split_once('?')
        .map_or(canonical_path, |(p, _)| p);
    let mut query: Vec<(String, String)> = parse_query(query)
        .into_iter()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let SigningCredentials {
        access_key_id,
        secret_access_key: secret,
        region,
        service,
    } = *credentials;
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    all.push(("host".into(), host.into()));
    all.push(("x-amz-date".into(), amz_date.clone()));
    all.sort();
    let signed_headers = all
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = all
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let canonical = format!(
        "{method}\n{canonical_path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let signature = hex::encode(hmac(
        &signing_key(secret, date, region, service),
        string_to_sign.as_bytes(),
    ));
    let mut out: Vec<(String, String)> = all.into_iter().filter(|(k, _)| k != "host").collect();
    out.push((
        "authorization".into(),
        format!("{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::CredentialStore;
    use axum::http::HeaderValue;

    fn store() -> CredentialStore {
        CredentialStore::with_root(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "123456789012",
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
    }

    /// AWS's published SigV4 test suite vector "get-vanilla" (service `service`, region us-east-1).
    #[test]
    fn aws_test_suite_get_vanilla() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        headers.insert("authorization", HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ));
        let request = SignedRequest {
            method: &Method::GET,
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"",
        };
        let verified = verify(&request, &store(), now()).expect("valid signature");
        assert_eq!(verified.region, "us-east-1");
        assert_eq!(verified.service, "service");
        assert_eq!(verified.principal.account_id, "123456789012");
    }

    /// AWS test suite "get-vanilla-query-order-key-case": query parameters are sorted.
    #[test]
    fn aws_test_suite_query_order() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        headers.insert("authorization", HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ));
        let request = SignedRequest {
            method: &Method::GET,
            raw_path: "/",
            raw_query: "Param2=value2&Param1=value1",
            headers: &headers,
            body: b"",
        };
        verify(&request, &store(), now()).expect("valid signature");
    }

    fn signed(body: &[u8], secret: &str, at: DateTime<Utc>) -> HeaderMap {
        let pairs = sign_headers(
            &OutgoingRequest {
                method: "POST",
                host: "localhost:4588",
                path: "/",
                headers: &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", "Logs_20140328.DescribeLogGroups"),
                ],
                body,
            },
            &SigningCredentials {
                access_key_id: "AKIDEXAMPLE",
                secret_access_key: secret,
                region: "us-east-1",
                service: "logs",
            },
            at,
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("localhost:4588"));
        for (k, v) in pairs {
            headers.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn roundtrip_and_tamper_detection() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let headers = signed(b"{}", secret, now());
        let ok = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        assert!(verify(&ok, &store(), now()).is_ok());

        let tampered = SignedRequest { body: b"{ }", ..ok };
        assert_eq!(
            verify(&tampered, &store(), now()).unwrap_err().code,
            "InvalidSignatureException"
        );

        let wrong_secret = signed(b"{}", "not-the-secret", now());
        let req = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &wrong_secret,
            body: b"{}",
        };
        assert_eq!(
            verify(&req, &store(), now()).unwrap_err().code,
            "InvalidSignatureException"
        );

        let stale = signed(b"{}", secret, now() - chrono::Duration::minutes(16));
        let req = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &stale,
            body: b"{}",
        };
        let err = verify(&req, &store(), now()).unwrap_err();
        assert!(err.message.starts_with("Signature expired"), "{err}");

        let future = signed(b"{}", secret, now() + chrono::Duration::minutes(16));
        let req = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &future,
            body: b"{}",
        };
        assert!(verify(&req, &store(), now())
            .unwrap_err()
            .message
            .starts_with("Signature not yet current"));
    }

    #[test]
    fn unsigned_and_unknown_key() {
        let headers = HeaderMap::new();
        let req = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            verify(&req, &store(), now()).unwrap_err().code,
            "MissingAuthenticationTokenException"
        );

        let other = CredentialStore::with_root("AKIDOTHER", "x", "123456789012");
        let headers = signed(b"{}", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", now());
        let req = SignedRequest {
            method: &Method::POST,
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            verify(&req, &other, now()).unwrap_err().code,
            "UnrecognizedClientException"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_authorization_never_panics(auth in ".{0,300}", date in "[0-9TZ]{0,20}", query in ".{0,100}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&auth) { headers.insert("authorization", v); }
            if let Ok(v) = HeaderValue::from_str(&date) { headers.insert("x-amz-date", v); }
            let req = SignedRequest { method: &Method::POST, raw_path: "/", raw_query: &query, headers: &headers, body: b"" };
            proptest::prop_assert!(verify(&req, &store(), now()).is_err());
        }
    }
}
