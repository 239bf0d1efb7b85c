//! The HQ / branch review queue, bulk decisions and the monthly scorecards.

use std::collections::HashSet;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{today_in, TestApp};

backend_tests!(the_queue_puts_the_worst_first_and_filters, bulk_decisions_are_all_or_nothing, scorecards_count_the_month);

/// Submits a visit of `customer` by `rep` made `edit`-ed from a complete one; returns its verdict.
async fn submitted(app: &TestApp, token: &str, customer: Uuid, method: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let id = Uuid::new_v4();
    let mut body = app.visit_body(customer, method, 0);
    edit(&mut body);
    let r = app.put(&format!("/v1/visits/{id}"), token, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    if method == "phone" {
        app.call_log(id, token).await;
    }
    let r = app.post(&format!("/v1/visits/{id}/submit"), token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json
}

/// Two visits of each verdict, in a mixed order: a door visit without photos (non-compliant),
/// a phone call with a one-line summary (flagged), a complete phone call (compliant).
async fn six_visits(app: &TestApp, customer: Uuid) -> Vec<Value> {
    let mut out = Vec::new();
    for _ in 0..2 {
        out.push(submitted(app, &app.rep.token, customer, "phone", |_| {}).await);
        out.push(submitted(app, &app.rep.token, customer, "door_visit", |_| {}).await);
        out.push(submitted(app, &app.rep.token, customer, "phone", |b| b["summary"] = json!("Toko ramai.")).await);
    }
    let statuses: Vec<&str> = out.iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["compliant", "non_compliant", "flagged", "compliant", "non_compliant", "flagged"]);
    out
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["visit"]["id"].as_str().unwrap().to_string()).collect()
}

async fn the_queue_puts_the_worst_first_and_filters(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let v = six_visits(&app, customer).await;
    let id = |i: usize| v[i]["id"].as_str().unwrap().to_string();

    assert_eq!(app.get("/v1/review-queue", &app.rep.token).await.code(), "role_forbidden");
    let all = app.get("/v1/review-queue", &app.marketing.token).await;
    assert_eq!(all.status, 200, "{}", all.json);
    // Non-compliant first, then flagged, then compliant; newest first within each.
    assert_eq!(ids(&all.json), [id(4), id(1), id(5), id(2), id(3), id(0)]);
    let first = &all.json["items"][0];
    assert_eq!(first["visit"]["findings"][0]["code"], "photo_required_missing");
    assert_eq!(first["customer"]["id"], customer.to_string());
    assert!(first["rep"]["name"].as_str().unwrap().starts_with("sales-"));
    assert!(first["visit"]["photos"].is_array() && first["distance_m"].is_null(), "no photos, no distance");

    // The cursor walks the same order, two at a time, with nothing twice.
    let (mut walked, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/review-queue?limit=2&cursor={c}"),
            None => "/v1/review-queue?limit=2".to_string(),
        };
        let page = app.get(&path, &app.hq.token).await;
        walked.extend(ids(&page.json));
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, ids(&all.json));

    // Filters.
    let flagged = app.get("/v1/review-queue?status=flagged", &app.marketing.token).await;
    assert_eq!(ids(&flagged.json), [id(5), id(2)]);
    let missing = app.get("/v1/review-queue?finding_code=photo_required_missing", &app.marketing.token).await;
    assert_eq!(ids(&missing.json), [id(4), id(1)]);
    let rep2 = app.get(&format!("/v1/review-queue?rep_id={}", app.rep2.id), &app.marketing.token).await;
    assert!(ids(&rep2.json).is_empty());
    assert!(ids(&app.get("/v1/review-queue", &app.jap_marketing.token).await.json).is_empty(), "another branch's marketing sees none");
    assert_eq!(app.get("/v1/review-queue?cursor=nonsense", &app.hq.token).await.code(), "invalid_cursor");

    // A decided visit leaves the queue; asked for by its review status it is there.
    let r = app.post(&format!("/v1/visits/{}/reviews", id(0)), &app.marketing.token, json!({ "decision": "approve" })).await;
    assert_eq!(r.status, 201);
    assert!(!ids(&app.get("/v1/review-queue", &app.marketing.token).await.json).contains(&id(0)));
    assert_eq!(ids(&app.get("/v1/review-queue?review_status=approved", &app.marketing.token).await.json), [id(0)]);
    let audit = app.app.repo.list_audit("visit", &ids(&all.json).join(",")).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "review_queue.viewed").count(), 1, "reading the queue is audited");
}

