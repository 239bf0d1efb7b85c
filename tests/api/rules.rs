//! The Record Visit SOP as a table: realistic visits (door, WhatsApp, refusal, Lost, Lost
//! Warning E vs B, late, outside hours, each summary failure and good summaries in Indonesian
//! and English), each with the exact finding codes, status and score it must get — over HTTP,
//! on SQLite and PostgreSQL, at a fixed moment (Wednesday 18 November 2026, 10:30 WIB).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fresh_at, photo_form, screenshot, spawn_app_sop, with_customer_photo_at, Login, TestApp};
use crate::visit_json::{good_summary, visit_json};

backend_tests!(
    the_sop_table,
    templated_summaries_are_found_across_reps,
    follow_up_tasks_come_from_the_record,
    planned_visits_are_confirmed_the_day_before_and_unplaced_customers_are_shown,
    a_visits_check_in_and_check_out_are_validated_and_kept
);

/// The attendance the app sends: refused when it cannot be, kept and shown as sent.
async fn a_visits_check_in_and_check_out_are_validated_and_kept(app: TestApp) {
    let customer = new_customer(&app, "C", None).await;
    let at = Utc::now() - Duration::hours(1);
    let put = |body: Value| {
        let app = &app;
        async move { app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.rep.token, body).await }
    };
    let with = |edit: fn(&mut Value)| {
        let mut body = visit_json(customer, "door_visit", at);
        edit(&mut body);
        body
    };
    let backwards = put(with(|v| attendance(v, 10, -10, AT))).await;
    assert_eq!((backwards.status, backwards.code()), (422, "invalid_field"), "{}", backwards.json);
    let endless = put(with(|v| attendance(v, 0, 25 * 60, AT))).await;
    assert_eq!(endless.code(), "invalid_field");
    let nowhere = put(with(|v| attendance(v, -10, 15, (123.0, 0.0)))).await;
    assert_eq!(nowhere.code(), "invalid_coordinates");
    let mut unknown = with(good_attendance);
    unknown["attendance"]["check_in_accuracy"] = json!(5);
    assert!(put(unknown).await.status >= 400, "an unknown attendance field is refused");
    let kept = put(with(good_attendance)).await;
    assert_eq!(kept.status, 201, "{}", kept.json);
    assert_eq!(kept.json["attendance"]["check_out"], json!({ "latitude": AT.0, "longitude": AT.1 }));
    let plain = put(visit_json(customer, "door_visit", at)).await;
    assert_eq!(plain.json["attendance"], Value::Null, "an app that sends none is not judged on it");
}

