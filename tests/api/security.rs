//! The security campaign's fixes, each kept by a test: the HTTP layer's own errors are
//! problem+json, bodies are strict, values no real visit has are refused, responses carry the
//! security headers, a decode's memory is bounded.

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{photo_form, Body, TestApp};

backend_tests!(
    the_http_layers_own_errors_are_problems,
    a_classification_run_takes_no_body_or_a_valid_one,
    values_no_real_visit_has_are_refused_everywhere,
    responses_carry_security_headers_and_photos_are_attachments,
    tokens_expire_are_revoked_and_bad_ones_are_throttled,
    a_heif_of_thousands_of_tiles_is_refused_before_decoding,
);

/// One request written as raw bytes; the server's whole answer (it closes the connection).
async fn raw(app: &TestApp, request: &[u8]) -> (u16, String, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer and close before it has read everything sent.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

async fn the_http_layers_own_errors_are_problems(app: TestApp) {
    let many_headers: String = (0..300).map(|i| format!("x-h{i}: v\r\n")).collect();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("a garbage request line", b"GARBAGE\r\n\r\n".to_vec(), 400, "malformed_request"),
        ("Content-Length: abc", b"POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n{}".to_vec(), 400, "malformed_request"),
        (
            "a 1 MB header",
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(1024 * 1024)).into_bytes(),
            431,
            "headers_too_large",
        ),
        ("300 headers", format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{many_headers}\r\n").into_bytes(), 431, "headers_too_large"),
    ];
    for (name, request, status, code) in cases {
        let (got, head, body) = raw(&app, &request).await;
        assert_eq!(got, status, "{name}: {head}");
        assert!(head.contains("content-type: application/problem+json"), "{name}: {head}");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body:?}"));
        assert_eq!((problem["status"].as_u64(), problem["code"].as_str()), (Some(u64::from(status)), Some(code)), "{name}");
    }
    // The server is still there, and a well-formed request on a raw connection is untouched.
    let (status, _, body) = raw(&app, b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await;
    assert_eq!(status, 200, "{body}");
}

async fn a_classification_run_takes_no_body_or_a_valid_one(app: TestApp) {
    let path = "/v1/classification/run";
    let token = Some(app.marketing.token.as_str());
    let cases: Vec<(&str, Body, u16, &str)> = vec![
        ("a branch id that is no UUID", Body::Json(json!({ "branch_id": "x" })), 422, "invalid_field"),
        ("a list", Body::Json(json!([])), 422, "invalid_field"),
        ("an unknown field", Body::Json(json!({ "branch": app.jkt })), 422, "invalid_field"),
        ("text/plain", Body::Raw("text/plain", b"run".to_vec()), 415, "unsupported_media_type"),
        ("broken JSON", Body::Raw("application/json", b"{".to_vec()), 400, "malformed_json"),
    ];
    for (name, body, status, code) in cases {
        let r = app.send(Method::POST, path, token, body).await;
        assert_eq!((r.status, r.code()), (status, code), "{name}: {}", r.json);
    }
    let r = app.send(Method::POST, path, token, Body::None).await;
    assert_eq!(r.status, 200, "no body runs the caller's scope: {}", r.json);
    let r = app.send(Method::POST, path, token, Body::Json(json!({ "branch_id": app.jkt }))).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["runs"].as_array().unwrap().iter().all(|run| run["branch_id"] == app.jkt.to_string()), "{}", r.json);
}

