use serde_json::json;
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{fresh, photo_form, TestApp};

backend_tests!(
    a_rep_sees_and_writes_only_their_own_visits,
    branch_marketing_sees_its_branch_and_hq_sees_all,
    only_reps_record_visits_and_only_for_their_branch
);

async fn a_rep_sees_and_writes_only_their_own_visits(app: TestApp) {
    let customer = app.customer_at_samsung_photo().await;
    let visit = Uuid::new_v4();
    let path = format!("/v1/visits/{visit}");
    app.put(&path, &app.rep.token, app.visit_body(customer, "door_visit", 0)).await;
    let r = app.get(&path, &app.rep2.token).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    let r = app.put(&path, &app.rep2.token, app.visit_body(customer, "door_visit", 0)).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    let r = app.put_photo(visit, Uuid::new_v4(), &app.rep2.token, photo_form("storefront", fresh("samsung-galaxy-s7-edge.jpg"), &[])).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    let r = app.post(&format!("{path}/submit"), &app.rep2.token, json!({})).await;
    assert_eq!((r.status, r.code()), (404, "visit_not_found"));
    // Marketing may look but not change a rep's record.
    let r = app.post(&format!("{path}/submit"), &app.marketing.token, json!({})).await;
    assert_eq!((r.status, r.code()), (403, "not_visit_owner"));
    assert_eq!(app.get(&path, &app.rep.token).await.json["status"], "draft");
}

async fn branch_marketing_sees_its_branch_and_hq_sees_all(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let visit = Uuid::new_v4();
    app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer, "phone", 0)).await;
    assert_eq!(app.get(&format!("/v1/visits/{visit}"), &app.marketing.token).await.status, 200);
    assert_eq!(app.get(&format!("/v1/visits/{visit}"), &app.hq.token).await.status, 200);
    assert_eq!(app.get(&format!("/v1/visits/{visit}"), &app.admin.token).await.status, 200);
    assert_eq!(app.get(&format!("/v1/visits/{visit}"), &app.jap_marketing.token).await.status, 404);
    for (token, expected) in [(&app.marketing.token, 1), (&app.jap_marketing.token, 0), (&app.hq.token, 1)] {
        assert_eq!(app.get("/v1/visits", token).await.json["items"].as_array().unwrap().len(), expected);
    }
    let audit = app.app.repo.list_audit("visit", &visit.to_string()).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "visit.viewed").count(), 3, "reviewers' reads are audited");
}

async fn only_reps_record_visits_and_only_for_their_branch(app: TestApp) {
    let customer = app.customer_at(-6.2, 106.8).await;
    let r = app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.marketing.token, app.visit_body(customer, "phone", 0)).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"));
    let r = app.put(&format!("/v1/visits/{}", Uuid::new_v4()), &app.jap_rep.token, app.visit_body(customer, "phone", 0)).await;
    assert_eq!((r.status, r.code()), (422, "customer_not_found"));
}
