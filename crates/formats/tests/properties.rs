//! Property tests: parse(format(record)) == record for the formats this crate
//! can write, and no parser panics on any input.

use std::borrow::Cow;
use std::net::IpAddr;

use proptest::prelude::*;
use watchtrail_formats::formatting::{
    format_alb, format_clf, format_logfmt, format_s3_access, format_vpc_flow, VPC_DEFAULT_HEADERS,
};
use watchtrail_formats::{detect, FieldValue, FormatKind, LineOutcome, LineParser, Record};

fn owned(s: String) -> FieldValue<'static> {
    FieldValue::Str(Cow::Owned(s))
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from),
    ]
}

fn arb_opt_ip() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        3 => arb_ip().prop_map(FieldValue::Ip),
        1 => Just(FieldValue::Null),
    ]
}

fn arb_opt_int(max: i64) -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        3 => (0..=max).prop_map(FieldValue::Int),
        1 => Just(FieldValue::Null),
    ]
}

/// Text without spaces that is not `-` (which means null).
fn arb_word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.:/=+-]{1,24}".prop_filter("dash is null", |s| s != "-")
}

/// Text that may hold spaces, for quoted fields.
fn arb_quoted_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 ;,()/.:=+-]{1,40}".prop_filter("dash is null", |s| s != "-" && !s.is_empty())
}

fn arb_epoch_ms() -> impl Strategy<Value = i64> {
    // 1990..2100, millisecond precision.
    631_152_000_000i64..4_102_444_800_000
}

fn parse_one(kind: FormatKind, line: &str) -> Record<'static> {
    match LineParser::new(kind).parse_line(line) {
        LineOutcome::Record(r) => r.into_owned(),
        other => panic!("{line:?} -> {other:?}"),
    }
}

fn arb_vpc_record() -> impl Strategy<Value = Record<'static>> {
    (
        "[0-9]{12}",
        "eni-[0-9a-f]{17}",
        arb_opt_ip(),
        arb_opt_ip(),
        arb_opt_int(65535),
        arb_opt_int(65535),
        arb_opt_int(255),
        arb_opt_int(1 << 40),
        arb_opt_int(1 << 40),
        0i64..4_000_000_000,
        0i64..600,
        (
            prop_oneof![Just("ACCEPT"), Just("REJECT")],
            prop_oneof![Just("OK"), Just("NODATA"), Just("SKIPDATA")],
        ),
    )
        .prop_map(
            |(
                account,
                eni,
                src,
                dst,
                sport,
                dport,
                proto,
                packets,
                bytes,
                start,
                len,
                (action, status),
            )| {
                let mut r = Record::with_capacity(14);
                r.push("version", FieldValue::Int(2));
                r.push("accountId", owned(account));
                r.push("interfaceId", owned(eni));
                r.push("srcAddr", src);
                r.push("dstAddr", dst);
                r.push("srcPort", sport);
                r.push("dstPort", dport);
                r.push("protocol", proto);
                r.push("packets", packets);
                r.push("bytes", bytes);
                r.push("startTime", FieldValue::Timestamp(start * 1000));
                r.push("endTime", FieldValue::Timestamp((start + len) * 1000));
                r.push("action", FieldValue::str(action));
                r.push("logStatus", FieldValue::str(status));
                r.timestamp_ms = Some(start * 1000);
                r
            },
        )
}

