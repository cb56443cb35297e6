//! Golden corpus: every `tests/golden/*.case` file holds a query, input
//! events and either the expected rows or the expected compile error.
//!
//! Case format (sections start with `--- name`):
//!
//! ```text
//! # free-form comment lines before the first section
//! --- query
//! <query text, may span lines>
//! --- sql                instead of `query`: a SQL query (parse_sql)
//! --- groups             (optional) the log groups the query names
//!                        (SOURCE / FROM), one a line
//! --- context            (optional) now=<ms> limit=<n> start=<ms> end=<ms>
//! --- events             one event per line: `<timestamp ms> <message>`;
//!                        `@stream NAME` / `@group NAME` set the stream and
//!                        group of the events after them. Ingestion time is
//!                        timestamp + 500, @ptr is `ptr<index>`.
//! --- rows               one `field: value` line per field, rows separated
//!                        by blank lines; `\n` in a value is a newline.
//! --- counts             (optional) scanned=<n> matched=<n> bytes=<n>
//! --- error              `<start>..<end> <message>` (character offsets)
//! ```
//!
//! A case has exactly one of `rows` and `error`. `rows` may be empty for
//! queries that return nothing.

use std::fs;
use std::path::Path;

use watchtrail_insights::{parse, parse_sql, Event, ExecutionContext};

const DEFAULT_NOW_MS: i64 = 1_700_000_000_000;

#[derive(Default)]
struct Case {
    query: String,
    sql: bool,
    groups: Option<String>,
    context: Option<String>,
    events: Option<String>,
    rows: Option<String>,
    counts: Option<String>,
    error: Option<String>,
}

fn read_case(text: &str) -> Result<Case, String> {
    let mut case = Case::default();
    let mut current: Option<(String, String)> = None;
    let finish = |case: &mut Case, section: Option<(String, String)>| -> Result<(), String> {
        let Some((name, body)) = section else {
            return Ok(());
        };
        let slot = match name.as_str() {
            "query" | "sql" => {
                case.query = body.trim_end_matches('\n').to_string();
                case.sql = name == "sql";
                return Ok(());
            }
            "groups" => &mut case.groups,
            "context" => &mut case.context,
            "events" => &mut case.events,
            "rows" => &mut case.rows,
            "counts" => &mut case.counts,
            "error" => &mut case.error,
            other => return Err(format!("unknown section '{other}'")),
        };
        *slot = Some(body);
        Ok(())
    };
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("--- ") {
            let prev = current.take();
            finish(&mut case, prev)?;
            current = Some((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    finish(&mut case, current)?;
    if case.query.is_empty() {
        return Err("missing query section".into());
    }
    if case.rows.is_some() == case.error.is_some() {
        return Err("a case needs exactly one of rows and error".into());
    }
    Ok(case)
}

struct OwnedEvent {
    timestamp_ms: i64,
    message: String,
    stream: String,
    group: String,
}

fn read_events(body: &str) -> Result<Vec<OwnedEvent>, String> {
    let mut stream = "stream-a".to_string();
    let mut group = "group-a".to_string();
    let mut out = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix("@stream ") {
            stream = s.trim().to_string();
            continue;
        }
        if let Some(g) = line.strip_prefix("@group ") {
            group = g.trim().to_string();
            continue;
        }
        let (ts, message) = line.split_once(' ').unwrap_or((line, ""));
        let timestamp_ms = ts
            .parse()
            .map_err(|_| format!("bad event timestamp in '{line}'"))?;
        out.push(OwnedEvent {
            timestamp_ms,
            message: message.to_string(),
            stream: stream.clone(),
            group: group.clone(),
        });
    }
    Ok(out)
}

fn format_rows(rows: &[Vec<(String, String)>]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (k, v) in row {
            out.push_str(&format!("{k}: {}\n", v.replace('\n', "\\n")));
        }
    }
    out
}

fn normalize_rows(body: &str) -> String {
    let trimmed = body.trim_matches('\n');
    if trimmed.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut blank = false;
    for line in trimmed.lines() {
        if line.trim().is_empty() {
            blank = true;
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case = read_case(&text)?;
    let parsed = if case.sql {
        parse_sql(&case.query)
    } else {
        parse(&case.query)
    };
    if let Some(expected) = &case.error {
        let expected = expected.trim();
        let err = match parsed {
            Ok(_) => return Err(format!("expected error `{expected}`, but the query parsed")),
            Err(e) => e,
        };
        let actual = format!("{}..{} {}", err.start, err.end, err.message);
        if actual != expected {
            if std::env::var_os("GOLDEN_SHOW").is_some() {
                eprintln!("==== {} actual error:\n{actual}\n====", path.display());
            }
            return Err(format!(
                "error mismatch\n  expected: {expected}\n  actual:   {actual}"
            ));
        }
        return Ok(());
    }
    let query = parsed.map_err(|e| format!("query failed to parse: {e}"))?;
    if let Some(groups) = &case.groups {
        let expected: Vec<&str> = groups.lines().filter(|l| !l.is_empty()).collect();
        let actual: Vec<&str> = query
            .source()
            .map(|s| s.log_group_names.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if actual != expected {
            return Err(format!(
                "groups mismatch: expected {expected:?}, got {actual:?}"
            ));
        }
    }
    let mut ctx = ExecutionContext::unbounded(DEFAULT_NOW_MS);
    if let Some(c) = &case.context {
        for kv in c.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or(format!("bad context '{kv}'"))?;
            let n: i64 = v.parse().map_err(|_| format!("bad context value '{kv}'"))?;
            match k {
                "now" => ctx.now_ms = n,
                "limit" => ctx.limit = Some(n as usize),
                "start" => ctx.start_ms = n,
                "end" => ctx.end_ms = n,
                _ => return Err(format!("unknown context key '{k}'")),
            }
        }
    }
    let events = read_events(case.events.as_deref().unwrap_or(""))?;
    let mut run = query.execute(ctx);
    for (i, e) in events.iter().enumerate() {
        run.push(&Event {
            timestamp_ms: e.timestamp_ms,
            ingestion_time_ms: e.timestamp_ms + 500,
            message: &e.message,
            log_stream: &e.stream,
            log_group: &e.group,
            ptr: format!("ptr{i}"),
        });
    }
    let partial = run.partial();
    let out = run.finish();
    if partial != out {
        return Err("partial() after the last event differs from finish()".into());
    }
    let actual = format_rows(&out.rows);
    let expected = normalize_rows(case.rows.as_deref().unwrap_or(""));
    if actual != expected {
        if std::env::var_os("GOLDEN_SHOW").is_some() {
            eprintln!("==== {} actual rows:\n{actual}====", path.display());
        }
        return Err(format!(
            "rows mismatch\n--- expected\n{expected}--- actual\n{actual}"
        ));
    }
    if let Some(counts) = &case.counts {
        let actual = format!(
            "scanned={} matched={} bytes={}",
            out.records_scanned, out.records_matched, out.bytes_scanned
        );
        if actual != counts.trim() {
            return Err(format!(
                "counts mismatch\n  expected: {}\n  actual:   {actual}",
                counts.trim()
            ));
        }
    }
    Ok(())
}

#[test]
fn golden_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 50,
        "the golden corpus shrank to {} cases",
        paths.len()
    );
    let mut failures = Vec::new();
    for path in &paths {
        if let Err(e) = run_case(path) {
            failures.push(format!(
                "{}: {e}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
}
