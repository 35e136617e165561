//! The attachment flows against a real S3-compatible server (moto, which `.ci/run` starts); see
//! `servers` for what happens without one.

use std::time::Duration;

use escalade::config::{AttachmentSettings, ServeSettings};
use escalade::storage::{AttachmentStore, StoreLocation};
use uuid::Uuid;

use super::{MIB, PNG, attachments_path, escalation, executable, log_bytes, sha256};
use crate::helpers::{TestApp, spawn_app_with};
use crate::servers::Needed;

/// A server on the S3-compatible store (`ESCALADE_TEST_S3_ENDPOINT`, bucket
/// `ESCALADE_TEST_S3_BUCKET`, credentials in the usual `AWS_*` variables), under a fresh prefix;
/// `None` when the test is skipped for want of one.
async fn spawn_on_s3(attachments: AttachmentSettings, housekeeping_secs: u64) -> Option<TestApp> {
    let endpoint = Needed::s3().or_skip()?;
    let bucket =
        std::env::var("ESCALADE_TEST_S3_BUCKET").unwrap_or_else(|_| "escalade-test".into());
    let store = format!(
        "s3://{bucket}/{}?endpoint={endpoint}&allow_http=true",
        Uuid::new_v4()
    );
    let settings = ServeSettings {
        housekeeping_interval_secs: housekeeping_secs,
        attachments: AttachmentSettings {
            attachment_store: Some(StoreLocation::parse(&store).unwrap()),
            ..attachments
        },
        ..ServeSettings::default()
    };
    Some(spawn_app_with(settings).await)
}

#[tokio::test]
async fn a_20_mib_file_goes_up_in_parts_and_comes_back_whole_and_by_range() {
    let Some(app) = spawn_on_s3(AttachmentSettings::default(), 600).await else {
        return;
    };
    let (key, id, _) = escalation(&app).await;
    let log = log_bytes(20 * MIB);

    let uploaded = app.upload(&key, id, "exchange.log", &log).await;

    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    assert_eq!(uploaded.body["sha256"], sha256(&log));
    let url = uploaded.body["content_url"].as_str().unwrap().to_owned();
    let (status, _, bytes) = app.download(&key, &url, None).await;
    assert_eq!(status, 200);
    assert!(bytes == log, "the content comes back as sent");
    let (status, headers, bytes) = app
        .download(&key, &url, Some("bytes=5242870-5242889"))
        .await;
    assert_eq!(status, 206);
    assert_eq!(bytes, log[5_242_870..5_242_890]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 5242870-5242889/{}", log.len()).as_str()
    );
    let small = app.upload(&key, id, "a.png", PNG).await;
    assert_eq!(small.status, 201, "{}", small.body);
    let path = format!("{}/{}", attachments_path(id), small.id());
    assert_eq!(app.delete(&path, &key).await.status, 204);
    app.get(&format!("{path}/content"), &key)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn refusals_leave_no_object_and_the_quota_holds() {
    let limits = AttachmentSettings {
        attachment_max_bytes: MIB as u64,
        attachment_max_files: 1,
        ..AttachmentSettings::default()
    };
    let Some(app) = spawn_on_s3(limits, 600).await else {
        return;
    };
    let (key, id, _) = escalation(&app).await;
    app.upload(&key, id, "big.log", &log_bytes(MIB + 1))
        .await
        .problem(413, "attachment_too_large");
    let elf = executable();
    app.upload(&key, id, "x.txt", &elf)
        .await
        .problem(415, "unsupported_attachment_type");
    assert_eq!(app.upload(&key, id, "a.png", PNG).await.status, 201);
    app.upload(&key, id, "b.png", PNG)
        .await
        .problem(422, "too_many_attachments");
    assert_eq!(app.attachment_rows().await, 1);
}

#[tokio::test]
async fn housekeeping_deletes_objects_no_row_names() {
    let limits = AttachmentSettings {
        attachment_orphan_grace_secs: 0,
        ..AttachmentSettings::default()
    };
    let Some(app) = spawn_on_s3(limits, 1).await else {
        return;
    };
    let (key, id, _) = escalation(&app).await;
    let kept = app.upload(&key, id, "a.png", PNG).await;
    let store = AttachmentStore::open(app.attachment_store()).unwrap();
    let orphan = Uuid::now_v7();
    let mut upload = store.upload(id, orphan);
    upload.write(bytes::Bytes::from_static(PNG)).await.unwrap();
    upload.finish().await.unwrap();

    let mut gone = false;
    for _ in 0..100 {
        match store.read(id, orphan, None).await {
            Err(err) if err.is_not_found() => {
                gone = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }

    assert!(gone, "the orphan is deleted");
    let content_url = kept.body["content_url"].as_str().unwrap();
    assert_eq!(app.download(&key, content_url, None).await.2, PNG);
}
