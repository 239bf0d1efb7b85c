//! WhatsApp screenshots, read by the server's Tesseract and judged (SOP ch. 6.3, 7): the chat's
//! date against the visit's, its header against the customer's contact, the customer's side,
//! reuse across visits (bytes, pixels, the chat's text), HQ's search of the text — and a server
//! without OCR, which says so. The screenshots are rendered by `fixtures/screenshots/render.py`
//! in headless Chromium (phone sizes, Indonesian and English, light and dark) and committed;
//! `manifest.json` says what each shows.
//!
//! Tesseract is a requirement of these tests where `FIELDPROOF_REQUIRE_OCR=1` (set by `.ci/run`,
//! which installs it); elsewhere they are skipped, loudly, when it is missing.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{photo_form, spawn_app_tuned, Db, TestApp};

backend_tests!(whatsapp_screenshots_are_read_and_judged_and_their_text_found, a_screenshot_used_again_is_reused_whatever_its_pixels,);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_ocr_says_the_screenshot_was_not_read() {
    let app = spawn_app_tuned(Db::Sqlite, |s| s.media.ocr_program = "/nonexistent/tesseract".into()).await;
    let r = app.send(reqwest::Method::GET, "/readyz", None, crate::helpers::Body::None).await;
    assert_eq!(r.json["ocr"]["status"], "unavailable", "{}", r.json);
    let (visit, _) = whatsapp_visit(&app).await;
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", shot("id-light-date.png"), &[])).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(codes(&r.json), ["screenshot_not_read"], "not a pass: HQ sees it");
    assert_eq!(r.json["findings"][0]["severity"], "major");
    assert_eq!(r.json["chat"]["status"], "not_installed");
}

/// Whether this machine has Tesseract with `ind` and `eng`; panics where it must.
fn ocr_here() -> bool {
    let ok = fieldproof::media::ocr::Tesseract::detect("tesseract", "ind+eng", std::time::Duration::from_secs(10)).is_ok();
    if !ok {
        if std::env::var("FIELDPROOF_REQUIRE_OCR").as_deref() == Ok("1") {
            panic!("FIELDPROOF_REQUIRE_OCR=1 but tesseract with ind+eng is not installed");
        }
        crate::garage::skipped("the OCR tests (tesseract with ind+eng is not installed)");
    }
    ok
}

