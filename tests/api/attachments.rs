//! Attachments: files on an escalation, streamed to the attachment store, judged by content,
//! served back whole or by range, within their limits, to those who may see the escalation only.
//!
//! These run on the configured database with the filesystem store; the same flows run against a
//! real S3-compatible server in `s3`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use escalade::config::{AttachmentSettings, ServeSettings};
use escalade::storage::StoreLocation;
use futures_util::{StreamExt, stream};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::faults::eventually_within;
use crate::helpers::{
    Answer, TestApp, escalation_path, send_concurrently, spawn_app, spawn_app_with,
};

mod s3;

const MIB: usize = 1024 * 1024;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn attachments_path(escalation_id: Uuid) -> String {
    format!("{}/attachments", escalation_path(escalation_id))
}

/// The start of a Linux executable: a kind `infer` knows and attachments refuse.
fn executable() -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(4096, 0);
    elf[16] = 2;
    elf
}

/// `count` bytes of log lines, UTF-8 with Chinese text (a character the count would cut is
/// padded with spaces).
fn log_bytes(count: usize) -> Vec<u8> {
    let line = "2026-11-24T09:00:01+08:00 ERROR 邮件投递失败 550 5.7.1 relay denied\n";
    let mut bytes: Vec<u8> = line.bytes().cycle().take(count).collect();
    let valid = std::str::from_utf8(&bytes).map_or_else(|err| err.valid_up_to(), str::len);
    bytes[valid..].fill(b' ');
    bytes
}

/// A partner with an escalation in `submitted`; returns (partner key, escalation id, ETag).
async fn escalation(app: &TestApp) -> (String, Uuid, String) {
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let escalation = app.submit_escalation(&key, &fixture.body).await;
    (key, escalation.id(), escalation.etag())
}

impl TestApp {
    fn upload_request(
        &self,
        key: &str,
        escalation_id: Uuid,
        filename: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        self.request(Method::POST, &attachments_path(escalation_id), key)
            .query(&[("filename", filename)])
            .header("Content-Type", "application/octet-stream")
            .body(body)
    }

    async fn upload(&self, key: &str, escalation_id: Uuid, filename: &str, bytes: &[u8]) -> Answer {
        self.send(self.upload_request(key, escalation_id, filename, bytes.to_vec()))
            .await
    }