async fn bulk_decisions_are_all_or_nothing(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let v = six_visits(&app, customer).await;
    let id = |i: usize| v[i]["id"].as_str().unwrap().to_string();
    let draft = Uuid::new_v4();
    app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(customer, "phone", 0)).await;

    // One bad item refuses the lot, and says which and why.
    let bad = json!({ "items": [
        { "visit_id": id(0), "decision": "approve" },
        { "visit_id": id(1), "decision": "reject", "comment": "Foto wajib tidak ada" },
        { "visit_id": Uuid::new_v4(), "decision": "approve" },
        { "visit_id": draft, "decision": "approve" },
    ]});
    let r = app.post("/v1/reviews/bulk", &app.marketing.token, bad).await;
    assert_eq!((r.status, r.code()), (422, "bulk_rejected"));
    let errors: Vec<(u64, &str)> =
        r.json["errors"].as_array().unwrap().iter().map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap())).collect();
    assert_eq!(errors, [(2, "visit_not_found"), (3, "visit_not_submitted")]);
    let visit0 = app.get(&format!("/v1/visits/{}", id(0)), &app.marketing.token).await;
    assert_eq!(
        (visit0.json["review_status"].as_str(), visit0.json["reviews"].as_array().unwrap().len()),
        (Some("pending"), 0),
        "nothing written"
    );
    let dup = json!({ "items": [{ "visit_id": id(0), "decision": "approve" }, { "visit_id": id(0), "decision": "flag" }] });
    let r = app.post("/v1/reviews/bulk", &app.marketing.token, dup).await;
    assert_eq!(r.json["errors"][0]["code"], "duplicate_visit");
    assert_eq!(app.post("/v1/reviews/bulk", &app.marketing.token, json!({ "items": [] })).await.code(), "invalid_field");
    assert_eq!(
        app.post("/v1/reviews/bulk", &app.rep.token, json!({ "items": [{ "visit_id": id(0), "decision": "approve" }] })).await.code(),
        "role_forbidden"
    );

    // All good: written together; a retry of the same request changes nothing.
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let good = json!({ "items": [
        { "visit_id": id(0), "id": a, "decision": "approve" },
        { "visit_id": id(1), "id": b, "decision": "reject", "comment": "Foto wajib tidak ada", "deduct_points": 5 },
        { "visit_id": id(2), "id": c, "decision": "flag", "comment": "Keterangan terlalu pendek" },
    ]});
    let r = app.post("/v1/reviews/bulk", &app.hq.token, good.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(r.json["items"].as_array().unwrap().iter().all(|i| i["created"] == true));
    let again = app.post("/v1/reviews/bulk", &app.hq.token, good).await;
    assert_eq!(again.status, 200);
    assert!(again.json["items"].as_array().unwrap().iter().all(|i| i["created"] == false));
    assert_eq!(again.json["items"][1]["review"]["id"], b.to_string());

    let rejected = app.get(&format!("/v1/visits/{}", id(1)), &app.hq.token).await;
    assert_eq!((rejected.json["review_status"].as_str(), rejected.json["deducted_points"].as_u64()), (Some("rejected"), Some(5)));
    assert_eq!(rejected.json["revisit_task_id"], v[1]["revisit_task_id"], "the reject reuses the open re-visit task");
    let open_revisits = app.get(&format!("/v1/tasks?customer_id={customer}&status=open"), &app.rep.token).await;
    let revisits: HashSet<&str> = open_revisits.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["task_type"] == "revisit")
        .map(|t| t["origin_visit_id"].as_str().unwrap())
        .collect();
    assert_eq!(revisits.len(), 2, "one per non-compliant visit, never two");
    for i in 0..3 {
        let audit = app.app.repo.list_audit("visit", &id(i)).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "visit.reviewed").count(), 1, "visit {i}: each decision audited once");
    }
}

