//! The rest of the pipeline over HTTP at a controlled clock: a won deal becomes a customer, its
//! contract makes it a past client at the day close with a reactivation task a year on;
//! duplicates are reported (on demand and weekly) and merged; a quotation's revision is judged
//! against the day it was asked for, a discount may be rejected, and the quotation's PDF is
//! kept in the object store; the weekly and monthly pipeline report counts it all.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::backend_tests;
use crate::helpers::{Body, TestApp};
use crate::leads::{at, attempt, body, contact, follow_ups, put, tick};
use crate::webhooks::{drain, receiver};

backend_tests!(
    a_won_deal_becomes_a_customer_and_its_past_client_is_called_again,
    duplicates_are_reported_and_merged_without_losing_either_record,
    a_quotation_keeps_its_document_and_a_discount_may_be_refused,
    the_pipeline_report_counts_the_week_and_the_month
);

async fn stage(app: &TestApp, lead: Uuid, b: Value) -> crate::helpers::Resp {
    app.post(&format!("/v1/leads/{lead}/stage"), &app.rep.token, b).await
}

async fn a_won_deal_becomes_a_customer_and_its_past_client_is_called_again(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let lead = Uuid::new_v4();
    assert_eq!(put(&app, &app.rep.token, lead, body("Budi", "0819 0000 0001")).await.status, 201);

    // Won without naming a customer: one is made from the lead (class New), once.
    let won = stage(&app, lead, json!({ "stage": "won" })).await;
    assert_eq!((won.status, won.json["closed_at"].as_str()), (200, Some("2026-11-18T03:00:00Z")), "{}", won.json);
    let customer = won.json["customer_id"].as_str().expect("a customer").to_string();
    let c = app.get(&format!("/v1/customers/{customer}"), &app.marketing.token).await;
    assert_eq!(c.status, 200, "{}", c.json);
    assert_eq!(
        (c.json["name"].as_str(), c.json["class"].as_str(), c.json["assigned_rep_id"].clone()),
        (Some("PT Sinar Jaya Abadi"), Some("new"), json!(app.rep.id)),
        "{}",
        c.json
    );
    assert_eq!(stage(&app, lead, json!({ "stage": "won" })).await.json["customer_id"], json!(customer), "the same move: the same customer");
    // Its visits are the lead's timeline too.
    let visit = Uuid::new_v4();
    let r = app.put(&format!("/v1/visits/{visit}"), &app.rep.token, app.visit_body(customer.parse().unwrap(), "phone", 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    app.call_log(visit, &app.rep.token).await;
    assert_eq!(app.post(&format!("/v1/visits/{visit}/submit"), &app.rep.token, json!({})).await.status, 200);
    let timeline = app.get(&format!("/v1/leads/{lead}/activities"), &app.marketing.token).await;
    let visits: Vec<&Value> = timeline.json["items"].as_array().unwrap().iter().filter(|a| a["kind"] == "visit").collect();
    assert_eq!(visits.len(), 1, "{}", timeline.json);
    assert!(visits[0]["summary"].as_str().unwrap().starts_with(&format!("record visit {visit} (phone)")), "{}", visits[0]);

    // Past Client needs the contract, and the contract's end.
    let r = stage(&app, lead, json!({ "stage": "past_client" })).await;
    assert_eq!((r.status, r.code()), (409, "contract_required"), "{}", r.json);
    let contract = json!({ "value": 150_000_000, "product": "Express B2B", "ends_on": "2026-11-30" });
    let r = app.put(&format!("/v1/leads/{lead}/contract"), &app.rep.token, contract.clone()).await;
    assert_eq!((r.status, r.json["contract"].clone()), (200, contract.clone()), "{}", r.json);
    let again = app.put(&format!("/v1/leads/{lead}/contract"), &app.rep.token, contract.clone()).await;
    assert_eq!(again.json["updated_at"], r.json["updated_at"], "the same contract again changes nothing");
    let early = app
        .put(&format!("/v1/leads/{lead}/contract"), &app.rep.token, json!({ "value": 1, "product": "x", "ends_on": "2026-11-01" }))
        .await;
    assert_eq!((early.status, early.code()), (422, "invalid_field"), "ends before the deal: {}", early.json);
    let r = stage(&app, lead, json!({ "stage": "past_client" })).await;
    assert_eq!((r.status, r.code()), (409, "contract_running"), "{}", r.json);
    let open_lead = Uuid::new_v4();
    assert_eq!(put(&app, &app.rep.token, open_lead, body("Siti", "0819 0000 0002")).await.status, 201);
    let r = app.put(&format!("/v1/leads/{open_lead}/contract"), &app.rep.token, contract).await;
    assert_eq!((r.status, r.code()), (409, "stage_not_allowed"), "only a won deal has a contract: {}", r.json);

    // The day close after the contract's end: a past client, called again a year on (the
    // policy's 12 months), on a working day.
    app.set_now(at("2026-11-30T17:30:00Z")); // 00:30 WIB on 1 December
    tick(&app).await;
    let l = app.get(&format!("/v1/leads/{lead}"), &app.rep.token).await;
    assert_eq!(l.json["stage"], "past_client", "{}", l.json);
    let open = follow_ups(&app, lead, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0]["cadence"].as_str(), open[0]["due_date"].as_str(), open[0]["customer_id"].as_str()),
        (Some("reactivation"), Some("2027-11-30"), Some(customer.as_str())),
        "{open:?}"
    );
    tick(&app).await;
    assert_eq!(follow_ups(&app, lead, "open").await.len(), 1, "closed again: still one task");
    let r = attempt(&app, &open[0], true).await;
    assert_eq!((r.status, r.json["status"].as_str()), (200, Some("done")), "{}", r.json);
    let timeline = app.get(&format!("/v1/leads/{lead}/activities"), &app.rep.token).await;
    let summaries: Vec<&str> = timeline.json["items"].as_array().unwrap().iter().map(|a| a["summary"].as_str().unwrap()).collect();
    assert!(summaries.iter().any(|s| s.starts_with("stage won → past_client (contract ended 2026-11-30)")), "{summaries:?}");
    assert!(summaries.iter().any(|s| s.starts_with("reactivation (answered)")), "{summaries:?}");
    let audit = app.app.repo.list_audit("customer", &customer).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "customer.created_from_lead").count(), 1);
}

