//! `watchtrail query --files`: runs a Logs Insights query over log files with no server, for
//! incident responders holding a bucket of CloudTrail, flow-log or application files.
//!
//! Each file becomes the events a log group would hold: a CloudTrail trail file gives one event
//! per record (the record's JSON as `@message`, like the CloudTrail-to-CloudWatch Logs
//! integration), any other file one event per line. Timestamps come from the format's parser
//! (`eventTime`, a flow log's `start`, a JSON `timestamp`, …) and fall back to the file's mtime,
//! so `bin()` and time ranges work on raw files as they do on ingested ones.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use indicatif::{ProgressBar, ProgressStyle};
use watchtrail_formats::{
    cloudtrail_records, detect, kind_from_object_key, open_decoded, Detection, FormatKind,
    LineOutcome, LineParser,
};
use watchtrail_insights::{Event, Execution, ExecutionContext, Query, QueryOutput};

use crate::import::{CountingReader, DETECTION_SAMPLE_LINES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(OutputFormat::Table),
            "json" => Ok(OutputFormat::Json),
            "csv" => Ok(OutputFormat::Csv),
            other => Err(format!(
                "unknown output format {other:?}; expected table, json or csv"
            )),
        }
    }
}

pub struct FileQueryOptions {
    /// `None`: CloudTrail files by content, others detected per file from the key layout and a
    /// sample of lines; undetectable files are read as plain text lines.
    pub format: Option<FormatKind>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: Option<usize>,
    pub progress: bool,
}

/// What a run read, for the summary line on stderr.
#[derive(Debug, Default)]
pub struct FileQueryReport {
    pub files_read: u64,
    pub files_failed: Vec<(PathBuf, String)>,
}

/// Feeds every event of `files` to one execution of `query`.
pub fn run(
    query: &Query,
    files: &[PathBuf],
    options: &FileQueryOptions,
) -> (QueryOutput, FileQueryReport) {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut execution = query.execute(ExecutionContext {
        start_ms: options.start_ms,
        end_ms: options.end_ms,
        now_ms,
        limit: options.limit,
    });
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if options.progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let counter = Arc::new(AtomicU64::new(0));
    let mut report = FileQueryReport::default();
    for (index, path) in files.iter().enumerate() {
        bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        match read_file(&mut execution, index, path, options, &counter, &bar) {
            Ok(()) => report.files_read += 1,
            Err(e) => report.files_failed.push((path.clone(), e.to_string())),
        }
        bar.set_position(counter.load(Ordering::Relaxed));
    }
    bar.finish_and_clear();
    (execution.finish(), report)
}

fn mtime_ms(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_file(
    execution: &mut Execution,
    index: usize,
    path: &Path,
    options: &FileQueryOptions,
    counter: &Arc<AtomicU64>,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)?;
    let mut reader = open_decoded(CountingReader {
        inner: file,
        counter: counter.clone(),
    })?;
    let key = path.to_string_lossy().into_owned();
    let stream = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_mtime = mtime_ms(path);
    let hint = options.format.or_else(|| kind_from_object_key(&key));
    let needs_ptr = execution.needs_ptr();

    // CloudTrail delivers one JSON document per file, not lines; try it whenever the file could be one.
    let maybe_trail_file = match hint {
        Some(FormatKind::CloudTrail) => true,
        Some(_) => false,
        None => {
            let name = key.trim_end_matches(".gz").trim_end_matches(".zst");
            name.ends_with(".json")
        }
    };
    if maybe_trail_file {
        let mut document = Vec::new();
        reader.read_to_end(&mut document)?;
        match cloudtrail_records(&document) {
            Ok(records) => {
                for (n, record) in records.iter().enumerate() {
                    let message = serde_json::to_string(record)?;
                    let timestamp_ms = record["eventTime"]
                        .as_str()
                        .and_then(watchtrail_formats::timestamp::parse_iso8601)
                        .unwrap_or(file_mtime);
                    execution.push(&Event {
                        timestamp_ms,
                        ingestion_time_ms: file_mtime,
                        message: &message,
                        log_stream: &stream,
                        log_group: &key,
                        ptr: if needs_ptr {
                            format!("{index}:{n}")
                        } else {
                            String::new()
                        },
                    });
                }
                return Ok(());
            }
            Err(e) if hint == Some(FormatKind::CloudTrail) => {
                anyhow::bail!(
                    "not a CloudTrail log file ({{\"Records\": [...]}}): {}",
                    e.0
                )
            }
            // An NDJSON file named .json: read it as lines.
            Err(_) => reader = Box::new(std::io::Cursor::new(document)),
        }
    }

    let mut sample = Vec::new();
    let mut line = String::new();
    while sample.len() < DETECTION_SAMPLE_LINES {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        sample.push(line.trim_end_matches(['\n', '\r']).to_string());
    }
    let kind = hint.or_else(|| {
        let refs: Vec<&str> = sample.iter().map(String::as_str).collect();
        match detect(&refs) {
            Detection::Detected { kind, .. } => Some(kind),
            Detection::Unsure { .. } => None,
        }
    });
    let mut parser = kind.map(LineParser::new);
    let mut last_timestamp = file_mtime;
    let mut line_number = 0u64;
    let mut push_line = |raw: &str, execution: &mut Execution| {
        line_number += 1;
        if raw.is_empty() {
            return;
        }
        if let Some(parser) = parser.as_mut() {
            match parser.parse_line(raw) {
                LineOutcome::Header => return,
                LineOutcome::Record(record) => {
                    if let Some(ts) = record.timestamp_ms {
                        last_timestamp = ts;
                    }
                }
                // Kept with the previous line's time, as the importer does.
                LineOutcome::Malformed { .. } => {}
            }
        }
        execution.push(&Event {
            timestamp_ms: last_timestamp,
            ingestion_time_ms: file_mtime,
            message: raw,
            log_stream: &stream,
            log_group: &key,
            ptr: if needs_ptr {
                format!("{index}:{line_number}")
            } else {
                String::new()
            },
        });
    };
    for raw in &sample {
        push_line(raw, execution);
    }
    let mut lines = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        push_line(line.trim_end_matches(['\n', '\r']), execution);
        lines += 1;
        if lines.is_multiple_of(65_536) {
            bar.set_position(counter.load(Ordering::Relaxed));
        }
    }
    Ok(())
}

