//! Logs Insights query runs: admission (per-account concurrency limit), asynchronous execution
//! over store scans, cancellation, timeout, partial results and expiry of finished results.
//!
//! A run is a tokio task that reads the store in one unordered pass (`Store::scan_unordered`, a
//! row group at a time) for each selected group and feeds the events to the query's `Execution`
//! on the blocking pool. Nothing holds more than one row group of events; the execution itself keeps only
//! what the query needs (stats accumulators, or the top rows when the query only orders and caps).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use watchtrail_insights::{Event, Execution, QueryOutput};
use watchtrail_store::{GroupId, Scope, Store, StoreError, StreamId, StreamOrder};

use crate::insights_records::encode_pointer;

/// Concurrent (Scheduled or Running) queries per account. StartQuery beyond it answers
/// LimitExceededException. The botocore model's StartQuery documentation says "up to 100
/// concurrent CloudWatch Logs insights queries" (older AWS pages said 30).
pub const MAX_CONCURRENT_QUERIES: usize = 100;
/// AWS: "Queries time out after 60 minutes of runtime."
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// AWS keeps query results for 7 days.
pub const DEFAULT_RESULTS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Finished queries kept in memory at most; the oldest finished ones are dropped first.
pub const DEFAULT_MAX_RETAINED_QUERIES: usize = 1000;
/// A running query's partial results are recomputed at most this often.
pub const DEFAULT_PARTIAL_INTERVAL: Duration = Duration::from_secs(1);

/// Knobs of the Insights query runner; [`InsightsConfig::default`] is AWS's behaviour.
#[derive(Clone, Debug)]
pub struct InsightsConfig {
    pub max_concurrent_queries: usize,
    pub query_timeout: Duration,
    pub results_ttl: Duration,
    pub max_retained_queries: usize,
    pub partial_interval: Duration,
}

impl Default for InsightsConfig {
    fn default() -> Self {
        InsightsConfig {
            max_concurrent_queries: MAX_CONCURRENT_QUERIES,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
            results_ttl: DEFAULT_RESULTS_TTL,
            max_retained_queries: DEFAULT_MAX_RETAINED_QUERIES,
            partial_interval: DEFAULT_PARTIAL_INTERVAL,
        }
    }
}

/// GetQueryResults' `status` values (the model's `QueryStatus`; `Unknown` is never produced).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryStatus {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
}

impl QueryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Scheduled => "Scheduled",
            QueryStatus::Running => "Running",
            QueryStatus::Complete => "Complete",
            QueryStatus::Failed => "Failed",
            QueryStatus::Cancelled => "Cancelled",
            QueryStatus::Timeout => "Timeout",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, QueryStatus::Scheduled | QueryStatus::Running)
    }
}

/// One log group a run scans.
#[derive(Clone, Debug)]
pub struct SelectedGroup {
    pub id: GroupId,
    pub name: String,
}

/// What StartQuery decided; everything a run needs.
#[derive(Clone, Debug)]
pub struct QuerySpec {
    pub scope: Scope,
    pub language: String,
    /// As DescribeQueries echoes it.
    pub described_query: String,
    pub groups: Vec<SelectedGroup>,
    /// The range to scan, inclusive epoch milliseconds: the query's own range, widened for
    /// `diff` (the execution keeps the query's range and sorts events into its windows).
    pub start_ms: i64,
    pub end_ms: i64,
    pub execution: Execution,
}

struct RunState {
    status: QueryStatus,
    /// Final results (Complete) or the statistics reached (Failed, Cancelled, Timeout).
    output: Option<Arc<QueryOutput>>,
    partial: Option<(Instant, Arc<QueryOutput>)>,
    finished_at: Option<Instant>,
}

/// A query known to the runner: running, or finished and not yet expired.
pub struct QueryRun {
    pub id: String,
    pub scope: Scope,
    pub language: String,
    pub described_query: String,
    pub group_names: Vec<String>,
    /// Epoch milliseconds.
    pub create_time: i64,
    groups_scanned: usize,
    state: Mutex<RunState>,
    execution: Arc<Mutex<Execution>>,
    cancel_requested: AtomicBool,
    cancelled: tokio::sync::Notify,
}

/// A consistent view of a run for GetQueryResults and DescribeQueries.
pub struct RunSnapshot {
    pub status: QueryStatus,
    pub output: Option<Arc<QueryOutput>>,
    pub groups_scanned: usize,
}

impl QueryRun {
    pub fn status(&self) -> QueryStatus {
        lock(&self.state).status
    }

