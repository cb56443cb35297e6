//! CloudTrail recording and LookupEvents, end to end through the official SDK for Rust.

mod common;

use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{Event, EventCategory, LookupAttribute, LookupAttributeKey};
use common::{ACCESS_KEY_ID, ACCOUNT_ID, REGION, SECRET_ACCESS_KEY};
use serde_json::Value;

fn cloudtrail_client(endpoint: &str) -> aws_sdk_cloudtrail::Client {
    common::cloudtrail_client_without_retries(endpoint)
}

fn attribute(key: LookupAttributeKey, value: &str) -> LookupAttribute {
    LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .unwrap()
}

fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match err {
        SdkError::ServiceError(service) => service.err().code().unwrap_or("").to_string(),
        _ => "<not a service error>".to_string(),
    }
}

fn record(event: &Event) -> Value {
    serde_json::from_str(event.cloud_trail_event().expect("CloudTrailEvent")).expect("JSON record")
}

async fn lookup(
    client: &aws_sdk_cloudtrail::Client,
    key: LookupAttributeKey,
    value: &str,
) -> Vec<Event> {
    client
        .lookup_events()
        .lookup_attributes(attribute(key, value))
        .send()
        .await
        .expect("LookupEvents")
        .events
        .unwrap_or_default()
}

#[tokio::test]
async fn a_logs_call_is_recorded_with_identity_parameters_and_resources() {
    let server = common::TestServer::start();
    let logs = server.logs_client();
    let trail = cloudtrail_client(&server.endpoint);
    logs.create_log_group()
        .log_group_name("/app/audited")
        .send()
        .await
        .unwrap();

    // Answered means committed: no waiting needed.
    let events = lookup(&trail, LookupAttributeKey::EventName, "CreateLogGroup").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.event_source(), Some("logs.amazonaws.com"));
    assert_eq!(event.read_only(), Some("false"));
    assert_eq!(event.access_key_id(), Some(ACCESS_KEY_ID));
    assert_eq!(event.username(), Some("root"));
    let resources = event.resources();
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].resource_type(), Some("AWS::Logs::LogGroup"));
    assert_eq!(resources[0].resource_name(), Some("/app/audited"));

    let body = record(event);
    assert_eq!(body["eventVersion"], "1.08");
    assert_eq!(body["eventName"], "CreateLogGroup");
    assert_eq!(body["awsRegion"], REGION);
    assert_eq!(body["eventType"], "AwsApiCall");
    assert_eq!(body["eventCategory"], "Management");
    assert_eq!(body["managementEvent"], true);
    assert_eq!(body["readOnly"], false);
    assert_eq!(body["recipientAccountId"], ACCOUNT_ID);
    assert_eq!(body["sourceIPAddress"], "127.0.0.1");
    assert!(body["userAgent"].as_str().unwrap().contains("aws-sdk-rust"));
    assert_eq!(body["userIdentity"]["type"], "Root");
    assert_eq!(body["userIdentity"]["accountId"], ACCOUNT_ID);
    assert_eq!(body["userIdentity"]["accessKeyId"], ACCESS_KEY_ID);
    assert_eq!(
        body["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT_ID}:root")
    );
    assert_eq!(body["requestParameters"]["logGroupName"], "/app/audited");
    assert_eq!(body["responseElements"], Value::Null);
    assert_eq!(body["eventID"].as_str(), event.event_id());
    assert_eq!(body["eventID"].as_str().unwrap().len(), 36);
    assert!(body["requestID"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(
        body["resources"][0]["ARN"],
        format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/app/audited")
    );
    assert!(body.get("errorCode").is_none());
    assert!(
        !event
            .cloud_trail_event()
            .unwrap()
            .contains(SECRET_ACCESS_KEY),
        "the secret key never reaches a record"
    );

    // Other attributes find the same event.
    for (key, value) in [
        (LookupAttributeKey::ResourceName, "/app/audited"),
        (LookupAttributeKey::ResourceType, "AWS::Logs::LogGroup"),
        (LookupAttributeKey::Username, "root"),
        (LookupAttributeKey::EventId, event.event_id().unwrap()),
        (LookupAttributeKey::EventSource, "logs.amazonaws.com"),
        (LookupAttributeKey::AccessKeyId, ACCESS_KEY_ID),
        (LookupAttributeKey::ReadOnly, "false"),
    ] {
        let found = lookup(&trail, key.clone(), value).await;
        assert!(
            found.iter().any(|e| e.event_id() == event.event_id()),
            "{key:?}={value} did not find the event"
        );
    }
    // A failed call is recorded with its error.
    let err = logs
        .create_log_group()
        .log_group_name("/app/audited")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceAlreadyExistsException");
    let events = lookup(&trail, LookupAttributeKey::EventName, "CreateLogGroup").await;
    assert_eq!(events.len(), 2);
    let newest = record(&events[0]);
    assert_eq!(newest["errorCode"], "ResourceAlreadyExistsException");
    assert!(newest["errorMessage"].as_str().is_some());
    // Read-only calls are recorded with readOnly true and no responseElements.
    logs.describe_log_groups().send().await.unwrap();
    let reads = lookup(&trail, LookupAttributeKey::EventName, "DescribeLogGroups").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].read_only(), Some("true"));
    assert_eq!(record(&reads[0])["responseElements"], Value::Null);
}