async fn values_no_real_visit_has_are_refused_everywhere(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    // A task due in year 9999, a field naming the field.
    let task = json!({ "customer_id": customer, "assignee_id": app.rep.id, "task_type": "visit", "required_method": "door_visit",
                       "due_date": "9999-01-01" });
    let r = app.post("/v1/tasks", &app.marketing.token, task).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "{}", r.json);
    assert_eq!(r.json["fields"], json!(["due_date"]), "{}", r.json);
    let r = app
        .send(
            Method::PUT,
            "/v1/visits/00000000-0000-4000-8000-000000000001",
            Some(&app.rep.token),
            Body::Json(json!({
        "customer_id": customer, "method": 5 })),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"));
    assert_eq!(r.json["fields"], json!(["method"]), "{}", r.json);
    // Year 0 in a query is a bad query.
    let r = app.get("/v1/tasks?due_from=0000-01-01", &app.marketing.token).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"), "{}", r.json);
    // A holiday in year 0, a name with a NUL.
    let r = app.put("/v1/holidays/2026", &app.admin.token, json!({ "holidays": [{ "date": "0000-01-01", "name": "x" }] })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "{}", r.json);
    let r = app.put("/v1/holidays/2026", &app.admin.token, json!({ "holidays": [{ "date": "2026-12-25", "name": "Natal\u{0}" }] })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "{}", r.json);
    assert_eq!(r.json["fields"], json!(["holidays[0].name"]), "{}", r.json);
    // A 100 kB webhook URL.
    let url = format!("https://hooks.example.com/{}", "a".repeat(100 * 1024));
    let r = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["visit.submitted"] })).await;
    assert_eq!((r.status, r.code()), (422, "webhook_invalid_url"), "{}", r.json);
    // CSV rows: a NUL in a cell, a date in year 9999; the good row lands.
    let csv = String::from(
        "code,name,type,branch,rep,lat,lon,radius,contact,created\n\
         C-NUL,Toko\u{0}Jaya,retail,JKT,,,,,,\n\
         C-9999,Toko Lama,retail,JKT,,,,,,9999-01-01\n\
         C-OK,Toko Baik,retail,JKT,,,,,,2026-01-05\n",
    );
    let r = app.send(Method::POST, "/v1/imports/customers", Some(&app.admin.token), Body::Raw("text/csv", csv.into_bytes())).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let errors = r.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{}", r.json);
    assert!(errors[0]["reason"].as_str().unwrap().contains("control character"), "{}", r.json);
    assert!(errors[1]["reason"].as_str().unwrap().contains("outside the years"), "{}", r.json);
    let volumes = "customer_code,date,awb\nC-OK,0000-01-01,3\nC-OK,2026-11-02,4\n";
    let r = app.send(Method::POST, "/v1/imports/volumes", Some(&app.admin.token), Body::Raw("text/csv", volumes.into())).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["errors"].as_array().unwrap().len(), 1, "{}", r.json);
}