    /// The content's bytes with the answer's headers.
    async fn download(
        &self,
        key: &str,
        content_url: &str,
        range: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self.request(Method::GET, content_url, key);
        if let Some(range) = range {
            request = request.header("Range", range);
        }
        let response = request.send().await.expect("the request is sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    async fn attachment_rows(&self) -> usize {
        self.texts("SELECT filename FROM attachments").await.len()
    }

    /// Whether the escalation's audit trail holds an event of `kind`.
    async fn recorded(&self, key: &str, escalation_id: Uuid, kind: &str) -> bool {
        let path = format!("{}/events", escalation_path(escalation_id));
        self.get(&path, key)
            .await
            .strings("kind")
            .iter()
            .any(|k| k == kind)
    }

    /// The directory this server keeps attachments in.
    fn attachment_dir(&self) -> PathBuf {
        match self.attachment_store() {
            StoreLocation::Directory(dir) => dir.clone(),
            other => panic!("a directory store, not {other:?}"),
        }
    }

    /// What the server holds of attachments: their rows and their files.
    async fn stored(&self) -> (usize, usize) {
        let files = files_under(&self.attachment_dir()).len();
        (self.attachment_rows().await, files)
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn an_attachment_is_read_by_both_sides_hidden_from_others_and_removed_by_its_uploaders_side()
{
    // Arrange
    let app = spawn_app().await;
    let (key, id, etag) = escalation(&app).await;
    let operator = app.operator_key().await;

    // Act
    let uploaded = app.upload(&key, id, "截图 1.png", PNG).await;

    // Assert
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    let attachment = &uploaded.body;
    assert_eq!(attachment["filename"], "截图 1.png");
    assert_eq!(attachment["media_type"], "image/png");
    assert_eq!(attachment["size_bytes"], PNG.len());
    assert_eq!(attachment["sha256"], sha256(PNG));
    assert_eq!(attachment["uploader_role"], "partner");
    assert_eq!(attachment["escalation_id"], id.to_string());
    let location = uploaded.header("location").unwrap().to_owned();
    let path = format!("{}/{}", attachments_path(id), uploaded.id());
    assert_eq!(location, path);
    let content_url = attachment["content_url"].as_str().unwrap();
    for reader in [&key, &operator] {
        let listed = app.get(&attachments_path(id), reader).await;
        assert_eq!(listed.body["items"], json!([attachment]));
        assert_eq!(app.get(&location, reader).await.body, *attachment);
        let (status, headers, bytes) = app.download(reader, content_url, None).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, PNG);
        assert_eq!(headers["content-type"], "image/png");
        assert_eq!(headers["content-length"], PNG.len().to_string().as_str());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["accept-ranges"], "bytes");
        assert_eq!(headers["etag"], format!("\"{}\"", sha256(PNG)).as_str());
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment; "), "{disposition}");
        let filename = "filename*=UTF-8''%E6%88%AA%E5%9B%BE%201.png";
        assert!(disposition.contains(filename), "{disposition}");
    }
    assert!(app.recorded(&key, id, "attachment_added").await);
    // The feed shows an event once older transactions have ended: wait for it, briefly.
    let added = [("type", "escalation.attachment_added")];
    let event = eventually_within(Duration::from_secs(10), "the feed's event", async || {
        let feed = app.get_query("/v1/events", &key, &added).await;
        feed.items().first().cloned()
    })
    .await;
    assert_eq!(event["data"]["attachment"], *attachment);

    // Another partner's attachments are not found, whichever path names them.
    let (other_key, other_id, _) = escalation(&app).await;
    let theirs = app.upload(&other_key, other_id, "b.png", PNG).await;
    let crossed = format!("{}/{}", attachments_path(id), theirs.id());
    let (content, crossed_content) = (format!("{path}/content"), format!("{crossed}/content"));
    for (label, answer) in [
        ("read", app.get(&path, &other_key).await),
        ("content", app.get(&content, &other_key).await),
        ("list", app.get(&attachments_path(id), &other_key).await),
        ("delete", app.delete(&path, &other_key).await),
        ("upload", app.upload(&other_key, id, "c.png", PNG).await),
        ("theirs under mine", app.get(&crossed, &key).await),
        ("their content", app.get(&crossed_content, &key).await),
    ] {
        assert_eq!(answer.status, 404, "{label}: {}", answer.body);
        answer.problem(404, "not_found");
    }
    assert_eq!(app.get(&path, &key).await.status, 200);

    // Only the uploader's side removes a file.
    let operators = app.upload(&operator, id, "kb.txt", b"see KB 4021").await;
    assert_eq!(operators.body["uploader_role"], "operator");
    let operators_path = format!("{}/{}", attachments_path(id), operators.id());
    let by_operator = app.delete(&path, &operator).await;
    by_operator.problem(403, "not_the_uploader");
    let by_partner = app.delete(&operators_path, &key).await;
    by_partner.problem(403, "not_the_uploader");
    let removed = app.delete(&path, &key).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    app.get(&path, &key).await.problem(404, "not_found");
    app.delete(&path, &key).await.problem(404, "not_found");
    assert_eq!(app.stored().await, (2, 2), "theirs and the operator's");
    assert!(app.recorded(&key, id, "attachment_removed").await);

    // Withdrawn: nothing more is attached or removed, and what is left is still readable.
    let withdraw = json!({"to": "withdrawn", "reason": "客户已自行解决。"});
    let withdrawn = app.transition(&key, id, &etag, &withdraw).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let attached = app.upload(&key, id, "b.png", PNG).await;
    attached.problem(409, "escalation_closed");
    let removed = app.delete(&operators_path, &operator).await;
    removed.problem(409, "escalation_closed");
    let left = app.get(&operators_path, &key).await;
    assert_eq!(left.status, 200, "still readable");
}

#[tokio::test]
async fn a_20_mib_log_streams_in_and_is_served_whole_or_by_range() {
    // Arrange
    let app = spawn_app().await;
    let (key, id, _) = escalation(&app).await;
    let log = log_bytes(20 * MIB);
    // Sent in 64 KiB chunks without a Content-Length, as a client streaming a file does.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        log.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(stream::iter(chunks));

    // Act
    let request = app.upload_request(&key, id, "exchange.log", body);
    let uploaded = app.send(request).await;

    // Assert
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    assert_eq!(uploaded.body["media_type"], "text/plain");
    assert_eq!(uploaded.body["size_bytes"], 20 * MIB);
    assert_eq!(uploaded.body["sha256"], sha256(&log));
    let url = uploaded.body["content_url"].as_str().unwrap();
    let (status, headers, bytes) = app.download(&key, url, None).await;
    assert_eq!((status, bytes.len()), (200, log.len()));
    assert!(bytes == log, "the content comes back as sent");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let size = log.len();
    for (range, expected) in [
        ("bytes=0-99", 0..100),
        ("bytes=10485760-", 10 * MIB..size),
        ("bytes=-512", size - 512..size),
        ("bytes=20971000-99999999", 20_971_000..size),
    ] {
        let (status, headers, bytes) = app.download(&key, url, Some(range)).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(bytes, log[expected.clone()], "{range}");
        let (first, last) = (expected.start, expected.end - 1);
        let content_range = format!("bytes {first}-{last}/{size}");
        assert_eq!(headers["content-range"], content_range.as_str(), "{range}");
    }
    let (status, headers, body) = app.download(&key, url, Some("bytes=99999999-")).await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], format!("bytes */{size}").as_str());
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "range_not_satisfiable");
    // If-Range with another version's tag: the whole content, not a range of something else.
    let etag = uploaded.body["sha256"].as_str().unwrap();
    for (if_range, status) in [("\"0000\"".to_owned(), 200), (format!("\"{etag}\""), 206)] {
        let request = app
            .request(Method::GET, url, &key)
            .header("Range", "bytes=0-9");
        let response = request.header("If-Range", &if_range).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "If-Range: {if_range}");
    }
}