    /// Sets a terminal status unless one is already set (StopQuery wins over a late finish).
    fn finish(&self, status: QueryStatus, output: QueryOutput) -> bool {
        let mut state = lock(&self.state);
        if !state.status.is_active() {
            return false;
        }
        state.status = status;
        state.output = Some(Arc::new(output));
        state.partial = None;
        state.finished_at = Some(Instant::now());
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded data is updated in single assignments; a panic elsewhere leaves it consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why StartQuery could not admit a run.
#[derive(Debug, PartialEq, Eq)]
pub enum AdmissionError {
    TooManyConcurrentQueries,
}

/// All runs of this server, every account and region.
pub struct QueryRunner {
    config: InsightsConfig,
    runs: Mutex<HashMap<String, Arc<QueryRun>>>,
}

impl QueryRunner {
    pub fn new(config: InsightsConfig) -> Self {
        QueryRunner {
            config,
            runs: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &InsightsConfig {
        &self.config
    }

    /// Registers a run as Scheduled if the account is under its concurrency limit. The caller
    /// then starts it with [`QueryRunner::spawn`].
    pub fn admit(&self, spec: &QuerySpec, now_ms: i64) -> Result<Arc<QueryRun>, AdmissionError> {
        let mut runs = lock(&self.runs);
        self.sweep_locked(&mut runs);
        let active = runs
            .values()
            .filter(|r| r.scope.account_id == spec.scope.account_id && r.status().is_active())
            .count();
        if active >= self.config.max_concurrent_queries {
            return Err(AdmissionError::TooManyConcurrentQueries);
        }
        let run = Arc::new(QueryRun {
            id: new_query_id(),
            scope: spec.scope.clone(),
            language: spec.language.clone(),
            described_query: spec.described_query.clone(),
            group_names: spec.groups.iter().map(|g| g.name.clone()).collect(),
            create_time: now_ms,
            groups_scanned: spec.groups.len(),
            state: Mutex::new(RunState {
                status: QueryStatus::Scheduled,
                output: None,
                partial: None,
                finished_at: None,
            }),
            execution: Arc::new(Mutex::new(spec.execution.clone())),
            cancel_requested: AtomicBool::new(false),
            cancelled: tokio::sync::Notify::new(),
        });
        runs.insert(run.id.clone(), run.clone());
        Ok(run)
    }

    /// Starts the run on the tokio runtime.
    pub fn spawn(&self, store: Arc<Store>, run: Arc<QueryRun>, spec: QuerySpec) {
        let timeout = self.config.query_timeout;
        tokio::spawn(async move {
            {
                let mut state = lock(&run.state);
                if state.status == QueryStatus::Scheduled {
                    state.status = QueryStatus::Running;
                }
            }
            let scan = scan_groups(&store, &run, &spec);
            let outcome = tokio::select! {
                result = tokio::time::timeout(timeout, scan) => match result {
                    Ok(Ok(())) => QueryStatus::Complete,
                    Ok(Err(e)) => {
                        tracing::warn!(query_id = %run.id, error = %e, "query failed");
                        QueryStatus::Failed
                    }
                    Err(_) => QueryStatus::Timeout,
                },
                _ = run.cancelled.notified() => QueryStatus::Cancelled,
            };
            if outcome == QueryStatus::Cancelled || run.cancel_requested.load(Ordering::SeqCst) {
                // StopQuery recorded the outcome.
                return;
            }
            let execution = run.execution.clone();
            let output = tokio::task::spawn_blocking(move || lock(&execution).clone().finish())
                .await
                .unwrap_or_default();
            let output = if outcome == QueryStatus::Complete {
                output
            } else {
                // Only Complete queries have results; the others keep what they scanned.
                QueryOutput {
                    rows: Vec::new(),
                    ..output
                }
            };
            run.finish(outcome, output);
        });
    }

    pub fn get(&self, scope: &Scope, id: &str) -> Option<Arc<QueryRun>> {
        let mut runs = lock(&self.runs);
        self.sweep_locked(&mut runs);
        runs.get(id).filter(|r| r.scope == *scope).cloned()
    }

    /// Runs of the scope, newest first.
    pub fn list(&self, scope: &Scope) -> Vec<Arc<QueryRun>> {
        let mut runs = lock(&self.runs);
        self.sweep_locked(&mut runs);
        let mut out: Vec<Arc<QueryRun>> = runs
            .values()
            .filter(|r| r.scope == *scope)
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            b.create_time
                .cmp(&a.create_time)
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }

    /// StopQuery: true if the run was Scheduled or Running and is now Cancelled. Its statistics
    /// are those reached when it stopped; a cancelled query has no result rows.
    pub async fn cancel(&self, run: &Arc<QueryRun>) -> bool {
        {
            let mut state = lock(&run.state);
            if !state.status.is_active() {
                return false;
            }
            state.status = QueryStatus::Cancelled;
            state.partial = None;
            state.finished_at = Some(Instant::now());
        }
        run.cancel_requested.store(true, Ordering::SeqCst);
        run.cancelled.notify_one();
        let execution = run.execution.clone();
        let reached = tokio::task::spawn_blocking(move || lock(&execution).clone().finish())
            .await
            .unwrap_or_default();
        lock(&run.state).output = Some(Arc::new(QueryOutput {
            rows: Vec::new(),
            ..reached
        }));
        true
    }

    /// The run's status and results: final ones once it ended, else partial results recomputed
    /// at most every `partial_interval`.
    pub async fn snapshot(&self, run: &Arc<QueryRun>) -> RunSnapshot {
        let (status, output, fresh) = {
            let state = lock(&run.state);
            let fresh = match &state.partial {
                Some((at, out)) if at.elapsed() < self.config.partial_interval => Some(out.clone()),
                _ => None,
            };
            (state.status, state.output.clone(), fresh)
        };
        let output = match (status.is_active(), output, fresh) {
            (false, output, _) => output,
            (true, _, Some(partial)) => Some(partial),
            (true, _, None) => {
                let execution = run.execution.clone();
                let partial = tokio::task::spawn_blocking(move || {
                    let copy = lock(&execution).clone();
                    copy.finish()
                })
                .await
                .map(Arc::new)
                .ok();
                if let Some(p) = &partial {
                    let mut state = lock(&run.state);
                    if state.status.is_active() {
                        state.partial = Some((Instant::now(), p.clone()));
                    }
                }
                partial
            }
        };
        RunSnapshot {
            status,
            output,
            groups_scanned: run.groups_scanned,
        }
    }

    /// Drops finished runs older than the results TTL, then the oldest finished runs beyond the
    /// retained count. Active runs are never dropped.
    fn sweep_locked(&self, runs: &mut HashMap<String, Arc<QueryRun>>) {
        let ttl = self.config.results_ttl;
        runs.retain(|_, r| {
            lock(&r.state)
                .finished_at
                .is_none_or(|at| at.elapsed() < ttl)
        });
        let mut finished: Vec<(Instant, String)> = runs
            .values()
            .filter_map(|r| lock(&r.state).finished_at.map(|at| (at, r.id.clone())))
            .collect();
        if finished.len() > self.config.max_retained_queries {
            finished.sort();
            let excess = finished.len() - self.config.max_retained_queries;
            for (_, id) in finished.into_iter().take(excess) {
                runs.remove(&id);
            }
        }
    }
}

/// Scans every selected group over the time range in one unordered pass (the execution takes
/// events in any order), a row group at a time, feeding the execution.
async fn scan_groups(
    store: &Arc<Store>,
    run: &Arc<QueryRun>,
    spec: &QuerySpec,
) -> Result<(), StoreError> {
    let end_exclusive = spec.end_ms.saturating_add(1);
    for group in &spec.groups {
        let log_value: Arc<str> = Arc::from(format!("{}:{}", spec.scope.account_id, group.name));
        let mut stream_names = Arc::new(list_stream_names(store, group.id).await?);
        let mut scan = store
            .scan_unordered(group.id, Some(spec.start_ms), Some(end_exclusive))
            .await?;
        loop {
            if run.cancel_requested.load(Ordering::SeqCst) {
                return Ok(());
            }
            let Some(events) = scan.next_chunk().await? else {
                break;
            };
            if events.is_empty() {
                continue;
            }
            if events
                .iter()
                .any(|e| !stream_names.contains_key(&e.stream_id))
            {
                // A stream created after the run started.
                stream_names = Arc::new(list_stream_names(store, group.id).await?);
            }
            let execution = run.execution.clone();
            let names = stream_names.clone();
            let log_value = log_value.clone();
            let group_id = group.id;
            tokio::task::spawn_blocking(move || {
                let mut execution = lock(&execution);
                let needs_ptr = execution.needs_ptr();
                for e in &events {
                    let log_stream = names.get(&e.stream_id).map(String::as_str).unwrap_or("");
                    execution.push(&Event {
                        timestamp_ms: e.timestamp,
                        ingestion_time_ms: e.ingestion_time,
                        message: &e.message,
                        log_stream,
                        log_group: &log_value,
                        ptr: if needs_ptr {
                            encode_pointer(group_id, e.stream_id, e.timestamp, e.seq)
                        } else {
                            String::new()
                        },
                    });
                }
            })
            .await
            .map_err(|e| StoreError::Internal(format!("query evaluation task: {e}")))?;
        }
    }
    Ok(())
}

async fn list_stream_names(
    store: &Arc<Store>,
    group: GroupId,
) -> Result<HashMap<StreamId, String>, StoreError> {
    Ok(store
        .list_log_streams(
            group,
            StreamOrder::LogStreamName,
            None,
            false,
            None,
            usize::MAX,
        )
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

/// A random version-4 UUID in AWS's textual form (query ids look like this in AWS).
pub fn new_query_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS per instance; hashing a counter and the clock with two
    // of them gives 128 unpredictable-enough bits without a new dependency.
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut words = [0u64; 2];
    for w in &mut words {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        *w = h.finish();
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&words[0].to_le_bytes());
    bytes[8..].copy_from_slice(&words[1].to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchtrail_insights::ExecutionContext;
    use watchtrail_store::{InputEvent, NewLogGroup, StoreConfig};

    const T0: i64 = 1_700_000_000_000;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    /// A store with one group holding `events` events one millisecond apart from `T0`.
    async fn store_with_events(events: usize) -> (tempfile::TempDir, Arc<Store>, SelectedGroup) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(StoreConfig::new(dir.path())).await.unwrap();
        let group = store
            .create_log_group(
                &scope(),
                NewLogGroup {
                    name: "app".into(),
                    creation_time: T0,
                    log_group_class: "STANDARD".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let stream = store.create_log_stream(group.id, "s1", T0).await.unwrap();
        for chunk in (0..events).collect::<Vec<_>>().chunks(5000) {
            let batch = chunk
                .iter()
                .map(|i| InputEvent {
                    timestamp: T0 + *i as i64,
                    message: format!(
                        "{{\"n\":{i},\"level\":\"{}\"}}",
                        if i % 4 == 0 { "error" } else { "info" }
                    ),
                })
                .collect();
            store.append(group.id, stream.id, T0, batch).await.unwrap();
        }
        let selected = SelectedGroup {
            id: group.id,
            name: group.name,
        };
        (dir, store, selected)
    }

    fn spec(group: &SelectedGroup, text: &str) -> QuerySpec {
        let query = watchtrail_insights::parse(text).unwrap();
        QuerySpec {
            scope: scope(),
            language: "CWLI".into(),
            described_query: text.into(),
            groups: vec![group.clone()],
            start_ms: T0,
            end_ms: T0 + 3_600_000,
            execution: query.execute(ExecutionContext {
                start_ms: T0,
                end_ms: T0 + 3_600_000,
                now_ms: T0,
                limit: None,
            }),
        }
    }

    async fn wait_until_ended(runner: &QueryRunner, run: &Arc<QueryRun>) -> RunSnapshot {
        for _ in 0..500 {
            let snap = runner.snapshot(run).await;
            if !snap.status.is_active() {
                return snap;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("query did not end within 5 s");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_streams_every_page_and_counts_statistics() {
        let (_dir, store, group) = store_with_events(4500).await;
        let runner = QueryRunner::new(InsightsConfig::default());
        let spec = spec(
            &group,
            "filter level = \"error\" | stats count(*) as errors",
        );
        let run = runner.admit(&spec, T0).unwrap();
        assert_eq!(run.status(), QueryStatus::Scheduled);
        runner.spawn(store, run.clone(), spec);
        let snap = wait_until_ended(&runner, &run).await;
        assert_eq!(snap.status, QueryStatus::Complete);
        let out = snap.output.unwrap();
        assert_eq!(
            out.rows,
            vec![vec![("errors".to_string(), "1125".to_string())]]
        );
        assert_eq!((out.records_scanned, out.records_matched), (4500, 1125));
        assert!(out.bytes_scanned > 4500 * 20);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_concurrency_limit_counts_active_runs_of_the_account() {
        let (_dir, _store, group) = store_with_events(1).await;
        let runner = QueryRunner::new(InsightsConfig {
            max_concurrent_queries: 2,
            ..Default::default()
        });
        let spec = spec(&group, "fields @message");
        let first = runner.admit(&spec, T0).unwrap();
        let _second = runner.admit(&spec, T0).unwrap();
        assert_eq!(
            runner.admit(&spec, T0).err(),
            Some(AdmissionError::TooManyConcurrentQueries)
        );
        let mut other_account = spec.clone();
        other_account.scope.account_id = "999999999999".into();
        assert!(
            runner.admit(&other_account, T0).is_ok(),
            "limits are per account"
        );
        assert!(runner.cancel(&first).await);
        assert!(
            runner.admit(&spec, T0).is_ok(),
            "a cancelled run frees its slot"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stop_cancels_once_and_the_task_does_not_overwrite_it() {
        let (_dir, store, group) = store_with_events(10).await;
        let runner = QueryRunner::new(InsightsConfig::default());
        let spec = spec(&group, "fields @message");
        let run = runner.admit(&spec, T0).unwrap();
        assert!(runner.cancel(&run).await);
        assert!(
            !runner.cancel(&run).await,
            "a second stop finds it not running"
        );
        runner.spawn(store, run.clone(), spec);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let snap = runner.snapshot(&run).await;
        assert_eq!(snap.status, QueryStatus::Cancelled);
        assert!(snap.output.unwrap().rows.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_past_its_timeout_ends_as_timeout() {
        let (_dir, store, group) = store_with_events(40_000).await;
        let runner = QueryRunner::new(InsightsConfig {
            query_timeout: Duration::from_millis(1),
            ..Default::default()
        });
        let spec = spec(&group, "fields @message | sort @message");
        let run = runner.admit(&spec, T0).unwrap();
        runner.spawn(store, run.clone(), spec);
        let snap = wait_until_ended(&runner, &run).await;
        assert_eq!(snap.status, QueryStatus::Timeout);
        let out = snap.output.unwrap();
        assert!(out.rows.is_empty());
        assert!(out.records_scanned < 40_000, "stopped before the end");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finished_runs_expire_by_age_and_by_count() {
        let (_dir, store, group) = store_with_events(3).await;
        let runner = QueryRunner::new(InsightsConfig {
            max_retained_queries: 1,
            ..Default::default()
        });
        let mut ids = Vec::new();
        for _ in 0..3 {
            let spec = spec(&group, "fields @message");
            let run = runner.admit(&spec, T0).unwrap();
            runner.spawn(store.clone(), run.clone(), spec);
            wait_until_ended(&runner, &run).await;
            ids.push(run.id.clone());
        }
        assert!(runner.get(&scope(), &ids[0]).is_none());
        assert!(runner.get(&scope(), &ids[1]).is_none());
        assert!(
            runner.get(&scope(), &ids[2]).is_some(),
            "the newest is kept"
        );

        let aging = QueryRunner::new(InsightsConfig {
            results_ttl: Duration::from_millis(50),
            ..Default::default()
        });
        let spec = spec(&group, "fields @message");
        let run = aging.admit(&spec, T0).unwrap();
        aging.spawn(store, run.clone(), spec);
        wait_until_ended(&aging, &run).await;
        assert!(aging.get(&scope(), &run.id).is_some());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(
            aging.get(&scope(), &run.id).is_none(),
            "expired after the TTL"
        );
        assert!(aging.get(&scope(), "no-such-id").is_none());
    }

    fn push_message(run: &QueryRun, n: i64) {
        lock(&run.execution).push(&Event {
            timestamp_ms: T0 + n,
            ingestion_time_ms: T0,
            message: &format!("event {n}"),
            log_stream: "s1",
            log_group: "123456789012:app",
            ptr: encode_pointer(1, 1, T0 + n, n as u64),
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn partial_results_are_recomputed_at_most_once_per_interval() {
        let (_dir, _store, group) = store_with_events(1).await;
        let spec = spec(&group, "fields @message");

        let cached = QueryRunner::new(InsightsConfig {
            partial_interval: Duration::from_secs(3600),
            ..Default::default()
        });
        let run = cached.admit(&spec, T0).unwrap();
        push_message(&run, 1);
        let first = cached.snapshot(&run).await;
        assert_eq!(first.status, QueryStatus::Scheduled);
        assert_eq!(first.output.unwrap().rows.len(), 1);
        push_message(&run, 2);
        let second = cached.snapshot(&run).await;
        assert_eq!(
            second.output.unwrap().rows.len(),
            1,
            "within the interval the earlier partial result is served"
        );

        let live = QueryRunner::new(InsightsConfig {
            partial_interval: Duration::ZERO,
            ..Default::default()
        });
        let run = live.admit(&spec, T0).unwrap();
        push_message(&run, 1);
        push_message(&run, 2);
        let snap = live.snapshot(&run).await;
        let out = snap.output.unwrap();
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.records_scanned, 2);
        assert!(
            out.rows[0].iter().any(|(f, _)| f == "@ptr"),
            "partial rows carry @ptr: {:?}",
            out.rows[0]
        );
    }

    #[test]
    fn query_ids_look_like_uuids_and_differ() {
        let a = new_query_id();
        let b = new_query_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(&parts[2][..1], "4");
    }
}
