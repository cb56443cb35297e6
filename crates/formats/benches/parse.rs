//! Parse throughput per format, in MB/s of input on one core.
//!
//! Each format has a deterministic generator (a fixed-seed xorshift), so runs
//! compare like with like. Run: `cargo bench -p watchtrail-formats --bench parse`.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use watchtrail_formats::formatting::{
    format_alb, format_clf, format_s3_access, format_vpc_flow, VPC_DEFAULT_HEADERS,
};
use watchtrail_formats::{detect, FieldValue, FormatKind, LineOutcome, LineParser, Record};

/// On-CPU time of this thread (Linux `schedstat`, nanoseconds). Timing with
/// it instead of the wall clock makes the figures MB/s per core even when
/// other work shares the machine; elsewhere it falls back to the wall clock.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn time_iterations(iters: u64, mut work: impl FnMut()) -> Duration {
    let wall = Instant::now();
    let cpu = thread_cpu_time();
    for _ in 0..iters {
        work();
    }
    match (cpu, thread_cpu_time()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed(),
    }
}

/// Bytes of input generated per format.
const TARGET_BYTES: usize = 4 << 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn ipv4(&mut self) -> std::net::IpAddr {
        let v = self.next() as u32;
        std::net::IpAddr::from(v.to_be_bytes())
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap())
            .collect()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn fill(mut line: impl FnMut(&mut Rng, &mut String)) -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut lines = Vec::new();
    let mut total = 0;
    while total < TARGET_BYTES {
        let mut s = String::with_capacity(512);
        line(&mut rng, &mut s);
        total += s.len() + 1;
        lines.push(s);
    }
    lines
}

fn owned(s: String) -> FieldValue<'static> {
    FieldValue::Str(s.into())
}

fn vpc_lines() -> Vec<String> {
    fill(|rng, out| {
        let mut r = Record::with_capacity(14);
        let start = 1_700_000_000 + rng.below(86_400) as i64;
        r.push("version", FieldValue::Int(2));
        r.push("accountId", FieldValue::str("123456789010"));
        r.push("interfaceId", owned(format!("eni-{}", rng.hex(17))));
        r.push("srcAddr", FieldValue::Ip(rng.ipv4()));
        r.push("dstAddr", FieldValue::Ip(rng.ipv4()));
        r.push("srcPort", FieldValue::Int(rng.below(65536) as i64));
        r.push("dstPort", FieldValue::Int(rng.below(1024) as i64));
        r.push("protocol", FieldValue::Int(6));
        r.push("packets", FieldValue::Int(rng.below(10_000) as i64));
        r.push("bytes", FieldValue::Int(rng.below(10_000_000) as i64));
        r.push("startTime", FieldValue::Timestamp(start * 1000));
        r.push("endTime", FieldValue::Timestamp((start + 60) * 1000));
        r.push("action", FieldValue::str(rng.pick(&["ACCEPT", "REJECT"])));
        r.push("logStatus", FieldValue::str("OK"));
        format_vpc_flow(&VPC_DEFAULT_HEADERS, &r, out);
    })
}