#[tokio::test]
async fn files_are_judged_by_their_content_and_refusals_leave_nothing_behind() {
    // Arrange
    let app = spawn_app().await;
    let (key, id, _) = escalation(&app).await;
    let elf = executable();
    let mut latin1 = log_bytes(20_000);
    latin1.extend_from_slice(b"caf\xe9");
    let unsupported = (415, "unsupported_attachment_type");

    for (name, bytes, (status, code)) in [
        ("notes.txt", elf.as_slice(), unsupported),
        ("app.log", latin1.as_slice(), unsupported),
        ("empty.log", b"".as_slice(), (422, "empty_attachment")),
    ] {
        // Act
        let refused = app.upload(&key, id, name, bytes).await;

        // Assert
        assert_eq!(refused.status, status, "{name}: {}", refused.body);
        refused.problem(status, code);
    }
    let refused = app.upload(&key, id, "notes.txt", &elf).await;
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("application/x-executable"), "{detail}");
    // Empty, a path, a control character, and format characters that make a name show as
    // another: a right-to-left override ("invoiceexe.png") and a zero-width space.
    for name in [
        "",
        "../etc/passwd",
        "a\u{7}b.txt",
        "invoice\u{202E}gnp.exe",
        "scan\u{200B}.png",
    ] {
        let refused = app.upload(&key, id, name, PNG).await;
        assert_eq!(refused.status, 400, "{name:?}: {}", refused.body);
        refused.problem(400, "invalid_query");
        assert_eq!(refused.error_fields(), ["filename"], "{name:?}");
    }
    let nameless = app.request(Method::POST, &attachments_path(id), &key);
    let nameless = app.send(nameless.body(PNG.to_vec())).await;
    nameless.problem(400, "invalid_query");
    assert_eq!(app.stored().await, (0, 0));

    // Markup is served as text, under a policy that runs nothing; HAR as JSON.
    let markup = b"<html><script>alert(1)</script></html>";
    let html = app.upload(&key, id, "page.html", markup).await;
    assert_eq!(html.body["media_type"], "text/plain");
    let capture = br#"{"log": {"version": "1.2", "entries": []}}"#;
    let har = app.upload(&key, id, "capture.har", capture).await;
    assert_eq!(har.body["media_type"], "application/json");
    let content_url = html.body["content_url"].as_str().unwrap();
    let (_, headers, _) = app.download(&key, content_url, None).await;
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let policy = &headers["content-security-policy"];
    assert_eq!(policy, "default-src 'none'; sandbox");
}

