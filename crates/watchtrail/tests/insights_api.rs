//! Logs Insights (StartQuery, GetQueryResults, StopQuery, DescribeQueries, query definitions,
//! GetLogRecord, GetLogGroupFields) through the official AWS SDK for Rust against the real binary.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, QueryLanguage, QueryStatus};
use aws_sdk_cloudwatchlogs::Client;
use common::{create_group_and_stream, error_code, error_message, now_ms, TestServer, ACCOUNT_ID};

fn event(timestamp: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(timestamp)
        .message(message)
        .build()
        .unwrap()
}

async fn put(logs: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) {
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put log events");
}

/// Epoch seconds of a moment ten minutes ago, so every test event is inside PutLogEvents' window.
fn base_seconds() -> i64 {
    now_ms() / 1000 - 600
}

async fn start(logs: &Client, group: &str, start_s: i64, end_s: i64, query: &str) -> String {
    logs.start_query()
        .log_group_name(group)
        .start_time(start_s)
        .end_time(end_s)
        .query_string(query)
        .send()
        .await
        .expect("start query")
        .query_id()
        .expect("query id")
        .to_string()
}

async fn wait_complete(logs: &Client, id: &str) -> GetQueryResultsOutput {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = logs
            .get_query_results()
            .query_id(id)
            .send()
            .await
            .expect("get query results");
        match out.status() {
            Some(QueryStatus::Complete) => return out,
            Some(QueryStatus::Scheduled) | Some(QueryStatus::Running) => {}
            other => panic!("query ended as {other:?}"),
        }
        assert!(Instant::now() < deadline, "query not complete in 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Rows as `field=value` lists, for compact assertions.
fn rows(out: &GetQueryResultsOutput, skip_ptr: bool) -> Vec<Vec<String>> {
    out.results()
        .iter()
        .map(|row| {
            row.iter()
                .filter(|f| !(skip_ptr && f.field() == Some("@ptr")))
                .map(|f| format!("{}={}", f.field().unwrap_or(""), f.value().unwrap_or("")))
                .collect()
        })
        .collect()
}

fn field<'a>(row: &'a [aws_sdk_cloudwatchlogs::types::ResultField], name: &str) -> Option<&'a str> {
    row.iter()
        .find(|f| f.field() == Some(name))
        .and_then(|f| f.value())
}