fn alb_lines() -> Vec<String> {
    fill(|rng, out| {
        let t = 1_700_000_000_000 + rng.below(86_400_000) as i64;
        let mut r = Record::with_capacity(40);
        r.push("type", FieldValue::str(rng.pick(&["http", "https", "h2"])));
        r.push("time", FieldValue::Timestamp(t));
        r.push(
            "elb",
            FieldValue::str("app/my-loadbalancer/50dc6c495c0c9188"),
        );
        r.push("client_ip", FieldValue::Ip(rng.ipv4()));
        r.push("client_port", FieldValue::Int(rng.below(65536) as i64));
        r.push("target_ip", FieldValue::Ip(rng.ipv4()));
        r.push("target_port", FieldValue::Int(80));
        for name in [
            "request_processing_time",
            "target_processing_time",
            "response_processing_time",
        ] {
            r.push(name, FieldValue::Float(rng.below(2000) as f64 / 1000.0));
        }
        r.push("elb_status_code", FieldValue::Int(200));
        r.push("target_status_code", FieldValue::Int(200));
        r.push("received_bytes", FieldValue::Int(rng.below(5000) as i64));
        r.push("sent_bytes", FieldValue::Int(rng.below(500_000) as i64));
        r.push(
            "request",
            owned(format!(
                "GET https://www.example.com:443/api/v1/items/{}?page={} HTTP/1.1",
                rng.hex(8),
                rng.below(100)
            )),
        );
        r.push("user_agent", FieldValue::str("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"));
        r.push("ssl_cipher", FieldValue::str("ECDHE-RSA-AES128-GCM-SHA256"));
        r.push("ssl_protocol", FieldValue::str("TLSv1.2"));
        r.push("target_group_arn", FieldValue::str("arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"));
        r.push(
            "trace_id",
            owned(format!("Root=1-{}-{}", rng.hex(8), rng.hex(24))),
        );
        r.push("domain_name", FieldValue::str("www.example.com"));
        r.push("chosen_cert_arn", FieldValue::str("arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"));
        r.push("matched_rule_priority", FieldValue::Int(1));
        r.push("request_creation_time", FieldValue::Timestamp(t - 30));
        r.push("actions_executed", FieldValue::str("forward"));
        r.push("target_port_list", FieldValue::str("10.0.0.1:80"));
        r.push("target_status_code_list", FieldValue::str("200"));
        r.push("conn_trace_id", owned(format!("TID_{}", rng.hex(16))));
        format_alb(&r, out);
    })
}

fn elb_classic_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            "2015-05-13T23:39:{:02}.945958Z my-loadbalancer {}:{} 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 {} \"GET http://www.example.com:80/{} HTTP/1.1\" \"curl/7.38.0\" - -",
            rng.below(60),
            rng.ipv4(),
            rng.below(65536),
            rng.below(100_000),
            rng.hex(12)
        );
    })
}

fn nlb_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            "tls 2.0 2018-12-20T02:59:{:02} net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd {}:{} 172.100.100.185:443 {} 2 {} {} - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com h2 h2 \"h2\",\"http/1.1\" 2018-12-20T02:59:30",
            rng.below(60),
            rng.ipv4(),
            rng.below(65536),
            rng.below(10_000),
            rng.below(100_000),
            rng.below(100_000)
        );
    })
}

