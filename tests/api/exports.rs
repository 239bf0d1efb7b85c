//! Exports over HTTP on both backends: visits as CSV (findings, reviews, formulas defused), as
//! GeoJSON and as a ZIP of their photos with a manifest; tasks and scorecards as CSV; who may
//! export what; the console's download centre, scorecards and map pages.

use std::io::Read;

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::backend_tests;
use crate::console::{console_user, visit_with_photo, Browser};
use crate::helpers::{today_in, Body, TestApp};

backend_tests!(exports_write_the_whole_filter_in_every_format, the_console_offers_exports_scorecards_and_the_map);

/// The href of a page's "export this filter" link, unescaped.
fn export_link(page: &crate::console::Page) -> String {
    let before = page.body.split("class=\"export-link\"").next().unwrap();
    before.rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&#38;", "&")
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

async fn exports_write_the_whole_filter_in_every_format(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let mut visits = Vec::new();
    for _ in 0..3 {
        visits.push(visit_with_photo(&app, customer).await);
    }
    // A customer whose name a spreadsheet would run.
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({ "code": format!("X{}", &Uuid::new_v4().simple().to_string()[..8]), "name": "=HYPERLINK(\"http://evil\")",
                    "customer_type": "retail", "assigned_rep_id": app.rep.id, "latitude": -6.2, "longitude": 106.8 }),
        )
        .await;
    let evil: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let (evil_visit, _) = visit_with_photo(&app, evil).await;

    // Visits as CSV: a header and a row per visit of the filter, newest first.
    let r = app.get("/v1/exports/visits.csv", &app.marketing.token).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("visits.csv"));
    let rows = csv_rows(&r.bytes);
    assert_eq!(rows[0], fieldproof::app::export_files::VISIT_COLUMNS);
    assert_eq!(rows.len(), 5, "a header and four visits");
    assert_eq!(rows[1][0], evil_visit.to_string());
    assert!(rows[1][5].starts_with("'="), "the formula is defused: {:?}", rows[1][5]);
    let ids: Vec<&str> = rows[2..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, visits.iter().rev().map(|(v, _)| v.to_string()).collect::<Vec<_>>());
    assert!(rows[2][15].contains("photo_required_missing:blocking"), "findings: {:?}", rows[2][15]);
    assert_eq!((rows[2][1].as_str(), rows[2][8].as_str(), rows[2][14].as_str()), ("JKT", "non_compliant", "1"));
    // The filter narrows it; another branch's marketing gets the header only; a rep none.
    let r = app.get(&format!("/v1/exports/visits.csv?customer_id={customer}"), &app.marketing.token).await;
    assert_eq!(csv_rows(&r.bytes).len(), 4);
    let r = app.get("/v1/exports/visits.csv", &app.jap_marketing.token).await;
    assert_eq!(csv_rows(&r.bytes).len(), 1);
    assert_eq!(app.get("/v1/exports/visits.csv", &app.rep.token).await.code(), "role_forbidden");
    assert_eq!(app.get("/v1/exports/visits.csv?status=nope", &app.hq.token).await.status, 400);

    // GeoJSON: a Point per visit at its photo's position.
    let r = app.get("/v1/exports/visits.geojson", &app.hq.token).await;
    assert_eq!(r.status, 200);
    let geo: Value = serde_json::from_slice(&r.bytes).expect("valid JSON");
    assert_eq!(geo["type"], "FeatureCollection");
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 4);
    assert_eq!(features[1]["geometry"]["coordinates"], json!([106.8, -6.2]));
    assert_eq!(features[1]["properties"]["position_source"], "photo");

    // The photos as a ZIP: every photo byte for byte, and a manifest naming each.
    let r = app.get(&format!("/v1/exports/photos.zip?customer_id={customer}"), &app.marketing.token).await;
    assert_eq!(r.status, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).expect("a valid ZIP");
    assert_eq!(zip.len(), 4, "three photos and the manifest");
    let mut manifest = String::new();
    zip.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    let manifest = csv_rows(manifest.as_bytes());
    assert_eq!(manifest.len(), 4);
    for row in &manifest[1..] {
        let mut bytes = Vec::new();
        zip.by_name(&row[0]).unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), row[6], "{} is the photo as uploaded", row[0]);
        assert!(visits.iter().any(|(v, p)| row[1] == v.to_string() && row[2] == p.to_string()));
    }

    // Tasks and scorecards.
    let r = app.get("/v1/exports/tasks.csv", &app.marketing.token).await;
    assert_eq!(r.status, 200);
    let rows = csv_rows(&r.bytes);
    assert_eq!(rows[0], fieldproof::app::export_files::TASK_COLUMNS);
    let listed = app.get("/v1/tasks?limit=200", &app.marketing.token).await;
    assert_eq!(rows.len() - 1, listed.json["items"].as_array().unwrap().len());
    let month = today_in(chrono_tz::Asia::Jakarta).format("%Y-%m").to_string();
    let r = app.get(&format!("/v1/exports/scorecards.csv?month={month}"), &app.marketing.token).await;
    assert_eq!(r.status, 200);
    let rows = csv_rows(&r.bytes);
    assert_eq!(rows[0], fieldproof::app::export_files::SCORECARD_COLUMNS);
    assert!(rows.iter().any(|r| r[1] == "branch" && r[2] == "JKT" && r[8] == "4"), "{rows:?}");
    assert!(rows.iter().any(|r| r[1] == "rep" && r[18] == app.rep.id.to_string()));
    assert_eq!(app.send(Method::GET, "/v1/exports/scorecards.csv", Some(&app.hq.token), Body::None).await.status, 400);
}

