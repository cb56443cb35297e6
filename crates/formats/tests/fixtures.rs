//! AWS documentation example lines for every format, with the values each
//! field must come out as. See tests/fixtures/README.md for sources.

use std::net::IpAddr;

use watchtrail_formats::{
    cloudtrail_file_records, default_stream_name, detect, Detection, FieldValue, FormatKind,
    LineOutcome, LineParser, Record,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses every line; fails the test on any malformed line.
fn records(kind: FormatKind, name: &str) -> Vec<Record<'static>> {
    let text = fixture(name);
    let mut parser = LineParser::new(kind);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parser.parse_line(line) {
            LineOutcome::Record(r) => out.push(r.into_owned()),
            LineOutcome::Header => {}
            LineOutcome::Malformed { reason } => {
                panic!("{name}:{}: {reason}: {line}", i + 1)
            }
        }
    }
    assert!(!out.is_empty(), "{name} produced no records");
    out
}

fn s(v: &str) -> FieldValue<'static> {
    FieldValue::Str(v.to_string().into())
}
fn i(v: i64) -> FieldValue<'static> {
    FieldValue::Int(v)
}
fn f(v: f64) -> FieldValue<'static> {
    FieldValue::Float(v)
}
fn ts(v: i64) -> FieldValue<'static> {
    FieldValue::Timestamp(v)
}
fn ip(v: &str) -> FieldValue<'static> {
    FieldValue::Ip(v.parse::<IpAddr>().unwrap())
}
const NULL: FieldValue<'static> = FieldValue::Null;

fn check(r: &Record<'_>, expected: &[(&str, FieldValue<'static>)]) {
    for (name, want) in expected {
        assert_eq!(r.get(name), Some(want), "field {name} in {r:?}");
    }
}

#[test]
fn vpc_flow_default_format() {
    let r = records(FormatKind::VpcFlow, "vpc_flow_default.log");
    assert_eq!(r.len(), 6);
    check(
        &r[0],
        &[
            ("version", i(2)),
            ("accountId", s("123456789010")),
            ("interfaceId", s("eni-1235b8ca123456789")),
            ("srcAddr", ip("172.31.16.139")),
            ("dstAddr", ip("172.31.16.21")),
            ("srcPort", i(20641)),
            ("dstPort", i(22)),
            ("protocol", i(6)),
            ("packets", i(20)),
            ("bytes", i(4249)),
            ("startTime", ts(1_418_530_010_000)),
            ("endTime", ts(1_418_530_070_000)),
            ("action", s("ACCEPT")),
            ("logStatus", s("OK")),
        ],
    );
    assert_eq!(r[0].timestamp_ms, Some(1_418_530_010_000));
    assert_eq!(r[0].fields.len(), 14);
    check(&r[1], &[("action", s("REJECT")), ("dstPort", i(3389))]);
    check(
        &r[2],
        &[
            ("srcAddr", NULL),
            ("packets", NULL),
            ("action", NULL),
            ("logStatus", s("NODATA")),
        ],
    );
    check(&r[3], &[("logStatus", s("SKIPDATA"))]);
    check(
        &r[5],
        &[("srcAddr", ip("2001:db8:1234:a100:8d6e:3477:df66:f105"))],
    );
}

#[test]
fn vpc_flow_s3_header_line_is_consumed() {
    let text = fixture("vpc_flow_s3_default.log");
    let mut p = LineParser::new(FormatKind::VpcFlow);
    let mut lines = text.lines();
    assert_eq!(p.parse_line(lines.next().unwrap()), LineOutcome::Header);
    let r = p.parse_line(lines.next().unwrap()).record().unwrap();
    assert_eq!(r.get("dstPort"), Some(&i(22)));
}

#[test]
fn vpc_flow_v3_custom_format_from_header() {
    let r = records(FormatKind::VpcFlow, "vpc_flow_v3_tcp_flags.log");
    assert_eq!(r.len(), 3);
    check(
        &r[0],
        &[
            ("version", i(3)),
            ("vpcId", s("vpc-abcdefab012345678")),
            ("subnetId", s("subnet-aaaaaaaa012345678")),
            ("instanceId", s("i-01234567890123456")),
            ("type", s("IPv4")),
            ("pktSrcAddr", ip("52.213.180.42")),
            ("pktDstAddr", ip("10.0.0.62")),
            ("bytes", i(568)),
            ("packets", i(8)),
            ("tcpFlags", i(2)),
        ],
    );
    assert_eq!(r[0].fields.len(), 21);
    // The documentation's own example has a doubled space; it must still parse.
    check(&r[2], &[("dstPort", i(43638)), ("tcpFlags", i(19))]);
}

#[test]
fn vpc_flow_nat_custom_format_without_version() {
    let r = records(FormatKind::VpcFlow, "vpc_flow_nat.log");
    check(
        &r[0],
        &[
            ("instanceId", NULL),
            ("interfaceId", s("eni-1235b8ca123456789")),
            ("dstAddr", ip("10.0.0.220")),
            ("pktDstAddr", ip("203.0.113.5")),
        ],
    );
    assert_eq!(r[0].timestamp_ms, None);
    check(&r[2], &[("instanceId", s("i-01234567890123456"))]);
}

#[test]
fn vpc_flow_v5_service_path_direction() {
    let r = records(FormatKind::VpcFlow, "vpc_flow_v5.log");
    check(
        &r[0],
        &[
            ("version", i(5)),
            ("region", s("ap-southeast-2")),
            ("azId", s("apse2-az3")),
            ("sublocationType", NULL),
            ("sublocationId", NULL),
            ("pktSrcAwsService", s("S3")),
            ("pktDstAwsService", NULL),
            ("trafficPath", NULL),
            ("flowDirection", s("ingress")),
        ],
    );
    check(
        &r[1],
        &[
            ("pktDstAwsService", s("S3")),
            ("trafficPath", i(8)),
            ("flowDirection", s("egress")),
        ],
    );
}

