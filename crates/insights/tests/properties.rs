//! Property tests: the parser never panics and reports offsets inside the
//! query; stats agree with an independent computation; results do not
//! depend on the order events arrive in.

use std::collections::BTreeMap;

use proptest::prelude::*;
use watchtrail_insights::{parse, Event, ExecutionContext, QueryOutput};

const BASE_MS: i64 = 1_700_000_000_000;

/// Fragments of the grammar, so random queries reach deep parser states
/// instead of failing on the first character.
const VOCABULARY: &[&str] = &[
    "fields",
    "filter",
    "stats",
    "sort",
    "limit",
    "parse",
    "dedup",
    "display",
    "by",
    "as",
    "and",
    "or",
    "not",
    "in",
    "like",
    "desc",
    "asc",
    "SOURCE",
    "logGroups",
    "namePrefix",
    "unmask",
    "filterIndex",
    "|",
    ",",
    "(",
    ")",
    "[",
    "]",
    "=",
    "!=",
    "<",
    ">=",
    "=~",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    ":",
    "#",
    "\n",
    "@message",
    "@timestamp",
    "a.b.0",
    "`x y`",
    "\"str\"",
    "'s'",
    "/re(?<n>x)/",
    "/",
    "5m",
    "1.5",
    "42",
    "0",
    "100001",
    "count(*)",
    "count",
    "sum",
    "pct",
    "bin",
    "bin(5m)",
    "strlen",
    "regexReplace",
    "datefloor",
    "\"*=*\"",
    "é",
    "\\",
    "`",
    "\"",
    "multi",
    "logfmt",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..24).prop_map(|t| t.join(" "))
}

fn check_error_offsets(text: &str) {
    if let Err(e) = parse(text) {
        let len = text.chars().count();
        assert!(
            e.start <= e.end && e.end <= len,
            "offsets {}..{} outside 0..{len} for {text:?}",
            e.start,
            e.end
        );
        assert!(!e.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        check_error_offsets(&text);
    }

    #[test]
    fn parse_never_panics_on_token_soup(text in token_soup()) {
        check_error_offsets(&text);
    }

    #[test]
    fn valid_soup_queries_execute_without_panicking(text in token_soup(), messages in prop::collection::vec(message(), 0..8)) {
        if let Ok(query) = parse(&text) {
            let mut run = query.execute(ExecutionContext::unbounded(BASE_MS));
            for (i, m) in messages.iter().enumerate() {
                run.push(&event(i, BASE_MS + i as i64, m));
            }
            let _ = run.finish();
        }
    }
}

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        (0i64..5, -50i64..50).prop_map(|(k, v)| format!(r#"{{"k":"k{k}","v":{v},"x":"1.5"}}"#)),
        Just("REPORT RequestId: 8f5d3a3c-1d2e-4c1b-9a39-1f1e2d3c4b5a\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\t".to_string()),
        Just("2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 22 6 1 100 1418530010 1418530070 REJECT OK".to_string()),
    ]
}

fn event(i: usize, ts: i64, message: &str) -> Event<'_> {
    Event {
        timestamp_ms: ts,
        ingestion_time_ms: ts,
        message,
        log_stream: "s",
        log_group: "g",
        ptr: format!("p{i}"),
    }
}

/// The value of `v` in a generated event: an integer, a decimal, text that
/// is not a number, or absent.
#[derive(Debug, Clone)]
enum Sample {
    Int(i64),
    Decimal(i64),
    Text,
    Missing,
}

fn sample() -> impl Strategy<Value = (u8, Sample)> {
    let v = prop_oneof![
        (-1_000_000i64..1_000_000).prop_map(Sample::Int),
        (-100_000i64..100_000).prop_map(Sample::Decimal),
        Just(Sample::Text),
        Just(Sample::Missing),
    ];
    (0u8..6, v)
}

