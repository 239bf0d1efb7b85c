use chrono::NaiveDate;
use uuid::Uuid;

use super::common::finding;
use super::*;
use crate::domain::customer::GeoPoint;
use crate::domain::finding::FindingCode;
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::policy::Policy;
use crate::domain::visit::{CaptureMeta, Method, Photo, PhotoFacts, PhotoKind};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;

fn facts(w: u32, h: u32) -> PhotoFacts {
    PhotoFacts { format: "jpeg".into(), width: w, height: h, ..Default::default() }
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

fn ctx(photo_id: PhotoId, kind: PhotoKind, geofence: Option<Geofence>) -> PhotoContext<'static> {
    PhotoContext {
        customer_unplaced: false,
        photo_id,
        kind,
        geofence,
        visit_date: None,
        branch_tz: chrono_tz::Asia::Jakarta,
        received_at: Utc::now(),
        earlier_copies: &[],
        customer_names: &[],
        customer_phone: None,
    }
}

fn here() -> GeoPoint {
    GeoPoint::parse(-6.1754, 106.8272).unwrap()
}

#[test]
fn photo_rules_table() {
    let policy = Policy::default();
    let pid = PhotoId(Uuid::nil());
    let fence = Some(Geofence { center: here(), radius_m: 150.0 });
    let near = GeoPoint::parse(-6.1760, 106.8272).unwrap(); // ~67 m
    let far = GeoPoint::parse(-6.1854, 106.8272).unwrap(); // ~1.1 km
    let mut dated = facts(4000, 3000);
    dated.exif_taken_at = Some(Utc::now());
    let mut exif_near = dated.clone();
    exif_near.exif_location = Some(near);
    let mut exif_far = dated.clone();
    exif_far.exif_location = Some(far);
    let app_far_but_inaccurate =
        CaptureMeta { location: Some(GeoPoint::parse(-6.1774, 106.8272).unwrap()), accuracy_m: Some(100.0), ..Default::default() };
    let none = CaptureMeta::default();

    let cases: Vec<(&str, PhotoKind, PhotoFacts, CaptureMeta, Vec<&str>)> = vec![
        ("good photo near the customer", PhotoKind::WithCustomer, exif_near.clone(), none.clone(), vec![]),
        ("far photo", PhotoKind::Storefront, exif_far.clone(), none.clone(), vec!["photo_far_from_customer"]),
        ("no exif at all", PhotoKind::Storefront, facts(4000, 3000), none.clone(), vec!["photo_no_timestamp", "photo_no_gps"]),
        (
            "small and bare",
            PhotoKind::Storefront,
            facts(606, 177),
            none.clone(),
            vec!["photo_resolution_low", "photo_no_timestamp", "photo_no_gps"],
        ),
        ("app gps within radius + accuracy", PhotoKind::Storefront, dated.clone(), app_far_but_inaccurate, vec![]),
        // (A chat unread by OCR says so: `screenshot_not_read`; what a read chat shows is
        // judged in `screenshot.rs` and tests/api/screenshots.rs.)
        ("screenshots skip time and place", PhotoKind::WhatsappScreenshot, facts(1080, 2340), none.clone(), vec!["screenshot_not_read"]),
        ("a camera photo is no screenshot", PhotoKind::WhatsappScreenshot, exif_near.clone(), none.clone(), vec!["photo_not_a_screenshot"]),
        ("a call log skips time and place", PhotoKind::CallLogScreenshot, facts(1080, 2340), none.clone(), vec![]),
        ("a camera photo is no call log", PhotoKind::CallLogScreenshot, exif_near.clone(), none.clone(), vec!["photo_not_a_screenshot"]),
        (
            "a PNG screenshot is no storefront",
            PhotoKind::Storefront,
            {
                let mut f = facts(1080, 2340);
                f.format = "png".into();
                f
            },
            CaptureMeta { captured_at: Some(Utc::now()), location: Some(here()), ..Default::default() },
            vec!["photo_is_screenshot"],
        ),
        (
            "mock location",
            PhotoKind::Storefront,
            exif_near.clone(),
            CaptureMeta { is_mock_location: Some(true), ..Default::default() },
            vec!["photo_mock_location"],
        ),
        (
            "app and camera GPS disagree",
            PhotoKind::Storefront,
            exif_near.clone(),
            CaptureMeta { location: Some(far), accuracy_m: Some(10.0), ..Default::default() },
            vec!["photo_location_mismatch"],
        ),
        (
            "app clock an hour off",
            PhotoKind::Storefront,
            exif_near.clone(),
            CaptureMeta { captured_at: Some(Utc::now() - chrono::Duration::minutes(61)), ..Default::default() },
            vec!["photo_time_mismatch"],
        ),
        (
            "taken in the future",
            PhotoKind::Storefront,
            {
                let mut f = exif_near.clone();
                f.exif_taken_at = Some(Utc::now() + chrono::Duration::hours(3));
                f
            },
            none.clone(),
            vec!["photo_time_mismatch"],
        ),
        (
            "exactly 1 MP is enough",
            PhotoKind::Product,
            {
                let mut f = exif_near.clone();
                f.width = 1000;
                f.height = 1000;
                f
            },
            none.clone(),
            vec![],
        ),
    ];
    for (name, kind, f, capture, expected) in cases {
        let got = photo_findings(&policy, &ctx(pid, kind, fence), &f, &capture);
        assert_eq!(codes(&got), expected, "{name}");
        assert!(got.iter().all(|x| x.photo_id == Some(pid) && !x.message_id.is_empty() && !x.message_en.is_empty()));
    }
}

