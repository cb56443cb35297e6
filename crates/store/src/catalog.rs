//! The catalog: groups, streams, segments, the WAL checkpoint and import markers.
//!
//! Everything the store needs from it goes through [`Catalog`], so a shared (PostgreSQL) catalog
//! for several stateless nodes can replace [`SqliteCatalog`] without touching the store.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::memtable::StreamDelta;
use crate::{
    GroupId, LogGroup, LogGroupChange, LogStream, NewLogGroup, SavedQuery, Scope, StoreError,
    StreamId,
};

/// An immutable segment file as registered in the catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentMeta {
    /// Catalog id; 0 until registered.
    pub id: i64,
    pub group_id: GroupId,
    /// Object path relative to the segment store root.
    pub path: String,
    pub min_timestamp: i64,
    pub max_timestamp: i64,
    pub min_seq: u64,
    pub max_seq: u64,
    pub rows: u64,
    /// Stored size of the events (message bytes + 26 each).
    pub event_bytes: u64,
    pub file_size: u64,
    /// crc32c of the whole file.
    pub checksum: u32,
    /// Per-stream stored bytes; filled when registering, empty when listed for reads.
    pub streams: Vec<(StreamId, u64)>,
}

/// The WAL position up to which every event is in registered segments, and the seq to continue from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub lsn: u64,
    pub next_seq: u64,
}