#[tokio::test]
async fn query_results_statistics_and_log_records() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/app/api", "i-1").await;
    let s = base_seconds();
    let messages = [
        r#"{"status":200,"path":"/a","user":{"id":"u1"}}"#,
        r#"{"status":503,"path":"/b","user":{"id":"u2"}}"#,
        "plain text line",
    ];
    put(
        &logs,
        "/app/api",
        "i-1",
        messages
            .iter()
            .enumerate()
            .map(|(i, m)| event(s * 1000 + i as i64 * 1000, m))
            .collect(),
    )
    .await;

    let id = start(
        &logs,
        "/app/api",
        s,
        s + 60,
        "fields @timestamp, @message, status | sort @timestamp asc",
    )
    .await;
    let out = wait_complete(&logs, &id).await;
    assert_eq!(out.query_language(), Some(&QueryLanguage::Cwli));
    assert!(out.encryption_key().is_none());
    let got = rows(&out, true);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0][1], format!("@message={}", messages[0]));
    assert_eq!(got[0][2], "status=200");
    assert_eq!(got[2].len(), 2, "the text line has no status: {:?}", got[2]);
    for row in out.results() {
        assert!(
            field(row, "@ptr").is_some(),
            "non-aggregate rows carry @ptr"
        );
    }
    let stats = out.statistics().expect("statistics");
    assert_eq!(stats.records_scanned(), 3.0);
    assert_eq!(stats.records_matched(), 3.0);
    let bytes: usize = messages.iter().map(|m| m.len()).sum();
    assert_eq!(stats.bytes_scanned(), bytes as f64);
    assert_eq!(stats.log_groups_scanned(), 1.0);

    // @ptr → GetLogRecord returns every field of the event, not only the queried ones.
    let ptr = field(&out.results()[1], "@ptr").unwrap();
    let record = logs
        .get_log_record()
        .log_record_pointer(ptr)
        .unmask(true)
        .send()
        .await
        .expect("get log record");
    let record = record.log_record().expect("logRecord");
    assert_eq!(
        record.get("@message").map(String::as_str),
        Some(messages[1])
    );
    assert_eq!(record.get("status").map(String::as_str), Some("503"));
    assert_eq!(record.get("path").map(String::as_str), Some("/b"));
    assert_eq!(record.get("user.id").map(String::as_str), Some("u2"));
    assert_eq!(record.get("@logStream").map(String::as_str), Some("i-1"));
    assert_eq!(
        record.get("@log").map(String::as_str),
        Some(format!("{ACCOUNT_ID}:/app/api").as_str())
    );
    assert!(record.contains_key("@timestamp") && record.contains_key("@ingestionTime"));

    for garbage in [
        "not-a-pointer",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let err = logs
            .get_log_record()
            .log_record_pointer(garbage)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException", "{garbage}");
    }
    // A pointer into a deleted group designates nothing.
    logs.delete_log_group()
        .log_group_name("/app/api")
        .send()
        .await
        .unwrap();
    let err = logs
        .get_log_record()
        .log_record_pointer(ptr)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn filter_stats_and_sort_over_several_groups() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/svc/a", "s").await;
    create_group_and_stream(&logs, "/svc/b", "s").await;
    let s = base_seconds();
    let mk =
        |status: u32, path: &str| format!(r#"{{"status":{status},"path":"{path}","ms":{status}}}"#);
    put(
        &logs,
        "/svc/a",
        "s",
        vec![
            event(s * 1000, &mk(500, "/x")),
            event(s * 1000 + 1, &mk(502, "/x")),
            event(s * 1000 + 2, &mk(200, "/x")),
            event(s * 1000 + 3, &mk(503, "/y")),
        ],
    )
    .await;
    put(
        &logs,
        "/svc/b",
        "s",
        vec![
            event(s * 1000, &mk(504, "/x")),
            event(s * 1000 + 5, &mk(404, "/z")),
        ],
    )
    .await;

    let id = logs
        .start_query()
        .log_group_names("/svc/a")
        .log_group_names("/svc/b")
        .start_time(s)
        .end_time(s + 10)
        .query_string(
            "filter status >= 500 | stats count(*) as errors, max(ms) as worst by path | sort errors desc",
        )
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_string();
    let out = wait_complete(&logs, &id).await;
    assert_eq!(
        rows(&out, false),
        vec![
            vec!["path=/x", "errors=3", "worst=504"],
            vec!["path=/y", "errors=1", "worst=503"],
        ]
    );
    assert!(
        out.results().iter().all(|r| field(r, "@ptr").is_none()),
        "aggregate rows have no @ptr"
    );
    let stats = out.statistics().unwrap();
    assert_eq!(stats.records_scanned(), 6.0);
    assert_eq!(stats.records_matched(), 4.0);
    assert_eq!(stats.log_groups_scanned(), 2.0);

    // The same question in SQL, its log groups named in FROM.
    let id = logs
        .start_query()
        .query_language(QueryLanguage::Sql)
        .start_time(s)
        .end_time(s + 10)
        .query_string(
            "SELECT path, COUNT(*) AS errors FROM `/svc/a`, `/svc/b` WHERE status >= 500 \
             GROUP BY path ORDER BY errors DESC",
        )
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_string();
    let out = wait_complete(&logs, &id).await;
    assert_eq!(out.query_language(), Some(&QueryLanguage::Sql));
    assert_eq!(
        rows(&out, false),
        vec![vec!["path=/x", "errors=3"], vec!["path=/y", "errors=1"]]
    );
    assert_eq!(out.statistics().unwrap().log_groups_scanned(), 2.0);

    // logGroupIdentifiers takes names and ARNs; limit caps the rows.
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/svc/b");
    let id = logs
        .start_query()
        .log_group_identifiers("/svc/a")
        .log_group_identifiers(arn)
        .start_time(s)
        .end_time(s + 10)
        .query_string("fields path | sort @timestamp desc")
        .limit(2)
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_string();
    let out = wait_complete(&logs, &id).await;
    assert_eq!(rows(&out, true), vec![vec!["path=/z"], vec!["path=/y"]]);
    assert_eq!(out.statistics().unwrap().records_scanned(), 6.0);
}

