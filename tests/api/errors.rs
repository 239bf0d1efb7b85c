//! Bad input: every malformed request, file or value gets a 4xx problem+json with a stable
//! code, and nothing already stored changes.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fresh, photo_form, Body, TestApp};

backend_tests!(
    bad_visit_requests_are_refused_with_stable_codes,
    bad_photo_uploads_are_refused_with_stable_codes,
    bad_paths_and_queries_are_refused
);

async fn snapshot(app: &TestApp, visit: Uuid) -> Value {
    let mut v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await.json;
    v.as_object_mut().unwrap().remove("reviews");
    v
}

async fn bad_visit_requests_are_refused_with_stable_codes(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    let path = format!("/v1/visits/{visit}");
    let good = app.visit_body(customer, "door_visit", 0);
    assert_eq!(app.put(&path, &app.rep.token, good.clone()).await.status, 201);
    let before = snapshot(&app, visit).await;

    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        Body::Json(b)
    };
    let raw = |ct: &'static str, s: &str| Body::Raw(ct, s.as_bytes().to_vec());
    let cases: Vec<(&str, Body, u16, &str)> = vec![
        ("bad JSON", raw("application/json", "{\"customer_id\": "), 400, "malformed_json"),
        ("not JSON at all", raw("application/json", "customer=1"), 400, "malformed_json"),
        ("wrong type", with("refused", json!("yes")), 422, "invalid_field"),
        ("a number for an enum", with("method", json!(5)), 422, "invalid_field"),
        ("a body that is a list", Body::Json(json!([good.clone()])), 422, "invalid_field"),
        ("year 0", with("visited_at", json!("0000-01-01T10:00:00+07:00")), 422, "invalid_field"),
        ("year 9999", with("next_follow_up_at", json!("9999-12-31T10:00:00+07:00")), 422, "invalid_field"),
        ("a NUL in a name", with("contact_name", json!("Bu\u{0}Sari")), 422, "invalid_field"),
        ("an escape sequence in the summary", with("summary", json!("ok \u{1b}[2J")), 422, "invalid_field"),
        ("unknown enum value", with("method", json!("fax")), 422, "invalid_field"),
        ("missing required field", Body::Json(json!({"method": "door_visit"})), 422, "invalid_field"),
        ("customer id not a UUID", with("customer_id", json!("123")), 422, "invalid_field"),
        ("time without offset", with("visited_at", json!("2026-11-23T10:00:00")), 422, "invalid_field"),
        (
            "unknown result reason",
            with("result_reason", json!({"level1": "service", "level2": "shop_closed"})),
            422,
            "result_reason_unknown",
        ),
        ("unknown question", with("answers", json!({"favourite_colour": "blue"})), 422, "question_unknown"),
        ("another reason's detail", with("reason_details", json!({"competitor_name": "SiCepat"})), 422, "reason_detail_invalid"),
        ("a detail of the wrong kind", with("reason_details", json!({"needs_hq_help": "ya"})), 422, "reason_detail_invalid"),
        ("a detail that is an object", with("reason_details", json!({"cause": {"a": 1}})), 422, "invalid_field"),
        ("unknown customer", with("customer_id", json!(Uuid::new_v4())), 422, "customer_not_found"),
        ("unknown task", with("task_id", json!(Uuid::new_v4())), 422, "task_not_found"),
        (
            "visit in the future",
            with("visited_at", json!((chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339())),
            422,
            "visited_at_in_future",
        ),
        ("too long", with("summary", json!("x".repeat(10_001))), 422, "field_too_long"),
        ("oversized body", with("details", json!("y".repeat(300 * 1024))), 413, "payload_too_large"),
        ("wrong content type", raw("text/plain", "{}"), 415, "unsupported_media_type"),
    ];
    for (name, body, status, code) in cases {
        let r = app.send(Method::PUT, &path, Some(&app.rep.token), body).await;
        assert_eq!((r.status, r.code()), (status, code), "{name}: {}", r.json);
        assert!(r.json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
    assert_eq!(snapshot(&app, visit).await, before, "no rejected request changed the visit");
}

async fn bad_photo_uploads_are_refused_with_stable_codes(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let jpeg = fresh("samsung-galaxy-s7-edge.jpg");
    // A PNG header that claims 100 000 × 100 000 pixels: refused before any decode.
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let mut oversized = b"\xFF\xD8\xFF\xE0".to_vec();
    oversized.resize(9 * 1024 * 1024, 0);
    let typed = |bytes: Vec<u8>, mime: &str| {
        reqwest::multipart::Form::new()
            .text("kind", "storefront")
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("x").mime_str(mime).unwrap())
    };
    let boundary = "XyZ";
    let truncated = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nstorefront\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\u{ff}\u{d8}\u{ff}partial");
    let cases: Vec<(&str, Body, u16, &str)> = vec![
        ("not an image", Body::Form(photo_form("storefront", b"%PDF-1.7 not a photo".to_vec(), &[])), 415, "photo_unsupported_format"),
        ("a GIF", Body::Form(photo_form("storefront", b"GIF89a\x01\x00\x01\x00".to_vec(), &[])), 415, "photo_unsupported_format"),
        ("empty file", Body::Form(photo_form("storefront", Vec::new(), &[])), 422, "photo_empty"),
        ("decompression bomb", Body::Form(photo_form("storefront", bomb, &[])), 422, "photo_dimensions_too_large"),
        ("corrupt header", Body::Form(photo_form("storefront", b"\xFF\xD8\xFF\xE0\x00\x10JFIF".to_vec(), &[])), 422, "photo_unreadable"),
        ("declared PNG, is JPEG", Body::Form(typed(jpeg.clone(), "image/png")), 422, "photo_type_mismatch"),
        ("over the size cap", Body::Form(photo_form("storefront", oversized, &[])), 413, "photo_too_large"),
        ("unknown kind", Body::Form(photo_form("selfie", jpeg.clone(), &[])), 422, "invalid_field"),
        (
            "no kind",
            Body::Form(reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(jpeg.clone()))),
            422,
            "field_required",
        ),
        ("no file", Body::Form(reqwest::multipart::Form::new().text("kind", "storefront")), 422, "field_required"),
        (
            "bad latitude",
            Body::Form(photo_form("storefront", jpeg.clone(), &[("latitude", "north"), ("longitude", "1")])),
            422,
            "invalid_field",
        ),
        (
            "latitude out of range",
            Body::Form(photo_form("storefront", jpeg.clone(), &[("latitude", "95"), ("longitude", "1")])),
            422,
            "invalid_coordinates",
        ),
        ("half a position", Body::Form(photo_form("storefront", jpeg.clone(), &[("latitude", "5")])), 422, "invalid_coordinates"),
        ("bad time", Body::Form(photo_form("storefront", jpeg.clone(), &[("captured_at", "yesterday")])), 422, "invalid_field"),
        ("bad mock flag", Body::Form(photo_form("storefront", jpeg.clone(), &[("is_mock_location", "maybe")])), 422, "invalid_field"),
        ("truncated multipart", Body::Raw("multipart/form-data; boundary=XyZ", truncated.into_bytes()), 400, "multipart_invalid"),
        ("not multipart", Body::Raw("application/json", b"{}".to_vec()), 415, "unsupported_media_type"),
    ];
    for (name, body, status, code) in cases {
        let r = app.send(Method::PUT, &format!("/v1/visits/{visit}/photos/{}", Uuid::new_v4()), Some(&app.rep.token), body).await;
        assert_eq!((r.status, r.code()), (status, code), "{name}: {}", r.json);
    }
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"], json!([]), "no rejected upload left a photo");
    assert_eq!(app.object_count().await, 0, "no rejected upload left an object");
}

