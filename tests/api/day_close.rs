//! Working days and the day close, at a controlled clock: each branch closes at its own local
//! midnight (Jayapura, WIT, two hours before Jakarta, WIB), the open tasks due become `missed` and
//! are escalated Lost first, a draft of the day gets `upload_late`, reruns change nothing, a server
//! down over midnight catches up, a clock stepped back and forth across midnight (NTP) closes
//! each day once, and holidays move due dates.

use chrono::{DateTime, NaiveDate, Utc};
use fieldproof::app::calendar;
use fieldproof::config::JobsSettings;
use fieldproof::domain::holiday::{Holiday, HolidaySource};
use fieldproof::domain::ids::{BranchId, CustomerId};
use fieldproof::jobs::Worker;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::webhooks::{drain, receiver};

backend_tests!(
    the_day_closes_at_each_branchs_midnight,
    holidays_are_loaded_and_move_due_dates,
    flagged_visits_wait_for_a_decision_until_their_deadline,
    supervisors_see_their_branch_by_ownership_and_get_the_daily_digest,
    tasks_filter_by_the_customers_volume_last_month_and_this_month,
    a_door_visit_asks_for_its_thank_you_message,
    a_clock_stepping_across_midnight_closes_each_day_once
);

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn days_2027(app: &TestApp) -> usize {
    app.get("/v1/holidays/2027", &app.rep.token).await.json["holidays"].as_array().unwrap().len()
}

