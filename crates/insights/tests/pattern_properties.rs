//! `pattern` and `diff` results depend only on the set of events, not on
//! the order they arrive in, and every event is counted in exactly one
//! template.

use proptest::prelude::*;
use watchtrail_insights::{parse, Event, ExecutionContext, QueryOutput};

const WORDS: &[&str] = &[
    "ERROR",
    "INFO",
    "user",
    "alice",
    "bob",
    "login",
    "failed",
    "ok",
    "from",
    "10.0.0.1",
    "192.168.0.7",
    "42",
    "-3",
    "0x1f",
    "2024-01-02T03:04:05Z",
    "db-1",
    "a=b",
    "[x]",
    "é",
];

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..7).prop_map(|w| w.join(" "))
}

fn run(query: &str, ctx: ExecutionContext, events: &[(i64, String)]) -> QueryOutput {
    let q = parse(query).expect("query parses");
    let mut run = q.execute(ctx);
    for (i, (ts, m)) in events.iter().enumerate() {
        run.push(&Event {
            timestamp_ms: *ts,
            ingestion_time_ms: *ts,
            message: m,
            log_stream: "s",
            log_group: "g",
            ptr: format!("p{i}"),
        });
    }
    run.finish()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> Option<&'a str> {
    row.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn pattern_ignores_arrival_order(messages in prop::collection::vec(message(), 0..40)) {
        let events: Vec<(i64, String)> = messages.into_iter().enumerate().map(|(i, m)| (i as i64, m)).collect();
        let mut reversed = events.clone();
        reversed.reverse();
        let ctx = ExecutionContext::unbounded(0);
        let a = run("pattern @message", ctx, &events);
        let b = run("pattern @message", ctx, &reversed);
        prop_assert_eq!(&a.rows, &b.rows);
        let total: i64 = a.rows.iter().map(|r| field(r, "@sampleCount").unwrap().parse::<i64>().unwrap()).sum();
        prop_assert_eq!(total as usize, events.len());
    }

    #[test]
    fn diff_counts_each_window(current in prop::collection::vec(message(), 0..20), previous in prop::collection::vec(message(), 0..20)) {
        let ctx = ExecutionContext { start_ms: 1000, end_ms: 1999, now_ms: 0, limit: None };
        let mut events: Vec<(i64, String)> = current.iter().map(|m| (1500, m.clone())).collect();
        events.extend(previous.iter().map(|m| (500, m.clone())));
        // Outside both windows: ignored.
        events.push((2000, "late".to_string()));
        events.push((-1, "early".to_string()));
        let a = run("diff", ctx, &events);
        events.reverse();
        let b = run("diff", ctx, &events);
        prop_assert_eq!(&a.rows, &b.rows);
        let sum = |name: &str| -> usize {
            a.rows.iter().map(|r| field(r, name).unwrap().parse::<usize>().unwrap()).sum()
        };
        prop_assert_eq!(sum("@currentCount"), current.len());
        prop_assert_eq!(sum("@previousCount"), previous.len());
        prop_assert_eq!(a.records_scanned as usize, current.len() + previous.len());
    }
}