/// H-1: a planned door visit is confirmed with the customer by the end of the day before; a
/// customer without coordinates cannot be distance-checked, and HQ is told so.
async fn planned_visits_are_confirmed_the_day_before_and_unplaced_customers_are_shown(first: TestApp) {
    // The visit at 10:30 WIB on the 18th; the server's clock 20 minutes later.
    let at = t0();
    let mut verdicts = Vec::new();
    for confirm_at in [None, Some(at - Duration::hours(20)), Some(at - Duration::hours(2))] {
        // Each in its own deployment: the three share their photos.
        let app = spawn_app_sop(first.db).await;
        let customer = new_customer(&app, "C", None).await;
        let task = Uuid::new_v4();
        let r = app
            .post(
                "/v1/tasks",
                &app.marketing.token,
                json!({ "id": task, "customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine", "due_date": "2026-11-18" }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        if let Some(when) = confirm_at {
            app.set_now(when);
            let r = app.post(&format!("/v1/tasks/{task}/confirm"), &app.rep.token, json!({ "note": "Bu Sari ada jam 10" })).await;
            assert_eq!(r.status, 200, "{}", r.json);
        }
        app.set_now(at + Duration::minutes(20));
        let mut body = visit_json(customer, "door_visit", at);
        body["task_id"] = json!(task);
        verdicts.push(visit(&app, &app.rep, body, Some(at)).await);
    }
    let [never, day_before, same_day] = &verdicts[..] else { unreachable!() };
    assert_eq!(codes(never), ["visit_not_confirmed"], "{}", never["findings"]);
    assert_eq!((never["status"].as_str(), never["score"].as_u64()), (Some("compliant"), Some(95)), "minor, 5 points");
    assert_eq!(never["findings"][0]["evidence"]["confirmed_at"], Value::Null);
    assert_eq!(never["findings"][0]["evidence"]["needed_by"], json!("2026-11-17T17:00:00Z"), "midnight WIB");
    assert!(codes(day_before).is_empty(), "confirmed on the 17th: {}", day_before["findings"]);
    assert_eq!(codes(same_day), ["visit_not_confirmed"], "confirmed on the visit's own day");
    assert!(same_day["findings"][0]["message_en"].as_str().unwrap().contains("too late"));

    // A visit without a task was not planned: nothing to confirm. A customer without a place:
    // each camera photo says its distance could not be checked, at no cost.
    let app = spawn_app_sop(first.db).await;
    app.set_now(at + Duration::minutes(20));
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({ "code": format!("N{}", &Uuid::new_v4().simple().to_string()[..8]), "name": "Warung Baru",
                    "customer_type": "retail", "assigned_rep_id": app.rep.id }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let unplaced: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let verdict = visit(&app, &app.rep, visit_json(unplaced, "door_visit", at), Some(at)).await;
    assert_eq!(codes(&verdict), ["customer_location_unknown", "customer_location_unknown"], "{}", verdict["findings"]);
    assert_eq!((verdict["status"].as_str(), verdict["score"].as_u64()), (Some("compliant"), Some(100)));
    assert!(verdict["findings"][0]["photo_id"].is_string());
}

/// 10:30 WIB on a Wednesday.
fn t0() -> DateTime<Utc> {
    "2026-11-18T03:30:00Z".parse().unwrap()
}

/// Where the Samsung fixture's EXIF GPS puts the storefront (the customer's place).
const AT: (f64, f64) = (48.8925, 2.236_388_9);

async fn new_customer(app: &TestApp, class: &str, previous_level: Option<&str>) -> Uuid {
    let code = format!("C{}", &Uuid::new_v4().simple().to_string()[..10]);
    let r = app
        .post(
            "/v1/customers",
            &app.marketing.token,
            json!({
                "code": code, "name": "Toko Maju Jaya", "customer_type": "retail", "assigned_rep_id": app.rep.id,
                "latitude": AT.0, "longitude": AT.1, "class": class, "previous_level": previous_level,
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_str().unwrap().parse().unwrap()
}

/// A phone screenshot: a PNG of a 1080×2340 screen, unique per call.
/// Uploads the evidence the method calls for, taken at `at`.
async fn evidence(app: &TestApp, rep: &Login, visit: Uuid, method: &str, at: DateTime<Utc>) {
    let forms = match method {
        "door_visit" => vec![
            with_customer_photo_at(AT.0, AT.1, at),
            photo_form("storefront", fresh_at("samsung-galaxy-s7-edge.jpg", at + Duration::minutes(1)), &[]),
        ],
        "whatsapp" => vec![photo_form("whatsapp_screenshot", crate::helpers::sop_day_chat(app), &[])],
        "phone" => vec![photo_form("call_log_screenshot", screenshot(), &[])],
        _ => vec![],
    };
    for form in forms {
        let r = app.put_photo(visit, Uuid::new_v4(), &rep.token, form).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
}

/// Puts, uploads and submits one visit; returns the submit response body.
async fn visit(app: &TestApp, rep: &Login, body: Value, photos_at: Option<DateTime<Utc>>) -> Value {
    let id = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{id}"), &rep.token, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    if let Some(at) = photos_at {
        evidence(app, rep, id, body["method"].as_str().unwrap(), at).await;
    }
    let r = app.post(&format!("/v1/visits/{id}/submit"), &rep.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json
}

fn codes(verdict: &Value) -> Vec<String> {
    let mut codes: Vec<String> = verdict["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    codes.sort();
    codes
}

struct Case {
    name: &'static str,
    class: &'static str,
    previous_level: Option<&'static str>,
    method: &'static str,
    /// Local (WIB) time of the visit and its photos, on the 18th.
    at: &'static str,
    edit: fn(&mut Value),
    expected: &'static [&'static str],
    status: &'static str,
    score: u64,
}

fn nothing(_: &mut Value) {}

/// Checked in and out `from`..`to` minutes around the visit's time, checking out at `out`.
fn attendance(v: &mut Value, from: i64, to: i64, out: (f64, f64)) {
    let at: DateTime<Utc> = v["visited_at"].as_str().unwrap().parse().unwrap();
    v["attendance"] = json!({
        "check_in_at": (at + Duration::minutes(from)).to_rfc3339(),
        "check_out_at": (at + Duration::minutes(to)).to_rfc3339(),
        "check_in": { "latitude": AT.0, "longitude": AT.1 },
        "check_out": { "latitude": out.0, "longitude": out.1 },
    });
}

fn good_attendance(v: &mut Value) {
    attendance(v, -10, 15, AT);
}

fn short_visit(v: &mut Value) {
    attendance(v, -5, 5, AT);
}

fn long_visit(v: &mut Value) {
    attendance(v, -60, 10, AT);
}

fn checked_out_elsewhere(v: &mut Value) {
    attendance(v, -10, 15, (AT.0 + 0.02, AT.1));
}

/// Checked out 35 minutes before the record came in (the server's clock is 20 minutes after
/// the visit's time).
fn record_after_leaving(v: &mut Value) {
    attendance(v, -45, -15, AT);
}

fn lost_answers(v: &mut Value) {
    let answers = v["answers"].as_object_mut().unwrap();
    for (q, a) in [
        ("lost_what_happened", "Toko pindah ke kurir lain sejak Oktober"),
        ("lost_trigger", "Dua paket COD hilang pada 3 Oktober"),
        ("lost_current_courier", "Kurir lain karena COD cair dalam satu hari"),
        ("lost_improvements", "Pencairan COD harian dan klaim cepat"),
        ("lost_offer", "Mau kembali jika ada diskon 10% tiga bulan"),
    ] {
        answers.insert(q.into(), json!(a));
    }
}

fn set(v: &mut Value, key: &str, value: Value) {
    v[key] = value;
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "a good door visit",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: nothing,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "a good door visit with its check-in and check-out",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: good_attendance,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "a door visit of ten minutes",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: short_visit,
            expected: &["visit_too_short"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a door visit of seventy minutes",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: long_visit,
            expected: &["visit_too_long"],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "checked out two kilometres from the customer",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: checked_out_elsewhere,
            expected: &["checkout_far_from_customer"],
            status: "flagged",
            score: 90,
        },
        Case {
            name: "the record filled in 35 minutes after leaving",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: record_after_leaving,
            expected: &["record_after_checkout"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a good WhatsApp follow-up",
            class: "C",
            previous_level: None,
            method: "whatsapp",
            at: "10:00",
            edit: nothing,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "a good summary in English",
            class: "B",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(
                    v,
                    "summary",
                    json!(
                        "Sales at the shop grew to about 300 parcels a day since the Harbolnas promo on 11 November. \
                The owner complained that two pickups last Monday came three hours late. \
                We agreed to trial a fixed 14.00 pickup slot next week and to propose a COD discount."
                    ),
                )
            },
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "refused, with its reason: a WhatsApp follow-up instead, not a failure",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(v, "refused", json!(true));
                set(v, "refusal_reason", json!("Pemilik sedang ke luar kota sampai Senin dan tidak menerima tamu"));
            },
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "refused without a reason",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(v, "refused", json!(true));
                set(v, "refusal_reason", json!("-"));
            },
            expected: &["refusal_without_reason"],
            status: "flagged",
            score: 85,
        },
        Case {
            name: "the result reason's detail questions left unanswered (SOP ch. 9)",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                // The cause and the solution are required; the waybill is optional.
                set(v, "reason_details", json!({ "needs_hq_help": false, "cause": "  " }));
            },
            expected: &["reason_details_missing"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a Lost customer who answered only the standard questions, at the door",
            class: "lost",
            previous_level: Some("B"),
            method: "door_visit",
            at: "10:00",
            edit: nothing,
            // Graver than a standard question left out: major (SOP ch. 5.2, "wajib").
            expected: &["questions_unanswered"],
            status: "flagged",
            score: 90,
        },
        Case {
            name: "a Lost customer visited at the door",
            class: "lost",
            previous_level: Some("B"),
            method: "door_visit",
            at: "10:00",
            edit: lost_answers,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "a Lost customer by WhatsApp, without the lost-customer questions",
            class: "lost",
            previous_level: Some("B"),
            method: "whatsapp",
            at: "10:00",
            edit: nothing,
            expected: &["method_not_allowed", "questions_unanswered"],
            status: "non_compliant",
            // The Lost-customer questions weigh as a major finding (10), the SOP's weight.
            score: 50,
        },
        Case {
            name: "Lost Warning, previously E, by WhatsApp",
            class: "lost_warning",
            previous_level: Some("E"),
            method: "whatsapp",
            at: "10:00",
            edit: nothing,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "Lost Warning, previously B, by WhatsApp",
            class: "lost_warning",
            previous_level: Some("B"),
            method: "whatsapp",
            at: "10:00",
            edit: nothing,
            expected: &["method_not_allowed"],
            status: "non_compliant",
            score: 60,
        },
        Case {
            name: "before business hours",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "07:40",
            edit: nothing,
            expected: &["visit_outside_hours"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "in the lunch break",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "12:15",
            edit: nothing,
            expected: &["visit_outside_hours"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a summary of two sentences",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(
                    v,
                    "summary",
                    json!(
                        "Penjualan toko naik 15% bulan ini dan pelanggan mengeluhkan pick-up terlambat. \
                Kami sepakat uji coba jadwal pick-up jam 14.00 mulai Senin."
                    ),
                )
            },
            expected: &["summary_too_short"],
            status: "flagged",
            score: 90,
        },
        Case {
            name: "filler is no sentence",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(
                    v,
                    "summary",
                    json!(
                        "Penjualan toko naik 15% dan ada keluhan pick-up; rencana tambah armada. Ok. Baik. \
                Semua aman terkendali. Semua aman terkendali. Semua aman terkendali."
                    ),
                )
            },
            expected: &["summary_too_short"],
            status: "flagged",
            score: 90,
        },
        Case {
            name: "a summary without opportunities or action items",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(
                    v,
                    "summary",
                    json!(
                        "Penjualan toko naik 15% bulan ini karena musim hujan. \
                Pelanggan mengeluhkan pick-up terlambat dua kali pada hari Senin. \
                Pemilik toko sudah memakai layanan kami sejak 2019."
                    ),
                )
            },
            expected: &["summary_missing_aspect"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a summary without concrete data",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(
                    v,
                    "summary",
                    json!(
                        "Customer puas dengan layanan kami dan usahanya berjalan seperti biasa. \
                Pelanggan mengeluhkan pick-up yang kadang terlambat. \
                Kami akan menawarkan jadwal pick-up yang lebih tetap."
                    ),
                )
            },
            expected: &["summary_not_specific"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "the SOP's bad example",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| set(v, "summary", json!("Customer puas dengan layanan.")),
            expected: &[
                "summary_missing_aspect",
                "summary_missing_aspect",
                "summary_missing_aspect",
                "summary_not_specific",
                "summary_too_short",
            ],
            status: "flagged",
            score: 80,
        },
        Case {
            name: "a service complaint without waybill or date",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| set(v, "details", json!("Pick-up sering terlambat, pelanggan kecewa.")),
            expected: &["complaint_without_details"],
            status: "flagged",
            score: 90,
        },
        Case {
            name: "a competition reason needs no waybill",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                set(v, "result_reason", json!({ "level1": "competition", "level2": "competitor_price_lower" }));
                set(
                    v,
                    "reason_details",
                    json!({ "competitor_name": "SiCepat", "competitor_offer": "Rp 7.000/kg ke Bandung",
                            "our_price": "Rp 8.500/kg", "solution": "Ajukan harga khusus ke HQ" }),
                );
                set(v, "details", json!("Kompetitor menawarkan harga lebih murah."));
            },
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "questions skipped or answered with filler",
            class: "C",
            previous_level: None,
            method: "door_visit",
            at: "10:00",
            edit: |v| {
                let answers = v["answers"].as_object_mut().unwrap();
                answers.remove("competitors");
                answers.insert("price_value".into(), json!("ok"));
            },
            expected: &["questions_unanswered"],
            status: "compliant",
            score: 95,
        },
        Case {
            name: "a phone follow-up proven by its call log",
            class: "C",
            previous_level: None,
            method: "phone",
            at: "10:00",
            edit: nothing,
            expected: &[],
            status: "compliant",
            score: 100,
        },
        Case {
            name: "a phone follow-up without a call log or chat screenshot",
            class: "C",
            previous_level: None,
            method: "phone",
            at: "10:00",
            edit: |v| set(v, "withhold_evidence", json!(true)),
            expected: &["call_evidence_missing"],
            status: "flagged",
            score: 85,
        },
    ]
}

async fn the_sop_table(first: TestApp) {
    for case in cases() {
        // Each case in its own deployment, with the SOP's business hours: the cases share their
        // photos, which would otherwise be `photo_reused` from the second case on.
        let app = spawn_app_sop(first.db).await;
        let (h, m) = case.at.split_once(':').unwrap();
        // The visit at the case's local time on the 18th; the server's clock 20 minutes later.
        let at: DateTime<Utc> = format!("2026-11-18T{:02}:{m}:00Z", h.parse::<i64>().unwrap() - 7).parse().unwrap();
        app.set_now(at + Duration::minutes(20));
        let customer = new_customer(&app, case.class, case.previous_level).await;
        let mut body = visit_json(customer, case.method, at);
        (case.edit)(&mut body);
        // A case may withhold the evidence (a key of the table's own, not sent).
        let withheld = body.as_object_mut().unwrap().remove("withhold_evidence").is_some();
        let photos = (!body["refused"].as_bool().unwrap_or(false) && !withheld).then_some(at);
        let verdict = visit(&app, &app.rep, body, photos).await;
        assert_eq!(codes(&verdict), case.expected, "{}: {}", case.name, verdict["findings"]);
        assert_eq!(
            (verdict["status"].as_str().unwrap(), verdict["score"].as_u64().unwrap()),
            (case.status, case.score),
            "{}: {}",
            case.name,
            verdict["findings"]
        );
        assert_eq!(
            verdict["revisit_task_id"].is_null(),
            case.status != "non_compliant",
            "{}: a re-visit exactly when non-compliant",
            case.name
        );
        // Every finding says which policy value it used, in both languages.
        for f in verdict["findings"].as_array().unwrap() {
            assert!(
                f["evidence"]["policy"].is_object() || f["evidence"]["policy"].is_array() || f["evidence"]["policy"].is_string(),
                "{}: {f}",
                case.name
            );
            assert!(!f["message_id"].as_str().unwrap().is_empty() && !f["message_en"].as_str().unwrap().is_empty());
        }
    }

    // Late: recorded on the 18th, submitted at 00:30 WIB on the 19th.
    let app = spawn_app_sop(first.db).await;
    let at: DateTime<Utc> = "2026-11-18T03:00:00Z".parse().unwrap();
    app.set_now(at + Duration::minutes(20));
    let customer = new_customer(&app, "C", None).await;
    let id = Uuid::new_v4();
    app.put(&format!("/v1/visits/{id}"), &app.rep.token, visit_json(customer, "door_visit", at)).await;
    evidence(&app, &app.rep, id, "door_visit", at).await;
    app.set_now("2026-11-18T17:30:00Z".parse().unwrap());
    let verdict = app.post(&format!("/v1/visits/{id}/submit"), &app.rep.token, json!({})).await.json;
    assert_eq!(codes(&verdict), ["upload_late"]);
    assert_eq!((verdict["status"].as_str(), verdict["score"].as_u64()), (Some("flagged"), Some(85)));
    let late = &verdict["findings"][0];
    assert_eq!(late["evidence"]["late_minutes"], 30);

    // A WhatsApp chat does not do a task that asks for a door visit (WhatsApp complements).
    let app = spawn_app_sop(first.db).await;
    app.set_now(t0());
    let customer = new_customer(&app, "A", None).await;
    let task = app
        .post(
            "/v1/tasks",
            &app.marketing.token,
            json!({"customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine", "due_date": "2026-11-20"}),
        )
        .await;
    assert_eq!(task.json["required_method"], "door_visit", "{}", task.json);
    let mut body = visit_json(customer, "whatsapp", t0() - Duration::minutes(30));
    body["task_id"] = task.json["id"].clone();
    let verdict = visit(&app, &app.rep, body, Some(t0() - Duration::minutes(30))).await;
    assert_eq!(codes(&verdict), ["method_not_allowed"]);
    assert_eq!(verdict["findings"][0]["evidence"]["task_required_method"], "door_visit");
    assert_eq!(verdict["status"], "non_compliant");
}

async fn templated_summaries_are_found_across_reps(app: TestApp) {
    app.set_now(t0());
    let at = t0() - Duration::minutes(30);
    let template = "Kunjungan rutin ke customer hari ini bersama pemilik toko. Customer dalam kondisi baik dan pengiriman berjalan normal seperti biasa \
        dengan 50 paket per hari. Tidak ada keluhan yang disampaikan oleh pelanggan. Akan dikunjungi kembali bulan depan sesuai jadwal.";
    let c1 = new_customer(&app, "C", None).await;
    let mut body = visit_json(c1, "door_visit", at);
    body["summary"] = json!(template);
    let first = visit(&app, &app.rep, body, Some(at)).await;
    assert_eq!(codes(&first), Vec::<String>::new(), "the first use of a text is no template");

    // The same rep, numbers and one word changed.
    let mut body = visit_json(c1, "door_visit", at);
    body["summary"] = json!(template.replace("50 paket", "65 paket").replace("normal", "lancar"));
    let again = visit(&app, &app.rep, body, Some(at)).await;
    assert_eq!(codes(&again), ["summary_templated"]);
    assert!(again["findings"][0]["evidence"].get("similar_visit_id").is_none(), "the rep sees that it matched, not which visit");
    let reviewed = app.get(&format!("/v1/visits/{}", again["id"].as_str().unwrap()), &app.marketing.token).await.json;
    let evidence = &reviewed["findings"][0]["evidence"];
    assert_eq!(evidence["similar_visit_id"], first["id"]);
    assert_eq!(evidence["same_rep"], true);
    assert!(evidence["similarity"].as_f64().unwrap() >= 0.6, "{evidence}");
    assert_eq!((again["status"].as_str(), again["score"].as_u64()), (Some("flagged"), Some(80)));

    // Another rep copies it.
    let c2 = new_customer(&app, "C", None).await;
    let mut body = visit_json(c2, "door_visit", at);
    body["summary"] = json!(template);
    let copied = visit(&app, &app.rep2, body, Some(at)).await;
    assert_eq!(codes(&copied), ["summary_templated"]);
    assert_eq!(copied["findings"][0]["evidence"]["same_rep"], false);

    // Fresh summaries of the same customer are not templates of each other.
    for _ in 0..3 {
        let mut body = visit_json(c1, "door_visit", at);
        body["summary"] = json!(good_summary());
        assert_eq!(codes(&visit(&app, &app.rep, body, Some(at)).await), Vec::<String>::new());
    }
}

async fn follow_up_tasks_come_from_the_record(app: TestApp) {
    app.set_now(t0());
    let at = t0() - Duration::minutes(30);
    let c = new_customer(&app, "C", None).await;

    // The next follow-up time becomes a task on that local date.
    let mut body = visit_json(c, "door_visit", at);
    body["next_follow_up_at"] = json!("2026-11-24T18:00:00Z"); // 01:00 WIB on the 25th
    body["next_steps"] = json!("Kirim penawaran COD harian");
    let verdict = visit(&app, &app.rep, body, Some(at)).await;
    let tasks = app.get(&format!("/v1/tasks?customer_id={c}&status=open&task_type=follow_up"), &app.rep.token).await;
    let items = tasks.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", tasks.json);
    // The door visit also asks for its thank-you message (SOP ch. 3.1); the refusal below does not.
    let thanks = app.get(&format!("/v1/tasks?customer_id={c}&task_type=thank_you"), &app.rep.token).await;
    assert_eq!(thanks.json["items"].as_array().unwrap().len(), 1, "{}", thanks.json);
    assert_eq!((items[0]["task_type"].as_str(), items[0]["due_date"].as_str()), (Some("follow_up"), Some("2026-11-25")));
    assert_eq!((items[0]["origin"].as_str(), items[0]["origin_visit_id"].as_str()), (Some("next_follow_up"), verdict["id"].as_str()));
    assert_eq!(items[0]["note"], "Kirim penawaran COD harian");

    // A follow-up before the visit itself is refused.
    let mut body = visit_json(c, "door_visit", at);
    body["next_follow_up_at"] = json!((at - Duration::hours(1)).to_rfc3339());
    let r = app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.rep.token, body).await;
    assert_eq!((r.status, r.code()), (422, "next_follow_up_not_after_visit"));

    // A refusal: a WhatsApp follow-up due the next working day (Thursday).
    let c2 = new_customer(&app, "C", None).await;
    let mut body = visit_json(c2, "door_visit", at);
    body["refused"] = json!(true);
    body["refusal_reason"] = json!("Pemilik menolak karena sedang stock opname akhir bulan");
    let verdict = visit(&app, &app.rep, body, None).await;
    assert_eq!(verdict["status"], "compliant", "{}", verdict["findings"]);
    let tasks = app.get(&format!("/v1/tasks?customer_id={c2}&status=open"), &app.rep.token).await;
    let items = tasks.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", tasks.json);
    assert_eq!(
        (items[0]["origin"].as_str(), items[0]["required_method"].as_str(), items[0]["due_date"].as_str()),
        (Some("refusal_follow_up"), Some("door_visit_or_whatsapp"), Some("2026-11-19"))
    );
    // Retrying the submit creates nothing more.
    let again = app.post(&format!("/v1/visits/{}/submit", verdict["id"].as_str().unwrap()), &app.rep.token, json!({})).await;
    assert_eq!(again.json["score"], verdict["score"]);
    let tasks = app.get(&format!("/v1/tasks?customer_id={c2}"), &app.rep.token).await;
    assert_eq!(tasks.json["items"].as_array().unwrap().len(), 1);
}
