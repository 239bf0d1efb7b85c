use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fixture, fresh, photo_form, with_customer_photo, TestApp};
use crate::visits::futures_join;

backend_tests!(
    real_photos_are_read_as_exiftool_reads_them_and_judged,
    metadata_in_every_form_phones_write_it_is_read_and_weak_edit_signs_do_not_block,
    app_gps_stands_in_for_missing_exif_gps_within_its_accuracy,
    a_photo_with_the_customer_must_show_two_faces,
    the_same_photo_twice_is_stored_once_and_different_bytes_conflict,
    concurrent_uploads_of_one_photo_store_one_row_and_one_object,
    photos_after_submit_are_refused,
    a_photo_already_used_for_another_visit_is_reused,
    photo_content_is_served_to_those_who_may_see_the_visit_and_audited,
    metrics_count_requests_by_route_and_time_photo_checks,
);

/// The value of one sample line of the Prometheus text, e.g. `name{label="x"} 3`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

async fn metrics_count_requests_by_route_and_time_photo_checks(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("iphone-6.jpg"), &[])).await;
    assert_eq!(r.status, 201);
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", b"not a photo".to_vec(), &[])).await;
    assert_eq!(r.status, 415);
    assert_eq!(app.send(reqwest::Method::GET, "/no/such/route", None, crate::helpers::Body::None).await.status, 404);

    let r = app.send(reqwest::Method::GET, "/metrics", None, crate::helpers::Body::None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(r.bytes).unwrap();
    let route = "/v1/visits/{visit_id}/photos/{photo_id}";
    assert_eq!(
        sample(&text, &format!(r#"fieldproof_http_requests_total{{method="PUT",route="{route}",status="201"}}"#)),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, &format!(r#"fieldproof_http_requests_total{{method="PUT",route="{route}",status="415"}}"#)), Some(1.0));
    assert_eq!(sample(&text, r#"fieldproof_http_requests_total{method="GET",route="unmatched",status="404"}"#), Some(1.0));
    assert_eq!(sample(&text, &format!(r#"fieldproof_http_request_duration_seconds_count{{method="PUT",route="{route}"}}"#)), Some(2.0));
    // The photo that was decoded and the one refused by its magic bytes were both inspected.
    assert_eq!(sample(&text, "fieldproof_photo_check_duration_seconds_count"), Some(2.0));
    assert!(sample(&text, "fieldproof_photo_check_duration_seconds_sum").unwrap() > 0.0);
    for status in ["queued", "running", "dead"] {
        assert!(sample(&text, &format!(r#"fieldproof_jobs{{status="{status}"}}"#)).is_some(), "{status}");
    }
    assert!(!text.contains(&visit.to_string()), "no ids in labels");
}

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
    // The visit is today; these photos were taken years ago.
    let cases: [(&str, &[&str]); 8] = [
        ("samsung-galaxy-s7-edge.jpg", &["photo_wrong_day"]),
        ("iphone-6.jpg", &["photo_wrong_day", "photo_far_from_customer"]),
        ("oppo-r7-plus.jpg", &["photo_wrong_day", "photo_far_from_customer"]),
        ("htc-one-m8-no-gps.jpg", &["photo_wrong_day", "photo_no_gps"]),
        ("canon-1d-via-lightroom.jpg", &["photo_edited", "photo_wrong_day", "photo_no_gps"]),
        // A dark-theme code editor exported from Photoshop: small, edited, dark (mean luma 36).
        ("photoshop-cs6-export.jpg", &["photo_resolution_low", "photo_edited", "photo_too_dark", "photo_no_timestamp", "photo_no_gps"]),
        ("iphone-11-pro.heic", &["photo_wrong_day", "photo_no_gps"]),
        ("iphone-11-pro-exif-at-eof.heic", &["photo_wrong_day", "photo_far_from_customer"]),
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
        assert_eq!(p["exif"]["offset_time_original"], truth.get("OffsetTimeOriginal").cloned().unwrap_or(Value::Null), "{name} offset");
        let software = truth.get("Software").map(|s| match s {
            Value::Number(n) => Value::String(format!("{n:.1}")),
            other => other.clone(),
        });
        assert_eq!(p["exif"]["software"], software.unwrap_or(Value::Null), "{name} software");
        match truth.get("GPSAltitude").and_then(Value::as_f64) {
            Some(alt) => assert!((p["exif"]["gps_altitude_m"].as_f64().unwrap() - alt).abs() < 1e-3, "{name} altitude"),
            None => assert!(p["exif"]["gps_altitude_m"].is_null(), "{name} altitude"),
        }
        assert_eq!(p["exif"]["orientation"], truth.get("Orientation").cloned().unwrap_or(Value::Null), "{name} orientation");
        // Editing: the Lightroom and Photoshop files are edited, the phone originals are not.
        let edited = p["findings"].as_array().unwrap().iter().any(|f| f["code"] == "photo_edited");
        assert_eq!(edited, name.contains("lightroom") || name.contains("photoshop"), "{name} edited");
        for (ours, theirs) in [("latitude", "GPSLatitude"), ("longitude", "GPSLongitude")] {
            match truth.get(theirs).and_then(Value::as_f64) {
                Some(v) => assert!((p["exif"][ours].as_f64().unwrap() - v).abs() < 1e-6, "{name} {ours}"),
                None => assert!(p["exif"][ours].is_null(), "{name} {ours}"),
            }
        }
        assert_eq!(p["size_bytes"].as_u64().unwrap() as usize, fixture(name).len());
        // Every format's pixels are judged, HEIC included (decoded whole).
        assert!(p["metrics"]["sharpness"].as_f64().is_some_and(|s| s > 0.0), "{name} metrics: {}", p["metrics"]);
    }
    // With an offset the capture instant is exact: 18:44:06 at -04:00.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("iphone-11-pro.heic"), &[])).await;
    assert_eq!(r.json["taken_at"], "2020-05-04T22:44:06.273Z", "with SubSecTimeOriginal");
    assert_eq!(r.json["exif"]["offset_time_original"], "-04:00");
    assert_eq!(r.json["taken_at_zone_source"], "exif_offset");
    // Without one, the GPS clock (UTC) tells the camera's zone: Paris, UTC+1.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(
        (r.json["taken_at"].as_str(), r.json["taken_at_zone_source"].as_str()),
        (Some("2017-02-09T18:51:38.088700Z"), Some("gps_clock"))
    );
    assert_eq!(r.json["exif"]["gps_time"], "2017-02-09T18:51:28Z");
    // With neither, the camera's local time is read in the branch's zone (WIB, UTC+7).
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("htc-one-m8-no-gps.jpg"), &[])).await;
    assert_eq!(r.json["taken_at"], "2014-03-25T10:14:14.930Z");
    assert_eq!(r.json["taken_at_zone_source"], "branch_zone");
    // The Lightroom file's evidence names what gave it away.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("canon-1d-via-lightroom.jpg"), &[])).await;
    let signs: Vec<&str> =
        r.json["findings"][0]["evidence"]["signs"].as_array().unwrap().iter().map(|s| s["sign"].as_str().unwrap()).collect();
    assert!(signs.contains(&"editing_software") && signs.contains(&"modified_after_capture"), "{signs:?}");
    // The far photo's evidence names its distance and the limit it broke.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", fixture("iphone-6.jpg"), &[])).await;
    let f = r.json["findings"].as_array().unwrap().iter().find(|f| f["code"] == "photo_far_from_customer").unwrap();
    assert!(f["evidence"]["distance_m"].as_f64().unwrap() > 100_000.0);
    assert_eq!(f["evidence"]["radius_m"], 150.0);
    assert_eq!(f["evidence"]["source"], "exif");
}

async fn metadata_in_every_form_phones_write_it_is_read_and_weak_edit_signs_do_not_block(app: TestApp) {
    use crate::variants;
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let samsung = fixture("samsung-galaxy-s7-edge.jpg");
    let truth = exiftool("samsung-galaxy-s7-edge.jpg");
    let put = |bytes: Vec<u8>| {
        let app = &app;
        async move { app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("product", bytes, &[])).await }
    };
    let near = |p: &Value| {
        let (lat, lon) = (p["exif"]["latitude"].as_f64(), p["exif"]["longitude"].as_f64());
        lat.zip(lon).is_some_and(|(lat, lon)| {
            (lat - truth["GPSLatitude"].as_f64().unwrap()).abs() < 1e-5 && (lon - truth["GPSLongitude"].as_f64().unwrap()).abs() < 1e-5
        })
    };

    // GPS as SRATIONAL: read as exiftool reads it, so no photo_no_gps and no distance finding.
    let r = put(variants::gps_as_srational(samsung.clone())).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(codes(&r.json), ["photo_wrong_day"], "{}", r.json);
    assert!(near(&r.json), "{}", r.json["exif"]);
    assert_eq!(r.json["exif"]["gps_source"], "exif");

    // Capture time and GPS only in XMP: read from there, and the facts say so; the camera's
    // name without EXIF is then no sign of stripping.
    let xmp = variants::xmp_only(&samsung, "2017-02-09T19:51:38", "48,53.55N", "2,14.183334E", "samsung", "SM-G935F");
    let r = put(xmp).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(codes(&r.json), ["photo_wrong_day"], "{}", r.json);
    assert_eq!(r.json["exif"]["datetime_original"], "2017:02:09 19:51:38");
    assert_eq!((r.json["exif"]["time_source"].as_str(), r.json["exif"]["gps_source"].as_str()), (Some("xmp"), Some("xmp")));
    assert!(near(&r.json), "{}", r.json["exif"]);
    assert_eq!(r.json["exif"]["make"], "samsung");

    // A transfer app's ModifyDate is a weak sign: photo_possibly_edited (major), not photo_edited.
    let r = put(variants::modify_date_rewritten(samsung.clone(), "2017:03:01 10:00:00")).await;
    assert_eq!(codes(&r.json), ["photo_possibly_edited", "photo_wrong_day"], "{}", r.json);
    let f = &r.json["findings"][0];
    assert_eq!(f["severity"], "major");
    assert_eq!(f["evidence"]["signs"][0]["sign"], "modified_after_capture");
    assert_eq!(f["evidence"]["signs"][0]["strong"], false);

    // One IPTC keyword added (exiftool -keywords=…) is no edit at all.
    let r = put(variants::iptc_keyword_added(&samsung, "kunjungan")).await;
    assert_eq!(codes(&r.json), ["photo_wrong_day"], "{}", r.json);
    assert_eq!(r.json["exif"]["iptc"], true);
    assert_eq!(r.json["exif"]["quantisation"], "ijg:96", "Samsung's camera writes the IJG table");

    // What libjpeg decodes with a warning is judged, the warning kept as evidence.
    let r = put(variants::junk_before_a_marker(&samsung)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(codes(&r.json), ["photo_wrong_day"], "{}", r.json);
    assert!(r.json["decode_warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("xtraneous")), "{}", r.json);
    let r = put(samsung[..samsung.len() - 300].to_vec()).await;
    assert_eq!(r.status, 201, "a few bytes lost at the end: {}", r.json);
    assert!(r.json["decode_warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("row")), "{}", r.json);
    let r = put(samsung[..samsung.len() / 2].to_vec()).await;
    assert_eq!((r.status, r.json["code"].as_str()), (422, Some("photo_unreadable")), "half a photo is a failed upload");
    assert!(r.json["detail"].as_str().unwrap().contains("truncated"), "{}", r.json);

    // An iPhone photo re-encoded with the IJG tables, EXIF kept: a strong sign, photo_edited.
    let r = put(variants::reencoded_with_ijg_tables(&fixture("iphone-6.jpg"))).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let f = r.json["findings"].as_array().unwrap().iter().find(|f| f["code"] == "photo_edited").expect("photo_edited").clone();
    assert_eq!(f["evidence"]["signs"][0]["sign"], "editor_quantisation", "{f}");
    assert_eq!(r.json["exif"]["quantisation"], "ijg:90");
    assert_eq!(f["severity"], "blocking");
}

async fn a_photo_with_the_customer_must_show_two_faces(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, with_customer_photo(48.8925, 2.236_388_9)).await;
    assert_eq!(codes(&r.json), Vec::<String>::new(), "{}", r.json);
    assert!(r.json["faces"].as_u64().unwrap() >= 2);
    // A building at night is no photo with the customer.
    let r =
        app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("with_customer", fresh("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(codes(&r.json), vec!["photo_faces_missing"]);
    assert_eq!(r.json["findings"][0]["evidence"]["faces"], 0);
    // Faces are only counted where the SOP asks for them.
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert!(r.json["faces"].is_null());
}

async fn app_gps_stands_in_for_missing_exif_gps_within_its_accuracy(app: TestApp) {
    let customer = app.customer_at(-6.2000, 106.8000).await;
    let visit = draft(&app, customer).await;
    // About 190 m away with a 60 m accuracy: inside 150 + 60.
    let near = [("latitude", "-6.2017"), ("longitude", "106.8000"), ("accuracy_m", "60")];
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("htc-one-m8-no-gps.jpg"), &near)).await;
    assert_eq!(codes(&r.json), Vec::<String>::new(), "{}", r.json);
    assert_eq!(r.json["capture"]["accuracy_m"], 60.0);
    // About 1.1 km away: far, measured from the app's fix.
    let far = [("latitude", "-6.2100"), ("longitude", "106.8000"), ("accuracy_m", "10")];
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("htc-one-m8-no-gps.jpg"), &far)).await;
    assert_eq!(codes(&r.json), vec!["photo_far_from_customer"]);
    assert_eq!(r.json["findings"][0]["evidence"]["source"], "app");
    // A camera photo passed off as a WhatsApp screenshot is caught by its camera EXIF and shape.
    let r =
        app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("whatsapp_screenshot", fresh("htc-one-m8-no-gps.jpg"), &[])).await;
    assert_eq!(codes(&r.json), vec!["photo_not_a_screenshot"]);
    // The app saying its position was mocked is blocking evidence on its own.
    let mocked = [("latitude", "-6.2001"), ("longitude", "106.8000"), ("is_mock_location", "true")];
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("htc-one-m8-no-gps.jpg"), &mocked)).await;
    assert_eq!(codes(&r.json), vec!["photo_mock_location"]);
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
    let other_kind =
        app.put_photo(visit, photo, &app.rep.token, photo_form("with_customer", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((other_kind.status, other_kind.code()), (409, "photo_conflict"));
    // The same photo id under another visit.
    let visit2 = draft(&app, customer).await;
    let r = app.put_photo(visit2, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((r.status, r.code()), (409, "photo_id_conflict"));
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"].as_array().unwrap().len(), 1);
    assert_eq!(app.object_count().await, 1);
}

async fn concurrent_uploads_of_one_photo_store_one_row_and_one_object(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    let bytes = fixture("iphone-6.jpg");
    let results =
        futures_join((0..6).map(|_| app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", bytes.clone(), &[])))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "{statuses:?}");
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!(v.json["photos"].as_array().unwrap().len(), 1);
    // Losers' objects are removed by their cleanup guards; wait for that, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.object_count().await != 1 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.object_count().await, 1, "no orphan objects");
}

async fn photos_after_submit_are_refused(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = draft(&app, customer).await;
    let photo = Uuid::new_v4();
    app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    let r =
        app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("with_customer", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((r.status, r.code()), (409, "visit_already_submitted"));
    // A retry of a photo stored before the submit is still answered.
    let r = app.put_photo(visit, photo, &app.rep.token, photo_form("storefront", fixture("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.object_count().await, 1);
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

    // A reviewer may ask for a short-lived direct link instead: on Garage a 307 to a presigned
    // URL that serves the same bytes; on the filesystem store the bytes themselves.
    let r = app.get(&format!("{path}?redirect=true"), &app.marketing.token).await;
    if app.db == crate::helpers::Db::Postgres && crate::garage::garage().is_some() {
        assert_eq!(r.status, 307);
        let link = r.headers["location"].to_str().unwrap().to_string();
        assert!(link.contains("X-Amz-Signature="), "{link}");
        let direct = reqwest::get(&link).await.unwrap();
        assert_eq!(direct.status(), 200);
        assert_eq!(direct.bytes().await.unwrap().to_vec(), bytes);
    } else {
        assert_eq!((r.status, r.bytes == bytes), (200, true));
    }
    let r = app.get(&format!("{path}?redirect=true"), &app.rep2.token).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"), "no link for those who may not see the visit");
    let audit = app.app.repo.list_audit("photo", &photo.to_string()).await.unwrap();
    assert_eq!(audit.len(), 2, "the link is audited like the bytes");
}

async fn a_photo_already_used_for_another_visit_is_reused(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let bytes = fresh("samsung-galaxy-s7-edge.jpg");
    let first_visit = draft(&app, customer).await;
    let first_photo = Uuid::new_v4();
    let r = app.put_photo(first_visit, first_photo, &app.rep.token, photo_form("storefront", bytes.clone(), &[])).await;
    assert_eq!(codes(&r.json), Vec::<String>::new());
    // The same bytes as evidence of another visit, even by another rep.
    let second_visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{second_visit}"), &app.rep2.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app.put_photo(second_visit, Uuid::new_v4(), &app.rep2.token, photo_form("storefront", bytes.clone(), &[])).await;
    assert_eq!(codes(&r.json), vec!["photo_reused"]);
    // The rep learns that the photo was used before, not whose visit it was.
    let seen_by_rep = &r.json["findings"][0];
    assert_eq!((seen_by_rep["evidence"]["match"].as_str(), seen_by_rep["evidence"]["matches"].as_u64()), (Some("exact"), Some(1)));
    assert!(!seen_by_rep.to_string().contains(&first_visit.to_string()), "{seen_by_rep}");
    assert!(!seen_by_rep.to_string().contains(&first_photo.to_string()), "{seen_by_rep}");
    // A reviewer sees which visit and photo it copies.
    let reviewed = app.get(&format!("/v1/visits/{second_visit}"), &app.hq.token).await;
    let evidence = &reviewed.json["photos"][0]["findings"][0]["evidence"];
    assert_eq!(evidence["match"], "exact");
    assert_eq!(evidence["earlier"][0]["visit_id"], first_visit.to_string());
    assert_eq!(evidence["earlier"][0]["photo_id"], first_photo.to_string());
    let as_rep = app.get(&format!("/v1/visits/{second_visit}"), &app.rep2.token).await;
    assert!(!as_rep.json.to_string().contains(&first_visit.to_string()), "the rep's own read of the visit hides it too");
    // The original stays clean at submit: only later copies are reuse.
    let with_customer = app.put_photo(first_visit, Uuid::new_v4(), &app.rep.token, with_customer_photo(48.8925, 2.236_388_9)).await;
    assert_eq!(with_customer.status, 201);
    let v = app.post(&format!("/v1/visits/{first_visit}/submit"), &app.rep.token, json!({})).await;
    let codes_at_submit: Vec<&str> = v.json["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(!codes_at_submit.contains(&"photo_reused"), "{codes_at_submit:?}");
    // The copy is caught again when its visit is submitted.
    let v = app.post(&format!("/v1/visits/{second_visit}/submit"), &app.rep2.token, json!({})).await;
    assert!(v.json["findings"].as_array().unwrap().iter().any(|f| f["code"] == "photo_reused"));
    assert_eq!(v.json["status"], "non_compliant");
    // A resized, recompressed copy is caught too, by its perceptual hash.
    let img = image::load_from_memory(&fixture("iphone-6.jpg")).unwrap();
    let mut first_bytes = std::io::Cursor::new(Vec::new());
    img.resize(1600, 1600, image::imageops::FilterType::Triangle).write_to(&mut first_bytes, image::ImageFormat::Jpeg).unwrap();
    let mut copy_bytes = std::io::Cursor::new(Vec::new());
    img.resize(1200, 1200, image::imageops::FilterType::Triangle).write_to(&mut copy_bytes, image::ImageFormat::Jpeg).unwrap();
    let third = draft(&app, customer).await;
    let original = Uuid::new_v4();
    app.put_photo(third, original, &app.rep.token, photo_form("product", first_bytes.into_inner(), &[])).await;
    let fourth = Uuid::new_v4();
    app.put(&format!("/v1/visits/{fourth}"), &app.rep2.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app.put_photo(fourth, Uuid::new_v4(), &app.rep2.token, photo_form("product", copy_bytes.into_inner(), &[])).await;
    assert!(codes(&r.json).contains(&"photo_reused".to_string()), "near copy caught");
    let reviewed = app.get(&format!("/v1/visits/{fourth}"), &app.marketing.token).await;
    let reused = reviewed.json["photos"][0]["findings"].as_array().unwrap().iter().find(|f| f["code"] == "photo_reused").unwrap();
    assert_eq!(reused["evidence"]["match"], "near");
    assert_eq!(reused["evidence"]["earlier"][0]["photo_id"], original.to_string());
    assert!(reused["evidence"]["earlier"][0]["dhash_distance"].as_u64().unwrap() <= 15);
}