fn shot(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/screenshots/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn codes(photo: &Value) -> Vec<String> {
    photo["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// The rendered chats' day (12 November 2026, 14:20 in Jakarta) and a customer whose contact
/// they show: Budi Santoso, +62 812-3456-7890. A WhatsApp follow-up visit of that day.
async fn whatsapp_visit(app: &TestApp) -> (Uuid, Uuid) {
    app.set_now("2026-11-12T07:20:00Z".parse().unwrap());
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({ "code": format!("W{}", &Uuid::new_v4().simple().to_string()[..10]), "name": "CV Sinar Abadi", "customer_type": "retail",
                    "assigned_rep_id": app.rep.id, "latitude": -6.2, "longitude": 106.8,
                    "contact_name": "Budi Santoso", "contact_phone": "0812-3456-7890" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let customer: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    (draft(app, customer).await, customer)
}

async fn draft(app: &TestApp, customer: Uuid) -> Uuid {
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "whatsapp", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    visit
}

async fn whatsapp_screenshots_are_read_and_judged_and_their_text_found(app: TestApp) {
    if !ocr_here() {
        return;
    }
    let r = app.send(reqwest::Method::GET, "/readyz", None, crate::helpers::Body::None).await;
    assert_eq!(r.json["ocr"]["status"], "ok", "{}", r.json);
    assert_eq!(r.json["ocr"]["languages"], "ind+eng");
    let (visit, _) = whatsapp_visit(&app).await;
    let cases: [(&str, &[&str]); 5] = [
        // Honest: the visit's date, the contact by name (Indonesian, light) or by number
        // (English, dark), both sides speaking.
        ("id-light-date.png", &[]),
        ("en-dark-number.png", &[]),
        // A chat of 23 October used for a visit of 12 November.
        ("id-dark-old-chat.png", &["screenshot_date_mismatch"]),
        // Somebody else's chat.
        ("en-light-other-contact.png", &["screenshot_contact_missing"]),
        // Only the rep wrote.
        ("id-light-one-sided.png", &["screenshot_one_sided"]),
    ];
    let manifest: Value = serde_json::from_slice(&shot("manifest.json")).unwrap();
    for (name, expected) in cases {
        let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", shot(name), &[])).await;
        assert_eq!(r.status, 201, "{name}: {}", r.json);
        assert_eq!(codes(&r.json), expected, "{name}: {}", r.json["chat"]);
        let truth = manifest.as_array().unwrap().iter().find(|m| m["name"] == name).unwrap();
        let chat = &r.json["chat"];
        assert_eq!(chat["status"], "read");
        assert!(chat["engine"].as_str().unwrap().starts_with("tesseract"), "{chat}");
        assert_eq!(chat["header"], truth["contact_shown"], "{name}");
        assert_eq!(chat["dates"][0]["shown"], truth["days"][0]["chip"], "{name}");
        assert_eq!(chat["dates"][0]["date"], truth["chat_date"], "{name}");
        let customer_said = truth["days"][0]["messages"].as_array().unwrap().iter().any(|m| m["side"] == "customer");
        assert_eq!(chat["customer_lines"].as_u64().unwrap() > 0, customer_said, "{name}");
        assert!(chat["rep_lines"].as_u64().unwrap() > 0, "{name}");
        let times: Vec<&str> = truth["days"][0]["messages"].as_array().unwrap().iter().map(|m| m["time"].as_str().unwrap()).collect();
        assert_eq!(chat["times"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect::<Vec<_>>(), times, "{name}");
        if let Some(f) = r.json["findings"].as_array().unwrap().first() {
            // The evidence says what was read and against what.
            match f["code"].as_str().unwrap() {
                "screenshot_date_mismatch" => assert_eq!(f["evidence"]["visit_date"], "2026-11-12"),
                "screenshot_contact_missing" => assert_eq!(f["evidence"]["header"], "Rina Kusuma"),
                _ => {}
            }
        }
    }

    // HQ finds the chats by what they say; a rep of another branch finds nothing of this one.
    let r = app.get("/v1/screenshots?q=TARIF%20KHUSUS", &app.hq.token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "the Indonesian chats offer a tarif khusus: {}", r.json);
    assert!(items.iter().all(|i| i["match"].as_str().unwrap().to_lowercase().contains("tarif khusus")));
    assert_eq!(items[0]["visit_id"], visit.to_string());
    let r = app.get("/v1/screenshots?q=tarif%20khusus", &app.jap_rep.token).await;
    assert_eq!((r.status, r.json["items"].as_array().map(Vec::len)), (200, Some(0)), "{}", r.json);
    let r = app.get("/v1/screenshots?q=a", &app.hq.token).await;
    assert_eq!((r.status, r.json["code"].as_str()), (422, Some("invalid_field")));
    let r = app.get("/v1/screenshots?q=100%25_", &app.hq.token).await;
    assert_eq!((r.status, r.json["items"].as_array().map(Vec::len)), (200, Some(0)), "LIKE wildcards are matched as written");
}

async fn a_screenshot_used_again_is_reused_whatever_its_pixels(app: TestApp) {
    if !ocr_here() {
        return;
    }
    let (first, customer) = whatsapp_visit(&app).await;
    let original = shot("id-light-date.png");
    let r = app.put_photo(first, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", original.clone(), &[])).await;
    assert_eq!(codes(&r.json), Vec::<String>::new(), "{}", r.json);
    // The same chat for another visit: as it was, recompressed as a JPEG at 80 % size, and
    // cropped (status bar and input bar cut off, as a phone's crop tool does).
    let img = image::load_from_memory(&original).unwrap();
    let mut smaller = Vec::new();
    img.resize(864, 1872, image::imageops::FilterType::Triangle)
        .to_rgb8()
        .write_to(&mut std::io::Cursor::new(&mut smaller), image::ImageFormat::Jpeg)
        .unwrap();
    let mut cropped = Vec::new();
    img.crop_imm(0, 60, 1080, 2100).write_to(&mut std::io::Cursor::new(&mut cropped), image::ImageFormat::Png).unwrap();
    for (minute, (what, bytes)) in
        [("the same bytes", original), ("recompressed and resized", smaller), ("cropped", cropped)].into_iter().enumerate()
    {
        app.set_now(format!("2026-11-12T07:3{minute}:00Z").parse().unwrap());
        let second = draft(&app, customer).await;
        let r = app.put_photo(second, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", bytes, &[])).await;
        assert_eq!(r.status, 201, "{what}: {}", r.json);
        assert!(codes(&r.json).contains(&"photo_reused".to_string()), "{what}: {}", r.json);
        let reviewed = app.get(&format!("/v1/visits/{second}"), &app.hq.token).await.json;
        let reused = reviewed["photos"][0]["findings"].as_array().unwrap().iter().find(|f| f["code"] == "photo_reused");
        let reused = reused.unwrap_or_else(|| panic!("{what}: {reviewed}"));
        // (The copies uploaded before this one are copies of it too.)
        let earlier: Vec<&str> =
            reused["evidence"]["earlier"].as_array().unwrap().iter().map(|e| e["visit_id"].as_str().unwrap()).collect();
        assert!(earlier.contains(&first.to_string().as_str()), "{what}: {earlier:?}");
    }
    // Another chat is no copy, however alike WhatsApp screens look: nor is the same offer sent
    // to another contact.
    for other in ["en-dark-number.png", "en-light-other-contact.png", "id-light-one-sided.png"] {
        app.set_now("2026-11-12T07:40:00Z".parse().unwrap());
        let third = draft(&app, customer).await;
        let r = app.put_photo(third, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", shot(other), &[])).await;
        assert!(!codes(&r.json).contains(&"photo_reused".to_string()), "{other}: {}", r.json["findings"]);
    }
}
