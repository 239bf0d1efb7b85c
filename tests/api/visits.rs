use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fresh, photo_form, with_customer_photo, TestApp};

backend_tests!(
    a_complete_door_visit_near_the_customer_is_compliant_and_closes_its_task,
    the_same_put_twice_changes_nothing_and_a_submitted_visit_refuses_a_different_body,
    a_repeated_submit_returns_the_same_verdict_and_one_revisit_task,
    concurrent_duplicate_puts_create_one_visit,
    a_visit_submitted_after_local_midnight_is_late,
    a_visit_without_required_photos_is_non_compliant_with_a_linked_revisit_task,
    an_incomplete_visit_cannot_be_submitted,
    visits_list_by_status_finding_and_date_with_a_cursor,
);

async fn a_complete_door_visit_near_the_customer_is_compliant_and_closes_its_task(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let task = app
        .post(
            "/v1/tasks",
            &app.marketing.token,
            json!({"customer_id": customer, "assignee_id": app.rep.id, "task_type": "routine", "due_date": "2026-12-01"}),
        )
        .await;
    let task_id = task.json["id"].as_str().unwrap().to_string();
    // Confirmed with the customer the day before (H-1), as the SOP asks.
    let confirmed = app
        .app
        .repo
        .confirm_task(
            fieldproof::domain::ids::TaskId(task_id.parse().unwrap()),
            fieldproof::domain::ids::UserId(app.rep.id),
            Some("Bu Sari ada besok jam 10"),
            chrono::Utc::now() - chrono::Duration::days(1),
        )
        .await
        .unwrap();
    assert!(confirmed);
    let visit = Uuid::new_v4();
    let mut body = app.visit_body(customer, "door_visit", 0);
    body["task_id"] = json!(task_id);
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.headers["location"], format!("/v1/visits/{visit}"));
    assert_eq!(r.json["status"], "draft");
    for form in [with_customer_photo(48.8925, 2.236_388_9), photo_form("storefront", fresh("samsung-galaxy-s7-edge.jpg"), &[])] {
        let r = app.put_photo(visit, Uuid::new_v4(), &app.rep.token, form).await;
        assert_eq!(r.status, 201, "{}", r.json);
        assert_eq!(r.json["findings"], json!([]), "{}", r.json);
    }
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!((r.json["status"].as_str(), r.json["score"].as_u64()), (Some("compliant"), Some(100)));
    assert_eq!(r.json["findings"], json!([]));
    assert!(r.json["revisit_task_id"].is_null());
    assert_eq!(r.json["photos"].as_array().unwrap().len(), 2);
    let t = app.get(&format!("/v1/tasks/{task_id}"), &app.rep.token).await;
    assert_eq!(t.json["status"], "done");
}

async fn the_same_put_twice_changes_nothing_and_a_submitted_visit_refuses_a_different_body(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    let path = format!("/v1/visits/{visit}");
    let body = app.visit_body(customer, "phone", 0);
    let first = app.put(&path, &app.rep.token, body.clone()).await;
    assert_eq!(first.status, 201);
    let again = app.put(&path, &app.rep.token, body.clone()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["updated_at"], first.json["updated_at"], "an identical PUT writes nothing");
    // A draft takes changes.
    let mut edited = body.clone();
    edited["summary"] = json!("Ringkasan baru. Dengan tiga kalimat. Dan data 12 AWB.");
    let r = app.put(&path, &app.rep.token, edited.clone()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["summary"], edited["summary"]);
    let submitted = app.post(&format!("{path}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(submitted.status, 200);
    // After submit: the same body is still fine, a different one is a conflict.
    let r = app.put(&path, &app.rep.token, edited.clone()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], submitted.json["status"]);
    let r = app.put(&path, &app.rep.token, body).await;
    assert_eq!((r.status, r.code()), (409, "visit_already_submitted"));
    let stored = app.get(&path, &app.rep.token).await;
    assert_eq!(stored.json["summary"], edited["summary"], "the rejected PUT changed nothing");
}

async fn a_repeated_submit_returns_the_same_verdict_and_one_revisit_task(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    // Fire several submits at once, then once more.
    let path = format!("/v1/visits/{visit}/submit");
    let submits = (0..4).map(|_| app.post(&path, &app.rep.token, json!({})));
    let results = futures_join(submits).await;
    let first = &results[0];
    for r in &results {
        assert_eq!(r.status, 200);
        assert_eq!(r.json["score"], first.json["score"]);
        assert_eq!(r.json["findings"], first.json["findings"]);
        assert_eq!(r.json["revisit_task_id"], first.json["revisit_task_id"]);
        assert_eq!(r.json["submitted_at"], first.json["submitted_at"]);
    }
    assert_eq!(first.json["status"], "non_compliant");
    let tasks = app.get("/v1/tasks?assignee=me", &app.rep.token).await;
    let revisits: Vec<_> = tasks.json["items"].as_array().unwrap().iter().filter(|t| t["task_type"] == "revisit").collect();
    assert_eq!(revisits.len(), 1, "one re-visit task however often the phone retries");
    assert_eq!(revisits[0]["origin_visit_id"], visit.to_string());
    assert_eq!(revisits[0]["id"], first.json["revisit_task_id"]);
}

/// Runs requests concurrently, as a phone's retries and a flaky network would.
pub async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    futures_util::future::join_all(futures).await
}

