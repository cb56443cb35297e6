//! The event history behind LookupEvents: management events per account and region, durable in
//! SQLite (WAL mode, `synchronous=FULL`) in the data directory, kept 90 days.
//!
//! One writer thread owns the write connection and commits whatever has queued up as one
//! transaction (group commit), then signals every waiter of that batch. The recorder waits for
//! that signal before a management call's response is sent, so an answered call's record survives
//! `kill -9` and power loss. Reads use their own connection (WAL readers never block the writer).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::identity::lookup_username;
use crate::operations::lookup_resource_name;
use crate::record::AuditRecord;

pub const HISTORY_FILE: &str = "cloudtrail-history.sqlite";
pub const RETENTION_MS: i64 = 90 * 24 * 3600 * 1000;
/// Records queued beyond this are committed in the next transaction.
const MAX_BATCH: usize = 2048;

#[derive(Debug)]
pub struct HistoryError(pub String);

impl std::fmt::Display for HistoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HistoryError {}

impl From<rusqlite::Error> for HistoryError {
    fn from(e: rusqlite::Error) -> Self {
        HistoryError(format!("event history: {e}"))
    }
}

/// The eight LookupEvents attribute keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupKey {
    pub fn parse(name: &str) -> Option<LookupKey> {
        Some(match name {
            "EventId" => LookupKey::EventId,
            "EventName" => LookupKey::EventName,
            "ReadOnly" => LookupKey::ReadOnly,
            "Username" => LookupKey::Username,
            "ResourceType" => LookupKey::ResourceType,
            "ResourceName" => LookupKey::ResourceName,
            "EventSource" => LookupKey::EventSource,
            "AccessKeyId" => LookupKey::AccessKeyId,
            _ => return None,
        })
    }

    fn events_column(self) -> Option<&'static str> {
        Some(match self {
            LookupKey::EventId => "event_id",
            LookupKey::EventName => "event_name",
            LookupKey::ReadOnly => "read_only",
            LookupKey::Username => "username",
            LookupKey::EventSource => "event_source",
            LookupKey::AccessKeyId => "access_key_id",
            LookupKey::ResourceType | LookupKey::ResourceName => return None,
        })
    }
}

/// A LookupEvents query after validation.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    pub account_id: String,
    pub region: String,
    pub attribute: Option<(LookupKey, String)>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Resume strictly after this `(event_time, seq)` position (newest first).
    pub before: Option<(i64, i64)>,
    pub limit: usize,
}

/// One stored event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_time_ms: i64,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub read_only: Option<String>,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    /// `(type, name)` for LookupEvents' `Resources`.
    pub resources: Vec<(String, String)>,
    /// The record as JSON text (LookupEvents' `CloudTrailEvent`).
    pub body: String,
}

enum WriteRequest {
    Records {
        records: Vec<AuditRecord>,
        done: Option<oneshot::Sender<Result<usize, String>>>,
    },
    /// Marks a trail file as imported (after its records are committed).
    FileImported {
        key: String,
        done: oneshot::Sender<Result<usize, String>>,
    },
    Sweep {
        now_ms: i64,
        done: oneshot::Sender<Result<usize, String>>,
    },
}