#[test]
fn far_finding_carries_its_evidence() {
    let policy = Policy::default();
    let mut f = facts(4000, 3000);
    f.exif_taken_at = Some(Utc::now());
    f.exif_location = Some(GeoPoint::parse(-6.1854, 106.8272).unwrap());
    let got = photo_findings(
        &policy,
        &ctx(PhotoId(Uuid::nil()), PhotoKind::Storefront, Some(Geofence { center: here(), radius_m: 150.0 })),
        &f,
        &CaptureMeta::default(),
    );
    let ev = &got[0].evidence;
    let d = ev["distance_m"].as_f64().unwrap();
    assert!((1_000.0..1_200.0).contains(&d), "{d}");
    assert_eq!(ev["radius_m"], 150.0);
    assert_eq!(ev["source"], "exif");
}

fn photo(kind: PhotoKind, findings: Vec<Finding>) -> Photo {
    Photo {
        id: PhotoId(Uuid::new_v4()),
        visit_id: VisitId(Uuid::nil()),
        kind,
        sha256: String::new(),
        size_bytes: 0,
        content_type: "image/jpeg".into(),
        storage_key: String::new(),
        capture: CaptureMeta::default(),
        facts: PhotoFacts::default(),
        findings,
        received_at: Utc::now(),
    }
}

#[test]
fn visit_rules_table() {
    let policy = Policy::default();
    let date: NaiveDate = "2026-11-23".parse().unwrap();
    let jakarta = chrono_tz::Asia::Jakarta;
    let on_time: DateTime<Utc> = "2026-11-23T16:59:59Z".parse().unwrap(); // 23:59:59 WIB
    let late: DateTime<Utc> = "2026-11-23T17:00:00Z".parse().unwrap(); // 24:00 WIB
    let door = [photo(PhotoKind::WithCustomer, vec![]), photo(PhotoKind::Storefront, vec![])];
    let only_front = [photo(PhotoKind::Storefront, vec![])];
    let shot = [photo(PhotoKind::WhatsappScreenshot, vec![])];
    let call_log = [photo(PhotoKind::CallLogScreenshot, vec![])];
    type Case<'a> = (&'a str, Method, bool, Tz, DateTime<Utc>, &'a [Photo], Vec<&'a str>);
    let cases: Vec<Case> = vec![
        ("complete door visit on time", Method::DoorVisit, false, jakarta, on_time, &door, vec![]),
        ("door visit missing the customer photo", Method::DoorVisit, false, jakarta, on_time, &only_front, vec!["photo_required_missing"]),
        ("whatsapp with a screenshot", Method::Whatsapp, false, jakarta, on_time, &shot, vec![]),
        ("whatsapp without a screenshot", Method::Whatsapp, false, jakarta, on_time, &door, vec!["photo_required_missing"]),
        ("late by the WIB midnight", Method::DoorVisit, false, jakarta, late, &door, vec!["upload_late"]),
        // 16:00Z is 01:00 WIT the next day: late in Jayapura, on time in Jakarta.
        (
            "WIT closes two hours before WIB",
            Method::DoorVisit,
            false,
            chrono_tz::Asia::Jayapura,
            "2026-11-23T16:00:00Z".parse().unwrap(),
            &door,
            vec!["upload_late"],
        ),
        ("refusal needs no photos", Method::DoorVisit, true, jakarta, on_time, &[], vec![]),
        ("a phone call with its call log", Method::Phone, false, jakarta, on_time, &call_log, vec![]),
        ("a phone call with its WhatsApp chat", Method::Phone, false, jakarta, on_time, &shot, vec![]),
        ("a phone call without evidence", Method::Phone, false, jakarta, on_time, &[], vec!["call_evidence_missing"]),
    ];
    for (name, method, refused, tz, at, photos, expected) in cases {
        let f = SubmitFacts { method, refused, visit_date: date, branch_tz: tz, submitted_at: at, photos, record: None };
        assert_eq!(codes(&visit_findings(&policy, &f)), expected, "{name}");
    }
}