async fn duplicates_are_reported_and_merged_without_losing_either_record(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let (url, got) = receiver(vec![]).await;
    let hook = app.post("/v1/webhooks", &app.admin.token, json!({ "url": url, "events": ["lead.duplicates_found"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.json);
    let kept = Uuid::new_v4();
    let mut b = body("Budi", "0817 0000 0001");
    b["email"] = json!(null);
    assert_eq!(put(&app, &app.rep.token, kept, b).await.status, 201);
    app.set_now(at("2026-11-18T04:00:00Z"));
    let dup = Uuid::new_v4();
    let mut b = body("Pak Budi", "62 817 0000 0001");
    b["email"] = json!("budi.b@example.com");
    b["assignee_id"] = json!(app.rep.id);
    assert_eq!(put(&app, &app.marketing.token, dup, b).await.status, 201);
    let mut b = body("Siti", "0818 0000 0009");
    b["company"] = json!("PT Lain Sekali");
    b["email"] = json!("siti@example.com");
    assert_eq!(put(&app, &app.rep.token, Uuid::new_v4(), b).await.status, 201);

    // The report: one pair (the same phone; the near-same company does not make it twice).
    let r = app.get("/v1/reports/lead-duplicates", &app.marketing.token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.json);
    assert_eq!(
        (items[0]["reason"].as_str(), items[0]["older"]["lead_id"].clone(), items[0]["newer"]["lead_id"].clone()),
        (Some("same_phone"), json!(kept), json!(dup))
    );
    assert_eq!(app.get("/v1/reports/lead-duplicates", &app.jap_marketing.token).await.json["items"], json!([]), "another branch's");
    // And weekly, as an event for the branch.
    tick(&app).await;
    let events: Vec<Value> = got.lock().unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["event"].as_str(), events[0]["data"]["pairs"].as_u64()), (Some("lead.duplicates_found"), Some(1)));
    assert_eq!(events[0]["data"]["sample"][0]["newer"], json!(dup));

    // Merged: the duplicate points at the kept lead, which takes the e-mail it lacked and
    // shows both timelines.
    app.set_now(at("2026-11-18T05:00:00Z"));
    let call = contact(&app, &app.rep.token, dup, "whatsapp", "2026-11-18T04:30:00Z").await;
    assert_eq!(call.status, 201, "{}", call.json);
    let merge = |from: Uuid, into: Uuid, token: String| {
        let app = &app;
        async move { app.post(&format!("/v1/leads/{from}/merge"), &token, json!({ "into": into })).await }
    };
    let r = merge(dup, kept, app.marketing.token.clone()).await;
    assert_eq!((r.status, r.json["id"].clone(), r.json["email"].as_str()), (200, json!(kept), Some("budi.b@example.com")), "{}", r.json);
    assert_eq!(merge(dup, kept, app.marketing.token.clone()).await.status, 200, "a retry");
    let gone = app.get(&format!("/v1/leads/{dup}"), &app.marketing.token).await;
    assert_eq!(gone.json["merged_into"], json!(kept), "kept, pointing at the other: {}", gone.json);
    let timeline = app.get(&format!("/v1/leads/{kept}/activities"), &app.rep.token).await;
    let kinds: Vec<&str> = timeline.json["items"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["whatsapp", "system", "system"], "{}", timeline.json);
    assert_eq!(app.get("/v1/reports/lead-duplicates", &app.marketing.token).await.json["items"], json!([]));
    let r = merge(kept, dup, app.marketing.token.clone()).await;
    assert_eq!((r.status, r.code()), (409, "lead_merged"), "{}", r.json);
    let r = merge(kept, kept, app.marketing.token.clone()).await;
    assert_eq!((r.status, r.code()), (422, "invalid_field"), "{}", r.json);
    let r = merge(kept, dup, app.jap_marketing.token.clone()).await;
    assert_eq!(r.status, 404, "another branch's lead: {}", r.json);
    let r = merge(kept, dup, app.hq.token.clone()).await;
    assert_eq!((r.status, r.code()), (403, "role_forbidden"), "{}", r.json);
    let audit = app.app.repo.list_audit("lead", &dup.to_string()).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "lead.merged").count(), 1);
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

