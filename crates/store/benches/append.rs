//! Ingest throughput: 8 concurrent clients, each appending batches of 5,000 × 150-byte events,
//! fsync on, into a store in a temporary directory (background flushes run as in production).
//!
//! `cargo bench -p watchtrail-store --bench append`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use watchtrail_store::*;

const CLIENTS: usize = 8;
const BATCH: usize = 5_000;
const MESSAGE_BYTES: usize = 150;
/// Batches each client sends per measured iteration.
const BATCHES_PER_CLIENT: usize = 4;

fn batch(client: usize, n: u64) -> Vec<InputEvent> {
    let pad = "x".repeat(MESSAGE_BYTES);
    (0..BATCH)
        .map(|i| {
            let mut message = format!("client {client} batch {n} event {i} ");
            message.push_str(&pad[..MESSAGE_BYTES - message.len()]);
            InputEvent {
                timestamp: 1_700_000_000_000 + (n as i64) * 1000 + i as i64 / 10,
                message,
            }
        })
        .collect()
}

fn append_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.min_free_disk_bytes = 0;
    let (store, group, streams) = rt.block_on(async {
        let store = Store::open(config).await.unwrap();
        let scope = Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let g = store
            .create_log_group(
                &scope,
                NewLogGroup {
                    name: "bench".into(),
                    log_group_class: "STANDARD".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut streams = Vec::new();
        for i in 0..CLIENTS {
            streams.push(
                store
                    .create_log_stream(g.id, &format!("s{i}"), 0)
                    .await
                    .unwrap()
                    .id,
            );
        }
        (store, g.id, streams)
    });
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let throttled = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut counter = 0u64;

    let mut g = c.benchmark_group("append");
    g.sample_size(15);
    g.measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(
        (CLIENTS * BATCH * BATCHES_PER_CLIENT) as u64,
    ));
    g.bench_function("8_clients_5000x150B_fsync", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let store = store.clone();
            let streams = streams.clone();
            let latencies = latencies.clone();
            let throttled = throttled.clone();
            let first = counter;
            counter += iters * BATCHES_PER_CLIENT as u64;
            async move {
                let mut total = Duration::ZERO;
                for it in 0..iters {
                    // Client payloads are built before the clock starts: parsing requests is not the store's cost.
                    let payloads: Vec<Vec<Vec<InputEvent>>> = (0..CLIENTS)
                        .map(|c| {
                            (0..BATCHES_PER_CLIENT)
                                .map(|k| {
                                    batch(c, first + it * BATCHES_PER_CLIENT as u64 + k as u64)
                                })
                                .collect()
                        })
                        .collect();
                    let start = Instant::now();
                    let mut tasks = Vec::new();
                    for (c, batches) in payloads.into_iter().enumerate() {
                        let store = store.clone();
                        let stream = streams[c];
                        let latencies = latencies.clone();
                        let throttled = throttled.clone();
                        tasks.push(tokio::spawn(async move {
                            for events in batches {
                                let mut events = Some(events);
                                loop {
                                    let t = Instant::now();
                                    match store
                                        .append(group, stream, 0, events.take().unwrap())
                                        .await
                                    {
                                        Ok(_) => {
                                            latencies.lock().unwrap().push(t.elapsed());
                                            break;
                                        }
                                        Err(StoreError::Throttled(_)) => {
                                            // The bench client retries like an SDK would; count it.
                                            throttled
                                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                            tokio::time::sleep(Duration::from_millis(5)).await;
                                            events = Some(batch(c, u64::MAX));
                                        }
                                        Err(e) => panic!("append failed: {e}"),
                                    }
                                }
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    total += start.elapsed();
                }
                total
            }
        })
    });
    g.finish();

    let mut l = latencies.lock().unwrap().clone();
    l.sort();
    if !l.is_empty() {
        let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
        println!(
            "append latency over {} batches: p50 {:?}, p99 {:?}, max {:?}; throttled retries: {}",
            l.len(),
            pct(0.50),
            pct(0.99),
            l[l.len() - 1],
            throttled.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    let stats = store.stats();
    println!("store after bench: {stats:?}");
    rt.block_on(store.shutdown()).unwrap();
}

/// Sustained ingest outside criterion: every client sends its batches back to back with payloads
/// prepared in advance, and the clock runs until the last batch is acknowledged *and* the
/// memtable is flushed, so background flushing is inside the measurement rather than in the gaps
/// between criterion iterations.
fn sustained(_c: &mut Criterion) {
    const ROUNDS: usize = 40;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = StoreConfig::new(dir.path());
    config.min_free_disk_bytes = 0;
    rt.block_on(async {
        let store = Store::open(config).await.unwrap();
        let scope = Scope { account_id: "123456789012".into(), region: "us-east-1".into() };
        let g = store
            .create_log_group(&scope, NewLogGroup { name: "bench".into(), log_group_class: "STANDARD".into(), ..Default::default() })
            .await
            .unwrap();
        let mut payloads = Vec::new();
        for c in 0..CLIENTS {
            let s = store.create_log_stream(g.id, &format!("s{c}"), 0).await.unwrap().id;
            payloads.push((s, (0..ROUNDS).map(|k| batch(c, k as u64)).collect::<Vec<_>>()));
        }
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (stream, batches) in payloads {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for events in batches {
                    let t = Instant::now();
                    loop {
                        match store.append(g.id, stream, 0, events.clone()).await {
                            Ok(_) => break,
                            Err(StoreError::Throttled(_)) => tokio::time::sleep(Duration::from_millis(5)).await,
                            Err(e) => panic!("append failed: {e}"),
                        }
                    }
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let acked = start.elapsed();
        store.flush().await.unwrap();
        let flushed = start.elapsed();
        lat.sort();
        let events = (CLIENTS * ROUNDS * BATCH) as f64;
        println!(
            "sustained: {} events acked in {:.2?} ({:.0} events/s), flushed by {:.2?} ({:.0} events/s incl. flush); \
             batch latency p50 {:?} p99 {:?} max {:?}",
            events as u64,
            acked,
            events / acked.as_secs_f64(),
            flushed,
            events / flushed.as_secs_f64(),
            lat[lat.len() / 2],
            lat[lat.len() * 99 / 100],
            lat[lat.len() - 1]
        );
        store.shutdown().await.unwrap();
    });
}

criterion_group!(benches, sustained, append_throughput);
criterion_main!(benches);