#[tokio::test]
async fn start_query_errors() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/e", "s").await;
    let s = base_seconds();

    let err = logs
        .start_query()
        .log_group_name("/e")
        .start_time(s)
        .end_time(s + 60)
        .query_string("fields @message | bogus x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "MalformedQueryException");
    let service_err = err.into_service_error();
    let compile = match &service_err {
        aws_sdk_cloudwatchlogs::operation::start_query::StartQueryError::MalformedQueryException(e) => {
            e.query_compile_error().expect("queryCompileError").clone()
        }
        other => panic!("unexpected {other:?}"),
    };
    let location = compile.location().expect("location");
    // `bogus` spans characters 18..23 of the query.
    assert_eq!(location.start_char_offset(), Some(18), "{compile:?}");
    assert_eq!(location.end_char_offset(), Some(23), "{compile:?}");
    assert!(!compile.message().unwrap_or("").is_empty());

    let err = logs
        .start_query()
        .log_group_name("/missing")
        .start_time(s)
        .end_time(s + 60)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    assert_eq!(
        error_message(&err),
        format!("Log group '/missing' does not exist for account ID '{ACCOUNT_ID}'")
    );

    let both = logs
        .start_query()
        .log_group_name("/e")
        .log_group_names("/e")
        .start_time(s)
        .end_time(s + 60)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&both), "InvalidParameterException");
    let none = logs
        .start_query()
        .start_time(s)
        .end_time(s + 60)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&none), "InvalidParameterException");
    let backwards = logs
        .start_query()
        .log_group_name("/e")
        .start_time(s + 60)
        .end_time(s)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&backwards), "InvalidParameterException");
    let err = logs
        .start_query()
        .log_group_name("/e")
        .query_language(QueryLanguage::Ppl)
        .start_time(s)
        .end_time(s + 60)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(
        error_message(&err).contains("PPL"),
        "{}",
        error_message(&err)
    );
    // SQL names its groups in FROM, not in the parameters; its syntax errors are compile errors.
    let err = logs
        .start_query()
        .log_group_name("/e")
        .query_language(QueryLanguage::Sql)
        .start_time(s)
        .end_time(s + 60)
        .query_string("SELECT `@message` FROM `/e`")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .start_query()
        .query_language(QueryLanguage::Sql)
        .start_time(s)
        .end_time(s + 60)
        .query_string("SELEKT x FROM `/e`")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "MalformedQueryException");
    let limit = logs
        .start_query()
        .log_group_name("/e")
        .start_time(s)
        .end_time(s + 60)
        .limit(100_001)
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&limit), "InvalidParameterException");

    // SOURCE selects groups instead of the parameters (and not together with them).
    put(&logs, "/e", "s", vec![event(s * 1000, "from source")]).await;
    let id = logs
        .start_query()
        .start_time(s)
        .end_time(s + 60)
        .query_string("SOURCE \"/e\" | fields @message")
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_string();
    let out = wait_complete(&logs, &id).await;
    assert_eq!(rows(&out, true), vec![vec!["@message=from source"]]);
    let err = logs
        .start_query()
        .log_group_name("/e")
        .start_time(s)
        .end_time(s + 60)
        .query_string("SOURCE \"/e\" | fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let err = logs
        .get_query_results()
        .query_id("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = logs
        .stop_query()
        .query_id("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn time_range_is_inclusive_epoch_seconds() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/t", "s").await;
    let s = base_seconds();
    put(
        &logs,
        "/t",
        "s",
        vec![
            event(s * 1000 - 1, "before"),
            event(s * 1000, "first ms of start"),
            event((s + 1) * 1000 + 999, "last ms of end"),
            event((s + 2) * 1000, "after"),
        ],
    )
    .await;
    let id = start(
        &logs,
        "/t",
        s,
        s + 1,
        "fields @message | sort @timestamp asc",
    )
    .await;
    let out = wait_complete(&logs, &id).await;
    assert_eq!(
        rows(&out, true),
        vec![
            vec!["@message=first ms of start"],
            vec!["@message=last ms of end"]
        ]
    );
    assert_eq!(out.statistics().unwrap().records_scanned(), 2.0);
}

#[tokio::test]
async fn events_are_visible_to_queries_within_a_second_of_their_acknowledgement() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/fresh", "s").await;
    let s = now_ms() / 1000;
    for round in 0..3 {
        let marker = format!("marker-{round}");
        put(&logs, "/fresh", "s", vec![event(now_ms(), &marker)]).await;
        let acked = Instant::now();
        let id = start(
            &logs,
            "/fresh",
            s - 60,
            s + 120,
            &format!("filter @message = \"{marker}\" | stats count(*) as n"),
        )
        .await;
        let out = wait_complete(&logs, &id).await;
        let elapsed = acked.elapsed();
        assert_eq!(rows(&out, false), vec![vec!["n=1"]], "round {round}");
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    }
}

