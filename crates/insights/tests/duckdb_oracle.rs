//! Differential test against DuckDB: the same aggregates over the same
//! generated NDJSON, computed by this engine (Logs Insights and SQL front
//! ends) and by DuckDB through `python3`. Skips when python3 is missing;
//! when DuckDB is missing it skips too, unless WATCHTRAIL_REQUIRE_DUCKDB=1
//! (set by scripts/test.sh), in which case it fails.

use std::io::Write;
use std::process::Command;

use serde_json::Value as Json;
use watchtrail_insights::{parse, parse_sql, Event, ExecutionContext, Query};

const EVENTS: usize = 20_000;
const SERVICES: &[&str] = &["api", "auth", "billing", "db", "edge", "queue", "web"];
const STATUSES: &[i64] = &[200, 200, 200, 201, 204, 301, 400, 403, 404, 500, 502, 503];

/// A deterministic generator (64-bit LCG), so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn generate() -> Vec<String> {
    let mut rng = Lcg(42);
    (0..EVENTS)
        .map(|i| {
            let svc = SERVICES[rng.next() as usize % SERVICES.len()];
            let status = STATUSES[rng.next() as usize % STATUSES.len()];
            let user = format!("u{}", rng.next() % 300);
            let mut obj = serde_json::json!({"svc": svc, "status": status, "user": user, "seq": i});
            // Every 9th event lacks bytes, so count(f) and the null
            // handling of sum/avg/min/max are compared too.
            if !rng.next().is_multiple_of(9) {
                obj["bytes"] = Json::from(rng.next() % 5_000_000);
            }
            obj["latency"] = Json::from((rng.next() % 100_000) as f64 / 100.0);
            obj.to_string()
        })
        .collect()
}

/// (Logs Insights query, our SQL, DuckDB SQL over `t`). Every query
/// returns the group key columns first, sorted by them.
const QUERIES: &[(&str, &str, &str)] = &[
    (
        "stats count(*) as n by svc | sort svc",
        "SELECT svc, COUNT(*) AS n FROM `g` GROUP BY svc ORDER BY svc",
        "SELECT svc, count(*) FROM t GROUP BY svc ORDER BY svc",
    ),
    (
        "stats sum(bytes) as s, avg(bytes) as a, min(bytes) as lo, max(bytes) as hi, count(bytes) as c by svc | sort svc",
        "SELECT svc, SUM(bytes) AS s, AVG(bytes) AS a, MIN(bytes) AS lo, MAX(bytes) AS hi, COUNT(bytes) AS c FROM `g` GROUP BY svc ORDER BY svc",
        "SELECT svc, sum(bytes), avg(bytes), min(bytes), max(bytes), count(bytes) FROM t GROUP BY svc ORDER BY svc",
    ),
    (
        "filter status >= 500 | stats count(*) as n",
        "SELECT COUNT(*) AS n FROM `g` WHERE status >= 500",
        "SELECT count(*) FROM t WHERE status >= 500",
    ),
    (
        "filter svc = \"api\" and bytes > 1000000 | stats count(*) as n, avg(latency) as l by status | sort status",
        "SELECT status, COUNT(*) AS n, AVG(latency) AS l FROM `g` WHERE svc = 'api' AND bytes > 1000000 GROUP BY status ORDER BY status",
        "SELECT status, count(*), avg(latency) FROM t WHERE svc = 'api' AND bytes > 1000000 GROUP BY status ORDER BY status",
    ),
    (
        "stats count_distinct(user) as u, max(latency) as m by svc, status | sort svc, status",
        "SELECT svc, status, COUNT(DISTINCT user) AS u, MAX(latency) AS m FROM `g` GROUP BY svc, status ORDER BY svc, status",
        "SELECT svc, status, count(DISTINCT \"user\"), max(latency) FROM t GROUP BY svc, status ORDER BY svc, status",
    ),
    (
        "filter status in [400, 403, 404] or latency < 10 | stats sum(latency) as s by svc | sort svc",
        "SELECT svc, SUM(latency) AS s FROM `g` WHERE status IN (400, 403, 404) OR latency < 10 GROUP BY svc ORDER BY svc",
        "SELECT svc, sum(latency) FROM t WHERE status IN (400, 403, 404) OR latency < 10 GROUP BY svc ORDER BY svc",
    ),
];