async fn responses_carry_security_headers_and_photos_are_attachments(app: TestApp) {
    for (path, token) in [("/v1/me", Some(app.rep.token.as_str())), ("/healthz", None), ("/v1/nowhere", Some(app.rep.token.as_str()))] {
        let r = app.send(Method::GET, path, token, Body::None).await;
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert!(r.header("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(r.header("referrer-policy"), "no-referrer", "{path}");
    }
    // The console's pages keep their own policy (scripts only from the server itself).
    let r = app.send(Method::GET, "/hq/login", None, Body::None).await;
    let csp = r.header("content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // A photo is a download of its own type.
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let photo = Uuid::new_v4();
    let stored = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", crate::helpers::fresh("iphone-6.jpg"), &[])).await;
    assert_eq!(stored.status, 201, "{}", stored.json);
    let r = app.get(&format!("/v1/visits/{visit}/photos/{photo}/content"), &app.rep.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), "image/jpeg");
    assert_eq!(r.header("content-disposition"), format!("attachment; filename=\"{photo}.jpg\""));
    assert_eq!(r.header("x-content-type-options"), "nosniff");
}

async fn tokens_expire_are_revoked_and_bad_ones_are_throttled(app: TestApp) {
    // A rep makes a token for a second phone, valid one day.
    let r = app.post("/v1/tokens", &app.rep.token, json!({ "label": "second phone", "expires_in_days": 1 })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let (secret, id) = (r.json["token"].as_str().unwrap().to_string(), r.json["id"].as_str().unwrap().to_string());
    let expires = chrono::DateTime::parse_from_rfc3339(r.json["expires_at"].as_str().unwrap()).unwrap();
    assert!((1430..=1440).contains(&(expires.to_utc() - app.now()).num_minutes()), "{expires}");
    assert_eq!(app.get("/v1/me", &secret).await.json["id"], app.rep.id.to_string());
    let listed = app.get("/v1/tokens", &app.rep.token).await;
    let mine = listed.json["items"].as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).unwrap().clone();
    assert!(mine["last_used_at"].is_string(), "its use is kept: {mine}");
    assert!(!listed.json.to_string().contains(&secret), "a list never shows a secret");
    // Out of reach for others: another rep's revocation finds nothing, its list is its own.
    let r = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&app.rep2.token), Body::None).await;
    assert_eq!((r.status, r.code()), (404, "token_not_found"));
    let r = app.get(&format!("/v1/tokens?user_id={}", app.rep.id), &app.rep2.token).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"));
    for (body, code) in
        [(json!({ "label": "x", "expires_in_days": 400 }), "token_lifetime_invalid"), (json!({ "label": " " }), "token_label_invalid")]
    {
        let r = app.post("/v1/tokens", &app.rep.token, body).await;
        assert_eq!((r.status, r.code()), (422, code));
    }
    // A day later it no longer signs in.
    let now = app.now();
    app.set_now(now + chrono::Duration::hours(25));
    let r = app.get("/v1/me", &secret).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    app.set_now(now);
    // Revoked, it answers 401 at once, and revoking again answers the same.
    let r = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&app.rep.token), Body::None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let revoked_at = r.json["revoked_at"].clone();
    assert!(revoked_at.is_string());
    let r = app.get("/v1/me", &secret).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    let r = app.send(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&app.admin.token), Body::None).await;
    assert_eq!((r.status, &r.json["revoked_at"]), (200, &revoked_at), "an admin may; the first revocation stands");
    let audit = app.app.repo.list_audit("token", &id).await.unwrap();
    assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["token.issued", "token.revoked"], "{audit:?}");
    // A source sending bad tokens: the first 20 are 401 (the expired and the revoked one above
    // were two), then 429 with Retry-After; a good token from the same address still passes.
    for i in 2..fieldproof::app::throttle::FREE_BEARER_FAILURES {
        let r = app.get("/v1/me", &format!("fp_guess{i}")).await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = app.get("/v1/me", "fp_guess_more").await;
    assert_eq!((r.status, r.code()), (429, "auth_throttled"));
    assert!(r.header("retry-after").parse::<u64>().is_ok_and(|s| s >= 1), "{:?}", r.headers);
    assert_eq!(app.get("/v1/me", &app.rep.token).await.status, 200);
}

mod a_huge_interlaced_png_is_judged_without_being_decoded_whole {
    use super::*;
    use crate::helpers::{postgres_url, spawn_app_tuned, Db};

    // The row-by-row decode of 119 million pixels is a second in a release build but far
    // longer in the tests' unoptimised one under the whole suite's load: the inspection gets
    // the time it needs here (the timeout is not what this test is about).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(spawn_app_tuned(Db::Sqlite, |s| s.media.inspect_timeout_secs = 300).await).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if postgres_url().is_some() {
            run(spawn_app_tuned(Db::Postgres, |s| s.media.inspect_timeout_secs = 300).await).await
        }
    }

    /// The attack: a 451 kB interlaced PNG of 10 900 × 10 900 px (under the 120 MP cap) was
    /// decoded whole, ~450 MiB an upload. It is now read row by row into the reduced picture, so it
    /// is judged like any photo (its memory is measured in SECURITY.md, not asserted here).
    async fn run(app: TestApp) {
        let png = interlaced_png(10_900, 10_900);
        assert!(png.len() < 2 * 1024 * 1024, "{} bytes", png.len());
        let customer = app.customer_at(-6.2, 106.8).await;
        let visit = Uuid::new_v4();
        app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
        let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", png, &[])).await;
        assert_eq!(r.status, 201, "{}", r.json);
        assert_eq!((r.json["width"].as_u64(), r.json["height"].as_u64()), (Some(10_900), Some(10_900)), "{}", r.json);
        let brightness = r.json["metrics"]["brightness"].as_f64().unwrap();
        assert!((brightness - 120.0).abs() < 1.0, "the pixels were all read: {brightness}");
    }
}