#[tokio::test]
async fn stop_query_cancels_a_running_query() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/big", "s").await;
    let s = base_seconds();
    for batch in 0..10 {
        let events = (0..5000)
            .map(|i| {
                let n = batch * 5000 + i;
                event(
                    s * 1000 + n / 100,
                    &format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(40)),
                )
            })
            .collect();
        put(&logs, "/big", "s", events).await;
    }
    let id = start(
        &logs,
        "/big",
        s,
        s + 600,
        "fields n, pad | filter n >= 0 | sort pad desc, n asc",
    )
    .await;
    let stopped = logs.stop_query().query_id(&id).send().await.expect("stop");
    assert!(stopped.success());
    let out = logs.get_query_results().query_id(&id).send().await.unwrap();
    assert_eq!(out.status(), Some(&QueryStatus::Cancelled));
    assert!(out.results().is_empty());
    let again = logs.stop_query().query_id(&id).send().await.unwrap_err();
    assert_eq!(error_code(&again), "InvalidParameterException");

    // A finished query cannot be stopped either.
    let id = start(&logs, "/big", s, s + 600, "stats count(*) as n").await;
    let out = wait_complete(&logs, &id).await;
    assert_eq!(rows(&out, false), vec![vec!["n=50000"]]);
    let err = logs.stop_query().query_id(&id).send().await.unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    // Large results page by 10,000 rows with nextToken.
    let id = logs
        .start_query()
        .log_group_name("/big")
        .start_time(s)
        .end_time(s + 600)
        .query_string("fields n")
        .limit(12_000)
        .send()
        .await
        .unwrap()
        .query_id()
        .unwrap()
        .to_string();
    let first = wait_complete(&logs, &id).await;
    assert_eq!(first.results().len(), 10_000);
    let token = first.next_token().expect("more rows").to_string();
    let second = logs
        .get_query_results()
        .query_id(&id)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.results().len(), 2_000);
    assert!(second.next_token().is_none());
}