/// Sends the request head of a body declared as `declared` (a `Content-Length`, or chunked when
/// `None`), then keeps sending, up to a gibibyte, until the server answers; returns the answer's
/// status and how many body bytes went out before it came.
async fn raw_upload(app: &TestApp, key: &str, id: Uuid, declared: Option<u64>) -> (u16, usize) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let framing = match declared {
        Some(length) => format!("Content-Length: {length}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {}?filename=big.log HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/octet-stream\r\n{framing}\r\n\r\n",
        attachments_path(id)
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let sender = tokio::spawn(async move {
        let chunk = log_bytes(64 * 1024);
        while counter.load(Ordering::Relaxed) < 1 << 30 {
            let written = if declared.is_some() {
                writer.write_all(&chunk).await
            } else {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                writer.write_all(&framed).await
            };
            if written.is_err() {
                break;
            }
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = reader.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered in time");
    sender.abort();
    let sent = sent.load(Ordering::Relaxed);
    let status_line = String::from_utf8_lossy(&answer).to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok());
    (
        status.unwrap_or_else(|| panic!("a status line: {status_line:?}")),
        sent,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_enforced_before_and_while_reading_and_concurrent_uploads_cannot_pass_them() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        attachments: AttachmentSettings {
            attachment_max_bytes: MIB as u64,
            attachment_max_files: 3,
            attachment_max_total_bytes: (3 * MIB / 2) as u64,
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    })
    .await;
    let (key, id, _) = escalation(&app).await;

    // A declared gibibyte is refused on its head: the answer comes while the client is still
    // sending, long before a gibibyte went out. Without a length, the upload is cut off once it
    // passes the limit.
    for declared in [Some(1 << 30), None] {
        let (status, sent) = raw_upload(&app, &key, id, declared).await;
        assert_eq!(status, 413, "declared {declared:?}");
        assert!(sent < 64 * MIB, "declared {declared:?}: {sent} bytes sent");
    }
    let too_large = app.upload(&key, id, "big.log", &log_bytes(MIB + 1)).await;
    too_large.problem(413, "attachment_too_large");
    assert_eq!(app.stored().await, (0, 0));

    // The escalation's total: 1 MiB, then 0.6 MiB would pass 1.5 MiB.
    let whole = app.upload(&key, id, "a.log", &log_bytes(MIB)).await;
    assert_eq!(whole.status, 201, "{}", whole.body);
    let over_total = app
        .upload(&key, id, "b.log", &log_bytes(6 * MIB / 10))
        .await;
    over_total.problem(413, "attachments_total_too_large");
    // Its file count: three files, then no fourth.
    for name in ["b.log", "c.log"] {
        let small = app.upload(&key, id, name, &log_bytes(1000)).await;
        assert_eq!(small.status, 201, "{name}: {}", small.body);
    }
    let fourth = app.upload(&key, id, "d.png", PNG).await;
    fourth.problem(422, "too_many_attachments");
    assert_eq!(app.stored().await, (3, 3));

    // Six uploads at once to another escalation: three get in, together or not.
    let (key, id, _) = escalation(&app).await;
    let requests = (0..6)
        .map(|n| app.upload_request(&key, id, &format!("{n}.log"), log_bytes(10_000 + n)))
        .collect();
    let answers = send_concurrently(requests).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 3, "{statuses:?}");
    for refused in answers.iter().filter(|a| a.status != 201) {
        refused.problem(422, "too_many_attachments");
    }
    assert_eq!(app.stored().await, (6, 6));
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_upload_answer_the_first() {
    // Arrange
    let app = spawn_app().await;
    let (key, id, _) = escalation(&app).await;
    let keyed = |bytes: Vec<u8>, idempotency_key: &str| {
        let request = app.upload_request(&key, id, "a.log", bytes);
        request.header("Idempotency-Key", idempotency_key.to_owned())
    };

    // Act
    let first = app.send(keyed(log_bytes(300_000), "upload-1")).await;
    let again = app.send(keyed(log_bytes(300_000), "upload-1")).await;
    let other_bytes = app.send(keyed(log_bytes(300_001), "upload-1")).await;
    // Twins sent at once: one file.
    let twin = || keyed(log_bytes(5000), "upload-2");
    let twins = send_concurrently(vec![twin(), twin()]).await;

    // Assert
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    other_bytes.problem(422, "idempotency_key_reused");
    let answered: Vec<_> = twins.iter().map(|a| (a.status, &a.body)).collect();
    assert!(twins.iter().any(|a| a.status == 201), "{answered:?}");
    for twin in &twins {
        assert!([201, 409].contains(&twin.status), "{}", twin.body);
    }
    assert_eq!(app.stored().await, (2, 2));
}

#[tokio::test]
async fn with_the_store_down_an_upload_is_503_and_nothing_is_recorded() {
    // Arrange: an S3 store on a port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let store = format!(
        "s3://escalade/attachments?endpoint=http://127.0.0.1:{port}&allow_http=true\
         &skip_signature=true&region=us-east-1"
    );
    let app = spawn_app_with(ServeSettings {
        attachments: AttachmentSettings {
            attachment_store: Some(StoreLocation::parse(&store).unwrap()),
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    })
    .await;
    let (key, id, _) = escalation(&app).await;

    // Act
    let refused = app.upload(&key, id, "a.png", PNG).await;

    // Assert
    refused.problem(503, "storage_unavailable");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(app.attachment_rows().await, 0);
    assert!(!app.recorded(&key, id, "attachment_added").await);
}

/// An upload in progress is slow yet keeps arriving, while housekeeping looks every second.
#[tokio::test]
async fn an_upload_that_keeps_arriving_earns_its_time_and_housekeeping_deletes_only_what_no_one_owns()
 {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        body_timeout_secs: 1,
        housekeeping_interval_secs: 1,
        attachments: AttachmentSettings {
            attachment_orphan_grace_secs: 60,
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    })
    .await;
    let (key, id, _) = escalation(&app).await;
    let kept = app.upload(&key, id, "a.png", PNG).await;
    // What a crash between storing an object and committing its row leaves: an object nobody
    // sees, two hours old, and a fresh one an upload in progress may still own.
    // A crash in the middle of writing leaves the file store's part files (`<id>#<n>`), which
    // its listing does not show: an old one, and a fresh one of an upload still going.
    let escalation_dir = app.attachment_dir().join("escalations");
    let escalation_dir = escalation_dir.join(id.to_string());
    let orphan = escalation_dir.join(Uuid::now_v7().to_string());
    let in_progress = escalation_dir.join(Uuid::now_v7().to_string());
    let old_part = escalation_dir.join(format!("{}#1", Uuid::now_v7()));
    let fresh_part = escalation_dir.join(format!("{}#2", Uuid::now_v7()));
    for path in [&orphan, &in_progress, &old_part, &fresh_part] {
        std::fs::write(path, PNG).unwrap();
    }
    // The kept attachment's object is as old: its row keeps it.
    let kept_object = escalation_dir.join(kept.id().to_string());
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for path in [&orphan, &old_part, &kept_object] {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(two_hours_ago).unwrap();
    }
    assert_eq!(app.get(&attachments_path(id), &key).await.items().len(), 1);
    // 2 MiB over about three seconds: thrice the body timeout, at 640 KiB/s.
    let log = log_bytes(2 * MIB);
    let chunks: Vec<Vec<u8>> = log.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let slow = stream::iter(chunks).then(|chunk| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(chunk)
    });

    // Act
    let slow = reqwest::Body::wrap_stream(slow);
    let uploaded = app
        .send(app.upload_request(&key, id, "slow.log", slow))
        .await;
    let what = "housekeeping to delete the orphan and the old part file";
    eventually_within(Duration::from_secs(10), what, async || {
        (!orphan.exists() && !old_part.exists()).then_some(())
    })
    .await;

    // Assert
    assert_eq!(uploaded.status, 201, "{}", uploaded.body);
    assert_eq!(uploaded.body["sha256"], sha256(&log));
    assert!(in_progress.exists(), "a fresh object is left to its upload");
    assert!(fresh_part.exists(), "so is a fresh part file");
    assert!(kept_object.exists());
    let content_url = kept.body["content_url"].as_str().unwrap();
    assert_eq!(app.download(&key, content_url, None).await.2, PNG);
}