async fn bad_paths_and_queries_are_refused(app: TestApp) {
    let cases: Vec<(Method, &str, u16, &str)> = vec![
        (Method::GET, "/v1/visits/not-a-uuid", 400, "invalid_id"),
        (Method::PUT, "/v1/visits/123/photos/456", 400, "invalid_id"),
        (Method::GET, "/v1/customers/zzz", 400, "invalid_id"),
        (Method::GET, "/v1/nowhere", 404, "route_not_found"),
        (Method::GET, "/v1/visits?status=lost", 400, "invalid_query"),
        (Method::GET, "/v1/visits?date_from=yesterday", 400, "invalid_query"),
        (Method::GET, "/v1/visits?limit=0", 400, "invalid_query"),
        (Method::GET, "/v1/visits?limit=abc", 400, "invalid_query"),
        (Method::GET, "/v1/visits?cursor=%%%", 400, "invalid_cursor"),
        (Method::GET, "/v1/visits?cursor=bm9wZQ", 400, "invalid_cursor"),
        (Method::GET, "/v1/tasks?assignee=you", 400, "invalid_query"),
        (Method::GET, "/v1/visits?finding_code=photo_ugly", 400, "invalid_query"),
        (Method::GET, "/v1/visits/00000000-0000-0000-0000-000000000000", 404, "visit_not_found"),
    ];
    for (method, path, status, code) in cases {
        let body = if method == Method::PUT { Body::Json(json!({})) } else { Body::None };
        let r = app.send(method.clone(), path, Some(&app.rep.token), body).await;
        assert_eq!((r.status, r.code()), (status, code), "{method} {path}: {}", r.json);
    }
}