#[tokio::test]
async fn describe_queries_filters_and_pages() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/d1", "s").await;
    create_group_and_stream(&logs, "/d2", "s").await;
    let s = base_seconds();
    let q1 = start(&logs, "/d1", s, s + 10, "fields @message").await;
    let q2 = start(&logs, "/d2", s, s + 10, "stats count(*)").await;
    let q3 = start(&logs, "/d1", s, s + 10, "fields @timestamp").await;
    for id in [&q1, &q2, &q3] {
        wait_complete(&logs, id).await;
    }

    let all = logs.describe_queries().send().await.unwrap();
    assert_eq!(all.queries().len(), 3);
    let only_d1 = logs
        .describe_queries()
        .log_group_name("/d1")
        .status(QueryStatus::Complete)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = only_d1
        .queries()
        .iter()
        .filter_map(|q| q.query_id())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&q1.as_str()) && ids.contains(&q3.as_str()));
    let info = only_d1
        .queries()
        .iter()
        .find(|q| q.query_id() == Some(q1.as_str()))
        .unwrap();
    assert_eq!(
        info.query_string(),
        Some(
            format!(
                "SOURCE \"/d1\" START={s}000 END={}999 | fields @message",
                s + 10
            )
            .as_str()
        )
    );
    assert_eq!(info.log_group_name(), Some("/d1"));
    assert_eq!(info.status(), Some(&QueryStatus::Complete));
    assert_eq!(info.query_language(), Some(&QueryLanguage::Cwli));
    assert!(info.create_time().unwrap() > 0);

    let running = logs
        .describe_queries()
        .status(QueryStatus::Running)
        .send()
        .await
        .unwrap();
    assert!(running.queries().is_empty());

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .describe_queries()
            .max_results(1)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(page.queries().len() <= 1);
        seen.extend(
            page.queries()
                .iter()
                .filter_map(|q| q.query_id())
                .map(String::from),
        );
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    let mut expected = vec![q1, q2, q3];
    expected.sort();
    assert_eq!(seen, expected);

    let err = logs
        .describe_queries()
        .next_token("bogus")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}

#[tokio::test]
async fn query_definitions_crud_and_pagination() {
    let server = TestServer::start();
    let logs = server.logs_client();
    let mut ids = Vec::new();
    for name in ["ops/errors", "ops/latency", "team/top-paths"] {
        let id = logs
            .put_query_definition()
            .name(name)
            .query_string(format!("fields @message # {name}"))
            .log_group_names("/app/web")
            .send()
            .await
            .unwrap()
            .query_definition_id()
            .unwrap()
            .to_string();
        ids.push(id);
    }

    let mut names = Vec::new();
    let first = logs
        .describe_query_definitions()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.query_definitions().len(), 2);
    names.extend(
        first
            .query_definitions()
            .iter()
            .filter_map(|d| d.name())
            .map(String::from),
    );
    let rest = logs
        .describe_query_definitions()
        .max_results(2)
        .next_token(first.next_token().expect("a second page"))
        .send()
        .await
        .unwrap();
    names.extend(
        rest.query_definitions()
            .iter()
            .filter_map(|d| d.name())
            .map(String::from),
    );
    assert!(rest.next_token().is_none());
    assert_eq!(names, ["ops/errors", "ops/latency", "team/top-paths"]);

    let ops = logs
        .describe_query_definitions()
        .query_definition_name_prefix("ops/")
        .send()
        .await
        .unwrap();
    assert_eq!(ops.query_definitions().len(), 2);
    let d = &ops.query_definitions()[0];
    assert_eq!(d.query_definition_id(), Some(ids[0].as_str()));
    assert_eq!(d.query_string(), Some("fields @message # ops/errors"));
    assert_eq!(d.log_group_names(), ["/app/web"]);
    assert_eq!(d.query_language(), Some(&QueryLanguage::Cwli));
    assert!(d.last_modified().unwrap() > 0);

    // An update replaces every field: without logGroupNames the definition has none.
    logs.put_query_definition()
        .query_definition_id(&ids[0])
        .name("ops/errors")
        .query_string("stats count(*)")
        .send()
        .await
        .unwrap();
    let updated = logs
        .describe_query_definitions()
        .query_definition_name_prefix("ops/errors")
        .send()
        .await
        .unwrap();
    let d = &updated.query_definitions()[0];
    assert_eq!(d.query_string(), Some("stats count(*)"));
    assert!(d.log_group_names().is_empty());

    // The same client token twice creates one definition.
    let token = "0123456789abcdef0123456789abcdef01234567";
    let a = logs
        .put_query_definition()
        .name("idem")
        .query_string("fields @message")
        .client_token(token)
        .send()
        .await
        .unwrap();
    let b = logs
        .put_query_definition()
        .name("idem")
        .query_string("fields @message")
        .client_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(a.query_definition_id(), b.query_definition_id());

    let err = logs
        .put_query_definition()
        .query_definition_id("00000000-0000-4000-8000-000000000000")
        .name("x")
        .query_string("fields @message")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");

    let deleted = logs
        .delete_query_definition()
        .query_definition_id(&ids[1])
        .send()
        .await
        .unwrap();
    assert!(deleted.success());
    let err = logs
        .delete_query_definition()
        .query_definition_id(&ids[1])
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let left = logs.describe_query_definitions().send().await.unwrap();
    let left: Vec<&str> = left
        .query_definitions()
        .iter()
        .filter_map(|d| d.name())
        .collect();
    assert_eq!(left, ["idem", "ops/errors", "team/top-paths"]);

    // Definitions are durable: a restarted server still has them.
    let mut server = server;
    let temp = server.take_temp();
    server.terminate();
    let restarted = TestServer::start_in(&server.data_dir);
    let logs = restarted.logs_client();
    let after = logs.describe_query_definitions().send().await.unwrap();
    assert_eq!(after.query_definitions().len(), 3);
    drop(temp);
}

