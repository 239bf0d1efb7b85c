//! Leads (the CRM and leads SOPs) over HTTP at a controlled clock: entered once however often
//! the phone retries, normalised, rated and checked for duplicates; distributed by the policy's
//! rules round-robin; first contacted within 24 clock hours or found late by the periodic check
//! (once, with `lead.sla_breached` for the supervisor); moved through the pipeline with its
//! rules; every interaction in one timeline.

use chrono::{DateTime, Utc};
use fieldproof::config::JobsSettings;
use fieldproof::jobs::Worker;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::webhooks::{drain, receiver};

backend_tests!(
    a_lead_is_entered_once_normalised_rated_and_checked_for_duplicates,
    leads_are_distributed_by_the_policys_rules_in_turn,
    a_late_first_contact_is_found_once_and_escalated,
    the_pipeline_keeps_its_rules_and_the_timeline_its_order,
    a_quotation_follows_its_cadence_on_the_branch_calendar,
    after_a_service_the_customer_is_asked_by_h_plus_2_with_its_checklist,
    leads_move_in_from_hubspot_and_google_sheets
);

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub(crate) fn body(name: &str, phone: &str) -> Value {
    json!({ "name": name, "company": "PT Sinar Jaya Abadi", "phone": phone, "email": "Budi@Sinar.CO.ID", "source": "Iklan Google",
            "need": "kirim 200 paket sebulan ke Sulawesi", "need_confirmed": true, "budget_confirmed": true,
            "expected_purchase_on": "2026-12-10" })
}

pub(crate) async fn put(app: &TestApp, token: &str, id: Uuid, body: Value) -> crate::helpers::Resp {
    app.put(&format!("/v1/leads/{id}"), token, body).await
}

async fn a_lead_is_entered_once_normalised_rated_and_checked_for_duplicates(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday, 10:00 WIB
    let id = Uuid::new_v4();
    let r = put(&app, &app.rep.token, id, body("Budi Santoso", "0812-3456-789")).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!((r.json["phone"].as_str(), r.json["email"].as_str()), (Some("+628123456789"), Some("budi@sinar.co.id")));
    assert_eq!((r.json["rating"].as_str(), r.json["stage"].as_str()), (Some("hot"), Some("lead")));
    assert_eq!(r.json["assignee_id"], json!(app.rep.id), "a rep's own lead, no rule matching");
    assert_eq!(r.json["first_contact"]["due_at"], "2026-11-19T03:00:00Z", "24 clock hours after receipt");
    assert_eq!(r.json["first_contact"]["status"], "pending");
    assert_eq!(r.json["duplicates"], json!([]));

    // The phone retries: the same lead, not a second; other data under its id is refused.
    let again = put(&app, &app.rep.token, id, body("Budi Santoso", "0812-3456-789")).await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["created_at"], r.json["created_at"]);
    let other = put(&app, &app.rep.token, id, body("Siti Aminah", "0812-3456-789")).await;
    assert_eq!((other.status, other.code()), (409, "lead_exists"), "{}", other.json);
    let listed = app.get("/v1/leads", &app.marketing.token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1, "{}", listed.json);

    // The same number written otherwise is a duplicate; so is a near-same company name. Branch
    // marketing sees which lead; a rep whose lead it is not sees only that one exists.
    let second = Uuid::new_v4();
    let mut b = body("Pak Budi", "62 812 3456 789");
    b["email"] = json!(null);
    b["assignee_id"] = json!(app.rep2.id);
    let r = put(&app, &app.marketing.token, second, b).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        r.json["duplicates"],
        json!([{ "lead_id": id, "name": "Budi Santoso", "company": "PT Sinar Jaya Abadi", "reason": "same_phone" }])
    );
    let seen_by_rep2 = app.get(&format!("/v1/leads/{second}"), &app.rep2.token).await;
    assert_eq!(seen_by_rep2.json["duplicates"], json!([{ "reason": "same_phone" }]), "{}", seen_by_rep2.json);
    let mut b = body("Ibu Sari", "0856 1111 2222");
    b["company"] = json!("CV Sinar Jaya Abadl");
    b["email"] = json!("sari@example.com");
    let r = put(&app, &app.marketing.token, Uuid::new_v4(), b).await;
    let reasons: Vec<&str> = r.json["duplicates"].as_array().unwrap().iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["similar_company", "similar_company"], "{}", r.json);

    // What no real lead has is refused with its own code, and nothing is stored.
    for (change, code) in [
        (json!({ "phone": "0812" }), "invalid_phone"),
        (json!({ "phone": "0812-abc" }), "invalid_phone"),
        (json!({ "email": "budi@" }), "invalid_email"),
        (json!({ "phone": null, "email": null }), "lead_contact_required"),
        (json!({ "need": " " }), "field_required"),
        (json!({ "name": "x".repeat(201) }), "field_too_long"),
        (json!({ "received_at": "2026-11-20T00:00:00Z" }), "invalid_field"),
        (json!({ "assignee_id": app.jap_rep.id }), "rep_not_found"),
    ] {
        let mut b = body("Budi", "0812-9999-0000");
        for (k, v) in change.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = put(&app, &app.marketing.token, Uuid::new_v4(), b).await;
        assert_eq!((r.status, r.code()), (422, code), "{change}: {}", r.json);
    }
    let mut b = body("Budi", "0812-9999-0000");
    b["assignee_id"] = json!(app.rep2.id);
    let r = put(&app, &app.rep.token, Uuid::new_v4(), b).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"), "a rep does not assign: {}", r.json);
    assert_eq!(app.get("/v1/leads", &app.hq.token).await.json["items"].as_array().unwrap().len(), 3);

    // The ratings: two criteria warm, fewer cold.
    let mut b = body("Warm", "0811 2222 3333");
    b["budget_confirmed"] = json!(false);
    assert_eq!(put(&app, &app.rep.token, Uuid::new_v4(), b).await.json["rating"], "warm");
    let mut b = body("Cold", "0811 2222 4444");
    b["budget_confirmed"] = json!(false);
    b["expected_purchase_on"] = json!(null);
    assert_eq!(put(&app, &app.rep.token, Uuid::new_v4(), b).await.json["rating"], "cold");
    let hot = app.get("/v1/leads?rating=hot", &app.marketing.token).await;
    assert_eq!(hot.json["items"].as_array().unwrap().len(), 3, "{}", hot.json);
    let found = app.get("/v1/leads?q=628123", &app.marketing.token).await;
    assert_eq!(found.json["items"].as_array().unwrap().len(), 2, "{}", found.json);
}

