//! The property the fuzz target checks, shared with the proptest harness in
//! `tests/parser_fuzz.rs` (which runs it on stable, in CI).

use watchtrail_insights::{parse, parse_sql, Event, ExecutionContext, Query, QueryError};

const MESSAGES: &[&str] = &[
    r#"{"a":1,"b":"x","c":[1,2],"d":{"e":null}}"#,
    "level=error msg=\"disk full\" n=3",
    "2024-01-01,ERROR,\"a,b\"",
    "[INFO] Request time: 327 ms from 10.0.0.1",
    "REPORT RequestId: 1 Duration: 2.5 ms",
    "",
];

/// Parses `text` as Logs Insights and as SQL; every error must point
/// inside the text, and every query that parses must run to completion.
pub fn check_query_text(text: &str) {
    check(text, parse(text));
    check(text, parse_sql(text));
}

fn check(text: &str, parsed: Result<Query, QueryError>) {
    match parsed {
        Err(e) => {
            let len = text.chars().count();
            assert!(
                e.start <= e.end && e.end <= len,
                "offsets {}..{} outside 0..{len} for {text:?}",
                e.start,
                e.end
            );
            assert!(!e.message.is_empty(), "empty error message for {text:?}");
        }
        Ok(query) => {
            let start = 1_700_000_000_000;
            let (scan_start, scan_end) = query.required_range(start, start + 59_999);
            assert!(scan_start <= start && scan_end >= start + 59_999);
            let mut run = query.execute(ExecutionContext {
                start_ms: start,
                end_ms: start + 59_999,
                now_ms: start,
                limit: None,
            });
            for (i, message) in MESSAGES.iter().enumerate() {
                run.push(&Event {
                    timestamp_ms: scan_start + i as i64 * 13_000,
                    ingestion_time_ms: start,
                    message,
                    log_stream: "s",
                    log_group: "123456789012:g",
                    ptr: format!("p{i}"),
                });
            }
            let partial = run.partial();
            let done = run.finish();
            assert_eq!(partial, done);
        }
    }
}