/// A grey interlaced PNG of `w` × `h` (the png crate writes only plain files, so it is
/// assembled here: IHDR with Adam7, each pass's rows with filter 0, zlib), a few hundred kB.
pub fn interlaced_png(w: u32, h: u32) -> Vec<u8> {
    const ADAM7: [(u32, u32, u32, u32); 7] =
        [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];
    let mut out = Vec::new();
    let mut info = png::Info::with_size(w, h);
    info.color_type = png::ColorType::Grayscale;
    info.bit_depth = png::BitDepth::Eight;
    info.interlaced = true;
    let mut writer = png::Encoder::with_info(&mut out, info).unwrap().write_header().unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for (x0, dx, y0, dy) in ADAM7 {
        let row: Vec<u8> = std::iter::once(0).chain((x0..w).step_by(dx as usize).map(|_| 120)).collect();
        for _ in (y0..h).step_by(dy as usize) {
            std::io::Write::write_all(&mut z, &row).unwrap();
        }
    }
    writer.write_chunk(png::chunk::IDAT, &z.finish().unwrap()).unwrap();
    writer.finish().unwrap();
    out
}

crate::backend_db_tests!(a_rep_holds_only_so_many_uploads_at_once, a_trickled_body_is_cut_off_and_gives_its_place_back);

/// A server where a rep may hold one photo upload at a time, and a draft of the rep's with a
/// customer (also needed by the tests that use another rep).
async fn one_upload_place(db: crate::helpers::Db) -> (TestApp, Uuid, Uuid) {
    let app = crate::helpers::spawn_app_tuned(db, |s| s.server.uploads_per_user = 1).await;
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    (app, customer, visit)
}

/// A first upload whose body stalls half-way holds the rep's one place: a second is 429
/// `too_many_uploads` with `Retry-After`, another rep's goes through, and once the first
/// ends the rep may upload again. Nothing of the refused one was stored.
async fn a_rep_holds_only_so_many_uploads_at_once(db: crate::helpers::Db) {
    let (app, customer, visit) = one_upload_place(db).await;
    let bytes = crate::helpers::fresh("iphone-6.jpg");
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    let (head, tail) = (bytes::Bytes::copy_from_slice(head), bytes::Bytes::copy_from_slice(tail));
    let stalled = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(futures_util::stream::once(async move {
        let _ = released.await;
        Ok(tail)
    }));
    use futures_util::StreamExt;
    let form = reqwest::multipart::Form::new().text("kind", "storefront").part(
        "file",
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stalled), bytes.len() as u64).file_name("photo.jpg"),
    );
    let url = format!("{}/v1/visits/{visit}/photos/{}", app.address, Uuid::new_v4());
    let first = tokio::spawn(app.client.put(url).bearer_auth(&app.rep.token).multipart(form).send());
    // The first one's head and half its body are sent at once; give the server a moment
    // to take its place.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let second = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", bytes.clone(), &[])).await;
    assert_eq!((second.status, second.code()), (429, "too_many_uploads"));
    assert_eq!(second.header("retry-after"), "2");
    let other = Uuid::new_v4();
    app.put(&format!("/v1/visits/{other}"), &app.rep2.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app
        .put_photo(other, Uuid::new_v4(), &app.rep2.token, photo_form("storefront", crate::helpers::fresh("oppo-r7-plus.jpg"), &[]))
        .await;
    assert_eq!(r.status, 201, "another rep is not held: {}", r.json);
    let _ = release.send(());
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 201);
    let r =
        app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", crate::helpers::fresh("oppo-r7-plus.jpg"), &[])).await;
    assert_eq!(r.status, 201, "the place is given back: {}", r.json);
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"].as_array().unwrap().len(), 2, "the refused upload stored nothing");
}

