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
    assert_eq!(rows[0], fieldproof::http::exports::VISIT_COLUMNS);
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
    assert_eq!(rows[0], fieldproof::http::exports::TASK_COLUMNS);
    let listed = app.get("/v1/tasks?limit=200", &app.marketing.token).await;
    assert_eq!(rows.len() - 1, listed.json["items"].as_array().unwrap().len());
    let month = today_in(chrono_tz::Asia::Jakarta).format("%Y-%m").to_string();
    let r = app.get(&format!("/v1/exports/scorecards.csv?month={month}"), &app.marketing.token).await;
    assert_eq!(r.status, 200);
    let rows = csv_rows(&r.bytes);
    assert_eq!(rows[0], fieldproof::http::exports::SCORECARD_COLUMNS);
    assert!(rows.iter().any(|r| r[1] == "branch" && r[2] == "JKT" && r[8] == "4"), "{rows:?}");
    assert!(rows.iter().any(|r| r[1] == "rep" && r[17] == app.rep.id.to_string()));
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

    let mut rep = Browser::new(&app);
    rep.sign_in("rina", "rina-password-1").await;
    assert_eq!(rep.get("/hq/exports").await.status, 403);
    assert_eq!(rep.get("/hq/exports/visits.csv").await.status, 403);
    assert_eq!(rep.get("/hq/scorecards").await.status, 200, "a rep sees their own card");
}
