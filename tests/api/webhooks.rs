//! Webhooks against a local HTTP receiver started by the test: subscriptions are admin-only and
//! validated; events are signed (HMAC-SHA256 over "{timestamp}.{body}"), delivered once per
//! subscription, retried after a failure, logged; a dead endpoint ends `failed` without touching
//! the API; a deleted subscription gets nothing more.

use std::sync::{Arc, Mutex};

use fieldproof::config::JobsSettings;
use fieldproof::jobs::{Step, Worker};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(webhooks_are_signed_retried_and_logged);

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// A tiny HTTP/1.1 receiver: records every request and answers with the next scripted status
/// (200 once the script runs out).
pub(crate) async fn receiver(script: Vec<u16>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/fieldproof", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(script.into_iter()));
    let sink = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (sink, script) = (sink.clone(), script.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                    .collect();
                let length: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                sink.lock().unwrap().push(Received { headers, body: buf[head_end..].to_vec() });
                let status = script.lock().unwrap().next().unwrap_or(200);
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, got)
}

/// Runs jobs until none is ready (retries are due at once: backoff 0).
pub(crate) async fn drain(app: &TestApp, max_attempts: u32) {
    let worker = Worker::new(app.app.clone(), JobsSettings { max_attempts, retry_backoff_ms: 0, ..JobsSettings::default() });
    for _ in 0..200 {
        if worker.step().await.unwrap() == Step::Idle {
            return;
        }
    }
    panic!("jobs kept coming");
}

fn verify(secret: &str, r: &Received) -> bool {
    let (t, v1) = r.header("fieldproof-signature").split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    assert_eq!(t, r.header("fieldproof-timestamp"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

async fn webhooks_are_signed_retried_and_logged(app: TestApp) {
    // Admin only, and validated.
    let body = json!({ "url": "http://127.0.0.1:9/x", "events": ["visit.submitted"] });
    assert_eq!(app.post("/v1/webhooks", &app.hq.token, body.clone()).await.code(), "role_forbidden");
    for (bad, code) in [
        (json!({ "url": "ftp://example.com/x", "events": ["visit.submitted"] }), "webhook_invalid_url"),
        (json!({ "url": "not a url", "events": ["visit.submitted"] }), "webhook_invalid_url"),
        (json!({ "url": "http://127.0.0.1:9/x", "events": [] }), "webhook_unknown_event"),
        (json!({ "url": "http://127.0.0.1:9/x", "events": ["visit.deleted"] }), "webhook_unknown_event"),
        (json!({ "url": "http://127.0.0.1:9/x", "events": ["visit.submitted"], "secret": "short" }), "webhook_secret_invalid"),
    ] {
        let r = app.post("/v1/webhooks", &app.admin.token, bad).await;
        assert_eq!((r.status, r.code()), (422, code));
    }

    // A receiver that fails its first request, and an endpoint nobody listens on.
    let (url, got) = receiver(vec![500]).await;
    let secret = "s3cret-s3cret-s3cret";
    let hook = app
        .post(
            "/v1/webhooks",
            &app.admin.token,
            json!({ "url": url, "secret": secret, "events": ["visit.submitted", "visit.non_compliant", "task.created"] }),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    assert_eq!(hook.json["secret"], secret, "shown once, at creation");
    let hook_id = hook.json["id"].as_str().unwrap().to_string();
    let dead = app.post("/v1/webhooks", &app.admin.token, json!({ "url": "http://127.0.0.1:1/gone", "events": ["visit.reviewed"] })).await;
    assert!(dead.json["secret"].as_str().unwrap().starts_with("whsec_"), "a secret is generated when none is given");
    let dead_id = dead.json["id"].as_str().unwrap().to_string();
    let listed = app.get("/v1/webhooks", &app.admin.token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 2);
    assert!(listed.json["items"][0].get("secret").is_none(), "never listed");

    // A visit without its photos: submitted, non-compliant, and its re-visit task created.
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let verdict = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(verdict.json["status"], "non_compliant");
    assert!(got.lock().unwrap().is_empty(), "the API sent nothing itself");
    drain(&app, 3).await;

    let received = got.lock().unwrap().clone();
    // Submitted, non-compliant, and two tasks created — its re-visit and its thank-you message
    // (SOP ch. 3.1) — one delivery retried once.
    assert_eq!(received.len(), 5, "four events, one of them retried once");
    let mut events: Vec<String> = received.iter().map(|r| r.header("fieldproof-event").to_string()).collect();
    events.sort();
    events.dedup();
    assert_eq!(events, ["task.created", "visit.non_compliant", "visit.submitted"]);
    for r in &received {
        assert!(verify(secret, r), "signature of {}", r.header("fieldproof-event"));
        assert!(!verify("another-secret-value", r));
        let payload: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(payload["event"], r.header("fieldproof-event"));
        assert_eq!(r.header("content-type"), "application/json");
        match payload["event"].as_str().unwrap() {
            "task.created" => assert!(
                payload["data"]["task_id"] == verdict.json["revisit_task_id"] || payload["data"]["origin"] == "thank_you",
                "{payload}"
            ),
            _ => assert_eq!(payload["data"]["visit_id"], visit.to_string()),
        }
    }
    let log = app.get(&format!("/v1/webhooks/{hook_id}/deliveries"), &app.admin.token).await;
    let items = log.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", log.json);
    assert!(items.iter().all(|d| d["status"] == "delivered"), "{}", log.json);
    assert_eq!(items.iter().map(|d| d["attempts"].as_i64().unwrap()).sum::<i64>(), 5);
    assert!(items.iter().any(|d| d["attempts"] == 2 && d["last_status"] == 200));

    // The dead endpoint: the review answers at once; its delivery fails after 3 attempts.
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({ "decision": "approve" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    drain(&app, 3).await;
    let log = app.get(&format!("/v1/webhooks/{dead_id}/deliveries"), &app.admin.token).await;
    let d = &log.json["items"][0];
    assert_eq!(
        (d["event"].as_str(), d["status"].as_str(), d["attempts"].as_i64()),
        (Some("visit.reviewed"), Some("failed"), Some(3)),
        "{d}"
    );
    assert!(d["last_error"].as_str().unwrap().contains("request failed"), "{d}");
    assert_eq!(got.lock().unwrap().len(), 5, "the other subscription did not want visit.reviewed");

    // Deleted: nothing more arrives.
    assert_eq!(
        app.send(reqwest::Method::DELETE, &format!("/v1/webhooks/{hook_id}"), Some(&app.admin.token), crate::helpers::Body::None)
            .await
            .status,
        204
    );
    let again = app
        .send(reqwest::Method::DELETE, &format!("/v1/webhooks/{}", Uuid::new_v4()), Some(&app.admin.token), crate::helpers::Body::None)
        .await;
    assert_eq!((again.status, again.code()), (404, "webhook_not_found"));
    let second = Uuid::new_v4();
    app.put(&format!("/v1/visits/{second}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    app.post(&format!("/v1/visits/{second}/submit"), &app.rep.token, json!({})).await;
    drain(&app, 3).await;
    assert_eq!(got.lock().unwrap().len(), 5);
}