fn s3_lines() -> Vec<String> {
    fill(|rng, out| {
        let mut r = Record::with_capacity(32);
        r.push(
            "bucket_owner",
            FieldValue::str("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
        );
        r.push("bucket", FieldValue::str("amzn-s3-demo-bucket1"));
        r.push(
            "time",
            FieldValue::Timestamp(1_700_000_000_000 + rng.below(86_400) as i64 * 1000),
        );
        r.push("remote_ip", FieldValue::Ip(rng.ipv4()));
        r.push(
            "requester",
            FieldValue::str("arn:aws:iam::123456789012:user/reader"),
        );
        r.push("request_id", owned(rng.hex(16).to_uppercase()));
        r.push("operation", FieldValue::str("REST.GET.OBJECT"));
        let key = format!("photos/2024/{}.jpg", rng.hex(10));
        r.push(
            "request_uri",
            owned(format!("GET /amzn-s3-demo-bucket1/{key} HTTP/1.1")),
        );
        r.push("key", owned(key));
        r.push("http_status", FieldValue::Int(200));
        r.push("bytes_sent", FieldValue::Int(rng.below(1 << 24) as i64));
        r.push("object_size", FieldValue::Int(rng.below(1 << 24) as i64));
        r.push("total_time", FieldValue::Int(rng.below(500) as i64));
        r.push("turn_around_time", FieldValue::Int(rng.below(100) as i64));
        r.push(
            "user_agent",
            FieldValue::str("aws-sdk-java/1.12.0 Linux/5.10"),
        );
        r.push("host_id", owned(format!("{}=", rng.hex(60))));
        r.push("signature_version", FieldValue::str("SigV4"));
        r.push(
            "cipher_suite",
            FieldValue::str("ECDHE-RSA-AES128-GCM-SHA256"),
        );
        r.push("authentication_type", FieldValue::str("AuthHeader"));
        r.push(
            "host_header",
            FieldValue::str("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com"),
        );
        r.push("tls_version", FieldValue::str("TLSv1.2"));
        r.push("acl_required", FieldValue::str("Yes"));
        r.push("source_region", FieldValue::str("us-west-1"));
        format_s3_access(&r, out);
    })
}

fn cloudfront_lines() -> Vec<String> {
    let mut lines = vec![
        "#Version: 1.0".to_string(),
        "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end".to_string(),
    ];
    lines.extend(fill(|rng, out| {
        let _ = write!(
            out,
            "2019-12-04\t21:02:{:02}\tLAX1\t{}\t{}\tGET\td111111abcdef8.cloudfront.net\t/assets/{}.js\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36\t-\t-\tHit\t{}==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t{}\t0.001\tHit\ttext/javascript\t{}\t-\t-",
            rng.below(60),
            rng.below(100_000),
            rng.ipv4(),
            rng.hex(8),
            rng.hex(54),
            rng.below(65536),
            rng.below(100_000)
        );
    }));
    lines
}

fn waf_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            r#"{{"timestamp":{},"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/MyACL/7b9cd3a8-4b1e-4d7f-9c3a-1c0b2a7e5f6d","terminatingRuleId":"Default_Action","terminatingRuleType":"REGULAR","action":"ALLOW","terminatingRuleMatchDetails":[],"httpSourceName":"ALB","httpSourceId":"123456789012-app/my-lb/50dc6c495c0c9188","ruleGroupList":[{{"ruleGroupId":"AWS#AWSManagedRulesCommonRuleSet","terminatingRule":null,"nonTerminatingMatchingRules":[],"excludedRules":null}}],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{{"clientIp":"{}","country":"US","headers":[{{"name":"Host","value":"www.example.com"}},{{"name":"User-Agent","value":"Mozilla/5.0 (X11; Linux x86_64)"}},{{"name":"Accept","value":"*/*"}}],"uri":"/api/{}","args":"page={}","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"{}"}},"labels":[{{"name":"awswaf:managed:aws:core-rule-set:NoUserAgent_Header"}}]}}"#,
            1_700_000_000_000u64 + rng.below(86_400_000),
            rng.ipv4(),
            rng.hex(8),
            rng.below(100),
            rng.hex(20)
        );
    })
}

fn cloudtrail_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROA123456789EXAMPLE:session","arn":"arn:aws:sts::777777777777:assumed-role/Role/session","accountId":"777777777777","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA123456789EXAMPLE","arn":"arn:aws:iam::777777777777:role/Role","accountId":"777777777777","userName":"Role"}},"attributes":{{"creationDate":"2023-07-19T21:10:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2023-07-19T21:{:02}:{:02}Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-west-2","sourceIPAddress":"{}","userAgent":"aws-cli/2.13.5 Python/3.11","requestParameters":{{"instancesSet":{{"items":[{{"instanceId":"i-{}"}}]}}}},"responseElements":null,"requestID":"{}","eventID":"{}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"777777777777","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-west-2.amazonaws.com"}}}}"#,
            rng.hex(16).to_uppercase(),
            rng.below(60),
            rng.below(60),
            rng.ipv4(),
            rng.hex(17),
            rng.hex(32),
            rng.hex(32)
        );
    })
}

fn resolver_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            r#"{{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-7example","query_timestamp":"2021-02-04T17:51:{:02}Z","query_name":"{}.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{{"Rdata":"{}","Type":"A","Class":"IN"}}],"srcaddr":"{}","srcport":"{}","transport":"UDP","srcids":{{"instance":"i-0d15cd0d3example"}}}}"#,
            rng.below(60),
            rng.hex(8),
            rng.ipv4(),
            rng.ipv4(),
            rng.below(65536)
        );
    })
}

fn route53_public_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            "1.0 2017-12-13T08:16:{:02}.130Z Z123412341234 {}.example.com A NOERROR UDP FRA6 {} -",
            rng.below(60),
            rng.hex(6),
            rng.ipv4()
        );
    })
}