#[tokio::test]
async fn data_events_and_payloads_stay_out_of_event_history() {
    let server = common::TestServer::start();
    let logs = server.logs_client();
    let trail = cloudtrail_client(&server.endpoint);
    common::create_group_and_stream(&logs, "/app/data", "s").await;
    logs.put_log_events()
        .log_group_name("/app/data")
        .log_stream_name("s")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(common::now_ms())
                .message("payload-that-must-not-be-recorded")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    logs.get_log_events()
        .log_group_name("/app/data")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    // TestMetricFilter carries log messages in its request: they are replaced.
    let _ = logs
        .test_metric_filter()
        .filter_pattern("ERROR")
        .log_event_messages("password=hunter2 ERROR")
        .send()
        .await;

    let all = trail.lookup_events().send().await.unwrap();
    let events = all.events();
    let names: Vec<&str> = events.iter().filter_map(|e| e.event_name()).collect();
    assert!(names.contains(&"CreateLogGroup"), "{names:?}");
    assert!(names.contains(&"CreateLogStream"), "{names:?}");
    assert!(
        !names.contains(&"PutLogEvents"),
        "data events are not in event history"
    );
    assert!(
        !names.contains(&"GetLogEvents"),
        "data events are not in event history"
    );
    for event in events {
        let text = event.cloud_trail_event().unwrap();
        assert!(!text.contains("payload-that-must-not-be-recorded"));
        assert!(!text.contains("hunter2"), "{text}");
    }
    let test_filter = lookup(&trail, LookupAttributeKey::EventName, "TestMetricFilter").await;
    assert_eq!(test_filter.len(), 1);
    assert_eq!(
        record(&test_filter[0])["requestParameters"]["logEventMessages"],
        "<sensitiveDataRemoved>"
    );
}

#[tokio::test]
async fn signature_failures_are_recorded_with_the_claimed_key() {
    let server = common::TestServer::start();
    let trail = cloudtrail_client(&server.endpoint);
    let forged = common::logs_client(
        &server.endpoint,
        ACCESS_KEY_ID,
        "not-the-secret-key-0000000000000000000000",
    );
    let err = forged.describe_log_groups().send().await.unwrap_err();
    assert_eq!(common::error_code(&err), "InvalidSignatureException");
    let unknown = common::logs_client(&server.endpoint, "AKIAUNKNOWNKEY000001", "whatever-secret");
    let err = unknown.describe_log_groups().send().await.unwrap_err();
    assert_eq!(common::error_code(&err), "UnrecognizedClientException");

    let events = lookup(&trail, LookupAttributeKey::EventName, "DescribeLogGroups").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let forged_record = events
        .iter()
        .map(record)
        .find(|r| r["userIdentity"]["accessKeyId"] == ACCESS_KEY_ID)
        .expect("the forged call");
    assert_eq!(forged_record["errorCode"], "InvalidSignatureException");
    assert_eq!(forged_record["userIdentity"]["type"], "Root");
    assert_eq!(forged_record["eventSource"], "logs.amazonaws.com");
    let unknown_record = lookup(
        &trail,
        LookupAttributeKey::AccessKeyId,
        "AKIAUNKNOWNKEY000001",
    )
    .await;
    assert_eq!(unknown_record.len(), 1);
    let body = record(&unknown_record[0]);
    assert_eq!(body["userIdentity"]["type"], "Unknown");
    assert_eq!(body["errorCode"], "UnrecognizedClientException");
    assert!(!unknown_record[0]
        .cloud_trail_event()
        .unwrap()
        .contains("whatever-secret"));
}

