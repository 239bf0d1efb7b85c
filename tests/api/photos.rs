use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fixture, photo_form, TestApp};
use crate::visits::futures_join;

backend_tests!(
    real_photos_are_read_as_exiftool_reads_them_and_judged,
    app_gps_stands_in_for_missing_exif_gps_within_its_accuracy,
    the_same_photo_twice_is_stored_once_and_different_bytes_conflict,
    concurrent_uploads_of_one_photo_store_one_row_and_one_object,
    photos_after_submit_are_refused,
    photo_content_is_served_to_those_who_may_see_the_visit_and_audited,
);

fn exiftool(name: &str) -> Value {
    let all: Value = serde_json::from_slice(&fixture("expected-exiftool.json")).unwrap();
    all.as_array().unwrap().iter().find(|e| e["FileName"] == name).cloned().unwrap()
}

fn codes(photo: &Value) -> Vec<String> {
    photo["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

async fn draft(app: &TestApp, customer: Uuid) -> Uuid {
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!(r.status, 201);
    visit
}

async fn real_photos_are_read_as_exiftool_reads_them_and_judged(app: TestApp) {
    // The customer stands where the Samsung photo was taken (Paris).
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let cases: [(&str, &[&str]); 8] = [
        ("samsung-galaxy-s7-edge.jpg", &[]),
        ("iphone-6.jpg", &["photo_far_from_customer"]),
        ("oppo-r7-plus.jpg", &["photo_far_from_customer"]),
        ("htc-one-m8-no-gps.jpg", &["photo_no_gps"]),
        ("canon-1d-via-lightroom.jpg", &["photo_no_gps"]),
        ("photoshop-cs6-export.jpg", &["photo_resolution_low", "photo_no_timestamp", "photo_no_gps"]),
        ("iphone-11-pro.heic", &["photo_no_gps"]),
        ("iphone-11-pro-exif-at-eof.heic", &["photo_far_from_customer"]),
    ];
    for (name, expected) in cases {
        let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture(name), &[])).await;
        assert_eq!(r.status, 201, "{name}: {}", r.json);
        let p = &r.json;
        let truth = exiftool(name);
        assert_eq!(codes(p), expected, "{name}");
        assert_eq!(p["width"], truth["ImageWidth"], "{name} width");
        assert_eq!(p["height"], truth["ImageHeight"], "{name} height");
        assert_eq!(p["format"], if truth["FileType"] == "HEIC" { "heif" } else { "jpeg" }, "{name}");
        assert_eq!(p["exif"]["make"], truth.get("Make").cloned().unwrap_or(Value::Null), "{name} make");
        assert_eq!(p["exif"]["model"], truth.get("Model").cloned().unwrap_or(Value::Null), "{name} model");
        assert_eq!(p["exif"]["datetime_original"], truth.get("DateTimeOriginal").cloned().unwrap_or(Value::Null), "{name} time");
        for (ours, theirs) in [("latitude", "GPSLatitude"), ("longitude", "GPSLongitude")] {
            match truth.get(theirs).and_then(Value::as_f64) {
                Some(v) => assert!((p["exif"][ours].as_f64().unwrap() - v).abs() < 1e-6, "{name} {ours}"),
                None => assert!(p["exif"][ours].is_null(), "{name} {ours}"),
            }
        }
        assert_eq!(p["size_bytes"].as_u64().unwrap() as usize, fixture(name).len());
    }
    // With an offset the capture instant is exact: 18:44:06 at -04:00.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("iphone-11-pro.heic"), &[])).await;
    assert_eq!(r.json["taken_at"], "2020-05-04T22:44:06Z");
    assert_eq!(r.json["exif"]["offset_time_original"], "-04:00");
    // Without one, the camera's local time is read in the branch's zone (WIB, UTC+7).
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("htc-one-m8-no-gps.jpg"), &[])).await;
    assert_eq!(r.json["taken_at"], "2014-03-25T10:14:14Z");
    // The far photo's evidence names its distance and the limit it broke.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("iphone-6.jpg"), &[])).await;
    let f = &r.json["findings"][0];
    assert!(f["evidence"]["distance_m"].as_f64().unwrap() > 100_000.0);
    assert_eq!(f["evidence"]["radius_m"], 150.0);
    assert_eq!(f["evidence"]["source"], "exif");
}