async fn leads_are_distributed_by_the_policys_rules_in_turn(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let toml = format!(
        "[[leads.distribution]]\nbranch = \"JKT\"\nsegment = \"ecommerce\"\nassignees = [\"{}\", \"{}\"]\n\
         [[leads.distribution]]\nregion = \"Bekasi\"\nassignees = [\"{}\"]\n",
        app.rep.id, app.rep2.id, app.rep2.id
    );
    let r = app.post("/v1/policy/versions", &app.admin.token, json!({ "effective_from": "2026-11-20", "policy": toml })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    app.set_now(at("2026-11-20T03:00:00Z"));
    let policy = app.get("/v1/policy", &app.rep.token).await;
    assert_eq!(policy.json["leads"]["distribution"].as_array().unwrap().len(), 2, "{}", policy.json);

    let mut got = Vec::new();
    for i in 0..4 {
        let mut b = body(&format!("Toko Online {i}"), &format!("0813 0000 {i:04}"));
        b["company"] = json!(format!("Online Shop {}", ["Alpha", "Bravo", "Charlie", "Delta"][i]));
        b["segment"] = json!("ecommerce");
        let r = put(&app, &app.marketing.token, Uuid::new_v4(), b).await;
        assert_eq!(r.status, 201, "{}", r.json);
        got.push(r.json["assignee_id"].as_str().unwrap().to_string());
    }
    let (a, b) = (app.rep.id.to_string(), app.rep2.id.to_string());
    assert_eq!(got, [a.clone(), b.clone(), a.clone(), b.clone()], "in turn");
    let mut bekasi = body("Gudang Bekasi", "0813 1111 0000");
    bekasi["region"] = json!("bekasi");
    let r = put(&app, &app.marketing.token, Uuid::new_v4(), bekasi).await;
    assert_eq!(r.json["assignee_id"], json!(app.rep2.id), "criteria match in any case");
    // No rule: branch marketing's lead waits unassigned; the assignment is audited either way.
    let r = put(&app, &app.marketing.token, Uuid::new_v4(), body("Walk-in", "0813 2222 0000")).await;
    assert_eq!(r.json["assignee_id"], Value::Null);
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let audit = app.app.repo.list_audit("lead", &id.to_string()).await.unwrap();
    assert_eq!(audit.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["lead.created"]);
    // The rep sees only what is theirs.
    let mine = app.get("/v1/leads", &app.rep.token).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 2, "{}", mine.json);
}

