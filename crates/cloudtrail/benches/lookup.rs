//! LookupEvents over a large event history: one million management events (override with
//! `WATCHTRAIL_BENCH_EVENTS`) across 2,000 users, 40 event names and 5,000 log groups.
//! Every query asks for one page of 50, newest first, as LookupEvents does.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use watchtrail_cloudtrail::history::{History, HistoryQuery, LookupKey};
use watchtrail_cloudtrail::{AuditRecord, EventCategory};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn record(i: u64, base_ms: i64) -> AuditRecord {
    let user = format!("user-{}", i % 2000);
    let name = format!("Operation{}", i % 40);
    let group = format!("/app/group-{}", i % 5000);
    let event_id = format!("00000000-0000-4000-8000-{i:012}");
    AuditRecord {
        event_time_ms: base_ms + i as i64 * 10,
        event_id: event_id.clone(),
        event_source: "logs.amazonaws.com".into(),
        event_name: name.clone(),
        category: EventCategory::Management,
        read_only: i.is_multiple_of(3),
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        body: json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "userName": user, "accessKeyId": format!("AKIA{:016}", i % 2000),
                             "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "accountId": ACCOUNT},
            "eventSource": "logs.amazonaws.com", "eventName": name, "awsRegion": REGION,
            "eventID": event_id, "readOnly": i.is_multiple_of(3),
            "requestParameters": {"logGroupName": group},
            "resources": [{"ARN": format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"), "type": "AWS::Logs::LogGroup"}],
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
        }),
    }
}

fn query(attribute: Option<(LookupKey, &str)>) -> HistoryQuery {
    HistoryQuery {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        attribute: attribute.map(|(k, v)| (k, v.to_string())),
        start_ms: None,
        end_ms: None,
        before: None,
        limit: 50,
    }
}

fn bench(c: &mut Criterion) {
    let events: u64 = std::env::var("WATCHTRAIL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path(), Duration::from_secs(3600)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base_ms = chrono::Utc::now().timestamp_millis() - 30 * 24 * 3600 * 1000;
    let started = Instant::now();
    runtime.block_on(async {
        let mut i = 0;
        while i < events {
            let batch: Vec<AuditRecord> = (i..(i + 10_000).min(events))
                .map(|j| record(j, base_ms))
                .collect();
            i += batch.len() as u64;
            history.insert(batch).await.unwrap();
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "loaded {events} events in {elapsed:.1} s ({:.0} events/s); database {:.0} MB",
        events as f64 / elapsed,
        std::fs::metadata(history.path())
            .map(|m| m.len())
            .unwrap_or(0) as f64
            / 1e6
    );

    let mut group = c.benchmark_group("lookup_events_page_of_50");
    group.sample_size(30);
    group.bench_function("no attribute", |b| {
        b.iter(|| history.lookup(&query(None)).unwrap())
    });
    group.bench_function("Username (1 in 2000)", |b| {
        b.iter(|| {
            history
                .lookup(&query(Some((LookupKey::Username, "user-1234"))))
                .unwrap()
        })
    });
    group.bench_function("EventName (1 in 40)", |b| {
        b.iter(|| {
            history
                .lookup(&query(Some((LookupKey::EventName, "Operation7"))))
                .unwrap()
        })
    });
    group.bench_function("ResourceName (1 in 5000)", |b| {
        b.iter(|| {
            history
                .lookup(&query(Some((LookupKey::ResourceName, "/app/group-4321"))))
                .unwrap()
        })
    });
    group.bench_function("EventId", |b| {
        b.iter(|| {
            history
                .lookup(&query(Some((
                    LookupKey::EventId,
                    "00000000-0000-4000-8000-000000500000",
                ))))
                .unwrap()
        })
    });
    group.bench_function("ReadOnly, time-bounded, deep page", |b| {
        let mut q = query(Some((LookupKey::ReadOnly, "true")));
        q.start_ms = Some(base_ms);
        q.end_ms = Some(base_ms + events as i64 * 5);
        q.before = Some((base_ms + events as i64 * 3, i64::MAX));
        b.iter(|| history.lookup(&q).unwrap())
    });
    group.bench_function("Username with no match", |b| {
        b.iter(|| {
            history
                .lookup(&query(Some((LookupKey::Username, "nobody"))))
                .unwrap()
        })
    });
    group.finish();
    history.shutdown();
}

/// What recording adds to each PutLogEvents call when no trail selects data events (the ingest
/// path), and to a management call (record built and queued; the commit wait is not included).
fn recording_overhead(c: &mut Criterion) {
    use watchtrail_cloudtrail::Recorder;
    use watchtrail_protocol::gateway::{CallObserver, ObservedCall, RequestContext, RequestFacts};
    use watchtrail_protocol::Principal;
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path(), Duration::from_secs(3600)).unwrap();
    let recorder = Recorder::new(history.clone(), ACCOUNT, REGION);
    let principal = Principal {
        account_id: ACCOUNT.into(),
        identity_type: "Root".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:root"),
        principal_id: ACCOUNT.into(),
        user_name: None,
    };
    let context = RequestContext {
        request_id: "r".into(),
        principal,
        access_key_id: "AKIAEXAMPLE".into(),
        region: REGION.into(),
        source_ip: "127.0.0.1".into(),
        user_agent: "bench".into(),
        received_at: chrono::Utc::now(),
    };
    let facts = RequestFacts::default();
    let events: Vec<serde_json::Value> = (0..1000)
        .map(|i| json!({"timestamp": i, "message": "x".repeat(200)}))
        .collect();
    let put = json!({"logGroupName": "/g", "logStreamName": "s", "logEvents": events});
    let output = json!({});
    let mut group = c.benchmark_group("recording");
    group.bench_function("PutLogEvents (data event, no trail wants it)", |b| {
        b.iter(|| {
            recorder.observe(&ObservedCall {
                context: Some(&context),
                request: &facts,
                service: "logs",
                operation: "PutLogEvents",
                input: Some(&put),
                outcome: Ok(&output),
                resources: &[],
            })
        })
    });
    let create = json!({"logGroupName": "/app/web"});
    group.bench_function("CreateLogGroup record built", |b| {
        b.iter(|| {
            recorder.build(
                &ObservedCall {
                    context: Some(&context),
                    request: &facts,
                    service: "logs",
                    operation: "CreateLogGroup",
                    input: Some(&create),
                    outcome: Ok(&output),
                    resources: &[],
                },
                EventCategory::Management,
                false,
            )
        })
    });
    group.finish();
    history.shutdown();
}

criterion_group!(benches, recording_overhead, bench);
criterion_main!(benches);