async fn customer(app: &TestApp, token: &str, rep: Uuid, class: &str) -> Uuid {
    let code = format!("C{}", &Uuid::new_v4().simple().to_string()[..10]);
    let r = app
        .post(
            "/v1/customers",
            token,
            json!({ "code": code, "name": "Toko", "customer_type": "retail", "assigned_rep_id": rep,
                                               "latitude": -6.2, "longitude": 106.8, "class": class, "previous_level": "C" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_str().unwrap().parse().unwrap()
}

async fn task(app: &TestApp, token: &str, customer: Uuid, rep: Uuid, due: &str) -> String {
    let r =
        app.post("/v1/tasks", token, json!({ "customer_id": customer, "assignee_id": rep, "task_type": "routine", "due_date": due })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_str().unwrap().to_string()
}

async fn status(app: &TestApp, token: &str, task: &str) -> String {
    app.get(&format!("/v1/tasks/{task}"), token).await.json["status"].as_str().unwrap().to_string()
}

/// What the worker does each minute: enqueue the day closes due now, then run every job.
async fn tick(app: &TestApp) {
    let worker = Worker::new(app.app.clone(), JobsSettings { retry_backoff_ms: 0, ..JobsSettings::default() });
    worker.enqueue_periodic(app.now()).await.unwrap();
    drain(app, 3).await;
}

async fn the_day_closes_at_each_branchs_midnight(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["task.missed", "visit.upload_late"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);

    let c = customer(&app, &app.marketing.token, app.rep.id, "C").await;
    let lost = customer(&app, &app.marketing.token, app.rep.id, "lost").await;
    // Its volumes keep it Lost when the worker's daily classification runs: October shipped,
    // nothing in November; a customer since 2024.
    let october: Vec<_> = (1..=10).map(|day| (CustomerId(lost), NaiveDate::from_ymd_opt(2026, 10, day).unwrap(), 50)).collect();
    app.app.repo.upsert_volumes(&october).await.unwrap();
    app.send(
        reqwest::Method::PATCH,
        &format!("/v1/customers/{lost}"),
        Some(&app.marketing.token),
        crate::helpers::Body::Json(json!({ "created_on": "2024-01-01" })),
    )
    .await;
    let c_jap = customer(&app, &app.jap_marketing.token, app.jap_rep.id, "C").await;
    let t_jkt = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-18").await;
    let t_lost = task(&app, &app.marketing.token, lost, app.rep.id, "2026-11-18").await;
    let t_later = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-20").await;
    let t_jap = task(&app, &app.jap_marketing.token, c_jap, app.jap_rep.id, "2026-11-18").await;
    let draft = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(c, "phone", 0)).await;
    assert_eq!(r.json["visit_date"], "2026-11-18");

    // 00:30 WIT on the 19th is 22:30 WIB on the 18th: Jayapura closes its 18th, Jakarta not yet.
    app.set_now(at("2026-11-18T15:30:00Z"));
    tick(&app).await;
    assert_eq!(status(&app, &app.jap_marketing.token, &t_jap).await, "missed");
    assert_eq!(status(&app, &app.marketing.token, &t_jkt).await, "open");
    assert!(app.get(&format!("/v1/visits/{draft}"), &app.rep.token).await.json["findings"].as_array().unwrap().is_empty());

    // 00:30 WIB on the 19th: Jakarta closes its 18th.
    app.set_now(at("2026-11-18T17:30:00Z"));
    got.lock().unwrap().clear();
    tick(&app).await;
    assert_eq!(status(&app, &app.marketing.token, &t_jkt).await, "missed");
    assert_eq!(status(&app, &app.marketing.token, &t_lost).await, "missed");
    assert_eq!(status(&app, &app.marketing.token, &t_later).await, "open", "not due yet");
    let visit = app.get(&format!("/v1/visits/{draft}"), &app.rep.token).await;
    assert_eq!(visit.json["status"], "draft");
    let findings = visit.json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", visit.json);
    assert_eq!((findings[0]["code"].as_str(), findings[0]["evidence"]["closed_by"].as_str()), (Some("upload_late"), Some("day_close")));
    // Escalated: the Lost customer's miss first, then the other; the late draft to its rep.
    let events: Vec<(String, Value)> = got
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.header("fieldproof-event").to_string(), serde_json::from_slice::<Value>(&r.body).unwrap()))
        .collect();
    let missed: Vec<(&str, &str)> = events
        .iter()
        .filter(|(e, _)| e == "task.missed")
        .map(|(_, p)| (p["data"]["task_id"].as_str().unwrap(), p["data"]["priority"].as_str().unwrap()))
        .collect();
    assert_eq!(missed, [(t_lost.as_str(), "lost"), (t_jkt.as_str(), "normal")]);
    assert!(events.iter().any(|(e, p)| e == "visit.upload_late" && p["data"]["visit_id"] == draft.to_string()));
    assert!(events.iter().all(|(_, p)| p["data"]["escalate_to"].as_array().unwrap().contains(&json!("branch_marketing"))));

    // Reruns: nothing more is enqueued or changed, and a second close of the day is a no-op.
    let delivered = got.lock().unwrap().len();
    tick(&app).await;
    assert_eq!(got.lock().unwrap().len(), delivered);
    assert_eq!(calendar::close_day(&app.app, BranchId(app.jkt), d("2026-11-18")).await.unwrap(), None);

    // Submitted late, the draft carries `upload_late` once: the verdict's own.
    let verdict = app.post(&format!("/v1/visits/{draft}/submit"), &app.rep.token, json!({})).await;
    let late: Vec<&Value> = verdict.json["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "upload_late").collect();
    assert_eq!(late.len(), 1, "{}", verdict.json["findings"]);
    assert!(late[0]["evidence"]["closed_by"].is_null());

    // Down from Thursday to Sunday night: on its return the server closes the 19th, 20th and 21st.
    app.set_now(at("2026-11-21T17:30:00Z")); // 00:30 WIB on Sunday the 22nd
    tick(&app).await;
    assert_eq!(app.app.repo.last_closed_day(BranchId(app.jkt)).await.unwrap(), Some(d("2026-11-21")));
    assert_eq!(app.app.repo.last_closed_day(BranchId(app.jap)).await.unwrap(), Some(d("2026-11-21")));
    assert_eq!(status(&app, &app.marketing.token, &t_later).await, "missed");
}

async fn holidays_are_loaded_and_move_due_dates(app: TestApp) {
    // The shipped national holidays are in a fresh database.
    let h2026 = app.get("/v1/holidays/2026", &app.rep.token).await;
    assert_eq!(h2026.status, 200, "{}", h2026.json);
    assert_eq!(h2026.json["holidays"].as_array().unwrap().len(), 25);
    assert_eq!(h2026.json["holidays"][0], json!({ "date": "2026-01-01", "name": "Tahun Baru 2026 Masehi", "kind": "holiday" }));
    assert_eq!(days_2027(&app).await, 26, "18 holidays and 8 days of cuti bersama");

    // A year an earlier release shipped shorter is completed by the next start-up ...
    let earlier = vec![Holiday { date: d("2027-01-01"), name: "Tahun Baru 2027 Masehi".into(), kind: "holiday".into() }];
    app.app.repo.replace_holidays(2027, &earlier, HolidaySource::Shipped).await.unwrap();
    assert_eq!(days_2027(&app).await, 1);
    assert_eq!(calendar::load_shipped(&app.app).await.unwrap(), 26);
    assert_eq!(days_2027(&app).await, 26);
    assert_eq!(calendar::load_shipped(&app.app).await.unwrap(), 0, "and the next one changes nothing");

    // Admins replace a year; the same list again changes nothing.
    let body = json!({ "holidays": [
        { "date": "2027-03-10", "name": "Idul Fitri 1448 H" },
        { "date": "2027-01-01", "name": "Tahun Baru 2027 Masehi" },
        { "date": "2027-03-11", "name": "Cuti bersama Idul Fitri", "kind": "collective_leave" },
    ]});
    assert_eq!(app.put("/v1/holidays/2027", &app.hq.token, body.clone()).await.code(), "role_forbidden");
    let r = app.put("/v1/holidays/2027", &app.admin.token, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(app.put("/v1/holidays/2027", &app.admin.token, body).await.json, r.json);
    let got = app.get("/v1/holidays/2027", &app.rep.token).await;
    let dates: Vec<&str> = got.json["holidays"].as_array().unwrap().iter().map(|h| h["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2027-01-01", "2027-03-10", "2027-03-11"]);
    // ... and a year an admin set is never touched by one.
    assert_eq!(calendar::load_shipped(&app.app).await.unwrap(), 0);
    assert_eq!(days_2027(&app).await, 3);
    let wrong = app.put("/v1/holidays/2027", &app.admin.token, json!({ "holidays": [{ "date": "2026-05-01", "name": "x" }] })).await;
    assert_eq!((wrong.status, wrong.code()), (422, "holiday_wrong_year"));
    let bad_kind = app
        .put("/v1/holidays/2027", &app.admin.token, json!({ "holidays": [{ "date": "2027-05-01", "name": "x", "kind": "party" }] }))
        .await;
    assert_eq!(bad_kind.code(), "invalid_field");
    assert_eq!(app.get("/v1/holidays/1800", &app.rep.token).await.code(), "invalid_year");

    // A visit failing on Wednesday 23 December 2026: its re-visit is due 3 working days later,
    // past Christmas (24th collective leave, 25th holiday) and the weekend — the 30th, not the 29th.
    app.set_now(at("2026-12-23T03:00:00Z"));
    let c = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(c, "door_visit", 0)).await;
    let verdict = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(verdict.json["status"], "non_compliant");
    let revisit = app.get(&format!("/v1/tasks/{}", verdict.json["revisit_task_id"].as_str().unwrap()), &app.rep.token).await;
    assert_eq!(revisit.json["due_date"], "2026-12-30");
}

/// A flagged visit (major findings, none blocking) gets a review deadline in branch working days;
/// one still undecided when the day after it closes is escalated (`visit.review_overdue`) and
/// gets its re-visit task, as a rejected one would. A decided one is left alone. The rep's "needs
/// HQ help" puts a visit on the queue's own filter.
async fn flagged_visits_wait_for_a_decision_until_their_deadline(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["visit.review_overdue"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let c = customer(&app, &app.marketing.token, app.rep.id, "C").await;

    // The record form's data: every result reason with its own questions.
    let reasons = app.get("/v1/result-reasons", &app.rep.token).await;
    assert_eq!(reasons.status, 200, "{}", reasons.json);
    let pickup = &reasons.json["levels"][0]["reasons"][0];
    assert_eq!(pickup["code"], "pickup_late");
    assert!(pickup["details"].as_array().unwrap().iter().any(|q| q["code"] == "needs_hq_help" && q["kind"] == "yes_no"));

    // Answers are checked against the reason's questions and their kinds.
    let mut body = app.visit_body(c, "phone", 0);
    body["reason_details"]["needs_hq_help"] = json!("ya");
    let r = app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.rep.token, body.clone()).await;
    assert_eq!((r.status, r.code()), (422, "reason_detail_invalid"), "{}", r.json);
    body["reason_details"] = json!({ "competitor_name": "SiCepat" });
    let r = app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.rep.token, body).await;
    assert_eq!((r.status, r.code()), (422, "reason_detail_invalid"), "{}", r.json);

    // Two flagged phone calls (a one-line summary): one asks for HQ's help.
    let mut flagged = Vec::new();
    for help in [true, false] {
        let id = Uuid::new_v4();
        let mut body = app.visit_body(c, "phone", 0);
        body["summary"] = json!("Toko ramai.");
        body["reason_details"]["needs_hq_help"] = json!(help);
        assert_eq!(app.put(&format!("/v1/visits/{id}"), &app.rep.token, body).await.status, 201);
        let v = app.post(&format!("/v1/visits/{id}/submit"), &app.rep.token, json!({})).await;
        assert_eq!((v.json["status"].as_str(), v.json["needs_hq_help"].as_bool()), (Some("flagged"), Some(help)), "{}", v.json);
        // Three working days: Thursday, Friday, Monday.
        assert_eq!(v.json["review_due_date"], "2026-11-23");
        assert!(v.json["revisit_task_id"].is_null());
        flagged.push(id.to_string());
    }
    let helped = app.get("/v1/review-queue?needs_hq_help=true", &app.marketing.token).await;
    let ids: Vec<&str> = helped.json["items"].as_array().unwrap().iter().map(|e| e["visit"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [flagged[0].as_str()], "{}", helped.json);
    // The second is decided in time.
    let r = app.post(&format!("/v1/visits/{}/reviews", flagged[1]), &app.marketing.token, json!({ "decision": "approve" })).await;
    assert_eq!(r.status, 201, "{}", r.json);

    // Monday's close (00:30 WIB Tuesday) finds the first undecided at its deadline.
    app.set_now(at("2026-11-23T17:30:00Z"));
    tick(&app).await;
    let v = app.get(&format!("/v1/visits/{}", flagged[0]), &app.marketing.token).await.json;
    assert!(v["review_escalated_at"].is_string(), "{v}");
    assert_eq!(v["review_status"], "pending", "still HQ's to decide");
    let task = app.get(&format!("/v1/tasks/{}", v["revisit_task_id"].as_str().unwrap()), &app.rep.token).await.json;
    assert_eq!((task["task_type"].as_str(), task["origin"].as_str()), (Some("revisit"), Some("review_overdue")), "{task}");
    assert_eq!(task["origin_visit_id"], json!(flagged[0]));
    let decided = app.get(&format!("/v1/visits/{}", flagged[1]), &app.marketing.token).await.json;
    assert!(decided["review_escalated_at"].is_null() && decided["revisit_task_id"].is_null(), "{decided}");
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["event"].as_str(), events[0]["data"]["visit_id"].as_str()),
        (Some("visit.review_overdue"), Some(flagged[0].as_str()))
    );
    assert_eq!(events[0]["data"]["revisit_task_id"], v["revisit_task_id"]);

    // Rerun: nothing more.
    tick(&app).await;
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// The branch supervisor sees and reviews its branch like branch marketing; the task list, the
/// queue and the scorecards filter by the customers' ownership and distribution point; after the
/// day close each supervisor gets the day's digest, which the API also answers.
async fn supervisors_see_their_branch_by_ownership_and_get_the_daily_digest(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["supervisor.daily_digest"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let new_customer = |ownership: &'static str, dp: Option<&'static str>| {
        let code = format!("C{}", &Uuid::new_v4().simple().to_string()[..10]);
        let body = json!({ "code": code, "name": "Toko", "customer_type": "retail", "assigned_rep_id": app.rep.id,
                           "latitude": -6.2, "longitude": 106.8, "ownership": ownership, "dp": dp });
        async {
            let r = app.post("/v1/customers", &app.supervisor.token, body).await;
            assert_eq!(r.status, 201, "{}", r.json);
            r.json
        }
    };
    let agent = new_customer("agent", Some("DP-BKS-01")).await;
    let own = new_customer("hq", None).await;
    assert_eq!((agent["ownership"].as_str(), agent["dp"].as_str()), (Some("agent"), Some("DP-BKS-01")));
    assert_eq!((own["ownership"].as_str(), own["dp"].as_str()), (Some("hq"), None));
    let (agent, own) = (agent["id"].as_str().unwrap().to_string(), own["id"].as_str().unwrap().to_string());
    // Another branch's customer is not the supervisor's.
    let jap = customer(&app, &app.jap_marketing.token, app.jap_rep.id, "C").await;
    assert_eq!(app.get(&format!("/v1/customers/{jap}"), &app.supervisor.token).await.status, 404);

    for c in [&agent, &own] {
        task(&app, &app.supervisor.token, c.parse().unwrap(), app.rep.id, "2026-11-18").await;
    }
    let sup = app.supervisor.token.clone();
    for (query, want) in [("ownership=agent", &agent), ("dp=DP-BKS-01", &agent), ("ownership=hq", &own)] {
        let r = app.get(&format!("/v1/tasks?{query}"), &sup).await;
        assert_eq!(r.status, 200, "{query}: {}", r.json);
        let customers: Vec<&str> = r.json["items"].as_array().unwrap().iter().map(|t| t["customer_id"].as_str().unwrap()).collect();
        assert_eq!(customers, [want.as_str()], "{query}");
    }
    assert_eq!(app.get("/v1/tasks?ownership=dp", &sup).await.status, 400);

    // A compliant phone call to its own customer, a flagged one to the agent's.
    for (c, summary) in [(&own, None), (&agent, Some("Toko ramai."))] {
        let id = Uuid::new_v4();
        let mut body = app.visit_body(c.parse().unwrap(), "phone", 0);
        if let Some(s) = summary {
            body["summary"] = json!(s);
        }
        assert_eq!(app.put(&format!("/v1/visits/{id}"), &app.rep.token, body).await.status, 201);
        app.call_log(id, &app.rep.token).await;
        let v = app.post(&format!("/v1/visits/{id}/submit"), &app.rep.token, json!({})).await;
        assert_eq!(v.status, 200, "{}", v.json);
    }
    let queue = app.get("/v1/review-queue?ownership=agent", &sup).await;
    assert_eq!(queue.status, 200, "{}", queue.json);
    let statuses: Vec<&str> = queue.json["items"].as_array().unwrap().iter().map(|e| e["visit"]["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["flagged"], "{}", queue.json);
    let cards = app.get("/v1/scorecards?month=2026-11&dp=DP-BKS-01", &sup).await;
    assert_eq!(cards.status, 200, "{}", cards.json);
    let branch = &cards.json["branches"][0];
    assert_eq!((branch["phone_visits"].as_i64(), branch["tasks_due"].as_i64()), (Some(1), Some(1)), "{}", cards.json);
    let all = app.get("/v1/scorecards?month=2026-11", &sup).await;
    assert_eq!(all.json["branches"][0]["phone_visits"], 2, "{}", all.json);

    // The close of the 18th: the supervisor's digest.
    app.set_now(at("2026-11-18T17:30:00Z"));
    tick(&app).await;
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()).collect();
    assert_eq!(events.len(), 1, "one supervisor, one digest: {events:?}");
    let data = &events[0]["data"];
    assert_eq!(
        (events[0]["event"].as_str(), data["supervisor_id"].as_str()),
        (Some("supervisor.daily_digest"), Some(app.supervisor.id.to_string().as_str()))
    );
    let totals = &data["totals"];
    assert_eq!(
        [&totals["visits"], &totals["compliant"], &totals["flagged"], &totals["late"], &totals["missed_tasks"]],
        [&json!(2), &json!(1), &json!(1), &json!(0), &json!(2)],
        "{data}"
    );
    assert_eq!(data["reps"][0]["rep_id"], json!(app.rep.id));
    // The same on demand (yesterday by default), not for a rep, not across branches.
    let api = app.get("/v1/digests/daily", &sup).await;
    assert_eq!(api.status, 200, "{}", api.json);
    assert_eq!((api.json["date"].as_str(), &api.json["totals"]), (Some("2026-11-18"), totals));
    assert_eq!(app.get("/v1/digests/daily", &app.rep.token).await.code(), "role_forbidden");
    let other = app.get(&format!("/v1/digests/daily?branch_id={}", app.jkt), &app.jap_marketing.token).await;
    assert_eq!((other.status, other.code()), (422, "branch_not_found"));
    // Rerun: nothing twice.
    tick(&app).await;
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// The JMS's "Jumlah Paket Periode Sebelumnya / Ini": the task list bounds the customers' AWB of
/// last month and of this month (the branch's), a customer without shipments counting 0.
async fn tasks_filter_by_the_customers_volume_last_month_and_this_month(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // 10:00 WIB on 18 November
    let (busy_before, busy_now, silent) = (
        customer(&app, &app.marketing.token, app.rep.id, "C").await,
        customer(&app, &app.marketing.token, app.rep.id, "C").await,
        customer(&app, &app.marketing.token, app.rep.id, "C").await,
    );
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let volumes = [
        (CustomerId(busy_before), day(10, 31), 300), // last month 300, this month 50
        (CustomerId(busy_before), day(11, 2), 50),
        (CustomerId(busy_now), day(11, 1), 120), // last month 0, this month 200
        (CustomerId(busy_now), day(11, 17), 80),
        (CustomerId(busy_now), day(9, 30), 999), // two months ago: not counted
    ];
    app.app.repo.upsert_volumes(&volumes).await.unwrap();
    for c in [busy_before, busy_now, silent] {
        task(&app, &app.marketing.token, c, app.rep.id, "2026-11-25").await;
    }
    let tasks_of = |query: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/v1/tasks?{query}"), &app.marketing.token).await;
            assert_eq!(r.status, 200, "{query}: {}", r.json);
            let mut got: Vec<Uuid> =
                r.json["items"].as_array().unwrap().iter().map(|t| t["customer_id"].as_str().unwrap().parse().unwrap()).collect();
            got.sort();
            got
        }
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    assert_eq!(tasks_of("previous_volume_min=100").await, [busy_before]);
    assert_eq!(tasks_of("current_volume_min=100").await, [busy_now]);
    assert_eq!(tasks_of("current_volume_max=60").await, sorted(vec![busy_before, silent]));
    assert_eq!(tasks_of("previous_volume_max=0").await, sorted(vec![busy_now, silent]));
    assert_eq!(tasks_of("previous_volume_min=1&current_volume_max=50").await, [busy_before]);
    assert_eq!(tasks_of("current_volume_min=0").await.len(), 3, "a minimum of 0 keeps everyone");
    let r = app.get("/v1/tasks?current_volume_min=-1", &app.marketing.token).await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
}

/// SOP ch. 3.1 ("Dokumentasi: kirim pesan terima kasih via WA ke customer"): a door visit gives
/// its rep a thank-you task, done when the rep says the message went out; a phone call does not.
async fn a_door_visit_asks_for_its_thank_you_message(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB
    let c = customer(&app, &app.marketing.token, app.rep.id, "C").await;
    for method in ["door_visit", "phone"] {
        let id = Uuid::new_v4();
        assert_eq!(app.put(&format!("/v1/visits/{id}"), &app.rep.token, app.visit_body(c, method, 0)).await.status, 201);
        assert_eq!(app.post(&format!("/v1/visits/{id}/submit"), &app.rep.token, json!({})).await.status, 200);
    }
    let listed = app.get(&format!("/v1/tasks?customer_id={c}&task_type=thank_you"), &app.rep.token).await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one thank-you, for the door visit: {}", listed.json);
    let thanks = &items[0];
    assert_eq!(
        (thanks["due_date"].as_str(), thanks["origin"].as_str(), thanks["assignee_id"].as_str()),
        (Some("2026-11-19"), Some("thank_you"), Some(app.rep.id.to_string().as_str()))
    );
    let id = thanks["id"].as_str().unwrap();
    // Another rep cannot see it; a task a visit must follow up cannot be marked done by hand.
    assert_eq!(app.post(&format!("/v1/tasks/{id}/done"), &app.rep2.token, json!({})).await.status, 404);
    let revisit = app.get(&format!("/v1/tasks?customer_id={c}&task_type=revisit"), &app.rep.token).await;
    let revisit = revisit.json["items"][0]["id"].as_str().expect("the door visit without photos has its re-visit").to_string();
    let r = app.post(&format!("/v1/tasks/{revisit}/done"), &app.rep.token, json!({})).await;
    assert_eq!((r.status, r.code()), (409, "task_needs_visit"));
    // Done, and done again: the same task.
    let done = app.post(&format!("/v1/tasks/{id}/done"), &app.rep.token, json!({ "note": "Bu Sari membalas: sama-sama" })).await;
    assert_eq!((done.status, done.json["status"].as_str()), (200, Some("done")), "{}", done.json);
    let again = app.post(&format!("/v1/tasks/{id}/done"), &app.rep.token, json!({})).await;
    assert_eq!((again.status, &again.json["updated_at"]), (200, &done.json["updated_at"]));
}

/// The task ids of the `task.missed` events received so far, one entry an event.
fn missed_events(got: &std::sync::Mutex<Vec<crate::webhooks::Received>>) -> Vec<String> {
    let got = got.lock().unwrap();
    got.iter()
        .filter(|r| r.header("fieldproof-event") == "task.missed")
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["task_id"].as_str().unwrap().to_string())
        .collect()
}

/// The clock of a real machine is stepped by NTP, forwards and backwards, and a VM resumes days
/// later: whatever the steps, each branch day is closed exactly once — its tasks missed once,
/// its late drafts flagged once, each event sent once — and never before its midnight.
async fn a_clock_stepping_across_midnight_closes_each_day_once(app: TestApp) {
    app.set_now(at("2026-11-18T16:59:00Z")); // Wednesday 23:59 WIB
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["task.missed"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let c = customer(&app, &app.marketing.token, app.rep.id, "C").await;
    let t18 = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-18").await;
    let t19 = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-19").await;
    let t20 = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-20").await;
    let t23 = task(&app, &app.marketing.token, c, app.rep.id, "2026-11-23").await;
    let draft = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(c, "phone", 0)).await;
    assert_eq!(r.json["visit_date"], "2026-11-18", "{}", r.json);
    tick(&app).await;
    assert_eq!(status(&app, &app.marketing.token, &t18).await, "open", "a minute before midnight");
    let jkt = BranchId(app.jkt);

    // Stepped 10 minutes forward, across midnight: the 18th closes.
    app.set_now(at("2026-11-18T17:09:00Z"));
    tick(&app).await;
    assert_eq!(status(&app, &app.marketing.token, &t18).await, "missed");
    assert_eq!(app.app.repo.last_closed_day(jkt).await.unwrap(), Some(d("2026-11-18")));

    // Stepped 15 minutes back, to 23:54 on the 18th, then through midnight a second time: the
    // 18th is not closed again, and the 19th not before its own midnight.
    for now in ["2026-11-18T16:54:00Z", "2026-11-18T17:01:00Z", "2026-11-19T16:59:59Z"] {
        app.set_now(at(now));
        tick(&app).await;
        assert_eq!(app.app.repo.last_closed_day(jkt).await.unwrap(), Some(d("2026-11-18")), "at {now}");
        assert_eq!(status(&app, &app.marketing.token, &t19).await, "open", "at {now}");
    }

    // The 19th's close enqueued at 00:05, the clock stepped back before a worker ran it: the job
    // waits for its time and runs once when the clock passes it again.
    app.set_now(at("2026-11-19T17:05:00Z"));
    let worker = Worker::new(app.app.clone(), JobsSettings { retry_backoff_ms: 0, ..JobsSettings::default() });
    worker.enqueue_periodic(app.now()).await.unwrap();
    app.set_now(at("2026-11-19T16:50:00Z"));
    drain(&app, 3).await;
    assert_eq!(status(&app, &app.marketing.token, &t19).await, "open", "the close is not due on the stepped-back clock");
    app.set_now(at("2026-11-19T17:06:00Z"));
    tick(&app).await;
    assert_eq!(status(&app, &app.marketing.token, &t19).await, "missed");
    assert_eq!(app.app.repo.last_closed_day(jkt).await.unwrap(), Some(d("2026-11-19")));

    // A VM resumed four days later, then stepped back a day: the 20th to the 23rd close once each.
    for now in ["2026-11-23T17:30:00Z", "2026-11-22T17:30:00Z", "2026-11-23T17:31:00Z"] {
        app.set_now(at(now));
        tick(&app).await;
        assert_eq!(app.app.repo.last_closed_day(jkt).await.unwrap(), Some(d("2026-11-23")), "at {now}");
    }
    for t in [&t20, &t23] {
        assert_eq!(status(&app, &app.marketing.token, t).await, "missed");
    }
    for day in ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"] {
        assert_eq!(calendar::close_day(&app.app, jkt, d(day)).await.unwrap(), None, "{day} was closed");
    }

    // Once each: one `task.missed` a task, one `upload_late` on the draft.
    let mut missed = missed_events(&got);
    missed.sort();
    let mut want = vec![t18, t19, t20, t23];
    want.sort();
    assert_eq!(missed, want);
    let visit = app.get(&format!("/v1/visits/{draft}"), &app.rep.token).await;
    let late = visit.json["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "upload_late").count();
    assert_eq!(late, 1, "{}", visit.json["findings"]);
}