pub(crate) async fn tick(app: &TestApp) {
    let worker = Worker::new(app.app.clone(), JobsSettings { retry_backoff_ms: 0, ..JobsSettings::default() });
    worker.enqueue_periodic(app.now()).await.unwrap();
    drain(app, 3).await;
}

pub(crate) async fn contact(app: &TestApp, token: &str, lead: Uuid, kind: &str, occurred_at: &str) -> crate::helpers::Resp {
    let body = json!({ "id": Uuid::new_v4(), "kind": kind, "occurred_at": occurred_at, "summary": "menelepon, minta penawaran" });
    app.post(&format!("/v1/leads/{lead}/activities"), token, body).await
}

async fn a_late_first_contact_is_found_once_and_escalated(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["lead.sla_breached"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        let r = put(&app, &app.rep.token, *id, body(&format!("Lead {i}"), &format!("0814 0000 {i:04}"))).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    // One contacted in time (a note is no contact), one contacted after its deadline, one never.
    app.set_now(at("2026-11-18T06:00:00Z"));
    let note = contact(&app, &app.rep.token, ids[0], "note", "2026-11-18T04:00:00Z").await;
    assert_eq!(note.status, 201, "{}", note.json);
    assert_eq!(app.get(&format!("/v1/leads/{}", ids[0]), &app.rep.token).await.json["first_contact"]["status"], "pending");
    assert_eq!(contact(&app, &app.rep.token, ids[0], "whatsapp", "2026-11-18T05:00:00Z").await.status, 201);
    app.set_now(at("2026-11-19T02:55:00Z"));
    tick(&app).await;
    assert!(got.lock().unwrap().is_empty(), "nothing is late before its deadline");
    app.set_now(at("2026-11-19T03:10:00Z"));
    assert_eq!(contact(&app, &app.rep.token, ids[1], "call", "2026-11-19T03:05:00Z").await.status, 201);
    tick(&app).await;
    tick(&app).await;
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    let mut late: Vec<&str> = events.iter().map(|e| e["data"]["lead_id"].as_str().unwrap()).collect();
    late.sort();
    let mut want = vec![ids[1].to_string(), ids[2].to_string()];
    want.sort();
    assert_eq!(late, want, "each late lead once: {events:?}");
    assert!(events.iter().all(|e| e["event"] == "lead.sla_breached" && e["data"]["escalate_to"][0] == "supervisor"));
    let statuses: Vec<Value> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(app.get(&format!("/v1/leads/{id}"), &app.rep.token).await.json["first_contact"]["status"].clone());
        }
        v
    };
    assert_eq!(statuses, [json!("met"), json!("late"), json!("late")]);
    // The supervisor's list.
    let list = app.get("/v1/leads?sla_breached=true", &app.supervisor.token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2, "{}", list.json);
    let none = app.get("/v1/leads?sla_breached=true", &app.jap_marketing.token).await;
    assert_eq!(none.json["items"], json!([]), "another branch sees none of them");
}