#[tokio::test]
async fn log_group_fields_over_recent_events() {
    let server = TestServer::start();
    let logs = server.logs_client();
    create_group_and_stream(&logs, "/f", "s").await;
    let now = now_ms();
    put(
        &logs,
        "/f",
        "s",
        vec![
            event(now - 3000, r#"{"level":"info","req":{"id":"a"}}"#),
            event(now - 2000, r#"{"level":"warn"}"#),
            event(now - 1000, r#"{"level":"error","code":7}"#),
            event(now - 500, "plain"),
        ],
    )
    .await;
    let out = logs
        .get_log_group_fields()
        .log_group_name("/f")
        .send()
        .await
        .unwrap();
    let fields: Vec<(String, i32)> = out
        .log_group_fields()
        .iter()
        .map(|f| (f.name().unwrap_or("").to_string(), f.percent()))
        .collect();
    let percent = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, p)| *p);
    assert_eq!(percent("@message"), Some(100));
    assert_eq!(percent("@timestamp"), Some(100));
    assert_eq!(percent("level"), Some(75));
    assert_eq!(percent("req.id"), Some(25));
    assert_eq!(percent("code"), Some(25));
    let ordered: Vec<i32> = fields.iter().map(|(_, p)| *p).collect();
    assert!(ordered.windows(2).all(|w| w[0] >= w[1]), "{fields:?}");

    // `time` centres an 8-minute window: an hour ago there was nothing.
    let earlier = logs
        .get_log_group_fields()
        .log_group_name("/f")
        .time(now / 1000 - 3600)
        .send()
        .await
        .unwrap();
    assert!(earlier.log_group_fields().is_empty());
    let centred = logs
        .get_log_group_fields()
        .log_group_identifier(format!("arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/f"))
        .time(now / 1000 - 300)
        .send()
        .await
        .unwrap();
    assert!(!centred.log_group_fields().is_empty());

    let err = logs
        .get_log_group_fields()
        .log_group_name("/nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = logs
        .get_log_group_fields()
        .log_group_name("/f")
        .log_group_identifier("/f")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}