async fn app_gps_stands_in_for_missing_exif_gps_within_its_accuracy(app: TestApp) {
    let customer = app.customer_at(-6.2000, 106.8000).await;
    let visit = draft(&app, customer).await;
    // About 190 m away with a 60 m accuracy: inside 150 + 60.
    let near = [("latitude", "-6.2017"), ("longitude", "106.8000"), ("accuracy_m", "60"), ("captured_at", "2026-11-23T09:30:00+07:00")];
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fixture("htc-one-m8-no-gps.jpg"), &near)).await;
    assert_eq!(codes(&r.json), Vec::<String>::new(), "{}", r.json);
    assert_eq!(r.json["capture"]["accuracy_m"], 60.0);
    // About 1.1 km away: far, measured from the app's fix.
    let far = [("latitude", "-6.2100"), ("longitude", "106.8000"), ("accuracy_m", "10")];
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fixture("htc-one-m8-no-gps.jpg"), &far)).await;
    assert_eq!(codes(&r.json), vec!["photo_far_from_customer"]);
    assert_eq!(r.json["findings"][0]["evidence"]["source"], "app");
    // A screenshot is judged on neither time nor place.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", fixture("htc-one-m8-no-gps.jpg"), &[])).await;
    assert_eq!(codes(&r.json), Vec::<String>::new());
}

async fn the_same_photo_twice_is_stored_once_and_different_bytes_conflict(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    let first = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(first.status, 201);
    let again = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json, first.json);
    let other = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("iphone-6.jpg"), &[])).await;
    assert_eq!((other.status, other.code()), (409, "photo_conflict"));
    let other_kind = app.put_photo(visit, photo, &app.rep.token, photo_form("with_customer", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((other_kind.status, other_kind.code()), (409, "photo_conflict"));
    // The same photo id under another visit.
    let visit2 = draft(&app, customer).await;
    let r = app.put_photo(visit2, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((r.status, r.code()), (409, "photo_id_conflict"));
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"].as_array().unwrap().len(), 1);
    assert_eq!(app.object_count(), 1);
}

async fn concurrent_uploads_of_one_photo_store_one_row_and_one_object(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    let bytes = fixture("iphone-6.jpg");
    let results = futures_join((0..6).map(|_| app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", bytes.clone(), &[])))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "{statuses:?}");
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"].as_array().unwrap().len(), 1);
    // Losers' objects are removed by their cleanup guards; wait for that, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.object_count() != 1 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.object_count(), 1, "no orphan objects");
}

async fn photos_after_submit_are_refused(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("with_customer", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((r.status, r.code()), (409, "visit_already_submitted"));
    // A retry of a photo stored before the submit is still answered.
    let r = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.object_count(), 1);
}

async fn photo_content_is_served_to_those_who_may_see_the_visit_and_audited(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    let bytes = fixture("iphone-11-pro.heic");
    app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", bytes.clone(), &[])).await;
    let path = format!("/v1/visits/{visit}/photos/{photo}/content");
    let r = app.get(&path, &app.rep.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, bytes);
    assert_eq!(r.headers["content-type"], "image/heic");
    let r = app.get(&path, &app.marketing.token).await;
    assert_eq!(r.status, 200);
    for other in [&app.rep2.token, &app.jap_marketing.token] {
        let r = app.get(&path, other).await;
        assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    }
    let r = app.get(&format!("/v1/visits/{visit}/photos/{}/content", Uuid::new_v4()), &app.rep.token).await;
    assert_eq!((r.status, r.code()), (404, "photo_not_found"));
    let audit = app.app.repo.list_audit("photo", &photo.to_string()).await.unwrap();
    assert_eq!(audit.len(), 1, "the marketer's view is audited, the rep's own is not");
    assert_eq!(audit[0].actor_id.map(|u| u.0), Some(app.marketing.id));
    assert_eq!(audit[0].action, "photo.viewed");
}