async fn scorecards_count_the_month(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let today = today_in(chrono_tz::Asia::Jakarta);
    let task = app
        .post(
            "/v1/tasks",
            &app.marketing.token,
            json!({"customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine", "due_date": today}),
        )
        .await;
    assert_eq!(task.status, 201, "{}", task.json);
    let v = six_visits(&app, customer).await;
    // A Lost customer's visit: its result is counted in the branch's lost-customer analysis.
    let lost = app.customer_at(-6.2, 106.8).await;
    app.send(
        reqwest::Method::PATCH,
        &format!("/v1/customers/{lost}"),
        Some(&app.marketing.token),
        crate::helpers::Body::Json(json!({ "class": "lost", "previous_level": "C" })),
    )
    .await;
    let lost_visit = submitted(&app, &app.rep.token, lost, "phone", |b| {
        b["result_reason"] = json!({ "level1": "competition", "level2": "competitor_cod_faster" });
        b["reason_details"] = json!({ "competitor_name": "SiCepat", "competitor_cod_days": 2, "our_cod_days": 5,
                                      "solution": "Ajukan pencairan COD H+2 ke HQ" });
    })
    .await;
    let r = app
        .post(
            &format!("/v1/visits/{}/reviews", v[1]["id"].as_str().unwrap()),
            &app.hq.token,
            json!({ "decision": "reject", "deduct_points": 7 }),
        )
        .await;
    assert_eq!(r.status, 201);

    let month = today.format("%Y-%m").to_string();
    let cards = app.get(&format!("/v1/scorecards?month={month}"), &app.marketing.token).await;
    assert_eq!(cards.status, 200, "{}", cards.json);
    let rep =
        cards.json["reps"].as_array().unwrap().iter().find(|c| c["rep_id"] == app.rep.id.to_string()).expect("the rep's card").clone();
    let scores: Vec<f64> = v.iter().chain([&lost_visit]).map(|x| x["score"].as_f64().unwrap()).collect();
    let average = scores.iter().sum::<f64>() / scores.len() as f64;
    assert_eq!((rep["door_visits"].as_i64(), rep["phone_visits"].as_i64(), rep["whatsapp_visits"].as_i64()), (Some(2), Some(5), Some(0)));
    // Tasks due this month: the routine one and the re-visits, wherever their working-day due
    // dates fall (read back through the task list).
    let (from, to) = (cards.json["from"].as_str().unwrap(), cards.json["to"].as_str().unwrap());
    let due = app.get(&format!("/v1/tasks?assignee=me&due_from={from}&due_to={to}&limit=200"), &app.rep.token).await;
    let due = due.json["items"].as_array().unwrap();
    let door = due.iter().filter(|t| t["required_method"] == "door_visit").count() as i64;
    assert!(due.iter().any(|t| t["task_type"] == "routine"));
    assert_eq!((rep["tasks_due"].as_i64(), rep["door_visits_required"].as_i64()), (Some(due.len() as i64), Some(door)));
    assert!((rep["average_score"].as_f64().unwrap() - average).abs() < 0.001, "{rep}");
    // The Record Visit score counts HQ's 7 points against the one visit they were taken from.
    let deducted = v[1]["score"].as_f64().unwrap();
    let finals: f64 = scores.iter().sum::<f64>() - deducted + (deducted - 7.0).max(0.0);
    assert!((rep["record_visit_score"].as_f64().unwrap() - finals / scores.len() as f64).abs() < 0.001, "{rep}");
    let compliant = v.iter().chain([&lost_visit]).filter(|x| x["status"] == "compliant").count() as f64;
    assert!((rep["compliant_rate"].as_f64().unwrap() - compliant / 7.0).abs() < 0.001, "{rep}");
    assert_eq!(
        (rep["non_compliant"].as_i64(), rep["deducted_points"].as_i64(), rep["open_revisits"].as_i64()),
        (Some(3), Some(7), Some(3)),
        "the Lost customer by phone is non-compliant too"
    );
    let branch = &cards.json["branches"][0];
    assert_eq!(branch["branch_code"], "JKT");
    assert_eq!(branch["lost_reasons"], json!([{ "level1": "competition", "level2": "competitor_cod_faster", "count": 1 }]));
    assert_eq!(branch["door_visits"], rep["door_visits"]);

    // Scope: a rep sees only their own card; another branch sees nothing of JKT.
    let own = app.get(&format!("/v1/scorecards?month={month}"), &app.rep.token).await;
    assert_eq!(own.json["reps"].as_array().unwrap().len(), 1);
    assert_eq!(own.json["branches"], json!([]));
    let jap = app.get(&format!("/v1/scorecards?month={month}"), &app.jap_marketing.token).await;
    assert_eq!(jap.json["reps"], json!([]));
    // Another month is empty; a bad month is refused.
    let empty = app.get("/v1/scorecards?month=2020-01", &app.hq.token).await;
    assert_eq!((empty.json["reps"].clone(), empty.json["from"].as_str()), (json!([]), Some("2020-01-01")));
    assert_eq!(app.get("/v1/scorecards?month=2026-13", &app.hq.token).await.code(), "invalid_month");
}