fn lambda_lines() -> Vec<String> {
    fill(|rng, out| {
        let id = format!(
            "{}-{}-{}-{}-{}",
            rng.hex(8),
            rng.hex(4),
            rng.hex(4),
            rng.hex(4),
            rng.hex(12)
        );
        let _ = write!(
            out,
            "REPORT RequestId: {id}\tDuration: {}.{:02} ms\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: {} MB\t",
            rng.below(1000),
            rng.below(100),
            rng.below(1000) + 1,
            rng.below(128)
        );
    })
}

fn apache_lines() -> Vec<String> {
    fill(|rng, out| {
        let mut r = Record::with_capacity(12);
        r.push("host", FieldValue::Ip(rng.ipv4()));
        r.push(
            "timestamp",
            FieldValue::Timestamp(1_700_000_000_000 + rng.below(86_400) as i64 * 1000),
        );
        r.push(
            "request",
            owned(format!("GET /index/{}.html HTTP/1.1", rng.hex(6))),
        );
        r.push("status", FieldValue::Int(200));
        r.push("bytes", FieldValue::Int(rng.below(100_000) as i64));
        r.push("referer", FieldValue::str("https://www.example.com/"));
        r.push(
            "user_agent",
            FieldValue::str("Mozilla/5.0 (X11; Linux x86_64)"),
        );
        format_clf(&r, true, out);
    })
}

fn json_lines() -> Vec<String> {
    fill(|rng, out| {
        let _ = write!(
            out,
            r#"{{"time":"2024-01-02T03:04:{:02}.678Z","level":"info","msg":"request served","path":"/api/{}","status":200,"latency_ms":{},"user":{{"id":{},"plan":"pro"}}}}"#,
            rng.below(60),
            rng.hex(8),
            rng.below(1000),
            rng.below(1_000_000)
        );
    })
}

fn bench_kind(c: &mut Criterion, name: &str, kind: FormatKind, lines: &[String]) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    // Check the generator before timing it: every line must parse.
    let mut p = LineParser::new(kind);
    for l in lines {
        if let LineOutcome::Malformed { reason } = p.parse_line(l) {
            panic!("{name} generator wrote a bad line ({reason}): {l}");
        }
    }
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            time_iterations(iters, || {
                let mut parser = LineParser::new(kind);
                let mut fields = 0usize;
                for line in lines {
                    if let LineOutcome::Record(r) = parser.parse_line(line) {
                        fields += r.fields.len();
                    }
                }
                black_box(fields);
            })
        })
    });
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    bench_kind(c, "vpc_flow", FormatKind::VpcFlow, &vpc_lines());
    bench_kind(c, "alb", FormatKind::Alb, &alb_lines());
    bench_kind(
        c,
        "elb_classic",
        FormatKind::ElbClassic,
        &elb_classic_lines(),
    );
    bench_kind(c, "nlb", FormatKind::Nlb, &nlb_lines());
    bench_kind(c, "s3_access", FormatKind::S3Access, &s3_lines());
    bench_kind(c, "cloudfront", FormatKind::CloudFront, &cloudfront_lines());
    bench_kind(c, "waf", FormatKind::Waf, &waf_lines());
    bench_kind(c, "cloudtrail", FormatKind::CloudTrail, &cloudtrail_lines());
    bench_kind(
        c,
        "route53_resolver",
        FormatKind::Route53Resolver,
        &resolver_lines(),
    );
    bench_kind(
        c,
        "route53_public",
        FormatKind::Route53Public,
        &route53_public_lines(),
    );
    bench_kind(c, "lambda_report", FormatKind::Lambda, &lambda_lines());
    bench_kind(
        c,
        "apache_combined",
        FormatKind::ApacheCombined,
        &apache_lines(),
    );
    bench_kind(c, "json", FormatKind::Json, &json_lines());
}

fn detect_bench(c: &mut Criterion) {
    let lines = alb_lines();
    let sample: Vec<&str> = lines.iter().take(100).map(String::as_str).collect();
    c.bench_function("detect_100_alb_lines", |b| {
        b.iter(|| black_box(detect(&sample)))
    });
}

criterion_group!(benches, parse_benches, detect_bench);
criterion_main!(benches);