async fn the_pipeline_keeps_its_rules_and_the_timeline_its_order(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let id = Uuid::new_v4();
    assert_eq!(put(&app, &app.rep.token, id, body("Budi", "0815 0000 0001")).await.status, 201);
    app.set_now(at("2026-11-18T04:00:00Z"));
    let stage = |b: Value| {
        let app = &app;
        async move { app.post(&format!("/v1/leads/{id}/stage"), &app.rep.token, b).await }
    };
    let r = stage(json!({ "stage": "past_client" })).await;
    assert_eq!((r.status, r.code()), (409, "stage_not_allowed"), "{}", r.json);
    assert_eq!(stage(json!({ "stage": "quotation_sent" })).await.json["stage"], "quotation_sent");
    let r = stage(json!({ "stage": "lost" })).await;
    assert_eq!((r.status, r.code()), (422, "field_required"), "{}", r.json);
    let r = stage(json!({ "stage": "lost", "lost_reason": "too_expensive" })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_lost_reason"), "{}", r.json);
    let r = stage(json!({ "stage": "on_hold" })).await;
    assert_eq!((r.status, r.code()), (422, "field_required"), "{}", r.json);
    let r = stage(json!({ "stage": "on_hold", "next_contact_on": "2026-12-01", "note": "tunggu anggaran tahun depan" })).await;
    assert_eq!((r.status, r.json["next_contact_on"].as_str()), (200, Some("2026-12-01")), "{}", r.json);
    let again = stage(json!({ "stage": "on_hold", "next_contact_on": "2026-12-01", "note": "tunggu anggaran tahun depan" })).await;
    assert_eq!(again.json["updated_at"], r.json["updated_at"], "the same move again changes nothing");
    let r = stage(json!({ "stage": "lost", "lost_reason": "price" })).await;
    assert_eq!((r.status, r.json["lost_reason"].as_str(), r.json["next_contact_on"].as_str()), (200, Some("price"), None));
    let r = stage(json!({ "stage": "won" })).await;
    assert_eq!((r.status, r.code()), (409, "stage_not_allowed"), "a lost deal is reopened first: {}", r.json);
    assert_eq!(stage(json!({ "stage": "lead" })).await.status, 200);
    let customer = app.customer_at(-6.2, 106.8).await;
    let won = stage(json!({ "stage": "won", "customer_id": customer })).await;
    assert_eq!((won.status, won.json["customer_id"].clone()), (200, json!(customer)), "{}", won.json);
    let r = app.post(&format!("/v1/leads/{id}/stage"), &app.hq.token, json!({ "stage": "past_client" })).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"), "HQ reads, the branch works");

    // The timeline: the interactions in the order they happened (not logged), with the moves.
    let call = Uuid::new_v4();
    let logged = app
        .post(
            &format!("/v1/leads/{id}/activities"),
            &app.rep.token,
            json!({ "id": call, "kind": "call", "occurred_at": "2026-11-18T03:30:00Z", "summary": "minta penawaran", "answered": true }),
        )
        .await;
    assert_eq!(logged.status, 201, "{}", logged.json);
    let retry = app
        .post(
            &format!("/v1/leads/{id}/activities"),
            &app.rep.token,
            json!({ "id": call, "kind": "call", "occurred_at": "2026-11-18T03:30:00Z", "summary": "minta penawaran", "answered": true }),
        )
        .await;
    assert_eq!(retry.status, 200, "a retry is the same entry: {}", retry.json);
    let r = contact(&app, &app.rep.token, id, "call", "2026-11-17T00:00:00Z").await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "before the lead was received: {}", r.json);
    let r = app.post(&format!("/v1/leads/{id}/activities"), &app.rep.token, json!({ "kind": "system", "summary": "x" })).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "{}", r.json);
    let timeline = app.get(&format!("/v1/leads/{id}/activities"), &app.marketing.token).await;
    let items = timeline.json["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["call", "system", "system", "system", "system", "system"], "{}", timeline.json);
    assert!(items[1]["summary"].as_str().unwrap().starts_with("stage lead → quotation_sent"), "{}", items[1]);
    assert!(items[2]["summary"].as_str().unwrap().contains("next contact 2026-12-01: tunggu anggaran"), "{}", items[2]);
    let times: Vec<&str> = items.iter().map(|a| a["occurred_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(app.get(&format!("/v1/leads/{id}"), &app.rep.token).await.json["first_contact"]["contacted_at"], "2026-11-18T03:30:00Z");
    let audit = app.app.repo.list_audit("lead", &id.to_string()).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "lead.stage_changed").count(), 5);
}