async fn a_quotation_keeps_its_document_and_a_discount_may_be_refused(app: TestApp) {
    app.set_now(at("2026-11-18T03:00:00Z"));
    let lead = Uuid::new_v4();
    assert_eq!(put(&app, &app.rep.token, lead, body("Budi", "0816 0000 0009")).await.status, 201);
    let quote = |id: Uuid, discount: f64, asked: Option<&str>| {
        let app = &app;
        let asked = asked.map(String::from);
        async move {
            let mut b = json!({ "number": "Q-7", "amount": 9_000_000, "discount_pct": discount });
            if let Some(a) = asked {
                b["revision_requested_at"] = json!(a);
            }
            app.put(&format!("/v1/leads/{lead}/quotations/{id}"), &app.rep.token, b).await
        }
    };
    let q = Uuid::new_v4();
    assert_eq!(quote(q, 0.0, None).await.status, 201);

    // The PDF: kept in the object store, once; its bytes come back as they went.
    let doc = |bytes: Vec<u8>, ct: &'static str| {
        let app = &app;
        async move { app.send(reqwest::Method::PUT, &format!("/v1/quotations/{q}/document"), Some(&app.rep.token), Body::Raw(ct, bytes)).await }
    };
    let r = doc(b"hello".to_vec(), "application/pdf").await;
    assert_eq!((r.status, r.code()), (422, "document_not_pdf"), "{}", r.json);
    let r = doc(pdf("a"), "text/plain").await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"), "{}", r.json);
    let documents = || async { app.app.store.list("quotations/").await.unwrap().len() };
    assert_eq!(documents().await, 0);
    let r = doc(pdf("a"), "application/pdf").await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        (r.json["document"]["bytes"].as_u64(), r.json["document"]["path"].as_str()),
        (Some(pdf("a").len() as u64), Some(format!("/v1/quotations/{q}/document").as_str()))
    );
    assert_eq!(documents().await, 1, "in the object store");
    assert_eq!(doc(pdf("a"), "application/pdf").await.status, 200, "a retry");
    let r = doc(pdf("b"), "application/pdf").await;
    assert_eq!((r.status, r.code()), (409, "document_exists"), "{}", r.json);
    assert_eq!(documents().await, 1, "nothing more kept");
    let got = app.send(reqwest::Method::GET, &format!("/v1/quotations/{q}/document"), Some(&app.marketing.token), Body::None).await;
    assert_eq!((got.status, got.header("content-type"), got.bytes.clone()), (200, "application/pdf", pdf("a")));
    let other = app.send(reqwest::Method::GET, &format!("/v1/quotations/{q}/document"), Some(&app.jap_marketing.token), Body::None).await;
    assert_eq!(other.status, 404, "another branch's quotation");

    // A revision says when it was asked for; sent the same day, no finding.
    app.set_now(at("2026-11-19T03:00:00Z"));
    let r = quote(Uuid::new_v4(), 0.0, None).await;
    assert_eq!((r.status, r.code()), (422, "field_required"), "{}", r.json);
    let r = quote(Uuid::new_v4(), 0.0, Some("2026-11-19T01:00:00Z")).await;
    assert_eq!((r.status, r.json["finding"].clone()), (201, Value::Null), "{}", r.json);

    // A discount beyond the policy, refused by the supervisor: never sent, and stays so.
    let big = Uuid::new_v4();
    let r = quote(big, 30.0, Some("2026-11-19T01:00:00Z")).await;
    assert_eq!(r.json["status"], "awaiting_approval", "{}", r.json);
    let reject = |token: String| {
        let app = &app;
        async move { app.post(&format!("/v1/quotations/{big}/reject"), &token, json!({ "reason": "diskon terlalu besar" })).await }
    };
    assert_eq!(reject(app.rep.token.clone()).await.code(), "role_forbidden");
    let r = reject(app.supervisor.token.clone()).await;
    assert_eq!((r.status, r.json["status"].as_str(), r.json["sent_on"].clone()), (200, Some("rejected"), Value::Null), "{}", r.json);
    assert_eq!(reject(app.supervisor.token.clone()).await.status, 200, "again: the same");
    let r = app.post(&format!("/v1/quotations/{big}/approve"), &app.supervisor.token, json!({})).await;
    assert_eq!((r.status, r.code()), (409, "quotation_not_awaiting"), "{}", r.json);
    let timeline = app.get(&format!("/v1/leads/{lead}/activities"), &app.rep.token).await;
    assert!(
        timeline.json["items"].as_array().unwrap().iter().any(|a| a["summary"].as_str().unwrap().contains("not approved")),
        "{}",
        timeline.json
    );
    let statuses: Vec<String> = app.get(&format!("/v1/leads/{lead}/quotations"), &app.rep.token).await.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["superseded", "sent", "rejected"], "the sent revision stays the one in force");
}

