//! CloudWatch Logs operations driven through the official AWS SDK for Rust against the real binary.

mod common;

use std::collections::HashMap;

use aws_sdk_cloudwatchlogs::types::{InputLogEvent, LogGroupClass, OrderBy};
use common::{error_code, error_message, now_ms, TestServer, ACCOUNT_ID, REGION};

fn event(timestamp: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(timestamp)
        .message(message)
        .build()
        .unwrap()
}

#[tokio::test]
async fn log_group_lifecycle_and_errors() {
    let server = TestServer::start();
    let logs = server.logs_client();

    logs.create_log_group()
        .log_group_name("/app/web")
        .tags("team", "sre")
        .send()
        .await
        .expect("create");
    let err = logs
        .create_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceAlreadyExistsException");
    assert_eq!(
        error_message(&err),
        "The specified log group already exists"
    );

    let err = logs
        .create_log_group()
        .log_group_name("bad name!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(
        error_message(&err).contains("Member must satisfy regular expression pattern"),
        "{}",
        error_message(&err)
    );

    let out = logs
        .describe_log_groups()
        .log_group_name_prefix("/app")
        .send()
        .await
        .unwrap();
    let groups = out.log_groups();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.log_group_name(), Some("/app/web"));
    assert_eq!(
        g.arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/app/web:*").as_str())
    );
    assert_eq!(
        g.log_group_arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/app/web").as_str())
    );
    assert_eq!(g.stored_bytes(), Some(0));
    assert_eq!(g.retention_in_days(), None);
    assert_eq!(g.log_group_class(), Some(&LogGroupClass::Standard));
    assert!(g.creation_time().unwrap() > now_ms() - 60_000);

    let err = logs
        .describe_log_groups()
        .log_group_name_prefix("/a")
        .log_group_name_pattern("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let err = logs
        .delete_log_group()
        .log_group_name("/nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    assert_eq!(
        error_message(&err),
        "The specified log group does not exist."
    );

    logs.delete_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap();
    let out = logs.describe_log_groups().send().await.unwrap();
    assert!(out.log_groups().is_empty());
}

#[tokio::test]
async fn describe_log_groups_paginates_in_name_order() {
    let server = TestServer::start();
    let logs = server.logs_client();
    let mut expected: Vec<String> = (0..57).map(|i| format!("/svc/{i:03}")).collect();
    expected.push("/other/x".into());
    for name in &expected {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .unwrap();
    }
    expected.sort();

    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = logs
            .describe_log_groups()
            .limit(7)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.log_groups().len() <= 7);
        seen.extend(
            out.log_groups()
                .iter()
                .map(|g| g.log_group_name().unwrap().to_string()),
        );
        pages += 1;
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 9);

    let out = logs
        .describe_log_groups()
        .log_group_name_pattern("svc/05")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = out
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap())
        .collect();
    assert_eq!(
        names,
        ["/svc/050", "/svc/051", "/svc/052", "/svc/053", "/svc/054", "/svc/055", "/svc/056"]
    );

    let err = logs
        .describe_log_groups()
        .limit(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(error_message(&err).contains("Member must have value less than or equal to 50"));

    let err = logs
        .describe_log_groups()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let out = logs
        .list_log_groups()
        .log_group_name_pattern("^/other")
        .send()
        .await
        .unwrap();
    assert_eq!(out.log_groups().len(), 1);
    assert_eq!(out.log_groups()[0].log_group_name(), Some("/other/x"));
}