/// The columns to print: the query's own, then any other field a row carries (except `@ptr`,
/// which means nothing outside a server).
fn output_columns(query: &Query, output: &QueryOutput) -> Vec<String> {
    let mut columns: Vec<String> = query.columns().to_vec();
    for row in &output.rows {
        for (name, _) in row {
            if name != "@ptr" && !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    columns
}

pub fn write_output(
    out: &mut dyn Write,
    format: OutputFormat,
    query: &Query,
    output: &QueryOutput,
) -> std::io::Result<()> {
    let columns = output_columns(query, output);
    let cell = |row: &Vec<(String, String)>, column: &str| -> Option<String> {
        row.iter()
            .find(|(name, _)| name == column)
            .map(|(_, v)| v.clone())
    };
    match format {
        OutputFormat::Json => {
            // Written member by member: a serde_json::Map would sort the keys and lose the
            // query's column order.
            for row in &output.rows {
                let members: Vec<String> = row
                    .iter()
                    .filter(|(name, _)| name != "@ptr")
                    .map(|(name, value)| {
                        format!(
                            "{}:{}",
                            serde_json::Value::from(name.as_str()),
                            serde_json::Value::from(value.as_str())
                        )
                    })
                    .collect();
                writeln!(out, "{{{}}}", members.join(","))?;
            }
        }
        OutputFormat::Csv => {
            let line: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
            writeln!(out, "{}", line.join(","))?;
            for row in &output.rows {
                let line: Vec<String> = columns
                    .iter()
                    .map(|c| cell(row, c).map(|v| csv_field(&v)).unwrap_or_default())
                    .collect();
                writeln!(out, "{}", line.join(","))?;
            }
        }
        OutputFormat::Table => {
            // Multi-line values (stack traces, pretty JSON) would break the grid.
            let flatten = |v: String| v.replace(['\n', '\r'], " ");
            let cells: Vec<Vec<String>> = output
                .rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| cell(row, c).map(flatten).unwrap_or_default())
                        .collect()
                })
                .collect();
            let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
            for row in &cells {
                for (w, v) in widths.iter_mut().zip(row) {
                    *w = (*w).max(v.chars().count());
                }
            }
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w + 2)).collect();
            let rule = format!("+{}+", rule.join("+"));
            let render = |values: &[String]| -> String {
                let padded: Vec<String> = values
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!(" {v}{} ", " ".repeat(w - v.chars().count())))
                    .collect();
                format!("|{}|", padded.join("|"))
            };
            writeln!(out, "{rule}")?;
            writeln!(out, "{}", render(&columns))?;
            writeln!(out, "{rule}")?;
            for row in &cells {
                writeln!(out, "{}", render(row))?;
            }
            writeln!(out, "{rule}")?;
        }
    }
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `--start`/`--end`: epoch seconds, epoch milliseconds (13+ digits) or ISO 8601.
pub fn parse_time_bound(text: &str) -> anyhow::Result<i64> {
    if let Ok(n) = text.parse::<i64>() {
        return Ok(if text.trim_start_matches('-').len() >= 13 {
            n
        } else {
            n.saturating_mul(1000)
        });
    }
    watchtrail_formats::timestamp::parse_iso8601(text).ok_or_else(|| {
        anyhow::anyhow!(
            "cannot read {text:?} as a time: use epoch seconds, epoch milliseconds or ISO 8601 (2026-01-31T12:00:00Z)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FileQueryOptions {
        FileQueryOptions {
            format: None,
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            limit: None,
            progress: false,
        }
    }

    #[test]
    fn trail_file_records_become_events_with_their_event_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("123456789012_CloudTrail_us-east-1_20260101T0000Z_abc.json");
        std::fs::write(
            &path,
            r#"{"Records":[
              {"eventTime":"2026-01-01T00:00:01Z","eventName":"RunInstances","userIdentity":{"userName":"mallory"}},
              {"eventTime":"2026-01-01T00:00:02Z","eventName":"RunInstances","userIdentity":{"userName":"alice"}},
              {"eventTime":"2026-01-01T00:00:03Z","eventName":"ListBuckets","userIdentity":{"userName":"mallory"}}
            ]}"#,
        )
        .unwrap();
        let query =
            watchtrail_insights::parse("stats count(*) as n by eventName | sort n desc").unwrap();
        let (output, report) = run(&query, &[path], &options());
        assert_eq!(report.files_read, 1);
        assert_eq!(
            output.rows,
            vec![
                vec![
                    ("eventName".to_string(), "RunInstances".to_string()),
                    ("n".to_string(), "2".to_string())
                ],
                vec![
                    ("eventName".to_string(), "ListBuckets".to_string()),
                    ("n".to_string(), "1".to_string())
                ],
            ]
        );
    }

    #[test]
    fn time_bounds_apply_to_parsed_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.ndjson");
        std::fs::write(
            &path,
            "{\"timestamp\":\"2026-01-01T00:00:00Z\",\"level\":\"info\"}\n\
             {\"timestamp\":\"2026-01-01T00:10:00Z\",\"level\":\"error\"}\n\
             {\"timestamp\":\"2026-01-01T00:20:00Z\",\"level\":\"error\"}\n",
        )
        .unwrap();
        let query =
            watchtrail_insights::parse("filter level = \"error\" | stats count(*)").unwrap();
        let mut opts = options();
        opts.start_ms = parse_time_bound("2026-01-01T00:05:00Z").unwrap();
        opts.end_ms = parse_time_bound("2026-01-01T00:15:00Z").unwrap();
        let (output, _) = run(&query, &[path], &opts);
        assert_eq!(
            output.rows,
            vec![vec![("count(*)".to_string(), "1".to_string())]]
        );
        assert_eq!(output.records_scanned, 1);
    }

    #[test]
    fn undetectable_text_is_read_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "alpha one\nbeta two\nalpha three\n").unwrap();
        let query =
            watchtrail_insights::parse("filter @message like /alpha/ | stats count(*) as n")
                .unwrap();
        let (output, report) = run(&query, &[path], &options());
        assert!(report.files_failed.is_empty());
        assert_eq!(output.rows, vec![vec![("n".to_string(), "2".to_string())]]);
    }

    #[test]
    fn csv_and_table_output_quote_and_align() {
        let query = watchtrail_insights::parse("fields a, b").unwrap();
        let output = QueryOutput {
            rows: vec![
                vec![
                    ("a".to_string(), "x,y".to_string()),
                    ("b".to_string(), "say \"hi\"".to_string()),
                    ("@ptr".to_string(), "0:1".to_string()),
                ],
                vec![("a".to_string(), "long value".to_string())],
            ],
            ..Default::default()
        };
        let mut csv = Vec::new();
        write_output(&mut csv, OutputFormat::Csv, &query, &output).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "a,b\n\"x,y\",\"say \"\"hi\"\"\"\nlong value,\n"
        );
        let mut table = Vec::new();
        write_output(&mut table, OutputFormat::Table, &query, &output).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert_eq!(
            table.lines().collect::<Vec<_>>(),
            vec![
                "+------------+----------+",
                "| a          | b        |",
                "+------------+----------+",
                "| x,y        | say \"hi\" |",
                "| long value |          |",
                "+------------+----------+",
            ]
        );
    }

    #[test]
    fn time_bounds_accept_seconds_millis_and_iso() {
        assert_eq!(parse_time_bound("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(
            parse_time_bound("1700000000123").unwrap(),
            1_700_000_000_123
        );
        assert_eq!(
            parse_time_bound("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert!(parse_time_bound("yesterday").is_err());
    }
}
