//! Every request must carry a valid SigV4 signature from a known key. Raw HTTP, so each way of
//! getting it wrong can be produced exactly.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use chrono::Utc;
use common::{TestServer, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use watchtrail_protocol::sigv4::{sign_headers, OutgoingRequest, SigningCredentials};

struct RawResponse {
    status: u16,
    body: String,
}

fn send(addr: &str, headers: &[(String, String)], body: &str) -> RawResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    RawResponse { status, body }
}

fn signed(
    addr: &str,
    body: &str,
    key: &str,
    secret: &str,
    at: chrono::DateTime<Utc>,
) -> Vec<(String, String)> {
    sign_headers(
        &OutgoingRequest {
            method: "POST",
            host: addr,
            path: "/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "Logs_20140328.DescribeLogGroups"),
            ],
            body: body.as_bytes(),
        },
        &SigningCredentials {
            access_key_id: key,
            secret_access_key: secret,
            region: "us-east-1",
            service: "logs",
        },
        at,
    )
}

fn error_type(response: &RawResponse) -> String {
    let value: serde_json::Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", response.body));
    value["__type"].as_str().unwrap_or_default().to_string()
}

#[test]
fn only_correctly_signed_requests_get_through() {
    let server = TestServer::start();
    let addr = server.addr.clone();
    let body = "{}";

    let ok = send(
        &addr,
        &signed(&addr, body, ACCESS_KEY_ID, SECRET_ACCESS_KEY, Utc::now()),
        body,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("logGroups"));

    let unsigned = send(
        &addr,
        &[
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amz-target".into(),
                "Logs_20140328.DescribeLogGroups".into(),
            ),
        ],
        body,
    );
    assert_eq!(
        (unsigned.status, error_type(&unsigned).as_str()),
        (400, "MissingAuthenticationTokenException")
    );

    let wrong_secret = send(
        &addr,
        &signed(&addr, body, ACCESS_KEY_ID, "not-the-secret", Utc::now()),
        body,
    );
    assert_eq!(
        (wrong_secret.status, error_type(&wrong_secret).as_str()),
        (400, "InvalidSignatureException")
    );

    let unknown = send(
        &addr,
        &signed(
            &addr,
            body,
            "AKIAUNKNOWNKEY000000",
            SECRET_ACCESS_KEY,
            Utc::now(),
        ),
        body,
    );
    assert_eq!(
        (unknown.status, error_type(&unknown).as_str()),
        (400, "UnrecognizedClientException")
    );

    let stale_at = Utc::now() - chrono::Duration::minutes(20);
    let stale = send(
        &addr,
        &signed(&addr, body, ACCESS_KEY_ID, SECRET_ACCESS_KEY, stale_at),
        body,
    );
    assert_eq!(
        (stale.status, error_type(&stale).as_str()),
        (400, "InvalidSignatureException")
    );
    assert!(stale.body.contains("Signature expired"), "{}", stale.body);

    let headers = signed(&addr, body, ACCESS_KEY_ID, SECRET_ACCESS_KEY, Utc::now());
    let tampered = send(&addr, &headers, "{ }");
    assert_eq!(
        (tampered.status, error_type(&tampered).as_str()),
        (400, "InvalidSignatureException")
    );

    // A request signed for one operation cannot be replayed as another.
    let mut swapped = headers.clone();
    for (k, v) in swapped.iter_mut() {
        if k == "x-amz-target" {
            *v = "Logs_20140328.DeleteLogGroup".into();
        }
    }
    let replay = send(&addr, &swapped, body);
    assert_eq!(
        (replay.status, error_type(&replay).as_str()),
        (400, "InvalidSignatureException")
    );
}

#[test]
fn malformed_requests_get_aws_shaped_client_errors() {
    let server = TestServer::start();
    let addr = server.addr.clone();
    for (target, body, expected) in [
        (
            "Logs_20140328.DescribeLogGroups",
            "{not json",
            "SerializationException",
        ),
        (
            "Logs_20140328.DescribeLogGroups",
            "[1,2]",
            "SerializationException",
        ),
        (
            "Logs_20140328.DescribeLogGroups",
            r#"{"limit": "ten"}"#,
            "SerializationException",
        ),
        (
            "Logs_20140328.NoSuchOperation",
            "{}",
            "UnknownOperationException",
        ),
        (
            "Bogus_1.DescribeLogGroups",
            "{}",
            "UnknownOperationException",
        ),
        (
            "Logs_20140328.PutLogEvents",
            r#"{"logGroupName":"g"}"#,
            "InvalidParameterException",
        ),
    ] {
        let headers = sign_headers(
            &OutgoingRequest {
                method: "POST",
                host: &addr,
                path: "/",
                headers: &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", target),
                ],
                body: body.as_bytes(),
            },
            &SigningCredentials {
                access_key_id: ACCESS_KEY_ID,
                secret_access_key: SECRET_ACCESS_KEY,
                region: "us-east-1",
                service: "logs",
            },
            Utc::now(),
        );
        let response = send(&addr, &headers, body);
        assert_eq!(response.status, 400, "{target} {body}: {}", response.body);
        assert_eq!(
            error_type(&response),
            expected,
            "{target} {body}: {}",
            response.body
        );
    }
}

#[test]
fn health_needs_no_signature() {
    let server = TestServer::start();
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .write_all(
            format!(
                "GET /health HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
                server.addr
            )
            .as_bytes(),
        )
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("\"status\":\"ok\""));
}