#[tokio::test]
async fn lookup_events_pages_newest_first_with_bound_tokens() {
    let server = common::TestServer::start();
    let logs = server.logs_client();
    let trail = cloudtrail_client(&server.endpoint);
    for i in 0..5 {
        logs.create_log_group()
            .log_group_name(format!("/page/{i}"))
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = trail
            .lookup_events()
            .lookup_attributes(attribute(LookupAttributeKey::EventName, "CreateLogGroup"))
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        for event in page.events() {
            seen.push(
                record(event)["requestParameters"]["logGroupName"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        ["/page/4", "/page/3", "/page/2", "/page/1", "/page/0"]
    );

    // A token only continues the request that produced it.
    let first = trail
        .lookup_events()
        .lookup_attributes(attribute(LookupAttributeKey::EventName, "CreateLogGroup"))
        .max_results(2)
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    let err = trail
        .lookup_events()
        .lookup_attributes(attribute(
            LookupAttributeKey::EventName,
            "DescribeLogGroups",
        ))
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidNextTokenException");
    let err = trail
        .lookup_events()
        .next_token("not-a-token")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidNextTokenException");

    // Time range: nothing before the server started.
    let none = trail
        .lookup_events()
        .end_time(DateTime::from_secs(1_000_000_000))
        .send()
        .await
        .unwrap();
    assert!(none.events().is_empty());
    let now = DateTime::from_millis(common::now_ms() + 1000);
    let recent = trail
        .lookup_events()
        .start_time(DateTime::from_millis(common::now_ms() - 600_000))
        .end_time(now)
        .send()
        .await
        .unwrap();
    assert!(recent.events().len() >= 5);
}

#[tokio::test]
async fn lookup_events_refuses_invalid_requests_like_aws() {
    let server = common::TestServer::start();
    let trail = cloudtrail_client(&server.endpoint);
    let err = trail
        .lookup_events()
        .lookup_attributes(attribute(LookupAttributeKey::EventName, "A"))
        .lookup_attributes(attribute(LookupAttributeKey::Username, "B"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidLookupAttributesException");
    let err = trail
        .lookup_events()
        .lookup_attributes(attribute(LookupAttributeKey::from("Bogus"), "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidLookupAttributesException");
    let err = trail
        .lookup_events()
        .start_time(DateTime::from_secs(2_000_000_000))
        .end_time(DateTime::from_secs(1_000_000_000))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidTimeRangeException");
    for bad in [0, 51] {
        let err = trail
            .lookup_events()
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidMaxResultsException", "MaxResults {bad}");
    }
    let err = trail
        .lookup_events()
        .event_category(EventCategory::from("management"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidEventCategoryException");
    let insights = trail
        .lookup_events()
        .event_category(EventCategory::Insight)
        .send()
        .await
        .unwrap();
    assert!(insights.events().is_empty());
    let max = trail.lookup_events().max_results(50).send().await.unwrap();
    assert!(max.events().len() <= 50);
}

#[tokio::test]
async fn answered_management_calls_survive_kill_9() {
    let mut server = common::TestServer::start();
    let temp = server.take_temp().expect("temp dir");
    let logs = server.logs_client();
    for i in 0..20 {
        logs.create_log_group()
            .log_group_name(format!("/crash/{i}"))
            .send()
            .await
            .unwrap();
    }
    server.kill9();
    let restarted = common::TestServer::start_in(&server.data_dir);
    let trail = cloudtrail_client(&restarted.endpoint);
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = trail
            .lookup_events()
            .lookup_attributes(attribute(LookupAttributeKey::EventName, "CreateLogGroup"))
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(page.events().iter().map(|e| {
            record(e)["requestParameters"]["logGroupName"]
                .as_str()
                .unwrap()
                .to_string()
        }));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names.len(), 20, "{names:?}");
    for i in 0..20 {
        assert!(names.contains(&format!("/crash/{i}")));
    }
    drop(restarted);
    drop(temp);
}