async fn the_pipeline_report_counts_the_week_and_the_month(app: TestApp) {
    // Week 47 of 2026: Monday 16 to Sunday 22 November.
    app.set_now(at("2026-11-16T03:00:00Z"));
    let (won, lost, late) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(put(&app, &app.rep.token, won, body("Budi", "0811 1000 0001")).await.status, 201);
    let mut b = body("Siti", "0811 1000 0002");
    b["company"] = json!("CV Maju");
    b["email"] = json!("siti@maju.id");
    assert_eq!(put(&app, &app.rep.token, lost, b).await.status, 201);
    let mut b = body("Joko", "0811 1000 0003");
    b["company"] = json!("UD Sentosa");
    b["email"] = json!("joko@sentosa.id");
    b["assignee_id"] = json!(app.rep2.id);
    assert_eq!(put(&app, &app.marketing.token, late, b).await.status, 201);
    app.set_now(at("2026-11-16T05:00:00Z"));
    assert_eq!(contact(&app, &app.rep.token, won, "call", "2026-11-16T04:00:00Z").await.status, 201);
    let r = app
        .put(&format!("/v1/leads/{won}/quotations/{}", Uuid::new_v4()), &app.rep.token, json!({ "number": "Q-1", "amount": 10_000_000 }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let customer = app.customer_at(-6.2, 106.8).await;
    let case = app
        .put(
            &format!("/v1/service-cases/{}", Uuid::new_v4()),
            &app.marketing.token,
            json!({ "customer_id": customer, "kind": "claim_paid", "summary": "klaim dibayar" }),
        )
        .await;
    assert_eq!(case.status, 201, "{}", case.json);

    // Tuesday: the late lead's first contact, 26 hours on; the quotation's H+1 on its day.
    app.set_now(at("2026-11-17T06:00:00Z"));
    assert_eq!(contact(&app, &app.rep2.token, late, "call", "2026-11-17T05:00:00Z").await.status, 201);
    let open = follow_ups(&app, won, "open").await;
    assert_eq!(attempt(&app, &open[0], true).await.status, 200);
    // Wednesday: won (the cadence's rest is cancelled, not counted), with its contract; the
    // after-service contact done on its day, with a testimonial.
    app.set_now(at("2026-11-18T03:00:00Z"));
    assert_eq!(stage(&app, won, json!({ "stage": "won" })).await.status, 200);
    let contract = json!({ "value": 12_000_000, "product": "Express B2B", "ends_on": "2027-11-30" });
    assert_eq!(app.put(&format!("/v1/leads/{won}/contract"), &app.rep.token, contract).await.status, 200);
    let step = case.json["follow_ups"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/v1/follow-ups/{step}/done"),
            &app.rep.token,
            json!({ "channel": "whatsapp", "answered": true, "note": "puas", "condition_asked": true, "satisfaction": "satisfied",
                    "testimonial_requested": true, "review_link": "https://g.page/r/fieldproof/review", "testimonial_given": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Thursday: the other deal lost on price.
    app.set_now(at("2026-11-19T03:00:00Z"));
    assert_eq!(stage(&app, lost, json!({ "stage": "lost", "lost_reason": "price" })).await.status, 200);

    let week = app.get("/v1/reports/pipeline?week=2026-W47", &app.marketing.token).await;
    assert_eq!(week.status, 200, "{}", week.json);
    assert_eq!((week.json["from"].as_str(), week.json["to"].as_str()), (Some("2026-11-16"), Some("2026-11-22")));
    let branches = week.json["branches"].as_array().unwrap();
    assert_eq!(branches.len(), 1, "{}", week.json);
    let jkt = &branches[0];
    let expect = json!({
        "leads_in": 3, "first_contact_due": 3, "first_contact_on_time": 1, "first_contact_sla_rate": 0.333,
        "quoted": 1, "won_from_leads_in": 1, "lead_to_quotation_rate": 0.333, "quotation_to_won_rate": 1.0, "lead_to_won_rate": 0.333,
        "deals_won": 1, "won_value": 12_000_000, "cycle_days_median": 2.0, "cycle_days_p90": 2.0,
        "deals_lost": 1, "lost_reasons": { "price": 1 }, "quotations_sent": 1, "revisions_not_same_day": 0,
        "quotation_steps_due": 1, "quotation_steps_on_time": 1, "quotation_cadence_adherence": 1.0,
        "after_service_due": 1, "after_service_on_time": 1, "after_service_on_time_rate": 1.0,
        "testimonials_requested": 1, "testimonials_obtained": 1,
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&jkt[k], v, "{k}: {jkt}");
    }
    let reps = week.json["reps"].as_array().unwrap();
    let row = |id: Uuid| reps.iter().find(|r| r["rep_id"] == json!(id)).unwrap_or_else(|| panic!("{id}: {reps:?}")).clone();
    let rep = row(app.rep.id);
    assert_eq!((rep["leads_in"].as_i64(), rep["deals_won"].as_i64(), rep["deals_lost"].as_i64()), (Some(2), Some(1), Some(1)), "{rep}");
    let rep2 = row(app.rep2.id);
    assert_eq!((rep2["leads_in"].as_i64(), rep2["first_contact_on_time"].as_i64()), (Some(1), Some(0)), "{rep2}");

    // The month holds the week; a rep sees only their own row; a later week has nothing.
    let month = app.get("/v1/reports/pipeline?month=2026-11", &app.marketing.token).await;
    assert_eq!(month.json["branches"][0]["leads_in"], 3, "{}", month.json);
    let own = app.get("/v1/reports/pipeline?month=2026-11", &app.rep2.token).await;
    assert_eq!((own.json["branches"].clone(), own.json["reps"].as_array().unwrap().len()), (json!([]), 1), "{}", own.json);
    assert_eq!(own.json["reps"][0]["rep_id"], json!(app.rep2.id));
    let later = app.get("/v1/reports/pipeline?week=2026-W49", &app.marketing.token).await;
    assert_eq!((later.json["branches"].clone(), later.json["reps"].clone()), (json!([]), json!([])), "{}", later.json);
    for q in ["", "?week=2026-W47&month=2026-11", "?month=2026-13"] {
        let r = app.get(&format!("/v1/reports/pipeline{q}"), &app.marketing.token).await;
        assert_eq!((r.status, r.code()), (422, "invalid_period"), "{q}: {}", r.json);
    }

    // As CSV: a row per branch, then per rep.
    let csv = app.send(reqwest::Method::GET, "/v1/exports/pipeline.csv?week=2026-W47", Some(&app.marketing.token), Body::None).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-disposition").contains("pipeline-2026-W47.csv"), "{:?}", csv.headers);
    let text = String::from_utf8(csv.bytes.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 1 + 2, "{text}");
    assert!(lines[0].starts_with("period,row,branch,rep,rep_id,leads_in,first_contact_due"), "{text}");
    assert!(lines[1].starts_with("2026-W47,branch,JKT,,,3,3,1,0.333,1,1,"), "{text}");
    assert!(lines[1].contains(",12000000,2,2,1,price:1,1,0,1,1,1,1,1,1,1,1,2026-11-16..2026-11-22"), "{text}");
    drain(&app, 3).await;
}