#[test]
fn wrong_day_and_capture_time_zones() {
    let policy = Policy::default();
    let mut f = facts(4000, 3000);
    f.exif_location = Some(here());
    f.exif_taken_at = Some("2026-11-22T16:30:00Z".parse().unwrap()); // 23:30 WIB on the 22nd
    let mut c = ctx(PhotoId(Uuid::nil()), PhotoKind::Storefront, None);
    c.received_at = "2026-11-23T03:00:00Z".parse().unwrap();
    c.visit_date = Some("2026-11-23".parse().unwrap());
    assert_eq!(codes(&photo_findings(&policy, &c, &f, &CaptureMeta::default())), vec!["photo_wrong_day"]);
    c.visit_date = Some("2026-11-22".parse().unwrap());
    assert!(photo_findings(&policy, &c, &f, &CaptureMeta::default()).is_empty());

    let local = chrono::NaiveDateTime::parse_from_str("2017-02-09 19:51:38", "%Y-%m-%d %H:%M:%S").unwrap();
    let gps: DateTime<Utc> = "2017-02-09T18:51:28Z".parse().unwrap();
    let jkt = chrono_tz::Asia::Jakarta;
    let cases = [
        (Some("+01:00"), None, "2017-02-09T18:51:38+00:00", "exif_offset"),
        (None, Some(gps), "2017-02-09T18:51:38+00:00", "gps_clock"),
        (None, None, "2017-02-09T12:51:38+00:00", "branch_zone"),
        // A GPS clock that implies no sensible zone is ignored.
        (None, Some("2017-02-09T03:17:00Z".parse().unwrap()), "2017-02-09T12:51:38+00:00", "branch_zone"),
    ];
    for (offset, gps, expected, source) in cases {
        let (t, s) = resolve_capture_time(Some(local), offset.map(|o| o.parse().unwrap()), gps, jkt);
        assert_eq!((t.unwrap().to_rfc3339(), s.unwrap()), (expected.to_string(), source), "{offset:?} {gps:?}");
    }
}

#[test]
fn photos_far_apart_are_inconsistent() {
    let policy = Policy::default();
    let date: chrono::NaiveDate = "2026-11-23".parse().unwrap();
    let at = |h: i64, p: GeoPoint| {
        let mut ph = photo(PhotoKind::Storefront, vec![]);
        ph.facts.exif_taken_at = Some(Utc::now() - chrono::Duration::hours(h));
        ph.facts.exif_location = Some(p);
        ph
    };
    let near = GeoPoint::parse(-6.1760, 106.8272).unwrap();
    let far = GeoPoint::parse(-6.3, 106.8272).unwrap();
    let on_time: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
    for (photos, expected) in [
        (vec![at(0, here()), at(1, near)], vec![]),
        (vec![at(0, here()), at(5, here())], vec!["photos_inconsistent"]),
        (vec![at(0, here()), at(0, far)], vec!["photos_inconsistent"]),
    ] {
        let f = SubmitFacts {
            method: Method::Phone,
            refused: false,
            visit_date: date,
            branch_tz: chrono_tz::Asia::Jakarta,
            submitted_at: on_time,
            photos: &photos,
            record: None,
        };
        // The phone's own evidence aside: these are about the camera photos.
        let found: Vec<&str> = codes(&visit_findings(&policy, &f)).into_iter().filter(|c| *c != "call_evidence_missing").collect();
        assert_eq!(found, expected);
    }
}

#[test]
fn verdict_scores_and_classifies() {
    let policy = Policy::default();
    let mk = |code| finding(&policy, code, None, json!({}), String::new(), String::new());
    let cases = vec![
        (vec![], 100, VisitStatus::Compliant),
        (vec![mk(FindingCode::VisitOutsideHours)], 95, VisitStatus::Compliant),
        (vec![mk(FindingCode::UploadLate)], 85, VisitStatus::Flagged),
        (vec![mk(FindingCode::PhotoNoGps), mk(FindingCode::PhotoNoGps), mk(FindingCode::UploadLate)], 55, VisitStatus::NonCompliant),
        (
            vec![mk(FindingCode::PhotoReused), mk(FindingCode::PhotoMockLocation), mk(FindingCode::PhotoEdited)],
            0,
            VisitStatus::NonCompliant,
        ),
    ];
    for (findings, score, status) in cases {
        assert_eq!(verdict(&findings), Verdict { score, status }, "{findings:?}");
    }
}
