//! Matching throughput for the three pattern languages over generated events.
//!
//! Run: `cargo bench -p watchtrail-filter-pattern --bench match`. Criterion
//! reports time per batch and throughput in events/s ("elem/s").

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use watchtrail_filter_pattern::FilterPattern;

const EVENTS: usize = 10_000;

/// A small deterministic generator so runs are comparable without a `rand` dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.next() as usize % options.len()]
    }
}

fn text_events() -> Vec<String> {
    let mut random = Lcg(1);
    (0..EVENTS)
        .map(|index| {
            let level = random.pick(&["INFO", "INFO", "INFO", "WARN", "ERROR"]);
            format!(
                "2026-11-25T10:00:{:02}.{:03}Z {level} [worker-{}] request {} finished in {} ms for user{} path=/api/v1/items/{}",
                index % 60,
                random.next() % 1000,
                random.next() % 16,
                random.next(),
                random.next() % 5000,
                random.next() % 1000,
                random.next() % 100_000
            )
        })
        .collect()
}

fn json_events() -> Vec<String> {
    let mut random = Lcg(2);
    (0..EVENTS)
        .map(|_| {
            format!(
                r#"{{"eventVersion":"1.08","eventSource":"{}","eventName":"{}","awsRegion":"us-east-1","sourceIPAddress":"10.0.{}.{}","userIdentity":{{"type":"IAMUser","userName":"user{}"}},"responseElements":null,"errorCode":{},"latency":{}}}"#,
                random.pick(&["s3.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com"]),
                random.pick(&["GetObject", "PutObject", "DescribeInstances", "UpdateTrail"]),
                random.next() % 256,
                random.next() % 256,
                random.next() % 1000,
                random.pick(&["200", "200", "200", "403", "500"]),
                random.next() % 3000
            )
        })
        .collect()
}

fn access_log_events() -> Vec<String> {
    let mut random = Lcg(3);
    (0..EVENTS)
        .map(|_| {
            format!(
                r#"10.0.{}.{} - user{} [10/Oct/2000:13:55:36 -0700] "GET /items/{}.html HTTP/1.1" {} {}"#,
                random.next() % 256,
                random.next() % 256,
                random.next() % 100,
                random.next() % 10_000,
                random.pick(&["200", "200", "200", "304", "404", "500"]),
                random.next() % 5000
            )
        })
        .collect()
}

fn bench_pattern(criterion: &mut Criterion, name: &str, pattern: &str, events: &[String]) {
    let pattern = FilterPattern::parse(pattern).expect("benchmark pattern parses");
    let matched = events.iter().filter(|event| pattern.matches(event)).count();
    // A pattern that matches nothing (or everything) would measure a shortcut.
    assert!(
        matched > 0 && matched < events.len(),
        "{name}: {matched} of {} matched",
        events.len()
    );
    let mut group = criterion.benchmark_group("matches");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(name, |bencher| {
        bencher.iter(|| {
            events
                .iter()
                .filter(|event| pattern.matches(black_box(event)))
                .count()
        })
    });
    group.finish();
}

fn benchmarks(criterion: &mut Criterion) {
    let text = text_events();
    let json = json_events();
    let access = access_log_events();
    bench_pattern(criterion, "terms", "ERROR \"finished in\" -user42", &text);
    bench_pattern(criterion, "terms_or", "?ERROR ?WARN", &text);
    bench_pattern(criterion, "regex", "%worker-1[0-5]\\]%", &text);
    bench_pattern(
        criterion,
        "json",
        "{ $.errorCode >= 400 && $.eventSource = \"s3.*\" }",
        &json,
    );
    bench_pattern(
        criterion,
        "json_on_text_events",
        "{ $.errorCode >= 400 }",
        &[json[..10].to_vec(), text.clone()].concat(),
    );
    bench_pattern(criterion, "space_delimited", "[ip, user, username, timestamp, request = *.html*, status = 4* || status = 5*, bytes > 1000]", &access);
    bench_pattern(
        criterion,
        "space_delimited_ellipsis",
        "[ip, ..., status = 5*, bytes]",
        &access,
    );
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