#[async_trait]
pub trait Catalog: Send + Sync {
    async fn create_group(&self, scope: &Scope, group: NewLogGroup)
        -> Result<LogGroup, StoreError>;
    async fn group(&self, scope: &Scope, name: &str) -> Result<Option<LogGroup>, StoreError>;
    async fn group_by_id(&self, id: GroupId) -> Result<Option<LogGroup>, StoreError>;
    async fn list_groups(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        after_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogGroup>, StoreError>;
    async fn update_group(
        &self,
        scope: &Scope,
        name: &str,
        change: LogGroupChange,
    ) -> Result<LogGroup, StoreError>;
    /// Removes the group and its streams (their ids are remembered as deleted); its segments stay
    /// registered until [`Catalog::orphan_segments`] hands them to the sweeper.
    async fn delete_group(&self, scope: &Scope, name: &str) -> Result<GroupId, StoreError>;

    async fn create_stream(
        &self,
        group: GroupId,
        name: &str,
        creation_time: i64,
    ) -> Result<LogStream, StoreError>;
    async fn delete_stream(&self, group: GroupId, name: &str) -> Result<StreamId, StoreError>;
    async fn stream(&self, group: GroupId, name: &str) -> Result<Option<LogStream>, StoreError>;
    /// Every stream of the group, persisted statistics only, in ascending name order.
    async fn streams(&self, group: GroupId) -> Result<Vec<LogStream>, StoreError>;
    /// Streams by name: ascending (or descending) strictly after `after_name`, with `prefix`.
    async fn streams_by_name(
        &self,
        group: GroupId,
        prefix: Option<&str>,
        descending: bool,
        after_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogStream>, StoreError>;
    /// (stream, group) of every existing stream.
    async fn live_streams(&self) -> Result<Vec<(StreamId, GroupId)>, StoreError>;
    /// Ids of deleted streams whose events may still sit in segments.
    async fn deleted_streams(&self) -> Result<Vec<StreamId>, StoreError>;

    /// Segments of a group that may hold events in `[start, end)`.
    /// When `streams` is given, only segments holding events of at least one of them.
    async fn segments(
        &self,
        group: GroupId,
        start: Option<i64>,
        end: Option<i64>,
        streams: Option<&[StreamId]>,
    ) -> Result<Vec<SegmentMeta>, StoreError>;
    /// One transaction: registers the segments (skipping those of groups deleted meanwhile, whose
    /// paths are returned for deletion), merges the stream statistics, and advances the checkpoint.
    async fn commit_flush(
        &self,
        segments: Vec<SegmentMeta>,
        stream_stats: Vec<(StreamId, StreamDelta)>,
        checkpoint: Checkpoint,
    ) -> Result<Vec<String>, StoreError>;
    async fn checkpoint(&self) -> Result<Checkpoint, StoreError>;
    /// Segments of existing groups whose newest event is older than the group's retention.
    async fn expired_segments(&self, now_ms: i64) -> Result<Vec<SegmentMeta>, StoreError>;
    /// Segments of deleted groups.
    async fn orphan_segments(&self) -> Result<Vec<SegmentMeta>, StoreError>;
    async fn delete_segments(&self, ids: &[i64]) -> Result<(), StoreError>;
    /// (count, total file bytes) of registered segments.
    async fn segment_totals(&self) -> Result<(u64, u64), StoreError>;

    async fn record_import(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError>;
    async fn is_imported(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError>;

    /// Inserts or replaces (by id) a saved query of the scope.
    async fn put_saved_query(&self, scope: &Scope, query: SavedQuery) -> Result<(), StoreError>;
    async fn saved_query(&self, scope: &Scope, id: &str) -> Result<Option<SavedQuery>, StoreError>;
    /// The saved query created with this client token, if any (idempotent retries of a create).
    async fn saved_query_by_client_token(
        &self,
        scope: &Scope,
        client_token: &str,
    ) -> Result<Option<SavedQuery>, StoreError>;
    /// Saved queries of the scope in ascending `(name, id)` order, names starting with `prefix`,
    /// of `language` if given, strictly after `after`, at most `limit`.
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        language: Option<&str>,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<SavedQuery>, StoreError>;
    /// Returns false if no saved query of the scope had this id.
    async fn delete_saved_query(&self, scope: &Scope, id: &str) -> Result<bool, StoreError>;
    async fn count_saved_queries(&self, scope: &Scope) -> Result<u64, StoreError>;
}

fn db_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::DiskFull {
            return StoreError::Unavailable(format!("catalog: disk full: {e}"));
        }
    }
    StoreError::Internal(format!("catalog: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    retention_in_days INTEGER,
    log_group_class TEXT NOT NULL,
    kms_key_id TEXT,
    deletion_protection INTEGER NOT NULL,
    UNIQUE (account_id, region, name)
);
CREATE TABLE IF NOT EXISTS group_tags (
    group_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (group_id, key)
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    first_event_timestamp INTEGER,
    last_event_timestamp INTEGER,
    last_ingestion_time INTEGER,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS deleted_streams (
    stream_id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL,
    path TEXT NOT NULL UNIQUE,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    min_seq INTEGER NOT NULL,
    max_seq INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    event_bytes INTEGER NOT NULL,
    file_size INTEGER NOT NULL,
    checksum INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_group_time ON segments (group_id, min_ts);
CREATE TABLE IF NOT EXISTS segment_streams (
    segment_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (segment_id, stream_id)
);
CREATE INDEX IF NOT EXISTS segment_streams_by_stream ON segment_streams (stream_id);
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    lsn INTEGER NOT NULL,
    next_seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO checkpoint (id, lsn, next_seq) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS saved_queries (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    client_token TEXT,
    last_modified INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (account_id, region, id)
);
CREATE INDEX IF NOT EXISTS saved_queries_by_name ON saved_queries (account_id, region, name, id);
CREATE TABLE IF NOT EXISTS imports (
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    source_key TEXT NOT NULL,
    PRIMARY KEY (account_id, region, source_key)
);
";

/// SQLite catalog in WAL journal mode with `synchronous=FULL`: a committed change survives power
/// loss. Calls run on the blocking pool; one connection serialises them (SQLite would anyway).
#[derive(Clone)]
pub struct SqliteCatalog {
    conn: Arc<Mutex<Connection>>,
}

const GROUP_COLUMNS: &str = "g.id, g.account_id, g.region, g.name, g.creation_time, g.retention_in_days, \
     g.log_group_class, g.kms_key_id, g.deletion_protection, \
     (SELECT COALESCE(SUM(ss.bytes), 0) FROM segment_streams ss JOIN log_streams st ON st.id = ss.stream_id \
      WHERE st.group_id = g.id)";

const STREAM_COLUMNS: &str = "s.id, s.group_id, s.name, s.creation_time, s.first_event_timestamp, \
     s.last_event_timestamp, s.last_ingestion_time, \
     (SELECT COALESCE(SUM(ss.bytes), 0) FROM segment_streams ss WHERE ss.stream_id = s.id)";

const SEGMENT_COLUMNS: &str =
    "sg.id, sg.group_id, sg.path, sg.min_ts, sg.max_ts, sg.min_seq, sg.max_seq, sg.rows, sg.event_bytes, sg.file_size, sg.checksum";

fn row_to_group(row: &rusqlite::Row) -> rusqlite::Result<LogGroup> {
    Ok(LogGroup {
        id: row.get(0)?,
        scope: Scope {
            account_id: row.get(1)?,
            region: row.get(2)?,
        },
        name: row.get(3)?,
        creation_time: row.get(4)?,
        retention_in_days: row.get(5)?,
        log_group_class: row.get(6)?,
        kms_key_id: row.get(7)?,
        deletion_protection_enabled: row.get::<_, i64>(8)? != 0,
        tags: BTreeMap::new(),
        stored_bytes: row.get::<_, i64>(9)? as u64,
    })
}

fn row_to_stream(row: &rusqlite::Row) -> rusqlite::Result<LogStream> {
    Ok(LogStream {
        id: row.get(0)?,
        group_id: row.get(1)?,
        name: row.get(2)?,
        creation_time: row.get(3)?,
        first_event_timestamp: row.get(4)?,
        last_event_timestamp: row.get(5)?,
        last_ingestion_time: row.get(6)?,
        stored_bytes: row.get::<_, i64>(7)? as u64,
    })
}

fn row_to_segment(row: &rusqlite::Row) -> rusqlite::Result<SegmentMeta> {
    Ok(SegmentMeta {
        id: row.get(0)?,
        group_id: row.get(1)?,
        path: row.get(2)?,
        min_timestamp: row.get(3)?,
        max_timestamp: row.get(4)?,
        min_seq: row.get::<_, i64>(5)? as u64,
        max_seq: row.get::<_, i64>(6)? as u64,
        rows: row.get::<_, i64>(7)? as u64,
        event_bytes: row.get::<_, i64>(8)? as u64,
        file_size: row.get::<_, i64>(9)? as u64,
        checksum: row.get::<_, i64>(10)? as u32,
        streams: Vec::new(),
    })
}

const SAVED_QUERY_COLUMNS: &str = "id, name, language, client_token, last_modified, body";

fn row_to_saved_query(row: &rusqlite::Row) -> rusqlite::Result<SavedQuery> {
    Ok(SavedQuery {
        id: row.get(0)?,
        name: row.get(1)?,
        language: row.get(2)?,
        client_token: row.get(3)?,
        last_modified: row.get(4)?,
        body: row.get(5)?,
    })
}

fn load_tags(conn: &Connection, group: &mut LogGroup) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM group_tags WHERE group_id = ?1")?;
    let rows = stmt.query_map([group.id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (k, v) = row?;
        group.tags.insert(k, v);
    }
    Ok(())
}

fn query_group(conn: &Connection, scope: &Scope, name: &str) -> rusqlite::Result<Option<LogGroup>> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.account_id = ?1 AND g.region = ?2 AND g.name = ?3");
    let mut group = conn
        .prepare_cached(&sql)?
        .query_row(params![scope.account_id, scope.region, name], row_to_group)
        .optional()?;
    if let Some(g) = group.as_mut() {
        load_tags(conn, g)?;
    }
    Ok(group)
}

fn query_stream(
    conn: &Connection,
    group: GroupId,
    name: &str,
) -> rusqlite::Result<Option<LogStream>> {
    let sql =
        format!("SELECT {STREAM_COLUMNS} FROM log_streams s WHERE s.group_id = ?1 AND s.name = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![group, name], row_to_stream)
        .optional()
}

/// Escapes `%`, `_` and `\` so a user-supplied prefix matches literally in `LIKE ... ESCAPE '\'`.
fn like_prefix(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl SqliteCatalog {
    pub fn open(path: &Path) -> Result<SqliteCatalog, StoreError> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        // LIKE is case-insensitive by default; prefixes are case-sensitive in CloudWatch.
        conn.pragma_update(None, "case_sensitive_like", "ON")
            .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        Ok(SqliteCatalog {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("catalog task failed: {e}")))?
    }
}

fn tx(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)
}

#[async_trait]
impl Catalog for SqliteCatalog {
    async fn create_group(
        &self,
        scope: &Scope,
        group: NewLogGroup,
    ) -> Result<LogGroup, StoreError> {
        let scope = scope.clone();
        self.call(move |conn| {
            let t = tx(conn)?;
            if query_group(&t, &scope, &group.name).map_err(db_err)?.is_some() {
                return Err(StoreError::LogGroupAlreadyExists);
            }
            t.execute(
                "INSERT INTO log_groups (account_id, region, name, creation_time, retention_in_days, log_group_class, \
                 kms_key_id, deletion_protection) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7)",
                params![
                    scope.account_id,
                    scope.region,
                    group.name,
                    group.creation_time,
                    group.log_group_class,
                    group.kms_key_id,
                    group.deletion_protection_enabled as i64
                ],
            )
            .map_err(db_err)?;
            let id = t.last_insert_rowid();
            for (k, v) in &group.tags {
                t.execute("INSERT INTO group_tags (group_id, key, value) VALUES (?1, ?2, ?3)", params![id, k, v])
                    .map_err(db_err)?;
            }
            let created = query_group(&t, &scope, &group.name).map_err(db_err)?;
            t.commit().map_err(db_err)?;
            created.ok_or_else(|| StoreError::Internal("created group vanished".into()))
        })
        .await
    }

    async fn group(&self, scope: &Scope, name: &str) -> Result<Option<LogGroup>, StoreError> {
        let (scope, name) = (scope.clone(), name.to_owned());
        self.call(move |conn| query_group(conn, &scope, &name).map_err(db_err))
            .await
    }

    async fn group_by_id(&self, id: GroupId) -> Result<Option<LogGroup>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.id = ?1");
            let mut g = conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row([id], row_to_group).optional())
                .map_err(db_err)?;
            if let Some(g) = g.as_mut() {
                load_tags(conn, g).map_err(db_err)?;
            }
            Ok(g)
        })
        .await
    }

    async fn list_groups(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        after_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogGroup>, StoreError> {
        let scope = scope.clone();
        let prefix = like_prefix(prefix.unwrap_or(""));
        let after = after_name.map(str::to_owned);
        self.call(move |conn| {
            // Text comparison in SQLite is memcmp (BINARY collation), i.e. byte-wise as required.
            let sql = format!(
                "SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.account_id = ?1 AND g.region = ?2 \
                 AND g.name LIKE ?3 ESCAPE '\\' AND (?4 IS NULL OR g.name > ?4) ORDER BY g.name LIMIT ?5"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let mut groups = stmt
                .query_map(params![scope.account_id, scope.region, prefix, after, limit as i64], row_to_group)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            drop(stmt);
            for g in groups.iter_mut() {
                load_tags(conn, g).map_err(db_err)?;
            }
            Ok(groups)
        })
        .await
    }

    async fn update_group(
        &self,
        scope: &Scope,
        name: &str,
        change: LogGroupChange,
    ) -> Result<LogGroup, StoreError> {
        let (scope, name) = (scope.clone(), name.to_owned());
        self.call(move |conn| {
            let t = tx(conn)?;
            let Some(group) = query_group(&t, &scope, &name).map_err(db_err)? else {
                return Err(StoreError::LogGroupNotFound);
            };
            match change {
                LogGroupChange::SetRetention(days) => t.execute(
                    "UPDATE log_groups SET retention_in_days = ?1 WHERE id = ?2",
                    params![days, group.id],
                ),
                LogGroupChange::SetDeletionProtection(on) => t.execute(
                    "UPDATE log_groups SET deletion_protection = ?1 WHERE id = ?2",
                    params![on as i64, group.id],
                ),
                LogGroupChange::AddTags(tags) => {
                    for (k, v) in &tags {
                        t.execute(
                            "INSERT INTO group_tags (group_id, key, value) VALUES (?1, ?2, ?3) \
                             ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value",
                            params![group.id, k, v],
                        )
                        .map_err(db_err)?;
                    }
                    Ok(0)
                }
                LogGroupChange::RemoveTags(keys) => {
                    for k in &keys {
                        t.execute(
                            "DELETE FROM group_tags WHERE group_id = ?1 AND key = ?2",
                            params![group.id, k],
                        )
                        .map_err(db_err)?;
                    }
                    Ok(0)
                }
            }
            .map_err(db_err)?;
            let updated = query_group(&t, &scope, &name).map_err(db_err)?;
            t.commit().map_err(db_err)?;
            updated.ok_or(StoreError::LogGroupNotFound)
        })
        .await
    }

    async fn delete_group(&self, scope: &Scope, name: &str) -> Result<GroupId, StoreError> {
        let (scope, name) = (scope.clone(), name.to_owned());
        self.call(move |conn| {
            let t = tx(conn)?;
            let id: Option<GroupId> = t
                .query_row(
                    "SELECT id FROM log_groups WHERE account_id = ?1 AND region = ?2 AND name = ?3",
                    params![scope.account_id, scope.region, name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let Some(id) = id else {
                return Err(StoreError::LogGroupNotFound);
            };
            // The group's segments become orphans and are swept; its streams' events go with them, so
            // no stream tombstones are needed.
            t.execute("DELETE FROM log_streams WHERE group_id = ?1", [id])
                .map_err(db_err)?;
            t.execute("DELETE FROM group_tags WHERE group_id = ?1", [id])
                .map_err(db_err)?;
            t.execute("DELETE FROM log_groups WHERE id = ?1", [id])
                .map_err(db_err)?;
            t.commit().map_err(db_err)?;
            Ok(id)
        })
        .await
    }

    async fn create_stream(
        &self,
        group: GroupId,
        name: &str,
        creation_time: i64,
    ) -> Result<LogStream, StoreError> {
        let name = name.to_owned();
        self.call(move |conn| {
            let t = tx(conn)?;
            let exists: bool = t
                .query_row("SELECT 1 FROM log_groups WHERE id = ?1", [group], |_| {
                    Ok(true)
                })
                .optional()
                .map_err(db_err)?
                .unwrap_or(false);
            if !exists {
                return Err(StoreError::LogGroupNotFound);
            }
            if query_stream(&t, group, &name).map_err(db_err)?.is_some() {
                return Err(StoreError::LogStreamAlreadyExists);
            }
            t.execute(
                "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?1, ?2, ?3)",
                params![group, name, creation_time],
            )
            .map_err(db_err)?;
            let s = query_stream(&t, group, &name).map_err(db_err)?;
            t.commit().map_err(db_err)?;
            s.ok_or_else(|| StoreError::Internal("created stream vanished".into()))
        })
        .await
    }

    async fn delete_stream(&self, group: GroupId, name: &str) -> Result<StreamId, StoreError> {
        let name = name.to_owned();
        self.call(move |conn| {
            let t = tx(conn)?;
            let Some(s) = query_stream(&t, group, &name).map_err(db_err)? else {
                return Err(StoreError::LogStreamNotFound);
            };
            t.execute("DELETE FROM log_streams WHERE id = ?1", [s.id])
                .map_err(db_err)?;
            t.execute(
                "INSERT OR IGNORE INTO deleted_streams (stream_id, group_id) VALUES (?1, ?2)",
                params![s.id, group],
            )
            .map_err(db_err)?;
            t.commit().map_err(db_err)?;
            Ok(s.id)
        })
        .await
    }

    async fn stream(&self, group: GroupId, name: &str) -> Result<Option<LogStream>, StoreError> {
        let name = name.to_owned();
        self.call(move |conn| query_stream(conn, group, &name).map_err(db_err))
            .await
    }

    async fn streams(&self, group: GroupId) -> Result<Vec<LogStream>, StoreError> {
        self.call(move |conn| {
            let sql = format!(
                "SELECT {STREAM_COLUMNS} FROM log_streams s WHERE s.group_id = ?1 ORDER BY s.name"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map([group], row_to_stream).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn streams_by_name(
        &self,
        group: GroupId,
        prefix: Option<&str>,
        descending: bool,
        after_name: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogStream>, StoreError> {
        let prefix = like_prefix(prefix.unwrap_or(""));
        let after = after_name.map(str::to_owned);
        self.call(move |conn| {
            let (cmp, dir) = if descending { ("<", "DESC") } else { (">", "ASC") };
            let sql = format!(
                "SELECT {STREAM_COLUMNS} FROM log_streams s WHERE s.group_id = ?1 AND s.name LIKE ?2 ESCAPE '\\' \
                 AND (?3 IS NULL OR s.name {cmp} ?3) ORDER BY s.name {dir} LIMIT ?4"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map(params![group, prefix, after, limit as i64], row_to_stream).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn live_streams(&self) -> Result<Vec<(StreamId, GroupId)>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn
                .prepare("SELECT id, group_id FROM log_streams")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn deleted_streams(&self) -> Result<Vec<StreamId>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn
                .prepare("SELECT stream_id FROM deleted_streams")
                .map_err(db_err)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn segments(
        &self,
        group: GroupId,
        start: Option<i64>,
        end: Option<i64>,
        streams: Option<&[StreamId]>,
    ) -> Result<Vec<SegmentMeta>, StoreError> {
        // Stream ids are integers, so inlining them cannot inject anything; it keeps one statement
        // per distinct list instead of binding a variable number of parameters.
        let stream_filter = match streams {
            None => String::new(),
            Some(ids) => {
                let list: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
                format!(
                    " AND EXISTS (SELECT 1 FROM segment_streams ss WHERE ss.segment_id = sg.id AND ss.stream_id IN ({}))",
                    list.join(",")
                )
            }
        };
        self.call(move |conn| {
            let sql = format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments sg WHERE sg.group_id = ?1 \
                 AND (?2 IS NULL OR sg.max_ts >= ?2) AND (?3 IS NULL OR sg.min_ts < ?3){stream_filter} \
                 ORDER BY sg.min_ts, sg.id"
            );
            let mut stmt = conn.prepare(&sql).map_err(db_err)?;
            let rows = stmt.query_map(params![group, start, end], row_to_segment).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn commit_flush(
        &self,
        segments: Vec<SegmentMeta>,
        stream_stats: Vec<(StreamId, StreamDelta)>,
        checkpoint: Checkpoint,
    ) -> Result<Vec<String>, StoreError> {
        self.call(move |conn| {
            let t = tx(conn)?;
            let mut skipped = Vec::new();
            for seg in &segments {
                let group_exists: bool = t
                    .query_row("SELECT 1 FROM log_groups WHERE id = ?1", [seg.group_id], |_| Ok(true))
                    .optional()
                    .map_err(db_err)?
                    .unwrap_or(false);
                if !group_exists {
                    skipped.push(seg.path.clone());
                    continue;
                }
                // A retried flush may find its segment registered already: the path is deterministic.
                let already: Option<i64> = t
                    .query_row("SELECT id FROM segments WHERE path = ?1", [&seg.path], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if already.is_some() {
                    continue;
                }
                t.execute(
                    "INSERT INTO segments (group_id, path, min_ts, max_ts, min_seq, max_seq, rows, event_bytes, file_size, checksum) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        seg.group_id,
                        seg.path,
                        seg.min_timestamp,
                        seg.max_timestamp,
                        seg.min_seq as i64,
                        seg.max_seq as i64,
                        seg.rows as i64,
                        seg.event_bytes as i64,
                        seg.file_size as i64,
                        seg.checksum as i64
                    ],
                )
                .map_err(db_err)?;
                let id = t.last_insert_rowid();
                for (stream, bytes) in &seg.streams {
                    t.execute(
                        "INSERT INTO segment_streams (segment_id, stream_id, bytes) VALUES (?1, ?2, ?3)",
                        params![id, stream, *bytes as i64],
                    )
                    .map_err(db_err)?;
                }
            }
            for (stream, d) in &stream_stats {
                t.execute(
                    "UPDATE log_streams SET \
                       first_event_timestamp = CASE WHEN first_event_timestamp IS NULL OR ?2 < first_event_timestamp THEN ?2 ELSE first_event_timestamp END, \
                       last_event_timestamp = CASE WHEN last_event_timestamp IS NULL OR ?3 > last_event_timestamp THEN ?3 ELSE last_event_timestamp END, \
                       last_ingestion_time = CASE WHEN last_ingestion_time IS NULL OR ?4 > last_ingestion_time THEN ?4 ELSE last_ingestion_time END \
                     WHERE id = ?1",
                    params![stream, d.first_event_timestamp, d.last_event_timestamp, d.last_ingestion_time],
                )
                .map_err(db_err)?;
            }
            t.execute(
                "UPDATE checkpoint SET lsn = MAX(lsn, ?1), next_seq = MAX(next_seq, ?2) WHERE id = 1",
                params![checkpoint.lsn as i64, checkpoint.next_seq as i64],
            )
            .map_err(db_err)?;
            t.commit().map_err(db_err)?;
            Ok(skipped)
        })
        .await
    }

    async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        self.call(|conn| {
            conn.query_row(
                "SELECT lsn, next_seq FROM checkpoint WHERE id = 1",
                [],
                |r| {
                    Ok(Checkpoint {
                        lsn: r.get::<_, i64>(0)? as u64,
                        next_seq: r.get::<_, i64>(1)? as u64,
                    })
                },
            )
            .map_err(db_err)
        })
        .await
    }

    async fn expired_segments(&self, now_ms: i64) -> Result<Vec<SegmentMeta>, StoreError> {
        self.call(move |conn| {
            let sql = format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments sg JOIN log_groups g ON g.id = sg.group_id \
                 WHERE g.retention_in_days IS NOT NULL AND sg.max_ts < ?1 - g.retention_in_days * 86400000"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map([now_ms], row_to_segment).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn orphan_segments(&self) -> Result<Vec<SegmentMeta>, StoreError> {
        self.call(|conn| {
            let sql = format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments sg WHERE NOT EXISTS (SELECT 1 FROM log_groups g WHERE g.id = sg.group_id)"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt.query_map([], row_to_segment).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn delete_segments(&self, ids: &[i64]) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.call(move |conn| {
            let t = tx(conn)?;
            for id in &ids {
                t.execute("DELETE FROM segment_streams WHERE segment_id = ?1", [id])
                    .map_err(db_err)?;
                t.execute("DELETE FROM segments WHERE id = ?1", [id])
                    .map_err(db_err)?;
            }
            // Stream tombstones stay: a frozen memtable may still register events of a deleted
            // stream after this, and the tombstone is what keeps them hidden.
            t.commit().map_err(db_err)
        })
        .await
    }

    async fn segment_totals(&self) -> Result<(u64, u64), StoreError> {
        self.call(|conn| {
            conn.query_row(
                "SELECT COUNT(*), COALESCE(SUM(file_size), 0) FROM segments",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(db_err)
        })
        .await
    }

    async fn record_import(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError> {
        let (scope, key) = (scope.clone(), source_key.to_owned());
        self.call(move |conn| {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO imports (account_id, region, source_key) VALUES (?1, ?2, ?3)",
                    params![scope.account_id, scope.region, key],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn is_imported(&self, scope: &Scope, source_key: &str) -> Result<bool, StoreError> {
        let (scope, key) = (scope.clone(), source_key.to_owned());
        self.call(move |conn| {
            conn.query_row(
                "SELECT 1 FROM imports WHERE account_id = ?1 AND region = ?2 AND source_key = ?3",
                params![scope.account_id, scope.region, key],
                |_| Ok(true),
            )
            .optional()
            .map(|o| o.unwrap_or(false))
            .map_err(db_err)
        })
        .await
    }

    async fn put_saved_query(&self, scope: &Scope, query: SavedQuery) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.call(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO saved_queries \
                 (account_id, region, id, name, language, client_token, last_modified, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    scope.account_id,
                    scope.region,
                    query.id,
                    query.name,
                    query.language,
                    query.client_token,
                    query.last_modified,
                    query.body
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn saved_query(&self, scope: &Scope, id: &str) -> Result<Option<SavedQuery>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.call(move |conn| {
            let sql = format!(
                "SELECT {SAVED_QUERY_COLUMNS} FROM saved_queries WHERE account_id = ?1 AND region = ?2 AND id = ?3"
            );
            conn.prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_row(params![scope.account_id, scope.region, id], row_to_saved_query)
                        .optional()
                })
                .map_err(db_err)
        })
        .await
    }

    async fn saved_query_by_client_token(
        &self,
        scope: &Scope,
        client_token: &str,
    ) -> Result<Option<SavedQuery>, StoreError> {
        let (scope, token) = (scope.clone(), client_token.to_owned());
        self.call(move |conn| {
            let sql = format!(
                "SELECT {SAVED_QUERY_COLUMNS} FROM saved_queries \
                 WHERE account_id = ?1 AND region = ?2 AND client_token = ?3 LIMIT 1"
            );
            conn.prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_row(
                        params![scope.account_id, scope.region, token],
                        row_to_saved_query,
                    )
                    .optional()
                })
                .map_err(db_err)
        })
        .await
    }

    async fn list_saved_queries(
        &self,
        scope: &Scope,
        prefix: Option<&str>,
        language: Option<&str>,
        after: Option<(String, String)>,
        limit: usize,
    ) -> Result<Vec<SavedQuery>, StoreError> {
        let scope = scope.clone();
        let prefix = prefix.map(like_prefix);
        let language = language.map(str::to_owned);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(move |conn| {
            let (after_name, after_id) = match after {
                Some((n, i)) => (Some(n), Some(i)),
                None => (None, None),
            };
            let sql = format!(
                "SELECT {SAVED_QUERY_COLUMNS} FROM saved_queries \
                 WHERE account_id = ?1 AND region = ?2 \
                 AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\') \
                 AND (?4 IS NULL OR language = ?4) \
                 AND (?5 IS NULL OR name > ?5 OR (name = ?5 AND id > ?6)) \
                 ORDER BY name, id LIMIT ?7"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![
                        scope.account_id,
                        scope.region,
                        prefix,
                        language,
                        after_name,
                        after_id,
                        limit
                    ],
                    row_to_saved_query,
                )
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn delete_saved_query(&self, scope: &Scope, id: &str) -> Result<bool, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.call(move |conn| {
            let n = conn
                .execute(
                    "DELETE FROM saved_queries WHERE account_id = ?1 AND region = ?2 AND id = ?3",
                    params![scope.account_id, scope.region, id],
                )
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn count_saved_queries(&self, scope: &Scope) -> Result<u64, StoreError> {
        let scope = scope.clone();
        self.call(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM saved_queries WHERE account_id = ?1 AND region = ?2",
                params![scope.account_id, scope.region],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn new_group(name: &str) -> NewLogGroup {
        NewLogGroup {
            name: name.into(),
            creation_time: 1000,
            log_group_class: "STANDARD".into(),
            ..Default::default()
        }
    }

    fn catalog() -> (tempfile::TempDir, SqliteCatalog) {
        let dir = tempfile::tempdir().unwrap();
        let c = SqliteCatalog::open(&dir.path().join("catalog.db")).unwrap();
        (dir, c)
    }

    fn segment(
        group: GroupId,
        path: &str,
        min_ts: i64,
        max_ts: i64,
        stream: StreamId,
        bytes: u64,
    ) -> SegmentMeta {
        SegmentMeta {
            id: 0,
            group_id: group,
            path: path.into(),
            min_timestamp: min_ts,
            max_timestamp: max_ts,
            min_seq: 0,
            max_seq: 9,
            rows: 10,
            event_bytes: bytes,
            file_size: 500,
            checksum: 77,
            streams: vec![(stream, bytes)],
        }
    }

    #[tokio::test]
    async fn group_crud_and_ids_never_reused() {
        let (_d, c) = catalog();
        let mut ng = new_group("a");
        ng.tags.insert("k".into(), "v".into());
        let a = c.create_group(&scope(), ng).await.unwrap();
        assert_eq!(a.tags.get("k").map(String::as_str), Some("v"));
        assert!(matches!(
            c.create_group(&scope(), new_group("a")).await,
            Err(StoreError::LogGroupAlreadyExists)
        ));
        let other_scope = Scope {
            account_id: "x".into(),
            region: "us-east-1".into(),
        };
        c.create_group(&other_scope, new_group("a")).await.unwrap();
        c.create_group(&scope(), new_group("b")).await.unwrap();
        c.create_group(&scope(), new_group("a_x")).await.unwrap();

        let names = |gs: Vec<LogGroup>| gs.into_iter().map(|g| g.name).collect::<Vec<_>>();
        assert_eq!(
            names(c.list_groups(&scope(), None, None, 10).await.unwrap()),
            vec!["a", "a_x", "b"]
        );
        assert_eq!(
            names(
                c.list_groups(&scope(), Some("a"), Some("a"), 10)
                    .await
                    .unwrap()
            ),
            vec!["a_x"]
        );
        // '_' in a prefix is literal, not a LIKE wildcard.
        assert_eq!(
            names(c.list_groups(&scope(), Some("a_"), None, 10).await.unwrap()),
            vec!["a_x"]
        );
        assert_eq!(
            names(c.list_groups(&scope(), None, None, 1).await.unwrap()),
            vec!["a"]
        );
        // Prefixes are case-sensitive and '%' is literal.
        assert!(c
            .list_groups(&scope(), Some("A"), None, 10)
            .await
            .unwrap()
            .is_empty());
        assert!(c
            .list_groups(&scope(), Some("%"), None, 10)
            .await
            .unwrap()
            .is_empty());

        let u = c
            .update_group(&scope(), "a", LogGroupChange::SetRetention(Some(7)))
            .await
            .unwrap();
        assert_eq!(u.retention_in_days, Some(7));
        let u = c
            .update_group(&scope(), "a", LogGroupChange::RemoveTags(vec!["k".into()]))
            .await
            .unwrap();
        assert!(u.tags.is_empty());
        let u = c
            .update_group(&scope(), "a", LogGroupChange::SetDeletionProtection(true))
            .await
            .unwrap();
        assert!(u.deletion_protection_enabled);

        let deleted = c.delete_group(&scope(), "a").await.unwrap();
        assert_eq!(deleted, a.id);
        assert!(c.group(&scope(), "a").await.unwrap().is_none());
        assert!(matches!(
            c.delete_group(&scope(), "a").await,
            Err(StoreError::LogGroupNotFound)
        ));
        let again = c.create_group(&scope(), new_group("a")).await.unwrap();
        assert!(again.id > a.id, "group id reused");
    }

    #[tokio::test]
    async fn stream_crud_and_ids_never_reused() {
        let (_d, c) = catalog();
        let g = c.create_group(&scope(), new_group("g")).await.unwrap();
        let s1 = c.create_stream(g.id, "s1", 5).await.unwrap();
        assert!(matches!(
            c.create_stream(g.id, "s1", 5).await,
            Err(StoreError::LogStreamAlreadyExists)
        ));
        assert!(matches!(
            c.create_stream(g.id + 100, "s1", 5).await,
            Err(StoreError::LogGroupNotFound)
        ));
        c.create_stream(g.id, "s2", 6).await.unwrap();
        assert_eq!(c.streams(g.id).await.unwrap().len(), 2);
        let desc = c.streams_by_name(g.id, None, true, None, 10).await.unwrap();
        assert_eq!(
            desc.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            vec!["s2", "s1"]
        );
        let after = c
            .streams_by_name(g.id, Some("s"), false, Some("s1"), 10)
            .await
            .unwrap();
        assert_eq!(
            after.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            vec!["s2"]
        );

        assert_eq!(c.delete_stream(g.id, "s1").await.unwrap(), s1.id);
        assert_eq!(c.deleted_streams().await.unwrap(), vec![s1.id]);
        let s1b = c.create_stream(g.id, "s1", 7).await.unwrap();
        assert!(s1b.id > s1.id, "stream id reused");
        assert!(matches!(
            c.delete_stream(g.id, "nope").await,
            Err(StoreError::LogStreamNotFound)
        ));
    }

    #[tokio::test]
    async fn flush_commit_registers_segments_stats_and_checkpoint_atomically() {
        let (_d, c) = catalog();
        let g = c.create_group(&scope(), new_group("g")).await.unwrap();
        let s = c.create_stream(g.id, "s", 0).await.unwrap();
        let gone = c.create_group(&scope(), new_group("gone")).await.unwrap();
        c.delete_group(&scope(), "gone").await.unwrap();
        let delta = StreamDelta {
            first_event_timestamp: Some(10),
            last_event_timestamp: Some(50),
            last_ingestion_time: Some(60),
            stored_bytes: 0,
        };
        let skipped = c
            .commit_flush(
                vec![
                    segment(g.id, "a.parquet", 10, 50, s.id, 300),
                    segment(gone.id, "b.parquet", 0, 1, 999, 5),
                ],
                vec![(s.id, delta)],
                Checkpoint {
                    lsn: 42,
                    next_seq: 100,
                },
            )
            .await
            .unwrap();
        assert_eq!(skipped, vec!["b.parquet".to_string()]);
        assert_eq!(
            c.checkpoint().await.unwrap(),
            Checkpoint {
                lsn: 42,
                next_seq: 100
            }
        );
        let st = c.stream(g.id, "s").await.unwrap().unwrap();
        assert_eq!(
            (
                st.first_event_timestamp,
                st.last_event_timestamp,
                st.last_ingestion_time
            ),
            (Some(10), Some(50), Some(60))
        );
        assert_eq!(st.stored_bytes, 300);
        assert_eq!(
            c.group(&scope(), "g").await.unwrap().unwrap().stored_bytes,
            300
        );

        // Time pruning.
        assert_eq!(
            c.segments(g.id, Some(51), None, None).await.unwrap().len(),
            0
        );
        assert_eq!(
            c.segments(g.id, None, Some(10), None).await.unwrap().len(),
            0
        );
        assert_eq!(
            c.segments(g.id, Some(50), Some(11), None)
                .await
                .unwrap()
                .len(),
            1
        );
        // Stream pruning through the per-segment stream list.
        assert_eq!(
            c.segments(g.id, None, None, Some(&[s.id]))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            c.segments(g.id, None, None, Some(&[s.id + 1000]))
                .await
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            c.segments(g.id, None, None, Some(&[])).await.unwrap().len(),
            0
        );

        // Checkpoint never moves backwards; stats merge by min/max.
        let older = StreamDelta {
            first_event_timestamp: Some(5),
            last_event_timestamp: Some(20),
            ..delta
        };
        c.commit_flush(
            vec![],
            vec![(s.id, older)],
            Checkpoint {
                lsn: 7,
                next_seq: 3,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            c.checkpoint().await.unwrap(),
            Checkpoint {
                lsn: 42,
                next_seq: 100
            }
        );
        let st = c.stream(g.id, "s").await.unwrap().unwrap();
        assert_eq!(
            (st.first_event_timestamp, st.last_event_timestamp),
            (Some(5), Some(50))
        );

        // Retention.
        c.update_group(&scope(), "g", LogGroupChange::SetRetention(Some(1)))
            .await
            .unwrap();
        assert!(c
            .expired_segments(50 + 86_400_000)
            .await
            .unwrap()
            .is_empty());
        let expired = c.expired_segments(51 + 86_400_000).await.unwrap();
        assert_eq!(expired.len(), 1);
        c.delete_segments(&[expired[0].id]).await.unwrap();
        assert_eq!(c.segment_totals().await.unwrap(), (0, 0));
        assert_eq!(
            c.group(&scope(), "g").await.unwrap().unwrap().stored_bytes,
            0
        );
    }

    #[tokio::test]
    async fn orphans_and_imports() {
        let (_d, c) = catalog();
        let g = c.create_group(&scope(), new_group("g")).await.unwrap();
        let s = c.create_stream(g.id, "s", 0).await.unwrap();
        c.commit_flush(
            vec![segment(g.id, "x", 0, 1, s.id, 10)],
            vec![],
            Checkpoint::default(),
        )
        .await
        .unwrap();
        assert!(c.orphan_segments().await.unwrap().is_empty());
        c.delete_group(&scope(), "g").await.unwrap();
        assert_eq!(c.orphan_segments().await.unwrap().len(), 1);

        assert!(c.record_import(&scope(), "k1").await.unwrap());
        assert!(!c.record_import(&scope(), "k1").await.unwrap());
        assert!(c.is_imported(&scope(), "k1").await.unwrap());
        assert!(!c.is_imported(&scope(), "k2").await.unwrap());
    }

    fn saved(id: &str, name: &str, language: &str) -> SavedQuery {
        SavedQuery {
            id: id.into(),
            name: name.into(),
            language: language.into(),
            client_token: Some(format!("token-{id}")),
            last_modified: 5,
            body: format!("{{\"q\":\"{name}\"}}"),
        }
    }

    #[tokio::test]
    async fn saved_queries_page_by_name_then_id_per_scope() {
        let (_d, c) = catalog();
        let other = Scope {
            account_id: "999999999999".into(),
            region: "us-east-1".into(),
        };
        for (id, name, lang) in [
            ("b", "app/errors", "CWLI"),
            ("a", "app/errors", "CWLI"),
            ("c", "app/latency", "SQL"),
            ("d", "ops_100%", "CWLI"),
        ] {
            c.put_saved_query(&scope(), saved(id, name, lang))
                .await
                .unwrap();
        }
        c.put_saved_query(&other, saved("z", "app/other", "CWLI"))
            .await
            .unwrap();
        let ids = |v: Vec<SavedQuery>| v.into_iter().map(|q| q.id).collect::<Vec<_>>();
        let all = c
            .list_saved_queries(&scope(), None, None, None, 10)
            .await
            .unwrap();
        assert_eq!(ids(all), ["a", "b", "c", "d"]);
        let page = c
            .list_saved_queries(
                &scope(),
                Some("app/"),
                None,
                Some(("app/errors".into(), "a".into())),
                10,
            )
            .await
            .unwrap();
        assert_eq!(ids(page), ["b", "c"]);
        let sql = c
            .list_saved_queries(&scope(), None, Some("SQL"), None, 10)
            .await
            .unwrap();
        assert_eq!(ids(sql), ["c"]);
        // `%` and `_` in a prefix match literally.
        let literal = c
            .list_saved_queries(&scope(), Some("ops_1"), None, None, 10)
            .await
            .unwrap();
        assert_eq!(ids(literal), ["d"]);
        assert!(c
            .list_saved_queries(&scope(), Some("ops%"), None, None, 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(c.count_saved_queries(&scope()).await.unwrap(), 4);

        let mut updated = saved("a", "zz", "CWLI");
        updated.body = "new".into();
        c.put_saved_query(&scope(), updated.clone()).await.unwrap();
        assert_eq!(c.saved_query(&scope(), "a").await.unwrap(), Some(updated));
        assert_eq!(
            c.saved_query_by_client_token(&scope(), "token-c")
                .await
                .unwrap()
                .map(|q| q.id),
            Some("c".into())
        );
        assert!(c.saved_query(&other, "a").await.unwrap().is_none());
        assert!(!c.delete_saved_query(&other, "a").await.unwrap());
        assert!(c.delete_saved_query(&scope(), "a").await.unwrap());
        assert!(!c.delete_saved_query(&scope(), "a").await.unwrap());
        assert_eq!(c.count_saved_queries(&scope()).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let id = {
            let c = SqliteCatalog::open(&path).unwrap();
            c.create_group(&scope(), new_group("g")).await.unwrap().id
        };
        let c = SqliteCatalog::open(&path).unwrap();
        assert_eq!(c.group(&scope(), "g").await.unwrap().unwrap().id, id);
        assert_eq!(c.group_by_id(id).await.unwrap().unwrap().name, "g");
    }
}