/// PostgreSQL ends the server's sessions under it (as a restart does): each request that meets a
/// dead connection gets a 503 `database_unavailable` — never a 500 — and the pool replaces the
/// connection, so a phone that retries gets through, and nothing it wrote before is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_database_connections_are_503s_and_a_retry_gets_through() {
    use sqlx::Connection;
    let Some(base) = crate::helpers::postgres_url() else { return };
    let app = crate::helpers::spawn_app(crate::helpers::Db::Postgres).await;
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    assert_eq!(app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 1)).await.status, 201);

    // Open several pooled connections: concurrent reads each hold one.
    let path = format!("/v1/visits/{visit}");
    let reads = (0..5).map(|_| app.get(&path, &app.rep.token));
    for r in futures_util::future::join_all(reads).await {
        assert_eq!(r.status, 200);
    }
    let name = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    let ended: i64 = sqlx::query_scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(ended >= 1, "no session of the test database to end");

    let mut unavailable = 0;
    let mut answer = None;
    for _ in 0..10 {
        let r = app.get(&path, &app.rep.token).await;
        match r.status {
            200 => {
                answer = Some(r.json);
                break;
            }
            503 => {
                assert_eq!(r.code(), "database_unavailable");
                unavailable += 1;
            }
            other => panic!("a lost connection answered {other}: {}", r.json),
        }
    }
    let visit_back = answer.expect("a retry got through once the pool had replaced its connections");
    assert_eq!(visit_back["id"], visit.to_string());
    // The first request met one of the ended sessions (a busy connection is not pinged first).
    assert!(unavailable >= 1, "no request met an ended session: the test did not test");
    assert!(unavailable <= 5, "more 503s ({unavailable}) than the pool has connections");
}

/// A database that is busy or whose connection broke is a 503 `database_unavailable` (safe to
/// retry); any other database error is a 500 `internal_error`.
#[test]
fn a_lost_or_exhausted_database_is_unavailable_not_internal() {
    use fieldproof::app::AppError;
    use fieldproof::db::RepoError;
    let lost = RepoError::from(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
    assert_eq!(AppError::from(lost).code(), "database_unavailable");
    assert_eq!(AppError::from(RepoError::from(sqlx::Error::PoolTimedOut)).code(), "database_unavailable");
    assert_eq!(AppError::from(RepoError::from(sqlx::Error::RowNotFound)).code(), "internal_error");
}