/// A body that keeps arriving, 200 bytes a second, holds its place only until it falls
/// below the minimum rate (1 KiB/s after 5 s): then `408 upload_too_slow`, long before the
/// upload's 60 s timeout, and the rep's one place is free again.
async fn a_trickled_body_is_cut_off_and_gives_its_place_back(db: crate::helpers::Db) {
    let (app, _, visit) = one_upload_place(db).await;
    let boundary = "fieldproof-trickle";
    let preamble = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nstorefront\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    );
    let head = format!(
        "PUT /v1/visits/{visit}/photos/{} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 2000000\r\n\r\n{preamble}",
        Uuid::new_v4(),
        app.rep.token
    );
    let address = app.address.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..60 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if write.write_all(&[0xAB; 200]).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(50), read.read_to_end(&mut answer)).await;
    trickle.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"upload_too_slow\""), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(50), "cut off by the rate, not the upload timeout");
    let r = app
        .put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", crate::helpers::fresh("oppo-r7-plus.jpg"), &[]))
        .await;
    assert_eq!(r.status, 201, "the place is given back: {}", r.json);
}

fn isobmff_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A HEIC whose primary item is a grid of `tiles` tiles (item 1 the grid, items 2… its tiles):
/// the boxes that declare them, and no picture.
fn grid_heic(tiles: u16) -> Vec<u8> {
    let mut iinf = vec![0, 0, 0, 0];
    iinf.extend_from_slice(&(tiles + 1).to_be_bytes());
    let mut dimg = [1u16.to_be_bytes(), tiles.to_be_bytes()].concat();
    for id in 1..=tiles + 1 {
        let item_type: &[u8] = if id == 1 { b"grid" } else { b"hvc1" };
        iinf.extend(isobmff_box(b"infe", &[&[2, 0, 0, 0][..], &id.to_be_bytes(), &[0, 0], item_type, &[0]].concat()));
        if id > 1 {
            dimg.extend_from_slice(&id.to_be_bytes());
        }
    }
    let iref = [vec![0, 0, 0, 0], isobmff_box(b"dimg", &dimg)].concat();
    let hdlr = [&[0u8; 8][..], b"pict", &[0; 13]].concat();
    let meta = [
        vec![0, 0, 0, 0],
        isobmff_box(b"hdlr", &hdlr),
        isobmff_box(b"pitm", &[0, 0, 0, 0, 0, 1]),
        isobmff_box(b"iinf", &iinf),
        isobmff_box(b"iref", &iref),
    ]
    .concat();
    [isobmff_box(b"ftyp", b"heic\0\0\0\0mif1heic"), isobmff_box(b"meta", &meta)].concat()
}

/// A grid of 5 000 tiles costs a decoder set-up per tile however few pixels each holds: it is
/// refused by its count, in the inspection and over HTTP, before anything is decoded; nothing is
/// stored.
async fn a_heif_of_thousands_of_tiles_is_refused_before_decoding(app: TestApp) {
    let limits = fieldproof::media::Limits { max_bytes: 1 << 24, max_side_px: 16_000, max_pixels: 120_000_000, faces_min_px: None };
    let bomb = grid_heic(5000);
    let err = fieldproof::media::inspect(&bomb, None, &limits).unwrap_err();
    assert_eq!(err.code(), "photo_too_many_tiles", "{err}");
    // A few tiles are not refused for their count (this one has no picture to read).
    let few = fieldproof::media::inspect(&grid_heic(4), None, &limits).unwrap_err();
    assert_ne!(few.code(), "photo_too_many_tiles", "{few}");

    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", bomb, &[])).await;
    assert_eq!((r.status, r.code()), (422, "photo_too_many_tiles"), "{}", r.json);
    assert_eq!(app.object_count().await, 0);
}