async fn the_console_offers_exports_scorecards_and_the_map(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let (visit, _) = visit_with_photo(&app, customer).await;
    console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    console_user(&app, &app.rep, "rina", "rina-password-1", false).await;
    let mut b = Browser::new(&app);
    b.sign_in("mira", "mira-password-1").await;

    let page = b.get("/hq/exports").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("formaction=\"/hq/exports/photos.zip\""));
    // The form's empty fields are no filter.
    let csv = b.get("/hq/exports/visits.csv?branch_id=&status=&review_status=&date_from=&date_to=&month=").await;
    assert_eq!(csv.status, 200);
    let rows = csv_rows(&csv.bytes);
    assert_eq!((rows.len(), rows[1][0].as_str()), (2, visit.to_string().as_str()));
    assert_eq!(b.get("/hq/exports/visits.csv?date_from=yesterday").await.status, 400);
    assert_eq!(b.get("/hq/exports/nothing.txt").await.status, 404);
    let zip = b.get("/hq/exports/photos.zip").await;
    assert_eq!(zip::ZipArchive::new(std::io::Cursor::new(zip.bytes)).unwrap().len(), 2);

    let cards = b.get("/hq/scorecards").await;
    assert_eq!(cards.status, 200);
    assert!(cards.body.contains("<svg class=\"chart\"") && cards.body.contains("photo_required_missing"), "{}", cards.body);
    assert_eq!(b.get("/hq/scorecards?month=2026-13").await.status, 400);

    let map = b.get("/hq/map").await;
    assert_eq!(map.status, 200);
    assert!(map.body.contains(&format!("/hq/visits/{visit}")), "the visit is on today's map");
    assert_eq!(b.get(&format!("/hq/map?branch_id={}", app.jap)).await.status, 404, "another branch is not JKT marketing's");

    // Customers: the search, and one customer's page with its chart, tasks and visits.
    let list = b.get("/hq/customers?q=maju&class=").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains(&format!("/hq/customers/{customer}")), "{}", list.body);
    assert!(!b.get("/hq/customers?q=nobody-has-this").await.body.contains(&format!("/hq/customers/{customer}")));
    assert_eq!(b.get("/hq/customers?class=Z").await.status, 400);
    let one = b.get(&format!("/hq/customers/{customer}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body.matches("<rect").count(), 12, "a bar a month");
    assert!(one.body.contains(&format!("/hq/visits/{visit}")));
    console_user(&app, &app.jap_marketing, "petrus", "petrus-password-1", false).await;
    let mut petrus = Browser::new(&app);
    petrus.sign_in("petrus", "petrus-password-1").await;
    assert_eq!(petrus.get(&format!("/hq/customers/{customer}")).await.status, 404, "another branch's customer");
    assert!(!petrus.get("/hq/customers").await.body.contains(&customer.to_string()));

    // The queue's and the task list's filters export as they are, through their own links.
    let other = app.customer_at(-6.2, 106.8).await;
    visit_with_photo(&app, other).await;
    let code = app.get(&format!("/v1/customers/{customer}"), &app.marketing.token).await.json["code"].as_str().unwrap().to_string();
    let queue = b.get(&format!("/hq/queue?customer={code}&finding_code=photo_required_missing")).await;
    let link = export_link(&queue);
    assert!(link.starts_with("/hq/exports/visits.csv?") && link.contains(&format!("customer={code}")), "{link}");
    let rows = csv_rows(&b.get(&link).await.bytes);
    assert_eq!((rows.len(), rows[1][0].as_str()), (2, visit.to_string().as_str()), "only the filter's customer: {rows:?}");
    let tasks = b.get(&format!("/hq/tasks?status=open&customer={code}")).await;
    let link = export_link(&tasks);
    assert!(link.starts_with("/hq/exports/tasks.csv?") && link.contains("task_status=open"), "{link}");
    let rows = csv_rows(&b.get(&link).await.bytes);
    assert!(rows.len() >= 2 && rows[1..].iter().all(|r| r[2] == code && r[9] == "open"), "the task list's filter: {rows:?}");
    assert_eq!(b.get("/hq/exports/tasks.csv?task_status=someday").await.status, 400);

    let mut rep = Browser::new(&app);
    rep.sign_in("rina", "rina-password-1").await;
    assert_eq!(rep.get("/hq/exports").await.status, 403);
    assert_eq!(rep.get("/hq/exports/visits.csv").await.status, 403);
    assert_eq!(rep.get("/hq/scorecards").await.status, 200, "a rep sees their own card");
}

/// A server that prepares any export of more than two rows (one visit for photos) as a job.
async fn small_limits(db: crate::helpers::Db) -> TestApp {
    crate::helpers::spawn_app_tuned(db, |s| {
        s.exports.stream_max_rows = 2;
        s.exports.stream_max_zip_visits = 1;
        let spool = std::env::temp_dir().join(format!("fp-export-spool-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&spool).unwrap();
        s.exports.temp_dir = spool.display().to_string();
    })
    .await
}

mod large_exports_are_prepared_in_the_background {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::large_exports_are_prepared_in_the_background(super::small_limits(crate::helpers::Db::Sqlite).await).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if crate::helpers::postgres_url().is_some() {
            super::large_exports_are_prepared_in_the_background(super::small_limits(crate::helpers::Db::Postgres).await).await
        }
    }
}

/// Runs every due job.
async fn work_off(app: &TestApp, max_attempts: u32) {
    use fieldproof::config::JobsSettings;
    use fieldproof::jobs::{Step, Worker};
    let worker = Worker::new(app.app.clone(), JobsSettings { max_attempts, retry_backoff_ms: 0, ..JobsSettings::default() });
    for _ in 0..200 {
        if worker.step().await.unwrap() == Step::Idle {
            return;
        }
    }
    panic!("the jobs never ran out");
}

async fn large_exports_are_prepared_in_the_background(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    for _ in 0..3 {
        visit_with_photo(&app, customer).await;
    }
    let token = &app.marketing.token;

    // The API: asked for under the client's id, queued; a retry finds it and queues nothing.
    let id = Uuid::new_v4();
    let ask = json!({ "id": id, "kind": "visits.csv", "filter": { "customer_id": customer } });
    let r = app.post("/v1/exports", token, ask.clone()).await;
    assert_eq!((r.status, r.json["status"].as_str()), (202, Some("queued")), "{}", r.json);
    assert_eq!(r.json["download_path"], Value::Null);
    let again = app.post("/v1/exports", token, ask.clone()).await;
    assert_eq!((again.status, again.json["id"].as_str()), (200, Some(id.to_string().as_str())));
    assert_eq!(app.post("/v1/exports", &app.hq.token, ask.clone()).await.code(), "export_id_taken");
    let typo = app.post("/v1/exports", token, json!({ "kind": "visits.csv", "filter": { "stauts": "flagged" } })).await;
    assert_eq!((typo.status, typo.code()), (422, "invalid_field"), "an unknown filter key is refused, not ignored");
    let wrong = app.post("/v1/exports", token, json!({ "kind": "tasks.csv", "filter": { "date_from": "2026-01-01" } })).await;
    assert_eq!(wrong.code(), "invalid_field", "a visit filter key on a task export");
    assert_eq!(app.post("/v1/exports", &app.rep.token, json!({ "kind": "visits.csv" })).await.code(), "role_forbidden");
    let early = app.get(&format!("/v1/exports/{id}/file"), token).await;
    assert_eq!((early.status, early.code()), (409, "export_not_ready"));

    let zip_id = Uuid::new_v4();
    let r = app.post("/v1/exports", token, json!({ "id": zip_id, "kind": "photos.zip", "filter": { "customer_id": customer } })).await;
    assert_eq!(r.status, 202);
    let tasks_id = Uuid::new_v4();
    assert_eq!(app.post("/v1/exports", token, json!({ "id": tasks_id, "kind": "tasks.csv", "filter": {} })).await.status, 202);
    work_off(&app, 5).await;
    let spool = app.app.exports.temp_dir.clone().expect("the test's spool directory");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0, "the jobs' temporary files are gone");

    // Ready: the file is what the streamed download of the same filter is, byte for byte.
    let r = app.get(&format!("/v1/exports/{id}"), token).await;
    assert_eq!((r.json["status"].as_str(), r.json["rows"].as_i64()), (Some("ready"), Some(3)), "{}", r.json);
    assert_eq!(r.json["download_path"].as_str(), Some(format!("/v1/exports/{id}/file").as_str()));
    let file = app.get(&format!("/v1/exports/{id}/file"), token).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.bytes.len() as i64, r.json["bytes"].as_i64().unwrap());
    assert_eq!(file.headers["content-length"].to_str().unwrap(), file.bytes.len().to_string());
    assert!(file.headers["content-disposition"].to_str().unwrap().contains(&format!("visits-{}.csv", &id.simple().to_string()[..8])));
    let streamed = app.get(&format!("/v1/exports/visits.csv?customer_id={customer}"), token).await;
    assert_eq!(file.bytes, streamed.bytes);
    assert_eq!(csv_rows(&file.bytes).len(), 4);
    let zip = app.get(&format!("/v1/exports/{zip_id}/file"), token).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes)).unwrap();
    assert_eq!(archive.len(), 4, "three photos and the manifest");
    let mut manifest = String::new();
    archive.by_name("manifest.csv").unwrap().read_to_string(&mut manifest).unwrap();
    assert_eq!(csv_rows(manifest.as_bytes()).len(), 4);
    let tasks = app.get(&format!("/v1/exports/{tasks_id}/file"), token).await;
    assert_eq!(csv_rows(&tasks.bytes)[0], fieldproof::app::export_files::TASK_COLUMNS);

    // The download centre is personal.
    let mine = app.get("/v1/exports", token).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 3);
    assert_eq!(mine.json["items"][0]["id"].as_str(), Some(tasks_id.to_string().as_str()), "newest first");
    assert_eq!(app.get("/v1/exports", &app.hq.token).await.json["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.get(&format!("/v1/exports/{id}"), &app.jap_marketing.token).await.code(), "export_not_found");
    assert_eq!(app.get(&format!("/v1/exports/{id}/file"), &app.hq.token).await.code(), "export_not_found");
    assert_eq!(app.get("/v1/exports/not-a-uuid", token).await.status, 400);

    // A job that cannot finish fails on its last attempt, and says why.
    let doomed = Uuid::new_v4();
    assert_eq!(app.post("/v1/exports", &app.admin.token, json!({ "id": doomed, "kind": "visits.csv" })).await.status, 202);
    let admin = app.app.repo.users_by_id(&[fieldproof::domain::ids::UserId(app.admin.id)]).await.unwrap().pop().unwrap();
    let demoted = fieldproof::domain::directory::User {
        role: fieldproof::domain::role::Role::Sales,
        branch_id: Some(fieldproof::domain::ids::BranchId(app.jkt)),
        ..admin.clone()
    };
    app.app.repo.upsert_user(&demoted, chrono::Utc::now()).await.unwrap();
    work_off(&app, 1).await;
    app.app.repo.upsert_user(&admin, chrono::Utc::now()).await.unwrap();
    let failed = app.get(&format!("/v1/exports/{doomed}"), &app.admin.token).await;
    assert_eq!(failed.json["status"].as_str(), Some("failed"), "{}", failed.json);
    assert!(failed.json["error"].as_str().unwrap().contains("marketing"), "{}", failed.json);
    assert!(failed.json["expires_at"].is_string());

    // The console: a filter too large to stream is sent back to the form, whose button
    // prepares it (one export however often it is pressed); a small one downloads at once.
    console_user(&app, &app.marketing, "mira", "mira-password-1", false).await;
    let mut b = Browser::new(&app);
    b.sign_in("mira", "mira-password-1").await;
    let r = b.get(&format!("/hq/exports/visits.csv?status=non_compliant&date_from={}", today_in(chrono_tz::Asia::Jakarta))).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/hq/exports?done=too_large&status=non_compliant&date_from="), "{}", r.location());
    let page = b.get(r.location()).await;
    assert!(page.body.contains("<option value=\"non_compliant\" selected"), "the form keeps the filter");
    assert!(page.body.contains("role=\"status\""), "it says why");
    let csrf = page.input("_csrf");
    let console_id = Uuid::new_v4().to_string();
    let form = [("_csrf", csrf.as_str()), ("export_id", console_id.as_str()), ("status", "non_compliant"), ("branch_id", "")];
    assert_eq!(b.post("/hq/exports/visits.geojson", &form[1..]).await.status, 403, "no CSRF token");
    for _ in 0..2 {
        let r = b.post("/hq/exports/visits.geojson", &form).await;
        assert_eq!((r.status, r.location()), (303, "/hq/exports?done=queued#downloads"));
    }
    let page = b.get("/hq/exports?done=queued").await;
    assert_eq!(page.body.matches(&format!("data-export-id=\"{console_id}\"")).count(), 1, "one export for two presses");
    assert!(page.body.contains("hx-get=\"/hq/exports/list\""), "the list polls while one is pending");
    work_off(&app, 5).await;
    let list = b.get("/hq/exports/list").await;
    assert!(!list.body.contains("hx-trigger"), "nothing pending: no more polling");
    assert!(list.body.contains(&format!("href=\"/hq/exports/files/{console_id}\"")), "{}", list.body);
    let geojson = b.get(&format!("/hq/exports/files/{console_id}")).await;
    assert_eq!(geojson.status, 200);
    let parsed: Value = serde_json::from_slice(&geojson.bytes).unwrap();
    assert_eq!(parsed["features"].as_array().unwrap().len(), 3);
    let small = b.post("/hq/exports/visits.csv", &[("_csrf", csrf.as_str()), ("status", "compliant")]).await;
    assert_eq!((small.status, csv_rows(&small.bytes).len()), (200, 1), "a small filter streams at once");
    assert_eq!(b.get(&format!("/hq/exports/files/{doomed}")).await.status, 404, "another user's export");

    // Expiry: a week on, the files are deleted and the exports say so.
    app.set_now(chrono::Utc::now() + chrono::Duration::days(8));
    let expired = fieldproof::app::downloads::expire(&app.app).await.unwrap();
    assert_eq!(expired, 5, "four files and the failed export");
    assert_eq!(app.get(&format!("/v1/exports/{id}"), token).await.json["status"].as_str(), Some("expired"));
    let gone = app.get(&format!("/v1/exports/{id}/file"), token).await;
    assert_eq!((gone.status, gone.code()), (410, "export_expired"));
    assert!(app.app.store.list("exports/").await.unwrap().is_empty(), "no file is left in the store");
}