pub(crate) async fn follow_ups(app: &TestApp, lead: Uuid, status: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/follow-ups?lead_id={lead}&status={status}"), &app.rep.token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let mut items = r.json["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

pub(crate) async fn attempt(app: &TestApp, follow_up: &Value, answered: bool) -> crate::helpers::Resp {
    let id = follow_up["id"].as_str().unwrap();
    app.post(&format!("/v1/follow-ups/{id}/done"), &app.rep.token, json!({ "channel": "call", "answered": answered, "note": "telepon" }))
        .await
}

async fn a_quotation_follows_its_cadence_on_the_branch_calendar(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z")); // Wednesday 10:00 WIB; Thursday the 19th a holiday
    let r = app.put("/v1/holidays/2026", &app.admin.token, json!({ "holidays": [{ "date": "2026-11-19", "name": "Libur" }] })).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["follow_up.missed"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let (late_url, late_got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": late_url, "events": ["quotation.revision_late"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let lead = Uuid::new_v4();
    assert_eq!(put(&app, &app.rep.token, lead, body("Budi", "0816 0000 0001")).await.status, 201);
    let quote = |id: Uuid, discount: f64| {
        let app = &app;
        async move {
            app.put(
                &format!("/v1/leads/{lead}/quotations/{id}"),
                &app.rep.token,
                // A revision asked for on the first day: Rev.01 and later are sent days after.
                json!({ "number": "Q-112", "amount": 12_500_000, "discount_pct": discount,
                        "revision_requested_at": "2026-11-18T03:00:00Z" }),
            )
            .await
        }
    };

    // Sent: the lead at Quotation Sent, H+1 due the next working day (the holiday skipped).
    let first = Uuid::new_v4();
    let r = quote(first, 5.0).await;
    assert_eq!(
        (r.status, r.json["status"].as_str(), r.json["sent_on"].as_str(), r.json["label"].as_str()),
        (201, Some("sent"), Some("2026-11-18"), Some("Q-112")),
        "{}",
        r.json
    );
    assert_eq!(quote(first, 5.0).await.status, 200, "a retry");
    assert_eq!(app.get(&format!("/v1/leads/{lead}"), &app.rep.token).await.json["stage"], "quotation_sent");
    let open = follow_ups(&app, lead, "open").await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0]["step_name"].as_str(), open[0]["due_date"].as_str()),
        (Some("receipt_confirmation"), Some("2026-11-20")),
        "{open:?}"
    );

    // Done on its day without an answer: H+3 is due two working days after that.
    app.set_now(at("2026-11-20T03:00:00Z"));
    let r = attempt(&app, &open[0], false).await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("done")), "{}", r.json);
    assert_eq!(attempt(&app, &open[0], false).await.json["done_at"], r.json["done_at"], "done again: the stored one");
    let open = follow_ups(&app, lead, "open").await;
    assert_eq!(
        (open[0]["step_name"].as_str(), open[0]["due_date"].as_str()),
        (Some("technical_clarification"), Some("2026-11-24")),
        "{open:?}"
    );

    // Not done by its day: the day close misses it and escalates, once.
    app.set_now(at("2026-11-24T17:30:00Z")); // 00:30 WIB on the 25th
    tick(&app).await;
    tick(&app).await;
    let missed = follow_ups(&app, lead, "missed").await;
    assert_eq!(missed.len(), 1, "{missed:?}");
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["event"].as_str(), events[0]["data"]["step"].as_str()),
        (Some("follow_up.missed"), Some("technical_clarification"))
    );
    // Done late, it is still recorded and the cadence goes on.
    app.set_now(at("2026-11-25T02:00:00Z"));
    let r = attempt(&app, &missed[0], true).await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("done")), "{}", r.json);
    let open = follow_ups(&app, lead, "open").await;
    assert_eq!(
        (open[0]["step_name"].as_str(), open[0]["due_date"].as_str()),
        (Some("commercial_follow_up"), Some("2026-11-27")),
        "{open:?}"
    );

    // A revision (Rev.01) supersedes it and starts its own cadence; three attempts unanswered
    // and the lead gets a closing message and goes On-Hold.
    app.set_now(at("2026-11-25T03:00:00Z"));
    let rev = Uuid::new_v4();
    let r = quote(rev, 5.0).await;
    assert_eq!((r.json["revision"].as_u64(), r.json["label"].as_str()), (Some(1), Some("Q-112 Rev.01")), "{}", r.json);
    assert_eq!(r.json["finding"], "revision_not_same_day", "asked on the 18th, sent on the 25th: {}", r.json);
    drain(&app, 3).await;
    let late: Vec<Value> = late_got.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(late.len(), 1, "raised once, with the sending: {late:?}");
    assert_eq!(
        (late[0]["event"].as_str(), late[0]["data"]["quotation_id"].clone(), late[0]["data"]["escalate_to"][0].as_str()),
        (Some("quotation.revision_late"), json!(rev), Some("supervisor"))
    );
    let list = app.get(&format!("/v1/leads/{lead}/quotations"), &app.marketing.token).await;
    let statuses: Vec<&str> = list.json["items"].as_array().unwrap().iter().map(|q| q["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["superseded", "sent"]);
    for step in ["receipt_confirmation", "technical_clarification", "commercial_follow_up"] {
        let open = follow_ups(&app, lead, "open").await;
        assert_eq!((open.len(), open[0]["step_name"].as_str()), (1, Some(step)), "{open:?}");
        assert_eq!(attempt(&app, &open[0], false).await.status, 200);
    }
    let open = follow_ups(&app, lead, "open").await;
    assert_eq!((open[0]["step_name"].as_str(), open[0]["due_date"].as_str()), (Some("closing_message"), Some("2026-11-26")), "{open:?}");
    let l = app.get(&format!("/v1/leads/{lead}"), &app.rep.token).await;
    assert_eq!((l.json["stage"].as_str(), l.json["next_contact_on"].as_str()), (Some("on_hold"), Some("2026-12-25")), "{}", l.json);
    assert_eq!(attempt(&app, &open[0], false).await.status, 200);
    assert!(follow_ups(&app, lead, "open").await.is_empty(), "the closing message ends it");
    let timeline = app.get(&format!("/v1/leads/{lead}/activities"), &app.rep.token).await;
    let calls = timeline.json["items"].as_array().unwrap().iter().filter(|a| a["kind"] == "call").count();
    assert_eq!(calls, 6, "every attempt on the timeline, the late one too: {}", timeline.json);

    // A discount beyond the policy waits for the supervisor; then the cadence starts.
    let big = Uuid::new_v4();
    let r = quote(big, 25.0).await;
    assert_eq!(
        (r.status, r.json["status"].as_str(), r.json["sent_on"].clone()),
        (201, Some("awaiting_approval"), Value::Null),
        "{}",
        r.json
    );
    assert!(follow_ups(&app, lead, "open").await.is_empty());
    let approve = |token: String| {
        let app = &app;
        async move { app.post(&format!("/v1/quotations/{big}/approve"), &token, json!({})).await }
    };
    assert_eq!(approve(app.marketing.token.clone()).await.code(), "role_forbidden");
    assert_eq!(approve(app.jap_marketing.token.clone()).await.status, 404);
    let ok = approve(app.supervisor.token.clone()).await;
    assert_eq!(
        (ok.status, ok.json["status"].as_str(), ok.json["approved_by"].clone()),
        (200, Some("sent"), json!(app.supervisor.id)),
        "{}",
        ok.json
    );
    assert_eq!(approve(app.supervisor.token.clone()).await.status, 200, "approved again: the same");
    assert_eq!(follow_ups(&app, lead, "open").await.len(), 1);
    assert_eq!(app.get(&format!("/v1/leads/{lead}"), &app.rep.token).await.json["stage"], "quotation_sent");

    // Lost stops the cadence.
    let r = app.post(&format!("/v1/leads/{lead}/stage"), &app.rep.token, json!({ "stage": "lost", "lost_reason": "competitor" })).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(follow_ups(&app, lead, "open").await.is_empty());
    let cancelled = follow_ups(&app, lead, "cancelled").await;
    let r = attempt(&app, cancelled.last().unwrap(), true).await;
    assert_eq!((r.status, r.code()), (409, "follow_up_not_open"), "{}", r.json);
    let r = quote(Uuid::new_v4(), 0.0).await;
    assert_eq!((r.status, r.code()), (409, "stage_not_allowed"), "a lost lead gets no quotation: {}", r.json);
}

async fn after_a_service_the_customer_is_asked_by_h_plus_2_with_its_checklist(app: TestApp) {
    app.set_now(at("2026-11-19T03:00:00Z")); // Thursday 10:00 WIB
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["after_service.complaint"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let customer = app.customer_at(-6.2, 106.8).await;
    let case = Uuid::new_v4();
    let body = json!({ "customer_id": customer, "kind": "complaint_resolved", "summary": "paket terlambat, ongkir dikembalikan" });
    let r = app.put(&format!("/v1/service-cases/{case}"), &app.marketing.token, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    // H+2 in working days: Thursday's job, followed up by Monday.
    let first = r.json["follow_ups"][0].clone();
    assert_eq!((first["due_date"].as_str(), first["assignee_id"].clone()), (Some("2026-11-23"), json!(app.rep.id)), "{first}");
    assert_eq!(app.put(&format!("/v1/service-cases/{case}"), &app.marketing.token, body).await.status, 200, "a retry");
    let other = app
        .put(
            &format!("/v1/service-cases/{case}"),
            &app.marketing.token,
            json!({ "customer_id": customer, "kind": "claim_paid", "summary": "x" }),
        )
        .await;
    assert_eq!((other.status, other.code()), (409, "service_case_exists"));
    let r = app
        .put(
            &format!("/v1/service-cases/{}", Uuid::new_v4()),
            &app.jap_marketing.token,
            json!({ "customer_id": customer, "kind": "claim_paid", "summary": "x" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "customer_not_found"), "another branch's customer");

    // Not answered: tried again the next working day.
    let done = |f: &Value, b: Value| {
        let app = &app;
        let id = f["id"].as_str().unwrap().to_string();
        async move { app.post(&format!("/v1/follow-ups/{id}/done"), &app.rep.token, b).await }
    };
    app.set_now(at("2026-11-20T03:00:00Z")); // Friday
    let r = done(&first, json!({ "channel": "call", "answered": false, "note": "tidak diangkat" })).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = app.get(&format!("/v1/service-cases/{case}"), &app.rep.token).await;
    let steps = r.json["follow_ups"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 2, "{}", r.json);
    assert_eq!((steps[1]["status"].as_str(), steps[1]["due_date"].as_str()), (Some("open"), Some("2026-11-23")), "the next working day");
    assert_eq!(app.get(&format!("/v1/service-cases/{case}"), &app.rep2.token).await.status, 404, "not rep2's");

    // Answered: the checklist is required — the condition asked, a dissatisfied customer's
    // complaint, a satisfied one's testimonial with its link.
    let retry = steps[1].clone();
    for (b, code) in [
        (json!({ "channel": "whatsapp", "answered": true, "note": "baik", "satisfaction": "satisfied" }), "checklist_incomplete"),
        (json!({ "channel": "whatsapp", "answered": true, "note": "baik", "condition_asked": true }), "field_required"),
        (
            json!({ "channel": "whatsapp", "answered": true, "note": "kecewa", "condition_asked": true, "satisfaction": "dissatisfied" }),
            "checklist_incomplete",
        ),
        (
            json!({ "channel": "whatsapp", "answered": true, "note": "puas", "condition_asked": true, "satisfaction": "satisfied" }),
            "checklist_incomplete",
        ),
        (
            json!({ "channel": "whatsapp", "answered": true, "note": "puas", "condition_asked": true, "satisfaction": "satisfied",
                 "testimonial_requested": true, "review_link": "javascript:alert(1)" }),
            "invalid_field",
        ),
    ] {
        let r = done(&retry, b.clone()).await;
        assert_eq!((r.status, r.code()), (422, code), "{b}: {}", r.json);
    }
    let r = done(
        &retry,
        json!({ "channel": "whatsapp", "answered": true, "note": "puas, minta review Google; nanti dapat voucher 50rb",
                                 "condition_asked": true, "satisfaction": "satisfied", "testimonial_requested": true,
                                 "review_link": "https://g.page/r/fieldproof/review", "testimonial_given": true }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["finding"], "testimonial_for_reward", "never for a reward: {}", r.json);
    assert_eq!(r.json["outcome"]["review_link"], "https://g.page/r/fieldproof/review");

    // A complaint from another case is escalated to the supervisor.
    let case2 = Uuid::new_v4();
    let r = app
        .put(
            &format!("/v1/service-cases/{case2}"),
            &app.rep.token,
            json!({ "customer_id": customer, "kind": "pickup_fixed", "summary": "kurir datang tepat waktu lagi" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = done(
        &r.json["follow_ups"][0],
        json!({ "channel": "call", "answered": true, "note": "masih ada masalah", "condition_asked": true,
                                                  "satisfaction": "dissatisfied", "complaint": "kurir datang jam 8 malam" }),
    )
    .await;
    assert_eq!((r.status, r.json["finding"].clone()), (200, Value::Null), "{}", r.json);
    drain(&app, 3).await;
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["data"]["complaint"].as_str(), events[0]["data"]["escalate_to"][0].as_str()),
        (Some("kurir datang jam 8 malam"), Some("supervisor"))
    );
    let hq = app
        .post(
            &format!("/v1/follow-ups/{}/done", steps[1]["id"].as_str().unwrap()),
            &app.hq.token,
            json!({ "channel": "call", "answered": true, "note": "x" }),
        )
        .await;
    assert_eq!((hq.status, hq.code()), (403, "role_forbidden"), "HQ reads, the branch works");
}

async fn import(app: &TestApp, token: &str, csv: &str) -> crate::helpers::Resp {
    app.send(reqwest::Method::POST, "/v1/imports/leads", Some(token), crate::helpers::Body::Raw("text/csv", csv.as_bytes().to_vec())).await
}

async fn leads_move_in_from_hubspot_and_google_sheets(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    // HubSpot's contacts export, as it writes it.
    let hubspot = "\u{feff}Record ID,First Name,Last Name,Email,Phone Number,Company Name,Create Date,Original Source,Lifecycle Stage\n\
                   101,Budi,Santoso,budi@sinar.co.id,0812-3456-789,PT Sinar Jaya,2024-01-15 10:20,Paid Search,lead\n\
                   102,Siti,,siti@example.com,,CV Maju,2025-06-01 08:00,Direct Traffic,lead\n\
                   103,Andi,Wijaya,,+62 857 1111 2222,,2026-11-17 16:00,Offline Sources,lead\n\
                   104,Rudi,,rudi@example.com,0812,,2026-01-01 09:00,Referrals,lead\n\
                   105,,,nobody@example.com,,,2026-01-01 09:00,Referrals,lead\n";
    let r = import(&app, &app.marketing.token, hubspot).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (r.json["format"].as_str(), r.json["rows"].as_u64(), r.json["created"].as_u64(), r.json["rejected"].as_u64()),
        (Some("hubspot"), Some(5), Some(3), Some(2)),
        "{}",
        r.json
    );
    let codes: Vec<(u64, &str)> =
        r.json["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap())).collect();
    assert_eq!(codes, [(5, "invalid_phone"), (6, "field_required")]);
    // The same file again enters nothing twice.
    let again = import(&app, &app.marketing.token, hubspot).await;
    assert_eq!((again.json["created"].as_u64(), again.json["unchanged"].as_u64()), (Some(0), Some(3)), "{}", again.json);
    let found = app.get("/v1/leads?q=budi", &app.marketing.token).await;
    let budi = &found.json["items"][0];
    assert_eq!(
        (budi["name"].as_str(), budi["phone"].as_str(), budi["source"].as_str()),
        (Some("Budi Santoso"), Some("+628123456789"), Some("Paid Search"))
    );
    // Its history is kept; the first contact is due 24 hours after it reached FieldProof.
    assert_eq!(
        (budi["received_at"].as_str(), budi["first_contact"]["due_at"].as_str()),
        (Some("2024-01-15T03:20:00Z"), Some("2026-11-19T03:00:00Z"))
    );

    // The SOP's Google Sheet; a row with Budi's number is offered for merging.
    let sheet = "Nama Klien,Perusahaan,Nomor Telepon,Email,Sumber Prospek,Ringkasan Kebutuhan Awal,Tanggal\n\
                 Pak Budi,Sinar Jaya,62 812 3456 789,,Iklan Google,kirim 200 paket,15/11/2026\n\
                 Ibu Rina,Toko Rina,0819 2222 3333,rina@example.com,Referensi,kirim dokumen,16/11/2026\n\
                 Pak Dedi,,0819 4444 5555,,Pameran,,kemarin\n";
    let r = import(&app, &app.marketing.token, sheet).await;
    assert_eq!(
        (r.json["format"].as_str(), r.json["created"].as_u64(), r.json["rejected"].as_u64()),
        (Some("google_sheets"), Some(2), Some(1)),
        "{}",
        r.json
    );
    let dup = &r.json["possible_duplicates"][0];
    assert_eq!((dup["line"].as_u64(), dup["duplicates"][0]["reason"].as_str()), (Some(2), Some("same_phone")), "{}", r.json);
    assert_eq!(r.json["errors"][0]["code"], "invalid_field", "a date no one can read");

    // Reps do not import; a file without a name column is refused whole.
    assert_eq!(import(&app, &app.rep.token, sheet).await.code(), "role_forbidden");
    let r = import(&app, &app.marketing.token, "phone,email\n0812,\n").await;
    assert_eq!((r.status, r.code()), (422, "import_header_invalid"), "{}", r.json);
    assert_eq!(app.get("/v1/leads", &app.hq.token).await.json["items"].as_array().unwrap().len(), 5);
}
