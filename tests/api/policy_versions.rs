//! Policy versions with effective dates: an admin adds a validated version from a day no branch
//! has begun; a visit is judged by the version in force on its visit date and records it.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(a_visit_is_judged_by_the_policy_of_its_day);

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A submitted phone follow-up of `customer` visited now, with this summary.
async fn phone_call(app: &TestApp, customer: Uuid, summary: &str) -> Value {
    let id = Uuid::new_v4();
    let mut body = app.visit_body(customer, "phone", 0);
    body["summary"] = json!(summary);
    assert_eq!(app.put(&format!("/v1/visits/{id}"), &app.rep.token, body).await.status, 201);
    app.call_log(id, &app.rep.token).await;
    let v = app.post(&format!("/v1/visits/{id}/submit"), &app.rep.token, json!({})).await;
    assert_eq!(v.status, 200, "{}", v.json);
    v.json
}

fn codes(v: &Value) -> Vec<&str> {
    v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

async fn a_visit_is_judged_by_the_policy_of_its_day(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB (12:00 WIT)
    let customer = app.customer_at(-6.2, 106.8).await;
    let one_sentence = "[summary]\nmin_sentences = 1\n";
    let app = &app;
    let add = |from: &str, toml: &str, token: &str| {
        let body = json!({ "effective_from": from, "policy": toml });
        let token = token.to_string();
        async move { app.post("/v1/policy/versions", &token, body).await }
    };
    // Only admins; from a day no branch has begun; validated like the configured file.
    assert_eq!(add("2026-11-20", one_sentence, &app.hq.token).await.code(), "role_forbidden");
    let r = add("2026-11-18", one_sentence, &app.admin.token).await;
    assert_eq!((r.status, r.code()), (422, "policy_effective_too_soon"), "{}", r.json);
    let r = add("2026-11-20", "[summary]\nmin_sentences = \"three\"\n", &app.admin.token).await;
    assert_eq!((r.status, r.code()), (422, "policy_invalid"), "{}", r.json);
    let r =
        add("2026-11-20", "[visit]\nquestion_rules = { favourite_colour = { severity = \"major\", penalty = 10 } }\n", &app.admin.token)
            .await;
    assert_eq!((r.status, r.code()), (422, "policy_invalid"), "a question the taxonomy lacks: {}", r.json);
    let r = add("2026-11-20", one_sentence, &app.admin.token).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let version = r.json["id"].as_str().unwrap().to_string();
    assert_eq!(add("2026-11-20", one_sentence, &app.admin.token).await.code(), "policy_version_exists");
    let listed = app.get("/v1/policy/versions", &app.rep.token).await;
    assert_eq!(listed.json["items"][0]["effective_from"], "2026-11-20", "{}", listed.json);

    // The policy of a date: the configured one before the version, the version from its day.
    let before = app.get("/v1/policy?at=2026-11-19", &app.rep.token).await;
    assert_eq!((before.json["summary"]["min_sentences"].as_u64(), before.header("fieldproof-policy-version")), (Some(3), "configured"));
    let from = app.get("/v1/policy?at=2026-11-20", &app.rep.token).await;
    assert_eq!((from.json["summary"]["min_sentences"].as_u64(), from.header("fieldproof-policy-version")), (Some(1), version.as_str()));
    assert_eq!(from.header("fieldproof-policy-effective-from"), "2026-11-20");

    // One substantive sentence: short on the 18th, enough on the 20th.
    let summary = "Toko Sinar Jaya ramai menjelang akhir tahun dengan 40 paket sehari.";
    let on_18th = phone_call(app, customer, summary).await;
    assert!(codes(&on_18th).contains(&"summary_too_short"), "{on_18th}");
    assert!(on_18th["policy_version"].is_null());
    app.set_now(at("2026-11-20T03:00:00Z"));
    let on_20th = phone_call(app, customer, summary).await;
    assert!(!codes(&on_20th).contains(&"summary_too_short"), "{on_20th}");
    assert_eq!(on_20th["policy_version"], json!(version));
}
