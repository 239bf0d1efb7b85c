//! The console in a real browser, on both backends: the server is filled with visits here, then
//! `tests/browser/console_test.py` drives Debian's headless Chromium through Playwright for
//! Python (pointed at `/usr/bin/chromium`; never `playwright install`): sign in as HQ, see the
//! thumbnails loaded, open a visit and its map, reject with a deduction and find the re-visit
//! task in the list and the API, bulk-approve three, switch to English; branch marketing sees
//! only its branch; a rep has no review controls and no other rep's visit; a request without
//! its CSRF token is refused; no request leaves the origin; no console errors. Screenshots go to
//! `target/console-screenshots/<backend>/`.
//!
//! Skipped (saying so) where Chromium or Playwright is missing, unless
//! `FIELDPROOF_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs both).

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::console::console_user;
use crate::helpers::{Db, TestApp};

/// The server of the browser test prepares a photo ZIP of more than two visits as a job (its
/// ZIP has four), so the download centre is driven too.
mod the_console_works_in_a_real_browser {
    async fn app(db: crate::helpers::Db) -> crate::helpers::TestApp {
        crate::helpers::spawn_app_tuned(db, |s| s.exports.stream_max_zip_visits = 2).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::the_console_works_in_a_real_browser(app(crate::helpers::Db::Sqlite).await).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if crate::helpers::postgres_url().is_some() {
            super::the_console_works_in_a_real_browser(app(crate::helpers::Db::Postgres).await).await
        }
    }
}

const CHROMIUM: &str = "/usr/bin/chromium";

fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Python with Playwright, and Chromium, or why not.
fn browser_tools() -> Result<String, String> {
    let python = std::env::var("FIELDPROOF_PYTHON").unwrap_or_else(|_| "python3".into());
    if !std::path::Path::new(CHROMIUM).exists() {
        return Err(format!("{CHROMIUM} is missing (Debian package chromium)"));
    }
    match Command::new(&python).args(["-c", "import playwright.sync_api"]).output() {
        Ok(out) if out.status.success() => Ok(python),
        Ok(_) => Err(format!("{python} has no playwright (pip install -r tests/browser/requirements.txt)")),
        Err(e) => Err(format!("{python}: {e}")),
    }
}

async fn the_console_works_in_a_real_browser(app: TestApp) {
    let python = match browser_tools() {
        Ok(p) => p,
        Err(why) if std::env::var("FIELDPROOF_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("FIELDPROOF_REQUIRE_BROWSER=1 but {why}")
        }
        Err(why) => return crate::garage::skipped(&format!("the browser test ({why})")),
    };
    let _heavy = crate::helpers::HEAVY.lock().await;
    let customer = app.customer_at(-6.2, 106.8).await;
    let mut visits = Vec::new();
    // The first asks for HQ's help (a detail question of its result reason).
    let (helped, _) = crate::console::visit_with_photo_edited(&app, customer, |b| b["reason_details"]["needs_hq_help"] = json!(true)).await;
    visits.push(helped);
    for _ in 0..3 {
        visits.push(crate::console::visit_with_photo(&app, customer).await.0);
    }
    // A customer without coordinates whose door visit HQ approved: a place is proposed.
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({ "code": "UNPLACED-1", "name": "Warung Tanpa Titik", "customer_type": "retail", "assigned_rep_id": app.rep.id }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let unplaced = r.json["id"].as_str().unwrap().to_string();
    let (placed_by, _) = crate::console::visit_with_photo(&app, unplaced.parse().unwrap()).await;
    let r = app.post(&format!("/v1/visits/{placed_by}/reviews"), &app.hq.token, json!({ "decision": "approve" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // A WhatsApp follow-up with a rendered chat screenshot (read by the server's Tesseract).
    let whatsapp = uuid::Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{whatsapp}"), &app.rep.token, app.visit_body(customer, "whatsapp", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let chat = std::fs::read(root_dir().join("fixtures/screenshots/id-light-date.png")).unwrap();
    let r =
        app.put_photo(whatsapp, uuid::Uuid::new_v4(), &app.rep.token, crate::helpers::photo_form("whatsapp_screenshot", chat, &[])).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = app.post(&format!("/v1/visits/{whatsapp}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    console_user(&app, &app.hq, "hana", "hana-password-1", false).await;
    console_user(&app, &app.jap_marketing, "petrus", "petrus-password-1", false).await;
    console_user(&app, &app.rep, "rina", "rina-password-1", false).await;
    console_user(&app, &app.rep2, "rudi", "rudi-password-1", false).await;
    let case = json!({
        "base_url": app.address,
        "chromium": CHROMIUM,
        "visits": visits,
        "hq": { "login": "hana", "password": "hana-password-1" },
        "jap_marketing": { "login": "petrus", "password": "petrus-password-1" },
        "rep": { "login": "rina", "password": "rina-password-1" },
        "rep2": { "login": "rudi", "password": "rudi-password-1" },
        "hq_token": app.hq.token,
        "rep_token": app.rep.token,
        "unplaced_customer": unplaced,
        "whatsapp_visit": whatsapp,
    });
    let backend = match app.db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/console-screenshots").join(backend);
    let script = root.join("tests/browser/console_test.py");
    // A job worker, as a server runs one, for the exports prepared in the background.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = fieldproof::jobs::Worker::new(
        app.app.clone(),
        fieldproof::config::JobsSettings { poll_interval_ms: 100, ..fieldproof::config::JobsSettings::default() },
    );
    let worker = tokio::spawn(worker.run_until(stopped));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .env("FP_BROWSER_CASE", case.to_string())
            .env("FP_SCREENSHOTS", &shots)
            .output()
            .expect("run the browser test")
    })
    .await
    .unwrap();
    stop.send(true).unwrap();
    worker.await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser test failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("all checks passed"), "{stdout}\n{stderr}");
}