pub struct History {
    writer: Mutex<Option<mpsc::Sender<WriteRequest>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    reader: Mutex<Connection>,
    path: PathBuf,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    read_only TEXT,
    username TEXT,
    access_key_id TEXT,
    retain_until INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(account_id, region, event_id);
CREATE INDEX IF NOT EXISTS events_by_time ON events(account_id, region, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_name ON events(account_id, region, event_name, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_read_only ON events(account_id, region, read_only, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_username ON events(account_id, region, username, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_source ON events(account_id, region, event_source, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_access_key ON events(account_id, region, access_key_id, event_time, seq);
CREATE INDEX IF NOT EXISTS events_by_retention ON events(retain_until);
CREATE TABLE IF NOT EXISTS event_resources (
    seq INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    PRIMARY KEY (seq, resource_type, resource_name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resources_by_type ON event_resources(account_id, region, resource_type, event_time, seq);
CREATE INDEX IF NOT EXISTS resources_by_name ON event_resources(account_id, region, resource_name, event_time, seq);
CREATE TABLE IF NOT EXISTS imported_trail_files (
    file_key TEXT PRIMARY KEY,
    imported_at INTEGER NOT NULL
);
";

fn open_connection(path: &Path) -> Result<Connection, HistoryError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit is fsynced before the writer signals it, so "answered" implies "durable".
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Nine indexes take random inserts; SQLite's default 2 MiB page cache turns a bulk import
    // into disk reads once the history outgrows it.
    conn.pragma_update(None, "cache_size", -131_072)?;
    Ok(conn)
}

impl History {
    /// Opens (creating if needed) `DATA/cloudtrail-history.sqlite` and starts the writer thread,
    /// which also sweeps expired events every `sweep_interval`.
    pub fn open(data_dir: &Path, sweep_interval: Duration) -> Result<Arc<History>, HistoryError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| HistoryError(format!("creating {}: {e}", data_dir.display())))?;
        let path = data_dir.join(HISTORY_FILE);
        let write_conn = open_connection(&path)?;
        write_conn.execute_batch(SCHEMA)?;
        let reader = open_connection(&path)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("cloudtrail-history".into())
            .spawn(move || writer_loop(write_conn, rx, sweep_interval))
            .map_err(|e| HistoryError(format!("starting the history writer: {e}")))?;
        Ok(Arc::new(History {
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            reader: Mutex::new(reader),
            path,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, request: WriteRequest) -> bool {
        match self.writer.lock().expect("writer lock").as_ref() {
            Some(tx) => tx.send(request).is_ok(),
            None => false,
        }
    }

    /// Queues a record; `done` fires once it is committed (or failed).
    pub fn submit(
        &self,
        record: AuditRecord,
        done: Option<oneshot::Sender<Result<usize, String>>>,
    ) {
        if !self.send(WriteRequest::Records {
            records: vec![record],
            done,
        }) {
            tracing::error!("event history writer has stopped; a record was dropped");
        }
    }

    /// Inserts records (ignoring eventIDs already present) and returns how many were new.
    pub async fn insert(&self, records: Vec<AuditRecord>) -> Result<usize, HistoryError> {
        let (tx, rx) = oneshot::channel();
        if !self.send(WriteRequest::Records {
            records,
            done: Some(tx),
        }) {
            return Err(HistoryError("event history writer has stopped".into()));
        }
        rx.await
            .map_err(|_| HistoryError("event history writer has stopped".into()))?
            .map_err(HistoryError)
    }

    pub async fn mark_file_imported(&self, key: &str) -> Result<(), HistoryError> {
        let (tx, rx) = oneshot::channel();
        if !self.send(WriteRequest::FileImported {
            key: key.to_string(),
            done: tx,
        }) {
            return Err(HistoryError("event history writer has stopped".into()));
        }
        rx.await
            .map_err(|_| HistoryError("event history writer has stopped".into()))?
            .map(|_| ())
            .map_err(HistoryError)
    }

    pub fn is_file_imported(&self, key: &str) -> Result<bool, HistoryError> {
        let conn = self.reader.lock().expect("reader lock");
        Ok(conn
            .query_row(
                "SELECT 1 FROM imported_trail_files WHERE file_key = ?1",
                params![key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Deletes events whose retention ended before `now_ms`; returns how many.
    pub async fn sweep(&self, now_ms: i64) -> Result<usize, HistoryError> {
        let (tx, rx) = oneshot::channel();
        if !self.send(WriteRequest::Sweep { now_ms, done: tx }) {
            return Err(HistoryError("event history writer has stopped".into()));
        }
        rx.await
            .map_err(|_| HistoryError("event history writer has stopped".into()))?
            .map_err(HistoryError)
    }

    /// Stops the writer after it has committed everything queued.
    pub fn shutdown(&self) {
        self.writer.lock().expect("writer lock").take();
        if let Some(thread) = self.writer_thread.lock().expect("thread lock").take() {
            let _ = thread.join();
        }
    }

    /// Events newest first; at most `query.limit + 1` so the caller can tell whether more exist.
    pub fn lookup(&self, query: &HistoryQuery) -> Result<Vec<StoredEvent>, HistoryError> {
        let conn = self.reader.lock().expect("reader lock");
        let mut sql = String::new();
        let mut args: Vec<rusqlite::types::Value> =
            vec![query.account_id.clone().into(), query.region.clone().into()];
        // Resource attributes are answered from event_resources' own indexes.
        let resource_key = match &query.attribute {
            Some((LookupKey::ResourceType, _)) => Some("resource_type"),
            Some((LookupKey::ResourceName, _)) => Some("resource_name"),
            _ => None,
        };
        let t = if resource_key.is_some() { "r" } else { "e" };
        if let Some(column) = resource_key {
            sql.push_str(
                "SELECT e.seq, e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, \
                 e.username, e.access_key_id, e.body FROM event_resources r JOIN events e ON e.seq = r.seq \
                 WHERE r.account_id = ?1 AND r.region = ?2",
            );
            sql.push_str(&format!(" AND r.{column} = ?3"));
            args.push(
                query
                    .attribute
                    .as_ref()
                    .expect("attribute")
                    .1
                    .clone()
                    .into(),
            );
        } else {
            sql.push_str(
                "SELECT e.seq, e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, \
                 e.username, e.access_key_id, e.body FROM events e WHERE e.account_id = ?1 AND e.region = ?2",
            );
            if let Some((key, value)) = &query.attribute {
                let column = key.events_column().expect("events column");
                sql.push_str(&format!(" AND e.{column} = ?3"));
                args.push(value.clone().into());
            }
        }
        if let Some(start) = query.start_ms {
            args.push(start.into());
            sql.push_str(&format!(" AND {t}.event_time >= ?{}", args.len()));
        }
        if let Some(end) = query.end_ms {
            args.push(end.into());
            sql.push_str(&format!(" AND {t}.event_time <= ?{}", args.len()));
        }
        if let Some((time, seq)) = query.before {
            args.push(time.into());
            args.push(seq.into());
            sql.push_str(&format!(
                " AND ({t}.event_time, {t}.seq) < (?{}, ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        sql.push_str(&format!(" ORDER BY {t}.event_time DESC, {t}.seq DESC"));
        let mut statement = conn.prepare_cached(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(args))?;
        let mut out: Vec<StoredEvent> = Vec::new();
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            // One event may name two resources of the same type; they are adjacent in this order.
            if out.last().map(|e| e.seq) == Some(seq) {
                continue;
            }
            out.push(StoredEvent {
                seq,
                event_time_ms: row.get(1)?,
                event_id: row.get(2)?,
                event_name: row.get(3)?,
                event_source: row.get(4)?,
                read_only: row.get(5)?,
                username: row.get(6)?,
                access_key_id: row.get(7)?,
                resources: Vec::new(),
                body: row.get(8)?,
            });
            if out.len() > query.limit {
                break;
            }
        }
        drop(rows);
        let mut resources = conn.prepare_cached(
            "SELECT resource_type, resource_name FROM event_resources WHERE seq = ?1",
        )?;
        for event in &mut out {
            event.resources = resources
                .query_map(params![event.seq], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
        }
        Ok(out)
    }
}

impl Drop for History {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<WriteRequest>, sweep_interval: Duration) {
    if let Err(e) = sweep(&mut conn, now_ms()) {
        tracing::error!(error = %e, "event history retention sweep failed");
    }
    let mut last_sweep = std::time::Instant::now();
    loop {
        let first = match rx.recv_timeout(sweep_interval) {
            Ok(request) => request,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = sweep(&mut conn, now_ms()) {
                    tracing::error!(error = %e, "event history retention sweep failed");
                }
                last_sweep = std::time::Instant::now();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        let mut queued_records = 0;
        while queued_records < MAX_BATCH {
            match rx.try_recv() {
                Ok(request) => {
                    if let WriteRequest::Records { records, .. } = &request {
                        queued_records += records.len();
                    }
                    batch.push(request);
                }
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
        if last_sweep.elapsed() >= sweep_interval {
            if let Err(e) = sweep(&mut conn, now_ms()) {
                tracing::error!(error = %e, "event history retention sweep failed");
            }
            last_sweep = std::time::Instant::now();
        }
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<WriteRequest>) {
    let inserted_at = now_ms();
    let result = (|| -> Result<Vec<usize>, rusqlite::Error> {
        let tx = conn.transaction()?;
        let mut counts = Vec::with_capacity(batch.len());
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (account_id, region, event_time, event_id, event_name, \
                 event_source, read_only, username, access_key_id, retain_until, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut insert_resource = tx.prepare_cached(
                "INSERT OR IGNORE INTO event_resources (seq, account_id, region, event_time, resource_type, resource_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut mark_file = tx.prepare_cached(
                "INSERT OR IGNORE INTO imported_trail_files (file_key, imported_at) VALUES (?1, ?2)",
            )?;
            for request in &batch {
                match request {
                    WriteRequest::Records { records, .. } => {
                        let mut new = 0;
                        for record in records {
                            let attributes = IndexedAttributes::of(&record.body);
                            let body = serde_json::to_string(&record.body)
                                .expect("a JSON value serializes");
                            let changed = insert_event.execute(params![
                                record.account_id,
                                record.region,
                                record.event_time_ms,
                                record.event_id,
                                record.event_name,
                                record.event_source,
                                attributes.read_only,
                                attributes.username,
                                attributes.access_key_id,
                                record.event_time_ms.max(inserted_at) + RETENTION_MS,
                                body,
                            ])?;
                            if changed == 0 {
                                continue;
                            }
                            new += 1;
                            let seq = tx.last_insert_rowid();
                            for (kind, name) in &attributes.resources {
                                insert_resource.execute(params![
                                    seq,
                                    record.account_id,
                                    record.region,
                                    record.event_time_ms,
                                    kind,
                                    name
                                ])?;
                            }
                        }
                        counts.push(new);
                    }
                    WriteRequest::FileImported { key, .. } => {
                        mark_file.execute(params![key, inserted_at])?;
                        counts.push(1);
                    }
                    WriteRequest::Sweep { .. } => counts.push(0),
                }
            }
        }
        tx.commit()?;
        Ok(counts)
    })();
    for (i, request) in batch.into_iter().enumerate() {
        let answer = match &result {
            Ok(counts) => Ok(counts[i]),
            Err(e) => Err(format!("event history: {e}")),
        };
        match request {
            WriteRequest::Records { done, .. } => {
                if let Some(done) = done {
                    let _ = done.send(answer);
                }
            }
            WriteRequest::FileImported { done, .. } => {
                let _ = done.send(answer);
            }
            WriteRequest::Sweep { now_ms, done } => {
                let swept = sweep(conn, now_ms).map_err(|e| format!("event history: {e}"));
                let _ = done.send(swept);
            }
        }
    }
    if let Err(e) = result {
        tracing::error!(error = %e, "event history commit failed");
    }
}

/// Deletes expired events in bounded chunks so a large sweep never holds the write lock long.
fn sweep(conn: &mut Connection, now_ms: i64) -> Result<usize, rusqlite::Error> {
    let mut total = 0;
    loop {
        let tx = conn.transaction()?;
        tx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS expired (seq INTEGER PRIMARY KEY)",
            [],
        )?;
        tx.execute("DELETE FROM expired", [])?;
        let n = tx.execute(
            "INSERT INTO expired SELECT seq FROM events WHERE retain_until < ?1 LIMIT 10000",
            params![now_ms],
        )?;
        tx.execute(
            "DELETE FROM event_resources WHERE seq IN (SELECT seq FROM expired)",
            [],
        )?;
        tx.execute(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM expired)",
            [],
        )?;
        tx.commit()?;
        total += n;
        if n < 10000 {
            return Ok(total);
        }
    }
}

/// The LookupEvents attributes that are not plain record fields.
struct IndexedAttributes {
    read_only: Option<&'static str>,
    username: Option<String>,
    access_key_id: Option<String>,
    resources: Vec<(String, String)>,
}

impl IndexedAttributes {
    fn of(body: &Value) -> IndexedAttributes {
        let read_only = match body.get("readOnly") {
            Some(Value::Bool(true)) => Some("true"),
            Some(Value::Bool(false)) => Some("false"),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some("true"),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some("false"),
            _ => None,
        };
        let access_key_id = body
            .pointer("/userIdentity/accessKeyId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        IndexedAttributes {
            read_only,
            username: lookup_username(body),
            access_key_id,
            resources: lookup_resources(body),
        }
    }
}

/// LookupEvents' `Resources`: the record's `resources[]`, plus EC2 instance ids named in the
/// request or response (AWS shows them for RunInstances/TerminateInstances though the record's
/// `resources` field is absent).
pub fn lookup_resources(body: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |kind: &str, name: String| {
        if !name.is_empty() && !out.iter().any(|(k, n)| k == kind && *n == name) {
            out.push((kind.to_string(), name));
        }
    };
    if let Some(Value::Array(resources)) = body.get("resources") {
        for resource in resources {
            let kind = resource.get("type").and_then(Value::as_str);
            let arn = resource.get("ARN").and_then(Value::as_str);
            if let (Some(kind), Some(arn)) = (kind, arn) {
                push(kind, lookup_resource_name(arn));
            }
        }
    }
    if body.get("eventSource").and_then(Value::as_str) == Some("ec2.amazonaws.com") {
        for section in ["requestParameters", "responseElements"] {
            if let Some(Value::Array(items)) =
                body.pointer(&format!("/{section}/instancesSet/items"))
            {
                for item in items {
                    if let Some(id) = item.get("instanceId").and_then(Value::as_str) {
                        push("AWS::EC2::Instance", id.to_string());
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::EventCategory;
    use serde_json::json;

    fn record(id: &str, time_ms: i64, name: &str, user: &str) -> AuditRecord {
        AuditRecord {
            event_time_ms: time_ms,
            event_id: id.to_string(),
            event_source: "logs.amazonaws.com".into(),
            event_name: name.to_string(),
            category: EventCategory::Management,
            read_only: false,
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            body: json!({
                "eventID": id, "eventName": name, "readOnly": false,
                "userIdentity": {"type": "IAMUser", "userName": user, "accessKeyId": "AKIA1"},
                "resources": [{"ARN": "arn:aws:logs:us-east-1:111122223333:log-group:/g", "type": "AWS::Logs::LogGroup"}]
            }),
        }
    }

    fn query(attribute: Option<(LookupKey, &str)>) -> HistoryQuery {
        HistoryQuery {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            attribute: attribute.map(|(k, v)| (k, v.to_string())),
            start_ms: None,
            end_ms: None,
            before: None,
            limit: 50,
        }
    }

    #[tokio::test]
    async fn insert_is_idempotent_and_lookup_is_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path(), Duration::from_secs(3600)).unwrap();
        let now = now_ms();
        let n = history
            .insert(vec![
                record("a", now - 2000, "CreateLogGroup", "alice"),
                record("b", now - 1000, "DeleteLogGroup", "bob"),
            ])
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            history
                .insert(vec![record("a", now - 2000, "CreateLogGroup", "alice")])
                .await
                .unwrap(),
            0
        );
        let all = history.lookup(&query(None)).unwrap();
        assert_eq!(
            all.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        let alice = history
            .lookup(&query(Some((LookupKey::Username, "alice"))))
            .unwrap();
        assert_eq!(alice.len(), 1);
        let by_resource = history
            .lookup(&query(Some((LookupKey::ResourceName, "/g"))))
            .unwrap();
        assert_eq!(by_resource.len(), 2);
        assert_eq!(
            by_resource[0].resources,
            vec![("AWS::Logs::LogGroup".to_string(), "/g".to_string())]
        );
        let by_type = history
            .lookup(&query(Some((
                LookupKey::ResourceType,
                "AWS::Logs::LogGroup",
            ))))
            .unwrap();
        assert_eq!(by_type.len(), 2);
        let mut after = query(None);
        after.before = Some((all[0].event_time_ms, all[0].seq));
        assert_eq!(history.lookup(&after).unwrap()[0].event_id, "a");
    }

    #[tokio::test]
    async fn sweep_removes_expired_events_only() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path(), Duration::from_secs(3600)).unwrap();
        let now = now_ms();
        history
            .insert(vec![record("old", now - 1000, "CreateLogGroup", "alice")])
            .await
            .unwrap();
        assert_eq!(history.sweep(now + RETENTION_MS - 10_000).await.unwrap(), 0);
        assert_eq!(history.sweep(now + RETENTION_MS + 10_000).await.unwrap(), 1);
        assert!(history.lookup(&query(None)).unwrap().is_empty());
        assert!(history
            .lookup(&query(Some((LookupKey::ResourceName, "/g"))))
            .unwrap()
            .is_empty());
    }
}
