//! The trail API through the official AWS SDK for Rust (aws-sdk-cloudtrail): every trail
//! operation and its errors, durability across a restart, and delivery into a log group. moto's
//! S3 server is the trail bucket.

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType, Tag,
};
use base64::Engine;
use common::{cloudtrail_client, MotoServer, TestServer, ACCOUNT_ID, REGION};

/// moto with the `trail-bucket` bucket; `None` (the test skips) only when moto is missing and
/// WATCHTRAIL_REQUIRE_S3 is unset.
fn start_moto() -> Option<MotoServer> {
    let Some(server) = common::start_moto() else {
        assert!(
            std::env::var("WATCHTRAIL_REQUIRE_S3").is_err(),
            "moto's S3 server is required (pip install 'moto[server]')"
        );
        eprintln!("SKIPPED: moto is not installed; scripts/test.sh installs it");
        return None;
    };
    // moto accepts unsigned S3 calls: create the bucket with a bare PUT.
    let port = server.port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read, Write};
    write!(stream, "PUT /trail-bucket HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    Some(server)
}

/// An independent MD5 (Python's hashlib) for the fingerprint check.
fn md5_hex(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys,base64,hashlib;print(hashlib.md5(base64.b64decode(sys.argv[1])).hexdigest())",
            &encoded,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn code<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> String {
    match err {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("<none>").to_string(),
        other => format!("<not a service error: {other:?}>"),
    }
}

fn server_with_moto(moto: &MotoServer, data: &std::path::Path) -> TestServer {
    server_delivering_every(moto, data, "1")
}

fn server_delivering_every(moto: &MotoServer, data: &std::path::Path, seconds: &str) -> TestServer {
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    TestServer::start_with(
        data,
        &[
            ("WATCHTRAIL_CLOUDTRAIL_S3_ENDPOINT", endpoint.as_str()),
            ("WATCHTRAIL_CLOUDTRAIL_S3_ACCESS_KEY_ID", "moto"),
            ("WATCHTRAIL_CLOUDTRAIL_S3_SECRET_ACCESS_KEY", "moto"),
            ("WATCHTRAIL_CLOUDTRAIL_DELIVERY_SECONDS", seconds),
            ("WATCHTRAIL_CLOUDTRAIL_DIGEST_SECONDS", "3600"),
        ],
    )
}

#[tokio::test]
async fn trail_operations_and_their_errors() {
    let Some(moto) = start_moto() else { return };
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut server = server_with_moto(&moto, &data);
    let ct = cloudtrail_client(&server.endpoint);
    let arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/main-trail");

    // CreateTrail and its errors.
    let created = ct
        .create_trail()
        .name("main-trail")
        .s3_bucket_name("trail-bucket")
        .s3_key_prefix("audit")
        .enable_log_file_validation(true)
        .tags_list(Tag::builder().key("team").value("sec").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.trail_arn(), Some(arn.as_str()));
    assert_eq!(created.s3_key_prefix(), Some("audit"));
    assert_eq!(created.log_file_validation_enabled(), Some(true));
    assert_eq!(created.include_global_service_events(), Some(true));
    assert_eq!(created.is_multi_region_trail(), Some(false));
    let err = ct
        .create_trail()
        .name("main-trail")
        .s3_bucket_name("trail-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TrailAlreadyExistsException");
    for (name, bucket, expected) in [
        ("ab", "trail-bucket", "InvalidTrailNameException"),
        ("bad--name", "trail-bucket", "InvalidTrailNameException"),
        (
            "other",
            "no-such-bucket-here",
            "S3BucketDoesNotExistException",
        ),
        ("other", "Bad_Bucket", "InvalidS3BucketNameException"),
    ] {
        let err = ct
            .create_trail()
            .name(name)
            .s3_bucket_name(bucket)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), expected, "{name} {bucket}");
    }
    let err = ct
        .create_trail()
        .name("other")
        .s3_bucket_name("trail-bucket")
        .kms_key_id("alias/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "KmsKeyNotFoundException");
    let err = ct
        .create_trail()
        .name("other")
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn("not-an-arn")
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/ct")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCloudWatchLogsLogGroupArnException");

    // Reads.
    let trail = ct.get_trail().name("main-trail").send().await.unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(trail.home_region(), Some(REGION));
    assert_eq!(trail.has_custom_event_selectors(), Some(false));
    let by_arn = ct.get_trail().name(&arn).send().await.unwrap();
    assert_eq!(by_arn.trail().unwrap().name(), Some("main-trail"));
    let err = ct.get_trail().name("missing").send().await.unwrap_err();
    assert_eq!(code(&err), "TrailNotFoundException");
    let err = ct
        .get_trail()
        .name("arn:aws:cloudtrail:us-east-1:12:trail/x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "CloudTrailARNInvalidException");
    let described = ct.describe_trails().send().await.unwrap();
    assert_eq!(described.trail_list().len(), 1);
    let described = ct
        .describe_trails()
        .trail_name_list(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.trail_list()[0].s3_bucket_name(),
        Some("trail-bucket")
    );
    let listed = ct.list_trails().send().await.unwrap();
    assert_eq!(listed.trails().len(), 1);
    assert_eq!(listed.trails()[0].trail_arn(), Some(arn.as_str()));

    // UpdateTrail.
    let updated = ct
        .update_trail()
        .name("main-trail")
        .s3_key_prefix("audit2")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.s3_key_prefix(), Some("audit2"));
    assert_eq!(updated.log_file_validation_enabled(), Some(true));
    let err = ct.update_trail().name("missing").send().await.unwrap_err();
    assert_eq!(code(&err), "TrailNotFoundException");
    let err = ct
        .update_trail()
        .name("main-trail")
        .s3_bucket_name("no-such-bucket-here")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "S3BucketDoesNotExistException");

    // Logging state.
    let status = ct
        .get_trail_status()
        .name("main-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(false));
    assert!(status.start_logging_time().is_none());
    ct.start_logging().name("main-trail").send().await.unwrap();
    let status = ct.get_trail_status().name(&arn).send().await.unwrap();
    assert_eq!(status.is_logging(), Some(true));
    assert!(status.start_logging_time().is_some());
    let err = ct.start_logging().name("missing").send().await.unwrap_err();
    assert_eq!(code(&err), "TrailNotFoundException");

    // Event selectors.
    let selectors = ct
        .get_event_selectors()
        .trail_name("main-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(selectors.event_selectors().len(), 1);
    assert_eq!(
        selectors.event_selectors()[0].read_write_type(),
        Some(&ReadWriteType::All)
    );
    let put = ct
        .put_event_selectors()
        .trail_name("main-trail")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::WriteOnly)
                .include_management_events(true)
                .data_resources(
                    DataResource::builder()
                        .r#type("AWS::S3::Object")
                        .values("arn:aws:s3:::trail-bucket/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.trail_arn(), Some(arn.as_str()));
    let got = ct
        .get_event_selectors()
        .trail_name("main-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.event_selectors()[0].read_write_type(),
        Some(&ReadWriteType::WriteOnly)
    );
    assert_eq!(got.event_selectors()[0].data_resources().len(), 1);
    let trail = ct.get_trail().name("main-trail").send().await.unwrap();
    assert_eq!(
        trail.trail().unwrap().has_custom_event_selectors(),
        Some(true)
    );
    let err = ct
        .put_event_selectors()
        .trail_name("main-trail")
        .event_selectors(
            EventSelector::builder()
                .data_resources(
                    DataResource::builder()
                        .r#type("AWS::Nope::Thing")
                        .values("x")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidEventSelectorsException");
    let category = |v: &str| {
        AdvancedFieldSelector::builder()
            .field("eventCategory")
            .equals(v)
            .build()
            .unwrap()
    };
    let advanced = ct
        .put_event_selectors()
        .trail_name("main-trail")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("writes")
                .field_selectors(category("Management"))
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("readOnly")
                        .equals("false")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.advanced_event_selectors().len(), 1);
    let got = ct
        .get_event_selectors()
        .trail_name("main-trail")
        .send()
        .await
        .unwrap();
    assert!(got.event_selectors().is_empty());
    assert_eq!(got.advanced_event_selectors()[0].name(), Some("writes"));
    let err = ct
        .put_event_selectors()
        .trail_name("main-trail")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .field_selectors(category("Data"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidEventSelectorsException");
    let err = ct
        .put_event_selectors()
        .trail_name("main-trail")
        .event_selectors(EventSelector::builder().build())
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .field_selectors(category("Management"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterCombinationException");

    // Tags.
    ct.add_tags()
        .resource_id(&arn)
        .tags_list(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = ct.list_tags().resource_id_list(&arn).send().await.unwrap();
    let keys: Vec<&str> = tags.resource_tag_list()[0]
        .tags_list()
        .iter()
        .map(|t| t.key())
        .collect();
    assert_eq!(keys, ["env", "team"]);
    ct.remove_tags()
        .resource_id(&arn)
        .tags_list(Tag::builder().key("team").build().unwrap())
        .send()
        .await
        .unwrap();
    let tags = ct.list_tags().resource_id_list(&arn).send().await.unwrap();
    assert_eq!(tags.resource_tag_list()[0].tags_list().len(), 1);
    let missing = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/missing");
    let err = ct
        .list_tags()
        .resource_id_list(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = ct
        .add_tags()
        .resource_id("not-an-arn")
        .tags_list(Tag::builder().key("a").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "CloudTrailARNInvalidException");
    let err = ct
        .add_tags()
        .resource_id(&arn)
        .tags_list(Tag::builder().key("aws:reserved").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidTagParameterException");

    // ListPublicKeys: base64 DER PKCS#1, fingerprint = hex MD5 of the DER.
    let keys = ct.list_public_keys().send().await.unwrap();
    assert_eq!(keys.public_key_list().len(), 1);
    let key = &keys.public_key_list()[0];
    let der = key.value().unwrap().as_ref().to_vec();
    assert_eq!(der[0], 0x30, "a DER SEQUENCE");
    assert_eq!(key.fingerprint(), Some(md5_hex(&der).as_str()));
    assert!(key.validity_start_time().unwrap() <= key.validity_end_time().unwrap());
    let err = ct
        .list_public_keys()
        .start_time(DateTime::from_secs(2_000_000_000))
        .end_time(DateTime::from_secs(1_000_000_000))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidTimeRangeException");
    let none = ct
        .list_public_keys()
        .start_time(DateTime::from_secs(1_000_000_000))
        .end_time(DateTime::from_secs(1_000_000_100))
        .send()
        .await
        .unwrap();
    assert!(none.public_key_list().is_empty());

    // StopLogging, then durability across a restart.
    ct.stop_logging().name("main-trail").send().await.unwrap();
    let status = ct
        .get_trail_status()
        .name("main-trail")
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(false));
    assert!(status.stop_logging_time().is_some());
    server.terminate();
    let server = server_with_moto(&moto, &data);
    let ct = cloudtrail_client(&server.endpoint);
    let trail = ct.get_trail().name("main-trail").send().await.unwrap();
    assert_eq!(trail.trail().unwrap().s3_key_prefix(), Some("audit2"));
    let keys_after = ct.list_public_keys().send().await.unwrap();
    assert_eq!(
        keys_after.public_key_list()[0].fingerprint(),
        key.fingerprint(),
        "signing keys persist"
    );

    // DeleteTrail.
    ct.delete_trail().name("main-trail").send().await.unwrap();
    let err = ct.get_trail().name("main-trail").send().await.unwrap_err();
    assert_eq!(code(&err), "TrailNotFoundException");
    let err = ct
        .delete_trail()
        .name("main-trail")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "TrailNotFoundException");
    assert!(ct.list_trails().send().await.unwrap().trails().is_empty());
}

#[tokio::test]
async fn a_trail_with_a_log_group_delivers_records_into_it() {
    let Some(moto) = start_moto() else { return };
    let temp = tempfile::tempdir().unwrap();
    let server = server_with_moto(&moto, &temp.path().join("data"));
    let ct = cloudtrail_client(&server.endpoint);
    let logs = server.logs_client();
    logs.create_log_group()
        .log_group_name("/cloudtrail/main")
        .send()
        .await
        .unwrap();
    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/cloudtrail/main:*");
    let err = ct
        .create_trail()
        .name("cwl-trail")
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn(&group_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCloudWatchLogsRoleArnException");
    let err = ct
        .create_trail()
        .name("cwl-trail")
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/missing:*"
        ))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/ct"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidCloudWatchLogsLogGroupArnException");
    ct.create_trail()
        .name("cwl-trail")
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn(&group_arn)
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/ct"))
        .send()
        .await
        .unwrap();
    ct.start_logging().name("cwl-trail").send().await.unwrap();
    logs.create_log_group()
        .log_group_name("/app/recorded")
        .send()
        .await
        .unwrap();
    let stream = format!("{ACCOUNT_ID}_CloudTrail_{REGION}");
    let mut found = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(events) = logs
            .get_log_events()
            .log_group_name("/cloudtrail/main")
            .log_stream_name(&stream)
            .start_from_head(true)
            .send()
            .await
        else {
            continue;
        };
        if events.events().iter().any(|e| {
            e.message().is_some_and(|m| {
                m.contains("\"eventName\":\"CreateLogGroup\"") && m.contains("/app/recorded")
            })
        }) {
            found = true;
            break;
        }
    }
    assert!(
        found,
        "the CreateLogGroup record reached the trail's log group"
    );
    let status = ct
        .get_trail_status()
        .name("cwl-trail")
        .send()
        .await
        .unwrap();
    assert!(status.latest_cloud_watch_logs_delivery_time().is_some());
    assert!(status.latest_delivery_time().is_some());
}

/// Messages of the trail's CloudWatch Logs stream, polled until `done` says enough arrived.
async fn trail_stream_messages(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let stream = format!("{ACCOUNT_ID}_CloudTrail_{REGION}");
    let mut messages = Vec::new();
    for _ in 0..75 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(events) = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(&stream)
            .start_from_head(true)
            .send()
            .await
        {
            messages = events
                .events()
                .iter()
                .filter_map(|e| e.message().map(String::from))
                .collect();
            if done(&messages) {
                break;
            }
        }
    }
    messages
}

async fn trail_into_group(
    ct: &aws_sdk_cloudtrail::Client,
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
    group: &str,
) {
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    ct.create_trail()
        .name(name)
        .s3_bucket_name("trail-bucket")
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}:*"
        ))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/ct"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn data_events_reach_only_trails_whose_selectors_ask_for_them() {
    let Some(moto) = start_moto() else { return };
    let temp = tempfile::tempdir().unwrap();
    let server = server_with_moto(&moto, &temp.path().join("data"));
    let ct = cloudtrail_client(&server.endpoint);
    let logs = server.logs_client();
    trail_into_group(&ct, &logs, "data-trail", "/ct/data").await;
    trail_into_group(&ct, &logs, "mgmt-trail", "/ct/mgmt").await;
    let field = |name: &str, value: &str| {
        AdvancedFieldSelector::builder()
            .field(name)
            .equals(value)
            .build()
            .unwrap()
    };
    ct.put_event_selectors()
        .trail_name("data-trail")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("log writes")
                .field_selectors(field("eventCategory", "Data"))
                .field_selectors(field("resources.type", "AWS::Logs::LogGroup"))
                .field_selectors(field("eventName", "PutLogEvents"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ct.start_logging().name("data-trail").send().await.unwrap();
    ct.start_logging().name("mgmt-trail").send().await.unwrap();
    common::create_group_and_stream(&logs, "/app/data", "s1").await;
    logs.put_log_events()
        .log_group_name("/app/data")
        .log_stream_name("s1")
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(common::now_ms())
                .message("hello")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let has = |messages: &[String], name: &str| {
        messages
            .iter()
            .any(|m| m.contains(&format!("\"eventName\":\"{name}\"")))
    };
    let data = trail_stream_messages(&logs, "/ct/data", |m| has(m, "PutLogEvents")).await;
    let put = data
        .iter()
        .find(|m| m.contains("\"eventName\":\"PutLogEvents\""))
        .expect("the data trail logged PutLogEvents");
    let record: serde_json::Value = serde_json::from_str(put).unwrap();
    assert_eq!(record["eventCategory"], "Data");
    assert!(
        !has(&data, "CreateLogGroup"),
        "the data trail selects no management events"
    );
    let mgmt = trail_stream_messages(&logs, "/ct/mgmt", |m| has(m, "CreateLogStream")).await;
    assert!(
        has(&mgmt, "CreateLogGroup") && has(&mgmt, "CreateLogStream"),
        "{mgmt:?}"
    );
    assert!(
        !has(&mgmt, "PutLogEvents"),
        "default selectors take no data events"
    );
}

#[tokio::test]
async fn spooled_records_survive_kill_9_and_are_delivered_after_restart() {
    let Some(moto) = start_moto() else { return };
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    // Delivery every hour: nothing leaves the spool before the crash.
    let mut server = server_delivering_every(&moto, &data, "3600");
    let ct = cloudtrail_client(&server.endpoint);
    let logs = server.logs_client();
    trail_into_group(&ct, &logs, "crash-trail", "/ct/crash").await;
    ct.start_logging().name("crash-trail").send().await.unwrap();
    for i in 0..3 {
        logs.create_log_group()
            .log_group_name(format!("/before-crash/{i}"))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();
    let server = server_with_moto(&moto, &data);
    let logs = server.logs_client();
    let messages = trail_stream_messages(&logs, "/ct/crash", |m| {
        (0..3).all(|i| m.iter().any(|x| x.contains(&format!("/before-crash/{i}"))))
    })
    .await;
    for i in 0..3 {
        assert!(
            messages
                .iter()
                .any(|m| m.contains(&format!("/before-crash/{i}"))),
            "record {i} was lost: {messages:?}"
        );
    }
}