async fn concurrent_duplicate_puts_create_one_visit(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    let body = app.visit_body(customer, "door_visit", 0);
    let path = format!("/v1/visits/{visit}");
    let results = futures_join((0..8).map(|_| app.put(&path, &app.rep.token, body.clone()))).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let unchanged = results.iter().filter(|r| r.status == 200).count();
    assert_eq!((created, unchanged), (1, 7), "{:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
    let list = app.get(&format!("/v1/visits?customer_id={customer}"), &app.rep.token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

async fn a_visit_submitted_after_local_midnight_is_late(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    // Visited 50 hours ago: its local day (WIB) ended more than a day ago.
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "phone", 50)).await;
    app.call_log(visit, &app.rep.token).await;
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    let codes: Vec<&str> = r.json["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["upload_late"]);
    let f = &r.json["findings"][0];
    assert_eq!(f["evidence"]["time_zone"], "Asia/Jakarta");
    assert!(f["evidence"]["late_minutes"].as_i64().unwrap() > 0);
    assert_eq!((r.json["status"].as_str(), r.json["score"].as_u64()), (Some("flagged"), Some(85)));
}

async fn a_visit_without_required_photos_is_non_compliant_with_a_linked_revisit_task(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("samsung-galaxy-s7-edge.jpg"), &[])).await;
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(r.json["status"], "non_compliant");
    assert_eq!(r.json["score"], 60);
    let f = &r.json["findings"][0];
    assert_eq!((f["code"].as_str(), f["severity"].as_str()), (Some("photo_required_missing"), Some("blocking")));
    assert_eq!(f["evidence"]["missing_kinds"], json!(["with_customer"]));
    assert!(f["message_id"].as_str().unwrap().contains("with_customer"));
    let task_id = r.json["revisit_task_id"].as_str().expect("a re-visit task");
    let task = app.get(&format!("/v1/tasks/{task_id}"), &app.rep.token).await;
    assert_eq!(task.json["task_type"], "revisit");
    assert_eq!(task.json["assignee_id"], app.rep.id.to_string());
    assert_eq!(task.json["origin_visit_id"], visit.to_string());
    assert_eq!(task.json["origin"], "verdict_non_compliant");
    assert_eq!(task.json["customer_id"], customer.to_string());
}

async fn an_incomplete_visit_cannot_be_submitted(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, json!({"customer_id": customer, "method": "door_visit"})).await;
    assert_eq!(r.status, 201);
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!((r.status, r.code()), (422, "visit_incomplete"));
    assert_eq!(r.json["fields"], json!(["visited_at", "contact_name", "result_reason", "details", "summary"]));
    assert_eq!(app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await.json["status"], "draft");
}

async fn visits_list_by_status_finding_and_date_with_a_cursor(app: TestApp) {
    let near = app.customer_at_samsung_photo().await;
    let mut late = Vec::new();
    for hours in [50, 0, 0] {
        let visit = Uuid::new_v4();
        app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(near, "phone", hours)).await;
        app.call_log(visit, &app.rep.token).await;
        app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
        if hours > 0 {
            late.push(visit);
        }
    }
    let draft = Uuid::new_v4();
    app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(near, "phone", 0)).await;

    let ids = |r: &crate::helpers::Resp| {
        r.json["items"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let r = app.get("/v1/visits?finding_code=upload_late", &app.marketing.token).await;
    assert_eq!(ids(&r), vec![late[0].to_string()]);
    let r = app.get("/v1/visits?status=draft", &app.rep.token).await;
    assert_eq!(ids(&r), vec![draft.to_string()]);
    let r = app.get("/v1/visits?status=compliant", &app.rep.token).await;
    assert_eq!(ids(&r).len(), 2);
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let r = app.get(&format!("/v1/visits?date_from={today}&date_to={today}"), &app.hq.token).await;
    assert_eq!(ids(&r).len(), 3);
    let r = app.get(&format!("/v1/visits?rep_id={}", app.rep2.id), &app.hq.token).await;
    assert_eq!(ids(&r).len(), 0);
    // Page through all four, two at a time.
    let first = app.get("/v1/visits?limit=2", &app.rep.token).await;
    let cursor = first.json["next_cursor"].as_str().unwrap().to_string();
    let second = app.get(&format!("/v1/visits?limit=2&cursor={cursor}"), &app.rep.token).await;
    assert!(second.json["next_cursor"].is_null());
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4);
    // Another rep sees none of them.
    assert_eq!(ids(&app.get("/v1/visits", &app.rep2.token).await).len(), 0);
}