fn json_of(key: u8, v: &Sample) -> String {
    match v {
        Sample::Int(i) => format!(r#"{{"k":"key{key}","v":{i}}}"#),
        // Decimals in quarters are exact in binary, so sums do not depend
        // on the order they are added in.
        Sample::Decimal(q) => format!(r#"{{"k":"key{key}","v":{}}}"#, *q as f64 / 4.0),
        Sample::Text => format!(r#"{{"k":"key{key}","v":"n/a"}}"#),
        Sample::Missing => format!(r#"{{"k":"key{key}"}}"#),
    }
}

fn run(query: &str, messages: &[String]) -> QueryOutput {
    let query = parse(query).unwrap();
    let mut run = query.execute(ExecutionContext::unbounded(BASE_MS));
    for (i, m) in messages.iter().enumerate() {
        run.push(&event(i, BASE_MS + i as i64, m));
    }
    run.finish()
}

fn field<'a>(row: &'a [(String, String)], name: &str) -> Option<&'a str> {
    row.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[derive(Default, Debug)]
struct Expected {
    count: u64,
    count_v: u64,
    sum: f64,
    numeric: u64,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// stats count/sum/avg by key against a plain fold over the samples.
    #[test]
    fn stats_match_independent_fold(samples in prop::collection::vec(sample(), 0..200)) {
        let messages: Vec<String> = samples.iter().map(|(k, v)| json_of(*k, v)).collect();
        let out = run("stats count(*) as c, count(v) as cv, sum(v) as s, avg(v) as a by k", &messages);

        let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
        for (k, v) in &samples {
            let e = expected.entry(format!("key{k}")).or_default();
            e.count += 1;
            let number = match v {
                Sample::Int(i) => Some(*i as f64),
                Sample::Decimal(q) => Some(*q as f64 / 4.0),
                Sample::Text => None,
                Sample::Missing => None,
            };
            if !matches!(v, Sample::Missing) {
                e.count_v += 1;
            }
            if let Some(n) = number {
                e.sum += n;
                e.numeric += 1;
            }
        }

        prop_assert_eq!(out.rows.len(), expected.len());
        let keys: Vec<&str> = out.rows.iter().map(|r| field(r, "k").unwrap()).collect();
        let expected_keys: Vec<&str> = expected.keys().map(String::as_str).collect();
        prop_assert_eq!(keys, expected_keys, "groups come out in key order");
        for row in &out.rows {
            let e = &expected[field(row, "k").unwrap()];
            let (count, count_v) = (e.count.to_string(), e.count_v.to_string());
            prop_assert_eq!(field(row, "c"), Some(count.as_str()));
            prop_assert_eq!(field(row, "cv"), Some(count_v.as_str()));
            if e.numeric == 0 {
                prop_assert_eq!(field(row, "s"), None);
                prop_assert_eq!(field(row, "a"), None);
            } else {
                let s: f64 = field(row, "s").unwrap().parse().unwrap();
                prop_assert!((s - e.sum).abs() <= 1e-9 * e.sum.abs().max(1.0), "sum {} vs {}", s, e.sum);
                let a: f64 = field(row, "a").unwrap().parse().unwrap();
                let ea = e.sum / e.numeric as f64;
                prop_assert!((a - ea).abs() <= 1e-9 * ea.abs().max(1.0), "avg {} vs {}", a, ea);
            }
        }
        prop_assert_eq!(out.records_scanned, samples.len() as u64);
        prop_assert_eq!(out.records_matched, samples.len() as u64);
    }

    /// Stats results do not depend on the order events are pushed in.
    #[test]
    fn stats_are_order_independent(samples in prop::collection::vec(sample(), 0..100), seed in any::<u64>()) {
        let messages: Vec<String> = samples.iter().map(|(k, v)| json_of(*k, v)).collect();
        let query = parse("stats count(*) as c, sum(v) as s, min(v) as lo, max(v) as hi, count_distinct(v) as d by k").unwrap();
        let mut forward = query.execute(ExecutionContext::unbounded(BASE_MS));
        for (i, m) in messages.iter().enumerate() {
            forward.push(&event(i, BASE_MS, m));
        }
        let mut order: Vec<usize> = (0..messages.len()).collect();
        let mut state = seed | 1;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut shuffled = query.execute(ExecutionContext::unbounded(BASE_MS));
        for &i in &order {
            shuffled.push(&event(i, BASE_MS, &messages[i]));
        }
        prop_assert_eq!(forward.finish(), shuffled.finish());
    }

    /// Keeping only the top rows while scanning gives the same answer as
    /// sorting everything at the end.
    #[test]
    fn top_rows_survive_pruning(values in prop::collection::vec(-500i64..500, 1100..1500), limit in 1usize..20) {
        let messages: Vec<String> = values.iter().map(|v| format!(r#"{{"n":{v}}}"#)).collect();
        let out = run(&format!("fields n | sort n desc | limit {limit}"), &messages);
        let mut expected: Vec<(i64, usize)> = values.iter().copied().enumerate().map(|(i, v)| (v, i)).collect();
        // Descending by value, ties in arrival order.
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        expected.truncate(limit);
        let actual: Vec<(String, String)> = out.rows.iter().map(|r| (field(r, "n").unwrap().to_string(), field(r, "@ptr").unwrap().to_string())).collect();
        let expected: Vec<(String, String)> = expected.iter().map(|(v, i)| (v.to_string(), format!("p{i}"))).collect();
        prop_assert_eq!(actual, expected);

        // Default order (@timestamp desc) prunes too.
        let out = run(&format!("fields n | limit {limit}"), &messages);
        let ptrs: Vec<String> = out.rows.iter().map(|r| field(r, "@ptr").unwrap().to_string()).collect();
        let expected: Vec<String> = (0..values.len()).rev().take(limit).map(|i| format!("p{i}")).collect();
        prop_assert_eq!(ptrs, expected);
    }
}

#[test]
fn partial_results_grow_as_events_arrive() {
    let query = parse("stats count(*) as n").unwrap();
    let mut run = query.execute(ExecutionContext::unbounded(BASE_MS));
    assert!(run.partial().rows.is_empty());
    run.push(&event(0, BASE_MS, "a"));
    assert_eq!(
        run.partial().rows,
        vec![vec![("n".to_string(), "1".to_string())]]
    );
    run.push(&event(1, BASE_MS, "b"));
    assert_eq!(
        run.finish().rows,
        vec![vec![("n".to_string(), "2".to_string())]]
    );
}

/// Queries that between them call every function, over arbitrary values.
const FUNCTION_QUERIES: &[&str] = &[
    "fields concat(a, b, 1) as x1, strlen(a) as x2, substr(a, b) as x3, substr(a, b, c) as x4, replace(a, b, c) as x5, regexReplace(a, /[0-9]+/, b) as x6, trim(a) as x7, ltrim(a, b) as x8, rtrim(a, b) as x9, toupper(a) as x10, tolower(a) as x11, strcontains(a, b) as x12, startsWith(a, b) as x13, endsWith(a, b) as x14, isempty(a) as x15, isblank(a) as x16",
    "fields abs(a) as x1, ceil(a) as x2, floor(a) as x3, round(a) as x4, round(a, b) as x5, greatest(a, b, c) as x6, least(a, b, c) as x7, log(a) as x8, sqrt(a) as x9, toNumber(a) as x10, toInt(a) as x11, toLong(a) as x12, toDouble(a) as x13, haversine(a, b, c, a) as x14, hexToDec(a) as x15, decToHex(a) as x16, hexToAscii(a) as x17",
    "fields bin(1mo) as x1, datefloor(a, 1q) as x2, dateceil(a, 3y) as x3, fromMillis(a) as x4, toMillis(a) as x5, now() as x6, ispresent(a) as x7, coalesce(a, b) as x8, if(a, b, c) as x9, case(a, b, c) as x10, isNumeric(a) as x11, messageSize() as x12, queryTimeRange() as x14, parseDate(a, 'yyyy-MM-dd') as x15, formatDate(a, 'yyyy') as x16, strftime(a, '%F', b) as x17, parseDate(a, b, c) as x18",
    "fields base64Encode(a) as c1, base64Decode(a) as c2, urlEncode(a) as c3, urlDecode(a) as c4, split(a, b) as c5 | fields isValidIp(a) as x1, isValidIpV4(a) as x2, isValidIpV6(a) as x3, isIpInSubnet(a, b) as x4, isIpv4InSubnet(a, b) as x5, isIpv6InSubnet(a, b) as x6, ipv4ToNumber(a) as x7, isPrivateIP(a) as x8, isPublicIP(a) as x9, isReservedIP(a) as x10",
    "fields a + b as x1, a - b as x2, a * b as x3, a / b as x4, a % b as x5, a ^ b as x6, -a as x7, a = b as x8, a < b as x9, a in [b, c, 1] as x10, a like '1' as x11, not a as x12 | sort x1 desc, a asc",
    "stats avg(a), sum(a), min(a), max(a), count(a), count(*), count_distinct(a), stddev(a), pct(a, 99), earliest(a), latest(a), sortsFirst(a), sortsLast(a), sum(a) / count(b) as r by b, bin(1h) | sort r desc",
    "fields jsonParse(a) as j, jsonParse(b) as k, split(a, c) as sp | fields sp[0], j.x, j.0.y, k[1], jsonStringify(j) as s, jsonArraySize(k) as n, jsonArrayContains(k, c) as h, j = k as e | stats count(*) by k.z | sort k.z desc",
    "parse a \"*:*\" as p, q | parse b /(?<r>\\d+)/ | dedup p | limit 3",
];

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap_or_else(|_| "null".into())),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("\"10.0.0.1\"".to_string()),
        Just("\"2001:db8::/32\"".to_string()),
        Just("\"ff\"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn functions_never_panic(values in prop::collection::vec((value_text(), value_text(), value_text(), any::<i64>()), 1..6)) {
        let messages: Vec<(i64, String)> = values
            .iter()
            .map(|(a, b, c, ts)| (*ts, format!(r#"{{"a":{a},"b":{b},"c":{c}}}"#)))
            .collect();
        for text in FUNCTION_QUERIES {
            let query = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let mut run = query.execute(ExecutionContext::unbounded(BASE_MS));
            for (i, (ts, m)) in messages.iter().enumerate() {
                run.push(&event(i, *ts, m));
            }
            let _ = run.partial();
            let _ = run.finish();
        }
    }
}

#[test]
fn queries_and_executions_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<watchtrail_insights::Query>();
    assert_send_sync::<watchtrail_insights::Execution>();
    assert_send_sync::<watchtrail_insights::QueryError>();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// Without a sort, rows come newest first whatever order the events
    /// arrive in, also when the engine prunes while scanning.
    #[test]
    fn default_order_ignores_arrival_order(n in 1usize..3000, limit in 1usize..40, seed in any::<u64>()) {
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = seed | 1;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let query = parse(&format!("fields @message | limit {limit}")).unwrap();
        let mut run = query.execute(ExecutionContext::unbounded(BASE_MS));
        let messages: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        for &i in &order {
            // Timestamps are distinct, so the expected order is total.
            run.push(&event(i, BASE_MS + 7 * i as i64, &messages[i]));
        }
        let out = run.finish();
        let actual: Vec<&str> = out.rows.iter().map(|r| field(r, "@message").unwrap()).collect();
        let expected: Vec<String> = (0..n).rev().take(limit).map(|i| format!("m{i}")).collect();
        prop_assert_eq!(actual, expected);
    }
}

fn json_tree() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        any::<i32>().prop_map(J::from),
        "[a-z ]{0,6}".prop_map(J::String),
        any::<bool>().prop_map(J::Bool),
        Just(J::Null),
    ];
    leaf.prop_recursive(4, 400, 60, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..60).prop_map(J::Array),
            prop::collection::btree_map("[a-c]{1,2}", inner, 0..6)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Discovering only the fields a query names gives what full discovery
    /// gives: the values of the first 200 fields in document order, nothing
    /// past them. Checked against an independent flattening.
    #[test]
    fn targeted_discovery_matches_full_discovery(
        fields in prop::collection::btree_map("[a-c]{1,2}", prop_oneof![
            3 => json_tree(),
            // Wide arrays push events past the 200-field budget.
            1 => prop::collection::vec(any::<i32>(), 100..250).prop_map(serde_json::Value::from),
        ], 1..6),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let object = serde_json::Value::Object(fields.into_iter().collect());
        let mut leaves = Vec::new();
        flatten_for_test("", &object, &mut leaves);
        prop_assume!(!leaves.is_empty());
        let message = object.to_string();

        let mut names: Vec<String> = picks.iter().map(|i| i.get(&leaves).0.clone()).collect();
        names.push("zz.not.there".to_string());
        names.sort();
        names.dedup();
        let query = format!("fields {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "));
        let out = run(&query, std::slice::from_ref(&message));
        let within_budget = &leaves[..leaves.len().min(watchtrail_insights::MAX_JSON_FIELDS)];
        let expected: Vec<(String, String)> = names
            .iter()
            .filter_map(|n| within_budget.iter().find(|(k, _)| k == n).cloned())
            .chain(std::iter::once(("@ptr".to_string(), "p0".to_string())))
            .collect();
        prop_assert_eq!(&out.rows[0], &expected);

        // Full discovery agrees with the same budget.
        let all = watchtrail_insights::event_fields(&event(0, BASE_MS, &message));
        prop_assert_eq!(&all[5..], within_budget);
    }
}

/// Flattened leaves in document order (`null` is not a field).
fn flatten_for_test(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| flatten_for_test(&join(k), v, out)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| flatten_for_test(&join(&i.to_string()), v, out)),
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[test]
fn event_fields_lists_system_then_discovered_fields() {
    let fields = watchtrail_insights::event_fields(&event(
        3,
        1_000,
        r#"{"a":{"b":[1,"x"]},"ok":true,"n":null}"#,
    ));
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "@timestamp",
            "@message",
            "@logStream",
            "@log",
            "@ingestionTime",
            "a.b.0",
            "a.b.1",
            "ok"
        ]
    );
    assert_eq!(fields[0].1, "1970-01-01 00:00:01.000");
    assert_eq!(fields[7].1, "true");
}