#[test]
fn vpc_flow_v7_v8_ecs_and_reject_reason() {
    let r = records(FormatKind::VpcFlow, "vpc_flow_v8.log");
    check(
        &r[0],
        &[
            ("ecsClusterName", s("my-cluster")),
            ("ecsServiceName", s("my-service")),
            ("ecsTaskId", s("0123456789abcdef0123456789abcdef")),
            ("ecsSecondContainerId", s("7a8b9c0d1e2f")),
            ("rejectReason", s("BPA")),
        ],
    );
    check(&r[1], &[("rejectReason", NULL), ("action", s("ACCEPT"))]);
}

#[test]
fn vpc_flow_format_string_for_cloudwatch_delivery() {
    let mut p =
        LineParser::vpc_flow_with_format("${version} ${interface-id} ${tcp-flags} ${log-status}")
            .unwrap();
    let r = p.parse_line("3 eni-1 18 OK").record().unwrap();
    assert_eq!(r.get("tcpFlags"), Some(&i(18)));
    assert!(matches!(
        p.parse_line("3 eni-1 x OK"),
        LineOutcome::Malformed { .. }
    ));
    assert!(matches!(
        p.parse_line("3 eni-1 18"),
        LineOutcome::Malformed { .. }
    ));
}

#[test]
fn s3_access_all_fields() {
    let r = records(FormatKind::S3Access, "s3_access.log");
    assert_eq!(r.len(), 3);
    check(
        &r[0],
        &[
            (
                "bucket_owner",
                s("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
            ),
            ("bucket", s("amzn-s3-demo-bucket1")),
            ("time", ts(1_549_411_238_000)),
            ("remote_ip", ip("192.0.2.3")),
            ("request_id", s("3E57427F3EXAMPLE")),
            ("operation", s("REST.GET.VERSIONING")),
            ("key", NULL),
            (
                "request_uri",
                s("GET /amzn-s3-demo-bucket1?versioning HTTP/1.1"),
            ),
            ("request_verb", s("GET")),
            ("request_url", s("/amzn-s3-demo-bucket1?versioning")),
            ("request_proto", s("HTTP/1.1")),
            ("http_status", i(200)),
            ("error_code", NULL),
            ("bytes_sent", i(113)),
            ("object_size", NULL),
            ("total_time", i(7)),
            ("turn_around_time", NULL),
            ("referer", NULL),
            ("user_agent", s("S3Console/0.4")),
            ("version_id", NULL),
            (
                "host_id",
                s("s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234="),
            ),
            ("signature_version", s("SigV4")),
            ("cipher_suite", s("ECDHE-RSA-AES128-GCM-SHA256")),
            ("authentication_type", s("AuthHeader")),
            (
                "host_header",
                s("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com"),
            ),
            ("tls_version", s("TLSV1.2")),
            (
                "access_point_arn",
                s("arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP"),
            ),
            ("acl_required", s("Yes")),
            ("source_region", s("us-east-1")),
        ],
    );
    check(&r[1], &[("access_point_arn", NULL), ("acl_required", NULL)]);
    // An older record without the later fields still parses.
    check(
        &r[2],
        &[
            ("http_status", i(404)),
            ("error_code", s("NoSuchBucketPolicy")),
        ],
    );
    assert_eq!(r[2].get("access_point_arn"), None);
}

#[test]
fn elb_classic_http_and_tcp() {
    let r = records(FormatKind::ElbClassic, "elb_classic.log");
    check(
        &r[0],
        &[
            ("timestamp", ts(1_431_560_383_945)),
            ("elb", s("my-loadbalancer")),
            ("client_ip", ip("192.168.131.39")),
            ("client_port", i(2817)),
            ("backend_ip", ip("10.0.0.1")),
            ("backend_port", i(80)),
            ("request_processing_time", f(0.000073)),
            ("backend_processing_time", f(0.001048)),
            ("response_processing_time", f(0.000057)),
            ("elb_status_code", i(200)),
            ("backend_status_code", i(200)),
            ("received_bytes", i(0)),
            ("sent_bytes", i(29)),
            ("request_verb", s("GET")),
            ("request_url", s("http://www.example.com:80/")),
            ("user_agent", s("curl/7.38.0")),
            ("ssl_cipher", NULL),
        ],
    );
    check(&r[1], &[("ssl_protocol", s("TLSv1.2"))]);
    check(
        &r[2],
        &[
            ("elb_status_code", NULL),
            ("request_verb", NULL),
            ("request_proto", NULL),
            ("user_agent", NULL),
        ],
    );
}

#[test]
fn alb_all_fields() {
    let r = records(FormatKind::Alb, "alb.log");
    assert_eq!(r.len(), 6);
    check(
        &r[0],
        &[
            ("type", s("http")),
            ("time", ts(1_530_570_180_186)),
            ("elb", s("app/my-loadbalancer/50dc6c495c0c9188")),
            ("client_ip", ip("192.168.131.39")),
            ("client_port", i(2817)),
            ("target_ip", ip("10.0.0.1")),
            ("target_port", i(80)),
            ("request_processing_time", f(0.0)),
            ("target_processing_time", f(0.001)),
            ("elb_status_code", i(200)),
            ("target_status_code", i(200)),
            ("received_bytes", i(34)),
            ("sent_bytes", i(366)),
            ("request", s("GET http://www.example.com:80/ HTTP/1.1")),
            ("user_agent", s("curl/7.46.0")),
            ("ssl_cipher", NULL),
            (
                "target_group_arn",
                s("arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"),
            ),
            ("trace_id", s("Root=1-58337262-36d228ad5d99923122bbe354")),
            ("domain_name", NULL),
            ("chosen_cert_arn", NULL),
            ("matched_rule_priority", i(0)),
            ("request_creation_time", ts(1_530_570_168_364)),
            ("actions_executed", s("forward")),
            ("redirect_url", NULL),
            ("error_reason", NULL),
            ("target_port_list", s("10.0.0.1:80")),
            ("target_status_code_list", s("200")),
            ("classification", NULL),
            ("classification_reason", NULL),
            ("conn_trace_id", s("TID_1234abcd5678ef90")),
            ("transformed_host", NULL),
        ],
    );
    check(
        &r[1],
        &[
            ("domain_name", s("www.example.com")),
            (
                "chosen_cert_arn",
                s("arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"),
            ),
            ("actions_executed", s("authenticate,forward")),
            ("ssl_protocol", s("TLSv1.2")),
        ],
    );
    check(
        &r[2],
        &[
            ("type", s("h2")),
            ("redirect_url", s("https://example.com:80/")),
        ],
    );
    check(&r[3], &[("type", s("ws")), ("elb_status_code", i(101))]);
    check(
        &r[4],
        &[
            ("target_ip", NULL),
            ("target_status_code", NULL),
            ("error_reason", s("LambdaInvalidResponse")),
        ],
    );
    // 2018-era lines end at error_reason.
    assert_eq!(r[5].get("conn_trace_id"), None);
    assert_eq!(
        default_stream_name(FormatKind::Alb, &r[0]).as_deref(),
        Some("app.my-loadbalancer.50dc6c495c0c9188")
    );
}

#[test]
fn nlb_tls_fields() {
    let r = records(FormatKind::Nlb, "nlb.log");
    check(
        &r[0],
        &[
            ("type", s("tls")),
            ("version", s("2.0")),
            ("time", ts(1_545_274_780_000)),
            ("elb", s("net/my-network-loadbalancer/c6e77e28c25b2234")),
            ("listener", s("g3d4b5e8bb8464cd")),
            ("client_ip", ip("72.21.218.154")),
            ("client_port", i(51341)),
            ("destination_ip", ip("172.100.100.185")),
            ("destination_port", i(443)),
            ("connection_time", i(5)),
            ("tls_handshake_time", i(2)),
            ("received_bytes", i(98)),
            ("sent_bytes", i(246)),
            ("incoming_tls_alert", NULL),
            ("chosen_cert_serial", NULL),
            ("tls_cipher", s("ECDHE-RSA-AES128-SHA")),
            ("tls_protocol_version", s("tlsv12")),
            (
                "domain_name",
                s("my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com"),
            ),
            ("alpn_fe_protocol", NULL),
            ("tls_connection_creation_time", ts(1_545_274_770_000)),
        ],
    );
    check(
        &r[1],
        &[
            ("alpn_fe_protocol", s("h2")),
            ("alpn_be_protocol", s("h2")),
            ("alpn_client_preference_list", s("\"h2\",\"http/1.1\"")),
        ],
    );
}

#[test]
fn cloudfront_standard_fields_and_decoding() {
    let r = records(FormatKind::CloudFront, "cloudfront.log");
    assert_eq!(r.len(), 3);
    check(
        &r[0],
        &[
            ("date", s("2019-12-04")),
            ("time", s("21:02:31")),
            ("x-edge-location", s("LAX1")),
            ("sc-bytes", i(392)),
            ("c-ip", ip("192.0.2.100")),
            ("cs-method", s("GET")),
            ("cs(Host)", s("d111111abcdef8.cloudfront.net")),
            ("cs-uri-stem", s("/index.html")),
            ("sc-status", i(200)),
            ("cs(Referer)", NULL),
            (
                "cs(User-Agent)",
                s("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"),
            ),
            ("x-edge-result-type", s("Hit")),
            ("cs-protocol", s("https")),
            ("cs-bytes", i(23)),
            ("time-taken", f(0.001)),
            ("ssl-protocol", s("TLSv1.2")),
            ("cs-protocol-version", s("HTTP/2.0")),
            ("c-port", i(11040)),
            ("time-to-first-byte", f(0.001)),
            ("x-edge-detailed-result-type", s("Hit")),
            ("sc-content-type", s("text/html")),
            ("sc-content-len", i(78)),
            ("sc-range-start", NULL),
        ],
    );
    assert_eq!(r[0].timestamp_ms, Some(1_575_493_351_000));
    check(
        &r[2],
        &[
            ("sc-status", i(502)),
            ("x-edge-detailed-result-type", s("OriginDnsError")),
        ],
    );
}

#[test]
fn cloudfront_fields_header_drives_columns() {
    let r = records(FormatKind::CloudFront, "cloudfront_custom_fields.log");
    assert_eq!(r[0].fields.len(), 7);
    check(
        &r[0],
        &[
            ("c-ip", ip("198.51.100.7")),
            ("cs-uri-stem", s("/images/a b.png")),
            ("sc-status", i(304)),
            ("cs-uri-query", s("size=large&x=/")),
            ("x-new-field", s("something new")),
        ],
    );
}

#[test]
fn waf_nested_fields() {
    let r = records(FormatKind::Waf, "waf.log");
    check(
        &r[0],
        &[
            ("timestamp", ts(1_683_355_579_981)),
            ("formatVersion", i(1)),
            ("terminatingRuleId", s("RateBasedRule")),
            ("terminatingRuleType", s("RATE_BASED")),
            ("action", s("BLOCK")),
            ("httpSourceName", s("APIGW")),
            ("rateBasedRuleList.0.maxRateAllowed", i(100)),
            ("rateBasedRuleList.0.customValues.0.value", s("ella")),
            ("requestHeadersInserted", NULL),
            ("httpRequest.clientIp", ip("52.46.82.45")),
            ("httpRequest.country", s("FR")),
            ("httpRequest.headers.0.name", s("Host")),
            ("httpRequest.headers.2.value", s("ella")),
            ("httpRequest.uri", s("/CanaryTest")),
            ("httpRequest.httpMethod", s("GET")),
        ],
    );
    assert_eq!(r[0].timestamp_ms, Some(1_683_355_579_981));
    check(
        &r[1],
        &[
            (
                "terminatingRuleMatchDetails.0.conditionType",
                s("SQL_INJECTION"),
            ),
            ("terminatingRuleMatchDetails.0.matchedData.1", s("AND")),
            (
                "ruleGroupList.0.ruleGroupId",
                s("AWS#AWSManagedRulesCommonRuleSet"),
            ),
            ("ruleGroupList.0.terminatingRule", NULL),
            ("labels.0.name", s("value")),
        ],
    );
    assert_eq!(
        default_stream_name(FormatKind::Waf, &r[1]).as_deref(),
        Some("STMTest")
    );
}

#[test]
fn route53_public_query_log() {
    let r = records(FormatKind::Route53Public, "route53_public.log");
    check(
        &r[0],
        &[
            ("version", s("1.0")),
            ("queryTimestamp", ts(1_513_152_962_130)),
            ("hostZoneId", s("Z123412341234")),
            ("queryName", s("example.com")),
            ("queryType", s("A")),
            ("responseCode", s("NOERROR")),
            ("protocol", s("UDP")),
            ("edgeLocation", s("FRA6")),
            ("resolverIp", ip("192.168.1.1")),
            ("ednsClientSubnet", NULL),
        ],
    );
    check(
        &r[2],
        &[
            ("resolverIp", ip("2001:db8::1234")),
            ("ednsClientSubnet", s("2001:db8:abcd::/48")),
        ],
    );
    check(&r[3], &[("responseCode", s("NXDOMAIN"))]);
    assert_eq!(
        default_stream_name(FormatKind::Route53Public, &r[0]).as_deref(),
        Some("Z123412341234/FRA6")
    );
}

#[test]
fn route53_resolver_query_log() {
    let r = records(FormatKind::Route53Resolver, "route53_resolver.log");
    check(
        &r[0],
        &[
            ("srcaddr", ip("4.5.64.102")),
            ("srcport", i(56067)),
            ("vpc_id", s("vpc-7example")),
            ("answers.0.Rdata", s("203.0.113.9")),
            ("answers.0.Type", s("PTR")),
            ("firewall_rule_action", s("BLOCK")),
            ("query_name", s("15.3.4.32.in-addr.arpa.")),
            ("srcids.instance", s("i-0d15cd0d3example")),
            ("rcode", s("NOERROR")),
            ("query_timestamp", ts(1_612_461_115_000)),
            ("version", s("1.100000")),
        ],
    );
    assert_eq!(r[0].timestamp_ms, Some(1_612_461_115_000));
}

#[test]
fn cloudtrail_record_and_trail_file() {
    let r = records(FormatKind::CloudTrail, "cloudtrail_record.log");
    check(
        &r[0],
        &[
            ("eventVersion", s("1.05")),
            ("userIdentity.type", s("IAMUser")),
            ("userIdentity.userName", s("anaya")),
            ("eventTime", ts(1_668_097_474_000)),
            ("eventName", s("ConsoleLogin")),
            ("sourceIPAddress", ip("192.0.2.0")),
            ("requestParameters", NULL),
            ("responseElements.ConsoleLogin", s("Failure")),
            ("additionalEventData.MFAUsed", s("Yes")),
        ],
    );
    check(
        &r[1],
        &[
            ("sourceIPAddress", s("rds.amazonaws.com")),
            ("readOnly", FieldValue::Bool(true)),
            ("resources.0.type", s("AWS::KMS::Key")),
        ],
    );
    let doc = fixture("cloudtrail_file.json");
    let file = cloudtrail_file_records(doc.as_bytes()).unwrap();
    assert_eq!(file.len(), 2);
    check(
        &file[0],
        &[
            ("eventName", s("CreateUser")),
            (
                "userIdentity.arn",
                s("arn:aws:iam::888888888888:user/Mateo"),
            ),
            ("tlsDetails.tlsVersion", s("TLSv1.2")),
            ("eventTime", ts(1_689_801_117_000)),
        ],
    );
    check(
        &file[1],
        &[
            (
                "requestParameters.instancesSet.items.0.instanceId",
                s("i-EXAMPLE56126103cb"),
            ),
            (
                "userIdentity.sessionContext.sessionIssuer.userName",
                s("RoleToBeAssumed"),
            ),
            ("sourceIPAddress", s("AWS Internal")),
        ],
    );
    assert_eq!(
        default_stream_name(FormatKind::CloudTrail, &file[1]).as_deref(),
        Some("777777777777_CloudTrail_us-west-2")
    );
    // A whole trail file handed to the line parser is explained, not silently mangled.
    let mut p = LineParser::new(FormatKind::CloudTrail);
    assert!(matches!(
        p.parse_line(r#"{"Records":[]}"#),
        LineOutcome::Malformed { .. }
    ));
    assert!(cloudtrail_file_records(b"{\"Records\": 3}").is_err());
}

#[test]
fn lambda_platform_and_runtime_lines() {
    let text = fixture("lambda_text.log");
    let mut p = LineParser::new(FormatKind::Lambda);
    // The REPORT line with an X-Ray trace continues on the next physical
    // line, as CloudWatch shows it; the importer hands over whole events.
    let events: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for line in text.lines() {
            if line.starts_with("XRAY ") {
                let last = v.last_mut().unwrap();
                last.push('\n');
                last.push_str(line);
            } else {
                v.push(line.to_string());
            }
        }
        v
    };
    let r: Vec<Record<'static>> = events
        .iter()
        .map(|e| {
            p.parse_line(e)
                .record()
                .unwrap_or_else(|| panic!("{e}"))
                .into_owned()
        })
        .collect();
    check(
        &r[0],
        &[
            ("@type", s("START")),
            ("@requestId", s("8f507cfc-xmpl-4697-b07a-ac58fc914c95")),
            ("@version", s("$LATEST")),
        ],
    );
    check(&r[1], &[("@type", s("END"))]);
    check(
        &r[2],
        &[
            ("@type", s("REPORT")),
            ("@requestId", s("8f507cfc-xmpl-4697-b07a-ac58fc914c95")),
            ("@duration", f(3.22)),
            ("@billedDuration", i(100)),
            ("@memorySize", i(128_000_000)),
            ("@maxMemoryUsed", i(56_000_000)),
            ("@initDuration", f(175.85)),
            ("@xrayTraceId", s("1-5e34a614-10bdxmplf1fb44f07bc535a1")),
            ("@xraySegmentId", s("07f5xmpl2d1f6f85")),
            ("@xraySampled", FieldValue::Bool(true)),
        ],
    );
    assert_eq!(r[3].get("@initDuration"), None);
    check(&r[3], &[("@duration", f(2.57)), ("@billedDuration", i(3))]);
    check(
        &r[4],
        &[
            ("timestamp", ts(1_559_934_680_562)),
            ("@requestId", s("c793869b-ee49-115b-a5b6-4fd21e8dedac")),
            ("level", s("INFO")),
            ("message", s("ENVIRONMENT VARIABLES")),
        ],
    );
    check(
        &r[5],
        &[("level", s("INFO")), ("message", s("function started"))],
    );
    check(
        &r[6],
        &[
            ("@type", s("INIT_START")),
            ("@runtimeVersion", s("python:3.9.v16")),
        ],
    );
}

#[test]
fn lambda_json_log_format() {
    let r = records(FormatKind::LambdaJson, "lambda_json.log");
    check(
        &r[0],
        &[
            ("type", s("platform.start")),
            ("time", ts(1_698_840_000_000)),
        ],
    );
    check(
        &r[1],
        &[("level", s("INFO")), ("message", s("Hello from Lambda"))],
    );
    check(
        &r[2],
        &[
            ("@type", s("REPORT")),
            ("@requestId", s("6d68ca91-49c9-448d-89b8-7ca3e6dc66aa")),
            ("@duration", f(2.56)),
            ("@billedDuration", i(3)),
            ("@memorySize", i(128_000_000)),
            ("@maxMemoryUsed", i(38_000_000)),
            ("@initDuration", f(150.35)),
            ("@xrayTraceId", s("1-654250d0-7f9b1e4a6c1c3b0b1e1b1b1b")),
            ("record.status", s("success")),
        ],
    );
}

#[test]
fn api_gateway_access_and_execution() {
    let r = records(FormatKind::ApiGatewayAccess, "apigateway_clf.log");
    check(
        &r[0],
        &[
            ("ip", ip("192.0.2.10")),
            ("caller", NULL),
            ("requestTime", ts(1_795_600_800_000)),
            ("httpMethod", s("GET")),
            ("resourcePath", s("/pets")),
            ("protocol", s("HTTP/1.1")),
            ("status", i(200)),
            ("responseLength", i(1432)),
            ("requestId", s("6ec2cd2e-0d2a-4d1f-9a4f-0c6c3f1a6f11")),
        ],
    );
    let j = records(FormatKind::ApiGatewayAccessJson, "apigateway_json.log");
    check(
        &j[0],
        &[
            ("ip", ip("192.0.2.10")),
            ("status", i(200)),
            ("responseLength", i(1432)),
            ("requestTime", ts(1_795_600_800_000)),
        ],
    );
    check(&j[1], &[("routeKey", s("POST /pets")), ("status", i(201))]);
    let e = records(FormatKind::ApiGatewayExecution, "apigateway_execution.log");
    check(
        &e[2],
        &[
            ("requestId", s("6ec2cd2e-0d2a-4d1f-9a4f-0c6c3f1a6f11")),
            ("message", s("Method completed with status: 200")),
        ],
    );
}

#[test]
fn redshift_audit_logs() {
    let c = records(FormatKind::RedshiftConnection, "redshift_connection.log");
    check(
        &c[0],
        &[
            ("event", s("authenticated")),
            ("recordtime", ts(1_531_178_593_277)),
            ("remotehost", s("[local]")),
            ("remoteport", NULL),
            ("pid", i(16750)),
            ("dbname", s("dev")),
            ("username", s("rdsdb")),
            ("authmethod", s("Ident")),
            ("duration", i(0)),
        ],
    );
    check(
        &c[1],
        &[
            ("remotehost", ip("::ffff:10.0.0.12")),
            ("remoteport", i(51928)),
            ("sslversion", s("TLSv1.2")),
        ],
    );
    check(
        &c[2],
        &[
            ("event", s("disconnecting session")),
            ("duration", i(107523)),
        ],
    );
    let u = records(FormatKind::RedshiftUser, "redshift_user.log");
    check(
        &u[0],
        &[
            ("userid", i(100)),
            ("username", s("dbuser")),
            ("oldusername", NULL),
            ("action", s("create")),
            ("usesuper", i(0)),
            ("valuntil", s("infinity")),
            ("xid", i(5301)),
            ("recordtime", ts(1_531_178_593_277)),
        ],
    );
    check(
        &u[1],
        &[("action", s("rename")), ("oldusername", s("dbuser"))],
    );
    let a = records(
        FormatKind::RedshiftUserActivity,
        "redshift_user_activity.log",
    );
    check(
        &a[0],
        &[
            ("recordtime", ts(1_531_178_593_000)),
            ("db", s("dev")),
            ("user", s("rdsdb")),
            ("pid", i(16750)),
            ("userid", i(1)),
            ("xid", i(5301)),
            ("query", s("SELECT 1")),
        ],
    );
}

#[test]
fn rds_postgres_prefix() {
    let r = records(FormatKind::RdsPostgres, "rds_postgres.log");
    check(
        &r[0],
        &[
            ("log_time", ts(1_552_190_099_000)),
            ("connection_from", s("10.0.0.123(52834)")),
            ("user_name", s("postgres")),
            ("database_name", s("tstdb")),
            ("process_id", i(20175)),
            ("error_severity", s("ERROR")),
            (
                "message",
                s("column \"wrong\" does not exist at character 8"),
            ),
        ],
    );
    check(
        &r[2],
        &[
            ("connection_from", NULL),
            ("user_name", NULL),
            ("database_name", NULL),
            ("error_severity", s("LOG")),
        ],
    );
}

#[test]
fn rds_mysql_error_slow_general() {
    let e = records(FormatKind::RdsMysql, "rds_mysql_error.log");
    check(
        &e[0],
        &[
            ("logged", ts(1_594_405_645_848)),
            ("thread_id", i(0)),
            ("prio", s("Warning")),
            ("error_code", s("MY-013360")),
            ("subsystem", s("Server")),
        ],
    );
    check(
        &e[1],
        &[
            ("prio", s("Note")),
            (
                "data",
                s("InnoDB: Buffer pool(s) load completed at 190109 21:01:35"),
            ),
        ],
    );
    check(
        &e[2],
        &[("thread_id", i(12345)), ("logged", ts(1_547_067_696_000))],
    );
    let s_ = records(FormatKind::RdsMysql, "rds_mysql_slow.log");
    assert_eq!(s_.len(), 5);
    check(&s_[0], &[("start_time", ts(1_613_500_600_585))]);
    check(
        &s_[1],
        &[
            ("user_host", s("admin[admin] @  [10.0.0.12]")),
            ("thread_id", i(15)),
        ],
    );
    check(
        &s_[2],
        &[
            ("query_time", f(2.000226)),
            ("lock_time", f(0.000091)),
            ("rows_sent", i(1)),
            ("rows_examined", i(0)),
        ],
    );
    check(&s_[4], &[("sql_text", s("select sleep(2);"))]);
    let g = records(FormatKind::RdsMysql, "rds_mysql_general.log");
    check(
        &g[1],
        &[
            ("event_time", ts(1_613_500_600_585)),
            ("thread_id", i(15)),
            ("command_type", s("Query")),
            ("argument", s("SELECT 1")),
        ],
    );
}

#[test]
fn generic_formats() {
    let c = records(FormatKind::ApacheCommon, "apache_common.log");
    check(
        &c[0],
        &[
            ("host", ip("127.0.0.1")),
            ("ident", NULL),
            ("authuser", s("frank")),
            ("timestamp", ts(971_211_336_000)),
            ("method", s("GET")),
            ("path", s("/apache_pb.gif")),
            ("protocol", s("HTTP/1.0")),
            ("status", i(200)),
            ("bytes", i(2326)),
        ],
    );
    check(&c[1], &[("bytes", NULL), ("status", i(404))]);
    let cb = records(FormatKind::ApacheCombined, "apache_combined.log");
    check(
        &cb[0],
        &[
            ("referer", s("http://www.example.com/start.html")),
            ("user_agent", s("Mozilla/4.08 [en] (Win98; I ;Nav)")),
        ],
    );
    let text = fixture("syslog_3164.log");
    let mut p = LineParser::new(FormatKind::Syslog3164).with_syslog_year(2003);
    let r: Vec<_> = text
        .lines()
        .map(|l| p.parse_line(l).record().unwrap())
        .collect();
    check(
        &r[0].clone().into_owned(),
        &[
            ("priority", i(34)),
            ("facility", i(4)),
            ("severity", i(2)),
            ("timestamp", ts(1_065_910_455_000)),
            ("hostname", s("mymachine")),
            ("appName", s("su")),
            ("message", s("'su root' failed for lonvick on /dev/pts/8")),
        ],
    );
    check(
        &r[1].clone().into_owned(),
        &[
            ("hostname", s("10.0.0.99")),
            ("appName", s("myproc")),
            ("procId", i(8710)),
        ],
    );
    let r = records(FormatKind::Syslog5424, "syslog_5424.log");
    check(
        &r[0],
        &[
            ("priority", i(34)),
            ("version", i(1)),
            ("timestamp", ts(1_065_910_455_003)),
            ("hostname", s("mymachine.example.com")),
            ("appName", s("su")),
            ("procId", NULL),
            ("msgId", s("ID47")),
            ("structuredData", NULL),
        ],
    );
    check(
        &r[1],
        &[
            (
                "structuredData",
                s("[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"),
            ),
            ("message", s("An application event log entry...")),
        ],
    );
    check(
        &r[2],
        &[("timestamp", ts(1_061_727_255_000)), ("procId", i(8710))],
    );
    let r = records(FormatKind::Logfmt, "logfmt.log");
    check(
        &r[0],
        &[
            ("at", s("info")),
            ("fwd", s("204.204.204.204")),
            ("status", i(200)),
            ("connect", s("1ms")),
        ],
    );
    check(
        &r[1],
        &[
            ("msg", s("connection refused")),
            ("retries", i(3)),
            ("latency", f(0.25)),
            ("debug", FieldValue::Bool(true)),
        ],
    );
    assert_eq!(r[1].timestamp_ms, Some(1_704_164_645_000));
    let r = records(FormatKind::Json, "json.log");
    check(
        &r[0],
        &[
            ("time", ts(1_704_164_645_678)),
            ("disk.used_pct", f(91.5)),
            ("tags.1", s("b")),
        ],
    );
    let r = records(FormatKind::Emf, "emf.log");
    check(
        &r[0],
        &[
            ("_aws.Timestamp", ts(1_574_109_732_004)),
            (
                "_aws.CloudWatchMetrics.0.Namespace",
                s("lambda-function-metrics"),
            ),
            ("time", i(100)),
        ],
    );
    let r = records(FormatKind::SpaceDelimited, "space_delimited.log");
    check(
        &r[2],
        &[
            ("field1", s("2024-01-02")),
            ("field4", s("/api/v1/things")),
            ("field5", i(201)),
            ("field6", f(0.045)),
        ],
    );
}

/// Every fixture is detected as the format it holds.
#[test]
fn detection_on_every_fixture() {
    let cases: &[(&str, FormatKind)] = &[
        ("vpc_flow_default.log", FormatKind::VpcFlow),
        ("vpc_flow_s3_default.log", FormatKind::VpcFlow),
        ("vpc_flow_v3_tcp_flags.log", FormatKind::VpcFlow),
        ("vpc_flow_nat.log", FormatKind::VpcFlow),
        ("vpc_flow_v5.log", FormatKind::VpcFlow),
        ("vpc_flow_v8.log", FormatKind::VpcFlow),
        ("s3_access.log", FormatKind::S3Access),
        ("elb_classic.log", FormatKind::ElbClassic),
        ("alb.log", FormatKind::Alb),
        ("nlb.log", FormatKind::Nlb),
        ("cloudfront.log", FormatKind::CloudFront),
        ("cloudfront_custom_fields.log", FormatKind::CloudFront),
        ("waf.log", FormatKind::Waf),
        ("route53_public.log", FormatKind::Route53Public),
        ("route53_resolver.log", FormatKind::Route53Resolver),
        ("cloudtrail_record.log", FormatKind::CloudTrail),
        ("lambda_json.log", FormatKind::LambdaJson),
        ("apigateway_clf.log", FormatKind::ApiGatewayAccess),
        ("apigateway_json.log", FormatKind::ApiGatewayAccessJson),
        ("apigateway_execution.log", FormatKind::ApiGatewayExecution),
        ("redshift_connection.log", FormatKind::RedshiftConnection),
        ("redshift_user.log", FormatKind::RedshiftUser),
        (
            "redshift_user_activity.log",
            FormatKind::RedshiftUserActivity,
        ),
        ("rds_postgres.log", FormatKind::RdsPostgres),
        ("rds_mysql_error.log", FormatKind::RdsMysql),
        ("rds_mysql_slow.log", FormatKind::RdsMysql),
        ("rds_mysql_general.log", FormatKind::RdsMysql),
        ("apache_common.log", FormatKind::ApacheCommon),
        ("apache_combined.log", FormatKind::ApacheCombined),
        ("syslog_3164.log", FormatKind::Syslog3164),
        ("syslog_5424.log", FormatKind::Syslog5424),
        ("logfmt.log", FormatKind::Logfmt),
        ("json.log", FormatKind::Json),
        ("emf.log", FormatKind::Emf),
        ("space_delimited.log", FormatKind::SpaceDelimited),
    ];
    let mut failures = Vec::new();
    for (name, want) in cases {
        let text = fixture(name);
        let lines: Vec<&str> = text.lines().collect();
        match detect(&lines) {
            Detection::Detected { kind, .. } if kind == *want => {}
            other => failures.push(format!("{name}: wanted {want}, got {other:?}")),
        }
    }
    // A trail file, pretty-printed over several lines, cut short, and as AWS
    // writes it (one line).
    let trail = fixture("cloudtrail_file.json");
    let pretty: Vec<&str> = trail.lines().collect();
    let one_line = trail.replace('\n', "");
    for (what, sample) in [
        ("pretty", pretty.clone()),
        ("cut", pretty[..2].to_vec()),
        ("one line", vec![one_line.as_str()]),
    ] {
        match detect(&sample) {
            Detection::Detected {
                kind: FormatKind::CloudTrail,
                confidence,
            } => assert!(confidence >= 0.9, "{what}"),
            other => failures.push(format!("cloudtrail_file.json ({what}): got {other:?}")),
        }
    }
    // The Lambda text fixture with its REPORT continuation joined.
    let lambda = fixture("lambda_text.log").replace("\t\nXRAY", "\tXRAY");
    let lines: Vec<&str> = lambda.lines().collect();
    match detect(&lines) {
        Detection::Detected {
            kind: FormatKind::Lambda,
            ..
        } => {}
        other => failures.push(format!("lambda_text.log: got {other:?}")),
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn detection_says_unsure_for_mixed_or_ambiguous_samples() {
    let alb = fixture("alb.log");
    let vpc = fixture("vpc_flow_default.log");
    let mixed: Vec<&str> = alb.lines().take(3).chain(vpc.lines().take(3)).collect();
    match detect(&mixed) {
        Detection::Unsure { candidates } => {
            assert!(candidates.contains(&FormatKind::Alb), "{candidates:?}");
            assert!(candidates.contains(&FormatKind::VpcFlow), "{candidates:?}");
        }
        other => panic!("mixed sample detected as {other:?}"),
    }
    assert_eq!(detect(&[]), Detection::Unsure { candidates: vec![] });
    // A JSON object that is both a valid WAF log and a CloudTrail record.
    let both = r#"{"webaclId":"a","httpRequest":{"clientIp":"1.2.3.4"},"eventVersion":"1.0","eventTime":"2020-01-01T00:00:00Z","timestamp":1}"#;
    match detect(&[both]) {
        Detection::Unsure { candidates } => {
            assert_eq!(candidates, vec![FormatKind::Waf, FormatKind::CloudTrail]);
        }
        other => panic!("ambiguous JSON detected as {other:?}"),
    }
    // Space-separated lines of different shapes fit nothing.
    match detect(&["a b c", "d e"]) {
        Detection::Unsure { .. } => {}
        other => panic!("{other:?}"),
    }
}

/// A bad line yields a reason and leaves the parser able to read the next line.
#[test]
fn malformed_lines_are_not_fatal() {
    let cases: &[(FormatKind, &str)] = &[
        (FormatKind::VpcFlow, "vpc_flow_v5.log"),
        (FormatKind::CloudFront, "cloudfront.log"),
        (FormatKind::Alb, "alb.log"),
        (FormatKind::S3Access, "s3_access.log"),
        (FormatKind::Waf, "waf.log"),
        // (In a MySQL slow log any line after a header is a statement, so it has no garbage.)
        (FormatKind::RdsPostgres, "rds_postgres.log"),
    ];
    for (kind, name) in cases {
        let text = fixture(name);
        let mut parser = LineParser::new(*kind);
        let mut good = 0;
        for line in text.lines() {
            match parser.parse_line("\u{1}garbage \"unterminated [") {
                LineOutcome::Malformed { reason } => assert!(!reason.is_empty()),
                LineOutcome::Header => {}
                other => panic!("{kind}: garbage parsed as {other:?}"),
            }
            match parser.parse_line(line) {
                LineOutcome::Record(_) => good += 1,
                LineOutcome::Header => {}
                LineOutcome::Malformed { reason } => panic!("{kind} {name}: {reason}: {line}"),
            }
        }
        assert!(good > 0, "{name}");
    }
}

#[test]
fn vpc_flow_header_with_a_field_newer_than_this_crate() {
    let mut p = LineParser::new(FormatKind::VpcFlow);
    assert_eq!(
        p.parse_line("version interface-id srcaddr encryption-status log-status"),
        LineOutcome::Header
    );
    let r = p
        .parse_line("9 eni-1 10.0.0.1 1 OK")
        .record()
        .unwrap()
        .into_owned();
    check(
        &r,
        &[
            ("version", i(9)),
            ("encryptionStatus", s("1")),
            ("srcAddr", ip("10.0.0.1")),
        ],
    );
}

#[test]
fn truncated_and_extra_fields_are_malformed() {
    let mut p = LineParser::new(FormatKind::VpcFlow);
    for line in [
        "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT",
        "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK extra",
        "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ALLOW OK",
        "2 123456789010 eni-1 300.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    ] {
        assert!(matches!(p.parse_line(line), LineOutcome::Malformed { .. }), "{line}");
    }
    let mut alb = LineParser::new(FormatKind::Alb);
    assert!(matches!(
        alb.parse_line("http 2018-07-02T22:23:00.186641Z app/x/1 192.168.131.39:2817"),
        LineOutcome::Malformed { .. }
    ));
    assert!(matches!(
        alb.parse_line("http 2018-07-02T22:23:00.186641Z app/x/1 1.2.3.4:1 - 0.0 0.0 0.0 200 - 1 2 \"GET / HTTP/1.1"),
        LineOutcome::Malformed { .. }
    ));
}

/// Inputs the fuzzer found panics on, kept as regression tests.
#[test]
fn fuzzer_regressions() {
    // Overflow turning a huge Lambda memory size into bytes.
    let line = r#"{"time":"2023-11-01T12:00:00.253Z","type":"platform.report","record":{"requestId":"r","metrics":{"memorySizeMB":9223372036854775807,"maxMemoryUsedMB":1e300}}}"#;
    let r = LineParser::new(FormatKind::LambdaJson)
        .parse_line(line)
        .record()
        .unwrap();
    assert_eq!(r.get("@memorySize"), None);
    assert_eq!(r.get("@maxMemoryUsed"), None);
    let crash = std::fs::read(format!(
        "{}/tests/fixtures/fuzz/parse_lines-8e0f755c",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let kind = FormatKind::ALL[crash[0] as usize % FormatKind::ALL.len()];
    let text = String::from_utf8_lossy(&crash[1..]);
    let mut p = LineParser::new(kind);
    for l in text.split('\n') {
        let _ = p.parse_line(l);
    }
    // A year far outside any log's range is rejected, not overflowed.
    assert!(matches!(
        LineParser::new(FormatKind::RedshiftUser).parse_line(
            "1|u| |create|0|0|0|infinity|1|2|Mon, 9 Jul 9223372036854775807 23:23:13:277"
        ),
        LineOutcome::Malformed { .. }
    ));
}