fn request_parts(r: &mut Record<'static>, method: &str, url: &str, proto: &str) {
    r.push("request_verb", owned(method.to_string()));
    r.push("request_url", owned(url.to_string()));
    r.push("request_proto", owned(proto.to_string()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn vpc_flow_round_trips(record in arb_vpc_record()) {
        let mut line = String::new();
        format_vpc_flow(&VPC_DEFAULT_HEADERS, &record, &mut line);
        let parsed = parse_one(FormatKind::VpcFlow, &line);
        prop_assert_eq!(parsed, record);
    }

    #[test]
    fn alb_round_trips(
        kind in prop_oneof![Just("http"), Just("https"), Just("h2"), Just("ws")],
        time in arb_epoch_ms(),
        elb in "app/[a-z-]{1,20}/[0-9a-f]{16}",
        client in arb_ip(), client_port in 0i64..65536,
        target in arb_opt_ip(), target_port in 0i64..65536,
        times in proptest::array::uniform3(prop_oneof![Just(-1.0f64), (0u32..100_000).prop_map(|m| m as f64 / 1000.0)]),
        elb_status in 100i64..600, target_status in arb_opt_int(599),
        received in 0i64..1_000_000_000, sent in 0i64..1_000_000_000,
        method in "[A-Z]{3,7}", url in "https?://[a-z.]{1,20}:[0-9]{2,5}/[a-z0-9/._-]{0,30}",
        user_agent in arb_quoted_text(),
        cipher in prop_oneof![Just(None), arb_word().prop_map(Some)],
        trace in "Root=1-[0-9a-f]{8}-[0-9a-f]{24}",
        priority in arb_opt_int(50_000),
        created in arb_epoch_ms(),
        actions in prop_oneof![Just("forward"), Just("waf,forward"), Just("redirect")],
        error_reason in prop_oneof![Just(None), "[A-Za-z]{5,20}".prop_map(Some)],
        conn in "TID_[0-9a-f]{16}",
    ) {
        let mut r = Record::with_capacity(40);
        r.push("type", FieldValue::str(kind));
        r.push("time", FieldValue::Timestamp(time));
        r.push("elb", owned(elb));
        r.push("client_ip", FieldValue::Ip(client));
        r.push("client_port", FieldValue::Int(client_port));
        let target_present = !target.is_null();
        r.push("target_ip", target.clone());
        r.push("target_port", if target_present { FieldValue::Int(target_port) } else { FieldValue::Null });
        r.push("request_processing_time", FieldValue::Float(times[0]));
        r.push("target_processing_time", FieldValue::Float(times[1]));
        r.push("response_processing_time", FieldValue::Float(times[2]));
        r.push("elb_status_code", FieldValue::Int(elb_status));
        r.push("target_status_code", target_status);
        r.push("received_bytes", FieldValue::Int(received));
        r.push("sent_bytes", FieldValue::Int(sent));
        r.push("request", owned(format!("{method} {url} HTTP/1.1")));
        request_parts(&mut r, &method, &url, "HTTP/1.1");
        r.push("user_agent", owned(user_agent));
        r.push("ssl_cipher", cipher.map(owned).unwrap_or(FieldValue::Null));
        r.push("ssl_protocol", FieldValue::Null);
        r.push("target_group_arn", FieldValue::str("arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"));
        r.push("trace_id", owned(trace));
        r.push("domain_name", FieldValue::Null);
        r.push("chosen_cert_arn", FieldValue::Null);
        r.push("matched_rule_priority", priority);
        r.push("request_creation_time", FieldValue::Timestamp(created));
        r.push("actions_executed", FieldValue::str(actions));
        r.push("redirect_url", FieldValue::Null);
        r.push("error_reason", error_reason.map(owned).unwrap_or(FieldValue::Null));
        r.push("target_port_list", FieldValue::Null);
        r.push("target_status_code_list", FieldValue::Null);
        r.push("classification", FieldValue::Null);
        r.push("classification_reason", FieldValue::Null);
        r.push("conn_trace_id", owned(conn));
        r.push("transformed_host", FieldValue::Null);
        r.push("transformed_uri", FieldValue::Null);
        r.push("request_transform_status", FieldValue::Null);
        r.timestamp_ms = Some(time);
        let mut line = String::new();
        format_alb(&r, &mut line);
        let parsed = parse_one(FormatKind::Alb, &line);
        prop_assert_eq!(parsed, r, "{}", line);
    }

    #[test]
    fn s3_access_round_trips(
        owner in "[0-9a-f]{64}", bucket in "[a-z0-9.-]{3,40}",
        time_s in 631_152_000i64..4_102_444_800,
        remote in arb_ip(),
        requester in prop_oneof![Just(None), "arn:aws:iam::[0-9]{12}:user/[a-z]{1,10}".prop_map(Some)],
        request_id in "[0-9A-F]{16}",
        op in prop_oneof![Just("REST.GET.OBJECT"), Just("REST.PUT.OBJECT"), Just("REST.GET.BUCKET"), Just("BATCH.DELETE.OBJECT")],
        key in prop_oneof![Just(None), "[a-zA-Z0-9/%._-]{1,40}".prop_filter("a lone - is the log's null", |k| k != "-").prop_map(Some)],
        path in "/[a-z0-9/._%-]{0,40}",
        status in 100i64..600,
        error_code in prop_oneof![Just(None), "[A-Za-z]{4,20}".prop_map(Some)],
        sent in arb_opt_int(1 << 40), size in arb_opt_int(1 << 40),
        total in arb_opt_int(100_000), turn in arb_opt_int(100_000),
        user_agent in arb_quoted_text(),
        tail in proptest::collection::vec(prop_oneof![Just(None), arb_word().prop_map(Some)], 10),
    ) {
        let opt = |v: Option<String>| v.map(owned).unwrap_or(FieldValue::Null);
        let mut r = Record::with_capacity(32);
        r.push("bucket_owner", owned(owner));
        r.push("bucket", owned(bucket));
        r.push("time", FieldValue::Timestamp(time_s * 1000));
        r.push("remote_ip", FieldValue::Ip(remote));
        r.push("requester", opt(requester));
        r.push("request_id", owned(request_id));
        r.push("operation", FieldValue::str(op));
        r.push("key", opt(key));
        r.push("request_uri", owned(format!("GET {path} HTTP/1.1")));
        request_parts(&mut r, "GET", &path, "HTTP/1.1");
        r.push("http_status", FieldValue::Int(status));
        r.push("error_code", opt(error_code));
        r.push("bytes_sent", sent);
        r.push("object_size", size);
        r.push("total_time", total);
        r.push("turn_around_time", turn);
        r.push("referer", FieldValue::Null);
        r.push("user_agent", owned(user_agent));
        let names = ["version_id", "host_id", "signature_version", "cipher_suite", "authentication_type",
            "host_header", "tls_version", "access_point_arn", "acl_required", "source_region"];
        for (name, value) in names.iter().zip(tail) {
            r.push(name, opt(value));
        }
        r.timestamp_ms = Some(time_s * 1000);
        let mut line = String::new();
        format_s3_access(&r, &mut line);
        let parsed = parse_one(FormatKind::S3Access, &line);
        prop_assert_eq!(parsed, r, "{}", line);
    }

    #[test]
    fn logfmt_round_trips(
        pairs in proptest::collection::btree_map(
            "[a-z_][a-z0-9_]{0,8}",
            prop_oneof![
                "[a-zA-Z][a-zA-Z \"\\\\=,;:/_-]{0,16}".prop_map(|s| FieldValue::Str(Cow::Owned(s))),
                any::<i64>().prop_map(FieldValue::Int),
                Just(FieldValue::Bool(true)),
                Just(FieldValue::Null),
            ],
            1..12,
        ).prop_filter("a line of bare keys is not logfmt", |m| m.values().any(|v| *v != FieldValue::Bool(true)))
    ) {
        let mut r = Record::with_capacity(pairs.len());
        for (k, v) in pairs {
            r.push_owned_name(k, v);
        }
        let mut line = String::new();
        format_logfmt(&r, &mut line);
        let parsed = parse_one(FormatKind::Logfmt, &line);
        prop_assert_eq!(parsed.fields, r.fields, "{}", line);
    }

    #[test]
    fn clf_round_trips(
        host in arb_ip(), user in prop_oneof![Just(None), "[a-z]{1,10}".prop_map(Some)],
        time_s in 631_152_000i64..4_102_444_800,
        method in "[A-Z]{3,7}", path in "/[a-zA-Z0-9/._%?=&-]{0,40}",
        status in 100i64..600, bytes in arb_opt_int(1 << 40),
        combined in any::<bool>(),
        referer in prop_oneof![Just(None), "https?://[a-z.]{1,20}/[a-z]{0,10}".prop_map(Some)],
        agent in arb_quoted_text(),
    ) {
        let opt = |v: Option<String>| v.map(owned).unwrap_or(FieldValue::Null);
        let mut r = Record::with_capacity(12);
        r.push("host", FieldValue::Ip(host));
        r.push("ident", FieldValue::Null);
        r.push("authuser", opt(user));
        r.push("timestamp", FieldValue::Timestamp(time_s * 1000));
        r.push("request", owned(format!("{method} {path} HTTP/1.1")));
        r.push("method", owned(method));
        r.push("path", owned(path));
        r.push("protocol", FieldValue::str("HTTP/1.1"));
        r.push("status", FieldValue::Int(status));
        r.push("bytes", bytes);
        if combined {
            r.push("referer", opt(referer));
            r.push("user_agent", owned(agent));
        }
        r.timestamp_ms = Some(time_s * 1000);
        let mut line = String::new();
        format_clf(&r, combined, &mut line);
        let kind = if combined { FormatKind::ApacheCombined } else { FormatKind::ApacheCommon };
        let parsed = parse_one(kind, &line);
        prop_assert_eq!(parsed, r, "{}", line);
    }
}

/// Lines from every fixture, for mutation-based no-panic tests.
fn fixture_lines() -> Vec<String> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() || path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        lines.extend(text.lines().map(str::to_string));
    }
    lines
}

fn parse_with_every_kind(line: &str) {
    for kind in FormatKind::ALL {
        let mut p = LineParser::new(kind);
        // Twice, so stateful parsers also see the line after a header.
        let _ = p.parse_line(line);
        let _ = p.parse_line(line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_parser_panics_on_arbitrary_text(line in any::<String>()) {
        parse_with_every_kind(&line);
    }

    #[test]
    fn no_parser_panics_on_ascii_punctuation(line in "[ -~\t]{0,200}") {
        parse_with_every_kind(&line);
    }

    #[test]
    fn no_parser_panics_on_mutated_fixture_lines(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0u8..3), 1..6),
    ) {
        let lines = fixture_lines();
        let mut chars: Vec<char> = pick.get(&lines).chars().collect();
        for (at, c, op) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = at.index(chars.len());
            match op {
                0 => chars.insert(i, c),
                1 => { chars.remove(i); }
                _ => chars[i] = c,
            }
        }
        let line: String = chars.into_iter().collect();
        parse_with_every_kind(&line);
    }

    #[test]
    fn detection_never_panics(sample in proptest::collection::vec("[ -~\t]{0,80}", 0..6)) {
        let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
        let _ = detect(&refs);
    }
}
