//! Nothing acknowledged is ever lost: clients ingest continuously while the server is killed with
//! SIGKILL at random moments; after each restart every acknowledged event is present exactly once.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::{now_ms, TestServer};
use rand::Rng;

const CYCLES: usize = 20;
const WRITERS: usize = 4;
const EVENTS_PER_BATCH: usize = 100;

/// Reads a whole stream from the head, following forward tokens until they repeat.
async fn read_stream(logs: &aws_sdk_cloudwatchlogs::Client, stream: &str) -> Vec<String> {
    let mut messages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = logs
            .get_log_events()
            .log_group_name("crash")
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("get_log_events after restart");
        messages.extend(
            out.events()
                .iter()
                .map(|e| e.message().unwrap().to_string()),
        );
        let next = out.next_forward_token().unwrap().to_string();
        if token.as_deref() == Some(next.as_str()) {
            return messages;
        }
        token = Some(next);
    }
}

/// Checks one cycle's stream: no duplicate event, every acknowledged batch complete, and every
/// batch that is present at all is complete (a batch is atomic).
fn verify(cycle: usize, messages: &[String], acknowledged: &HashSet<String>) {
    let mut seen = HashSet::new();
    let mut per_batch: BTreeMap<String, usize> = BTreeMap::new();
    for m in messages {
        assert!(
            seen.insert(m.clone()),
            "cycle {cycle}: duplicated event {m}"
        );
        let batch = m.rsplit_once("-e").expect("event format").0.to_string();
        *per_batch.entry(batch).or_default() += 1;
    }
    for batch in acknowledged {
        assert_eq!(
            per_batch.get(batch).copied(),
            Some(EVENTS_PER_BATCH),
            "cycle {cycle}: acknowledged batch {batch} lost or partial"
        );
    }
    for (batch, count) in &per_batch {
        assert_eq!(
            *count, EVENTS_PER_BATCH,
            "cycle {cycle}: batch {batch} partially present"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_ingest_loses_nothing_acknowledged() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut acknowledged_by_cycle: Vec<HashSet<String>> = Vec::new();
    let mut total_acknowledged = 0usize;

    for cycle in 0..=CYCLES {
        let mut server = TestServer::start_in(&data);
        let logs = server.logs_client();
        if cycle == 0 {
            logs.create_log_group()
                .log_group_name("crash")
                .send()
                .await
                .unwrap();
        }
        // Everything acknowledged before the previous kills must be here, exactly once.
        if cycle > 0 {
            let previous = cycle - 1;
            let messages = read_stream(&logs, &format!("cycle-{previous}")).await;
            verify(previous, &messages, &acknowledged_by_cycle[previous]);
        }
        if cycle == CYCLES {
            // Final pass over every cycle, after one more restart.
            for (c, acknowledged) in acknowledged_by_cycle.iter().enumerate() {
                let messages = read_stream(&logs, &format!("cycle-{c}")).await;
                verify(c, &messages, acknowledged);
            }
            break;
        }

        let stream = format!("cycle-{cycle}");
        logs.create_log_stream()
            .log_group_name("crash")
            .log_stream_name(&stream)
            .send()
            .await
            .unwrap();
        let acknowledged = Arc::new(Mutex::new(HashSet::new()));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let logs = logs.clone();
            let stream = stream.clone();
            let acknowledged = acknowledged.clone();
            writers.push(tokio::spawn(async move {
                for b in 0.. {
                    let batch = format!("c{cycle}-w{w}-b{b}");
                    let now = now_ms();
                    let events: Vec<InputLogEvent> = (0..EVENTS_PER_BATCH)
                        .map(|e| {
                            InputLogEvent::builder()
                                .timestamp(now)
                                .message(format!("{batch}-e{e}"))
                                .build()
                                .unwrap()
                        })
                        .collect();
                    let result = logs
                        .put_log_events()
                        .log_group_name("crash")
                        .log_stream_name(&stream)
                        .set_log_events(Some(events))
                        .send()
                        .await;
                    match result {
                        Ok(_) => {
                            acknowledged.lock().unwrap().insert(batch);
                        }
                        Err(_) => break,
                    }
                }
            }));
        }
        let delay = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill9();
        for writer in writers {
            writer.await.unwrap();
        }
        let acknowledged = Arc::try_unwrap(acknowledged).unwrap().into_inner().unwrap();
        total_acknowledged += acknowledged.len();
        acknowledged_by_cycle.push(acknowledged);
    }
    assert!(
        total_acknowledged > CYCLES,
        "the test must actually ingest: {total_acknowledged} batches acknowledged"
    );
    eprintln!("crash test: {CYCLES} kill -9 cycles, {total_acknowledged} acknowledged batches of {EVENTS_PER_BATCH} verified");
}

#[tokio::test]
async fn graceful_shutdown_flushes_and_restarts_clean() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = TestServer::start_in(&data);
    let logs = server.logs_client();
    common::create_group_and_stream(&logs, "crash", "s").await;
    let now = now_ms();
    logs.put_log_events()
        .log_group_name("crash")
        .log_stream_name("s")
        .log_events(
            InputLogEvent::builder()
                .timestamp(now)
                .message("kept-e0")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    let server = TestServer::start_in(&data);
    let logs = server.logs_client();
    assert_eq!(read_stream(&logs, "s").await, ["kept-e0"]);
}