const ORACLE: &str = r#"
import json, sys
import duckdb
path, queries = sys.argv[1], json.loads(sys.argv[2])
con = duckdb.connect()
con.execute("CREATE TABLE t AS SELECT * FROM read_json_auto(?, format='newline_delimited')", [path])
out = []
for q in queries:
    out.append([[None if v is None else (v if isinstance(v, (int, float)) else str(v)) for v in row] for row in con.execute(q).fetchall()])
print(json.dumps(out))
"#;

fn run(query: &Query, messages: &[String]) -> Vec<Vec<String>> {
    let mut run = query.execute(ExecutionContext::unbounded(0));
    for (i, m) in messages.iter().enumerate() {
        run.push(&Event {
            timestamp_ms: 1_700_000_000_000 + i as i64,
            ingestion_time_ms: 1_700_000_000_000,
            message: m,
            log_stream: "s",
            log_group: "123456789012:g",
            ptr: String::new(),
        });
    }
    run.finish()
        .rows
        .into_iter()
        .map(|row| row.into_iter().map(|(_, v)| v).collect())
        .collect()
}

fn same_value(ours: &str, theirs: &Json) -> bool {
    match theirs {
        Json::String(s) => ours == s,
        Json::Number(n) => {
            let (Ok(a), Some(b)) = (ours.parse::<f64>(), n.as_f64()) else {
                return false;
            };
            (a - b).abs() <= 1e-9 * b.abs().max(1.0)
        }
        _ => false,
    }
}

fn compare(label: &str, ours: &[Vec<String>], theirs: &[Json]) {
    assert_eq!(ours.len(), theirs.len(), "{label}: row counts differ");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let b = b.as_array().expect("row");
        assert_eq!(
            a.len(),
            b.len(),
            "{label}: row {i} width differs: {a:?} vs {b:?}"
        );
        for (x, y) in a.iter().zip(b) {
            assert!(
                same_value(x, y),
                "{label}: row {i}: ours {a:?}, DuckDB {b:?}"
            );
        }
    }
}

#[test]
fn aggregates_match_duckdb() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let has_duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_duckdb {
        assert!(
            std::env::var("WATCHTRAIL_REQUIRE_DUCKDB").as_deref() != Ok("1"),
            "WATCHTRAIL_REQUIRE_DUCKDB=1 but the duckdb Python package is missing (pip install duckdb)"
        );
        eprintln!("skipped: the duckdb Python package is not installed");
        return;
    }
    let messages = generate();
    let path = std::env::temp_dir().join(format!(
        "watchtrail-insights-oracle-{}.ndjson",
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&path).expect("create NDJSON");
        for m in &messages {
            writeln!(f, "{m}").expect("write NDJSON");
        }
    }
    let duck_queries: Vec<&str> = QUERIES.iter().map(|q| q.2).collect();
    let output = Command::new("python3")
        .args(["-c", ORACLE, path.to_str().expect("utf-8 path")])
        .arg(serde_json::to_string(&duck_queries).expect("json"))
        .output()
        .expect("run python3");
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "DuckDB oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let oracle: Vec<Json> = serde_json::from_slice(&output.stdout).expect("oracle JSON");
    for ((insights, sql, _), expected) in QUERIES.iter().zip(&oracle) {
        let expected = expected.as_array().expect("result rows");
        assert!(
            !expected.is_empty(),
            "the oracle returned no rows for {insights}"
        );
        let q = parse(insights).unwrap_or_else(|e| panic!("{insights}: {e}"));
        compare(insights, &run(&q, &messages), expected);
        let q = parse_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        compare(sql, &run(&q, &messages), expected);
    }
}
