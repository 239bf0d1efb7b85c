use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fresh, photo_form, with_customer_photo, TestApp};

backend_tests!(
    a_rejected_visit_yields_a_revisit_task_for_the_same_rep,
    rejecting_a_non_compliant_visit_reuses_its_open_revisit_task,
    approvals_and_deductions_are_kept_and_audited,
    only_marketing_reviews_and_only_submitted_visits,
    a_retried_review_is_recorded_once,
);

async fn a_retried_review_is_recorded_once(app: TestApp) {
    let (visit, _) = compliant_visit(&app).await;
    let id = Uuid::new_v4();
    let body = json!({"id": id, "decision": "reject", "comment": "Ulangi", "deduct_points": 10});
    let path = format!("/v1/visits/{visit}/reviews");
    let results = futures_util::future::join_all((0..4).map(|_| app.post(&path, &app.hq.token, body.clone()))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 200), "{statuses:?}");
    let again = app.post(&path, &app.hq.token, body.clone()).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["review"]["id"], id.to_string());
    assert_eq!(again.json["visit"]["deducted_points"], 10, "the deduction is not doubled");
    assert_eq!(again.json["visit"]["reviews"].as_array().unwrap().len(), 1);
    let mut other = body.clone();
    other["decision"] = json!("approve");
    let r = app.post(&path, &app.marketing.token, other).await;
    assert_eq!((r.status, r.code()), (409, "review_id_conflict"));
    let tasks = app.get("/v1/tasks?assignee=me", &app.rep.token).await;
    assert_eq!(tasks.json["items"].as_array().unwrap().iter().filter(|t| t["task_type"] == "revisit").count(), 1);
}

async fn compliant_visit(app: &TestApp) -> (Uuid, Uuid) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    app.put_photo(visit, Uuid::new_v4(), &app.rep.token, with_customer_photo(48.8925, 2.236_388_9)).await;
    app.put_photo(visit, Uuid::new_v4(), &app.rep.token, photo_form("storefront", fresh("samsung-galaxy-s7-edge.jpg"), &[])).await;
    let r = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(r.json["status"], "compliant");
    (visit, customer)
}

async fn a_rejected_visit_yields_a_revisit_task_for_the_same_rep(app: TestApp) {
    let (visit, customer) = compliant_visit(&app).await;
    let r = app
        .post(
            &format!("/v1/visits/{visit}/reviews"),
            &app.hq.token,
            json!({"decision": "reject", "comment": "Wajah customer tidak terlihat", "deduct_points": 10}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["visit"]["review_status"], "rejected");
    assert_eq!(r.json["visit"]["final_score"], 90);
    let task_id = r.json["review"]["revisit_task_id"].as_str().expect("reject creates a re-visit task");
    assert_eq!(r.json["visit"]["revisit_task_id"], task_id);
    let task = app.get(&format!("/v1/tasks/{task_id}"), &app.rep.token).await;
    assert_eq!(task.status, 200, "the rep sees the task: it is theirs");
    assert_eq!((task.json["task_type"].as_str(), task.json["origin"].as_str()), (Some("revisit"), Some("review_reject")));
    assert_eq!(task.json["customer_id"], customer.to_string());
    assert_eq!(task.json["origin_visit_id"], visit.to_string());
    assert_eq!(task.json["created_by"], app.hq.id.to_string());
    // Rejecting again (branch marketing, without a deduction) keeps one open re-visit task.
    let again = app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({"decision": "reject"})).await;
    assert_eq!(again.json["review"]["revisit_task_id"], task_id);
    let reviews = app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await.json["reviews"].as_array().unwrap().len();
    assert_eq!(reviews, 2, "every decision is kept");
}

async fn rejecting_a_non_compliant_visit_reuses_its_open_revisit_task(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let submitted = app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await;
    let revisit = submitted.json["revisit_task_id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({"decision": "reject"})).await;
    assert_eq!(r.json["review"]["revisit_task_id"], revisit);
    let tasks = app.get("/v1/tasks?assignee=me", &app.rep.token).await;
    assert_eq!(tasks.json["items"].as_array().unwrap().iter().filter(|t| t["task_type"] == "revisit").count(), 1);
}

async fn approvals_and_deductions_are_kept_and_audited(app: TestApp) {
    let (visit, _) = compliant_visit(&app).await;
    // Branch marketing decides, HQ deducts (SOP ch. 9; policy.deduction_roles).
    let path = format!("/v1/visits/{visit}/reviews");
    let r = app.post(&path, &app.marketing.token, json!({"decision": "flag", "deduct_points": 5})).await;
    assert_eq!((r.status, r.code()), (403, "deduction_forbidden"));
    let r = app
        .post(
            "/v1/reviews/bulk",
            &app.marketing.token,
            json!({ "items": [{ "visit_id": visit, "decision": "reject", "deduct_points": 5 }] }),
        )
        .await;
    assert_eq!((r.code(), r.json["errors"][0]["code"].as_str()), ("bulk_rejected", Some("deduction_forbidden")), "{}", r.json);
    let v = app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await;
    assert!(v.json["reviews"].as_array().unwrap().is_empty(), "nothing was written");
    let r = app
        .post(
            &format!("/v1/visits/{visit}/reviews"),
            &app.hq.token,
            json!({"decision": "flag", "comment": "Cek ulang", "deduct_points": 5}),
        )
        .await;
    assert_eq!(r.json["visit"]["review_status"], "flagged");
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({"decision": "approve"})).await;
    assert_eq!(r.json["visit"]["review_status"], "approved");
    assert_eq!(r.json["visit"]["deducted_points"], 5);
    assert_eq!(r.json["visit"]["final_score"], 95);
    assert!(r.json["review"]["revisit_task_id"].is_null());
    let audit = app.app.repo.list_audit("visit", &visit.to_string()).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).filter(|a| *a != "visit.viewed").collect();
    assert_eq!(actions, vec!["visit.submitted", "visit.reviewed", "visit.reviewed"]);
    assert_eq!(audit.iter().find(|a| a.action == "visit.reviewed").unwrap().detail["decision"], "flag");
}

async fn only_marketing_reviews_and_only_submitted_visits(app: TestApp) {
    let (visit, customer) = compliant_visit(&app).await;
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.rep.token, json!({"decision": "approve"})).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"));
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.jap_marketing.token, json!({"decision": "approve"})).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    let r =
        app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({"decision": "approve", "deduct_points": 101})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_deduction"));
    let r = app.post(&format!("/v1/visits/{visit}/reviews"), &app.marketing.token, json!({"decision": "maybe"})).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"));
    let draft = Uuid::new_v4();
    app.put(&format!("/v1/visits/{draft}"), &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app.post(&format!("/v1/visits/{draft}/reviews"), &app.marketing.token, json!({"decision": "approve"})).await;
    assert_eq!((r.status, r.code()), (409, "visit_not_submitted"));
    let v = app.get(&format!("/v1/visits/{visit}"), &app.rep.token).await;
    assert_eq!((v.json["review_status"].as_str(), v.json["reviews"].as_array().unwrap().len()), (Some("pending"), 0));
}