#[tokio::test]
async fn retention_policy_accepts_only_aws_values() {
    let server = TestServer::start();
    let logs = server.logs_client();
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();

    let err = logs
        .put_retention_policy()
        .log_group_name("g")
        .retention_in_days(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(
        error_message(&err).contains("Member must satisfy enum value set: [1, 3, 5, 7, 14, 30"),
        "{}",
        error_message(&err)
    );

    let err = logs
        .put_retention_policy()
        .log_group_name("missing")
        .retention_in_days(7)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");

    logs.put_retention_policy()
        .log_group_name("g")
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let out = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(out.log_groups()[0].retention_in_days(), Some(30));

    logs.delete_retention_policy()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let out = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(out.log_groups()[0].retention_in_days(), None);
}

#[tokio::test]
async fn put_log_events_enforces_aws_rules() {
    let server = TestServer::start();
    let logs = server.logs_client();
    common::create_group_and_stream(&logs, "g", "s").await;
    let err = logs
        .create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceAlreadyExistsException");
    let err = logs
        .create_log_stream()
        .log_group_name("nope")
        .log_stream_name("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");

    let now = now_ms();
    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now, "b"))
        .log_events(event(now - 1000, "a"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(
        error_message(&err),
        "Log events in a single PutLogEvents request must be in chronological order."
    );

    let err = logs
        .put_log_events()
        .log_group_name("nope")
        .log_stream_name("s")
        .log_events(event(now, "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    assert_eq!(
        error_message(&err),
        "The specified log group does not exist."
    );
    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("nope")
        .log_events(event(now, "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "The specified log stream does not exist."
    );

    // 1 MiB counts 26 bytes of overhead per event: 10 events of 104,832 bytes are 1,048,580 bytes.
    let big = "x".repeat(104_832);
    let mut request = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s");
    for i in 0..10 {
        request = request.log_events(event(now + i, &big));
    }
    let err = request.send().await.unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(
        error_message(&err),
        "Upload too large: 1048580 bytes exceeds limit of 1048576"
    );

    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterException",
        "an empty batch violates the model's min 1"
    );

    let fifteen_days = 15 * 24 * 3600 * 1000;
    let out = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now - fifteen_days, "too old"))
        .log_events(event(now - 10, "ok 1"))
        .log_events(event(now, "ok 2"))
        .log_events(event(now + 3 * 3600 * 1000, "too new"))
        .send()
        .await
        .unwrap();
    let rejected = out.rejected_log_events_info().expect("rejected info");
    assert_eq!(rejected.too_old_log_event_end_index(), Some(1));
    assert_eq!(rejected.too_new_log_event_start_index(), Some(3));
    assert_eq!(rejected.expired_log_event_end_index(), None);
    assert!(out.next_sequence_token().is_some());

    let got = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = got.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(messages, ["ok 1", "ok 2"]);
    assert!(got
        .events()
        .iter()
        .all(|e| e.ingestion_time().unwrap() >= now - 5_000));

    let err = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .log_events(event(now - 3 * 24 * 3600 * 1000, "a"))
        .log_events(event(now, "b"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterException",
        "a batch spanning more than 24 h fails"
    );

    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(
        groups.log_groups()[0].stored_bytes(),
        Some((4 + 26) * 2),
        "storedBytes counts accepted events"
    );

    let streams = logs
        .describe_log_streams()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let s = &streams.log_streams()[0];
    assert_eq!(s.first_event_timestamp(), Some(now - 10));
    assert_eq!(s.last_event_timestamp(), Some(now));
    assert!(s.last_ingestion_time().is_some());
    assert_eq!(
        s.arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:g:log-stream:s").as_str())
    );
}

#[tokio::test]
async fn get_log_events_pages_forward_and_backward() {
    let server = TestServer::start();
    let logs = server.logs_client();
    common::create_group_and_stream(&logs, "g", "s").await;
    let base = now_ms() - 3_600_000;
    for batch in 0..5 {
        let mut request = logs
            .put_log_events()
            .log_group_name("g")
            .log_stream_name("s");
        for i in 0..50 {
            let n = batch * 50 + i;
            request = request.log_events(event(base + n, &format!("event {n:04}")));
        }
        request.send().await.unwrap();
    }

    // Default (startFromHead=false) returns the newest events.
    let tail = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .limit(10)
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = tail
        .events()
        .iter()
        .map(|e| e.message().unwrap().to_string())
        .collect();
    assert_eq!(
        messages,
        (240..250)
            .map(|n| format!("event {n:04}"))
            .collect::<Vec<_>>()
    );

    // Backward from the tail.
    let before = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .limit(10)
        .next_token(tail.next_backward_token().unwrap())
        .send()
        .await
        .unwrap();
    let messages: Vec<_> = before
        .events()
        .iter()
        .map(|e| e.message().unwrap().to_string())
        .collect();
    assert_eq!(
        messages,
        (230..240)
            .map(|n| format!("event {n:04}"))
            .collect::<Vec<_>>()
    );

    // Forward from the head until the token repeats.
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    let mut calls = 0;
    loop {
        let out = logs
            .get_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .start_from_head(true)
            .limit(33)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        calls += 1;
        all.extend(
            out.events()
                .iter()
                .map(|e| e.message().unwrap().to_string()),
        );
        let next = out.next_forward_token().unwrap().to_string();
        if token.as_deref() == Some(next.as_str()) {
            assert!(out.events().is_empty());
            break;
        }
        token = Some(next);
        assert!(calls < 50, "pagination must terminate");
    }
    assert_eq!(
        all,
        (0..250)
            .map(|n| format!("event {n:04}"))
            .collect::<Vec<_>>()
    );

    // Time range: startTime inclusive, endTime exclusive.
    let out = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .start_time(base + 100)
        .end_time(base + 105)
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.events().len(), 5);
    assert_eq!(out.events()[0].message(), Some("event 0100"));

    let err = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .next_token("f/123")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn filter_log_events_applies_filter_patterns() {
    let server = TestServer::start();
    let logs = server.logs_client();
    logs.create_log_group()
        .log_group_name("/app/api")
        .send()
        .await
        .unwrap();
    for stream in ["web-1", "web-2", "worker"] {
        logs.create_log_stream()
            .log_group_name("/app/api")
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
    }
    let base = now_ms() - 60_000;
    let mut expected_5xx = Vec::new();
    for (s, stream) in ["web-1", "web-2", "worker"].iter().enumerate() {
        let mut request = logs
            .put_log_events()
            .log_group_name("/app/api")
            .log_stream_name(*stream);
        for i in 0..40i64 {
            let status = if i % 10 == 3 { 503 } else { 200 };
            let message =
                format!(r#"{{"status": {status}, "path": "/v1/items/{i}", "stream": "{stream}"}}"#);
            if status >= 500 {
                expected_5xx.push((base + i * 3 + s as i64, message.clone()));
            }
            request = request.log_events(event(base + i * 3 + s as i64, &message));
        }
        request.send().await.unwrap();
    }
    expected_5xx.sort();

    let out = logs
        .filter_log_events()
        .log_group_name("/app/api")
        .filter_pattern("{ $.status >= 500 }")
        .send()
        .await
        .unwrap();
    let got: Vec<(i64, String)> = out
        .events()
        .iter()
        .map(|e| (e.timestamp().unwrap(), e.message().unwrap().to_string()))
        .collect();
    assert_eq!(
        got, expected_5xx,
        "matches in timestamp order across streams"
    );
    assert!(out.next_token().is_none());
    assert!(out
        .events()
        .iter()
        .all(|e| e.event_id().is_some() && e.log_stream_name().is_some()));

    let out = logs
        .filter_log_events()
        .log_group_name("/app/api")
        .log_stream_name_prefix("web")
        .filter_pattern("\"/v1/items/13\"")
        .send()
        .await
        .unwrap();
    let streams: Vec<_> = out
        .events()
        .iter()
        .map(|e| e.log_stream_name().unwrap())
        .collect();
    assert_eq!(streams, ["web-1", "web-2"]);

    // Pagination with a small limit returns every match exactly once.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name("/app/api")
            .filter_pattern("status")
            .limit(17)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(
            out.events()
                .iter()
                .map(|e| e.event_id().unwrap().to_string()),
        );
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 120);
    assert_eq!(unique.len(), 120);

    let err = logs
        .filter_log_events()
        .log_group_name("/app/api")
        .filter_pattern("{ $.status >= }")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let err = logs
        .filter_log_events()
        .log_group_name("/app/api")
        .log_stream_name_prefix("web")
        .log_stream_names("worker")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}

#[tokio::test]
async fn describe_log_streams_orders_and_paginates() {
    let server = TestServer::start();
    let logs = server.logs_client();
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let base = now_ms() - 100_000;
    let names = ["c", "a", "e", "b", "d"];
    for (i, name) in names.iter().enumerate() {
        logs.create_log_stream()
            .log_group_name("g")
            .log_stream_name(*name)
            .send()
            .await
            .unwrap();
        logs.put_log_events()
            .log_group_name("g")
            .log_stream_name(*name)
            .log_events(event(base + i as i64 * 1000, "x"))
            .send()
            .await
            .unwrap();
    }
    let mut by_name = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .describe_log_streams()
            .log_group_name("g")
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        by_name.extend(
            out.log_streams()
                .iter()
                .map(|s| s.log_stream_name().unwrap().to_string()),
        );
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(by_name, ["a", "b", "c", "d", "e"]);

    let out = logs
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .send()
        .await
        .unwrap();
    let order: Vec<_> = out
        .log_streams()
        .iter()
        .map(|s| s.log_stream_name().unwrap())
        .collect();
    assert_eq!(order, ["d", "b", "e", "a", "c"]);

    let err = logs
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .log_stream_name_prefix("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    let out = logs
        .describe_log_streams()
        .log_group_identifier(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:g"))
        .log_stream_name_prefix("d")
        .send()
        .await
        .unwrap();
    assert_eq!(out.log_streams().len(), 1);
    // The model's identifier pattern excludes `*`, so the `:*` form of the ARN is refused, as by AWS.
    let err = logs
        .describe_log_streams()
        .log_group_identifier(format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:g:*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    logs.delete_log_stream()
        .log_group_name("g")
        .log_stream_name("d")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_log_stream()
        .log_group_name("g")
        .log_stream_name("d")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn tags_through_both_apis() {
    let server = TestServer::start();
    let logs = server.logs_client();
    logs.create_log_group()
        .log_group_name("g")
        .tags("a", "1")
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:g");

    logs.tag_resource()
        .resource_arn(&arn)
        .tags("b", "2")
        .send()
        .await
        .unwrap();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let expected: HashMap<String, String> =
        [("a".into(), "1".into()), ("b".into(), "2".into())].into();
    assert_eq!(tags.tags().cloned().unwrap_or_default(), expected);

    logs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("a")
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    let legacy = logs
        .list_tags_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    assert_eq!(
        legacy.tags().cloned().unwrap_or_default(),
        HashMap::from([("b".to_string(), "2".to_string())])
    );

    #[allow(deprecated)]
    logs.tag_log_group()
        .log_group_name("g")
        .tags("c", "3")
        .send()
        .await
        .unwrap();
    #[allow(deprecated)]
    logs.untag_log_group()
        .log_group_name("g")
        .tags("b")
        .send()
        .await
        .unwrap();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().cloned().unwrap_or_default(),
        HashMap::from([("c".to_string(), "3".to_string())])
    );

    let mut request = logs.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        request = request.tags(format!("k{i}"), "v");
    }
    let err = request.send().await.unwrap_err();
    assert_eq!(error_code(&err), "TooManyTagsException");

    let err = logs
        .list_tags_for_resource()
        .resource_arn(format!(
            "arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:missing"
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = logs
        .list_tags_for_resource()
        .resource_arn("arn:aws:s3:::bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}

#[tokio::test]
async fn resources_are_scoped_per_region() {
    let server = TestServer::start();
    let east = server.logs_client();
    east.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let west = {
        use aws_credential_types::Credentials;
        use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .endpoint_url(&server.endpoint)
            .credentials_provider(Credentials::new(
                common::ACCESS_KEY_ID,
                common::SECRET_ACCESS_KEY,
                None,
                None,
                "t",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    };
    assert!(west
        .describe_log_groups()
        .send()
        .await
        .unwrap()
        .log_groups()
        .is_empty());
    west.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .expect("same name in another region");
    let out = west.describe_log_groups().send().await.unwrap();
    assert_eq!(
        out.log_groups()[0].arn(),
        Some(format!("arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:g:*").as_str())
    );
}
