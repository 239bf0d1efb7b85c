//! Leads: stored once per id, found by phone, e-mail or company for the duplicate check, the
//! last assignment of each rep per distribution rule, an append-only timeline whose earliest
//! contact is the first contact, and a late first contact marked once with its event.

use fieldproof::db::{LeadChange, LeadFilter, Repo};
use fieldproof::domain::audit::AuditEntry;
use fieldproof::domain::ids::*;
use fieldproof::domain::lead::{Activity, ActivityKind, Lead, Qualification, Rating, Stage};
use fieldproof::domain::page::Page;
use fieldproof::domain::role::Scope;
use serde_json::json;

use super::{job, mins, t0};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(leads_are_stored_once_and_their_first_contact_judged_once);

fn lead(app: &TestApp, phone: &str, company: Option<&str>, assignee: Option<uuid::Uuid>) -> Lead {
    Lead {
        id: LeadId::new_random(),
        branch_id: BranchId(app.jkt),
        name: "Budi".into(),
        company: company.map(Into::into),
        phone: Some(phone.into()),
        email: None,
        source: "website".into(),
        need: "kirim paket".into(),
        region: None,
        product: None,
        segment: None,
        qualification: Qualification::default(),
        rating: Rating::Cold,
        stage: Stage::Lead,
        lost_reason: None,
        next_contact_on: None,
        assignee_id: assignee.map(UserId),
        customer_id: None,
        merged_into: None,
        received_at: t0(),
        first_contact_due_at: mins(24 * 60),
        first_contacted_at: None,
        sla_breached_at: None,
        closed_at: None,
        contract: None,
        created_by: UserId(app.marketing.id),
        created_at: t0(),
        updated_at: t0(),
    }
}

fn entry(l: &Lead) -> AuditEntry {
    AuditEntry {
        at: t0(),
        actor_id: None,
        action: "lead.created".into(),
        subject_type: "lead".into(),
        subject_id: l.id.to_string(),
        detail: json!({}),
    }
}

fn activity(l: &Lead, kind: ActivityKind, at: i64) -> Activity {
    Activity {
        id: ActivityId::new_random(),
        lead_id: l.id,
        kind,
        occurred_at: mins(at),
        summary: "telepon".into(),
        answered: Some(true),
        actor_id: None,
        logged_at: mins(at),
    }
}

async fn leads_are_stored_once_and_their_first_contact_judged_once(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let a = lead(&app, "+628111", Some("PT Sinar Jaya"), Some(app.rep.id));
    assert!(repo.insert_lead(&a, Some(0), &entry(&a)).await.unwrap());
    assert!(!repo.insert_lead(&a, Some(0), &entry(&a)).await.unwrap(), "the same id again stores nothing");
    assert_eq!(repo.list_audit("lead", &a.id.to_string()).await.unwrap().len(), 1);
    assert_eq!(repo.get_lead(a.id).await.unwrap().as_ref(), Some(&a));
    let b = lead(&app, "+628222", None, Some(app.rep2.id));
    assert!(repo.insert_lead(&b, Some(0), &entry(&b)).await.unwrap());
    let c = lead(&app, "+628333", None, None);
    assert!(repo.insert_lead(&c, None, &entry(&c)).await.unwrap());

    // Candidates: the same phone, or any company name to compare; the most recent first.
    let by_phone = repo.duplicate_candidates(BranchId(app.jkt), Some("+628222"), None, false, 10).await.unwrap();
    assert_eq!(by_phone.iter().map(|l| l.id).collect::<Vec<_>>(), [b.id]);
    let with_company = repo.duplicate_candidates(BranchId(app.jkt), Some("+628333"), None, true, 10).await.unwrap();
    assert_eq!(with_company.iter().map(|l| l.id).collect::<Vec<_>>(), [c.id, a.id]);
    assert!(repo.duplicate_candidates(BranchId(app.jap), Some("+628222"), None, true, 10).await.unwrap().is_empty());

    // Each rep's latest lead of rule 0: rep2's is the later.
    let last = repo.last_distributed(0, &[UserId(app.rep.id), UserId(app.rep2.id), UserId(app.hq.id)]).await.unwrap();
    assert_eq!(last.len(), 2);
    let seq = |u: uuid::Uuid| last.iter().find(|(a, _)| a.0 == u).unwrap().1;
    assert!(seq(app.rep2.id) > seq(app.rep.id));

    // Scope and filters.
    let page = Page { before: None, limit: 10 };
    let f = |scope| LeadFilter { scope, branch_id: None, assignee_id: None, stage: None, rating: None, sla_breached: None, q: None };
    assert_eq!(repo.list_leads(&f(Scope::Own(UserId(app.rep.id))), page).await.unwrap().items, std::slice::from_ref(&a));
    assert_eq!(repo.list_leads(&f(Scope::Branch(BranchId(app.jkt))), page).await.unwrap().items.len(), 3);
    assert!(repo.list_leads(&f(Scope::Branch(BranchId(app.jap))), page).await.unwrap().items.is_empty());

    // The timeline: a note is no contact; the earliest contact is the first, whatever order.
    let note = activity(&a, ActivityKind::Note, 10);
    assert!(repo.add_activity(&note).await.unwrap());
    assert!(!repo.add_activity(&note).await.unwrap(), "a retry adds nothing");
    assert_eq!(repo.get_lead(a.id).await.unwrap().unwrap().first_contacted_at, None);
    assert!(repo.add_activity(&activity(&a, ActivityKind::Call, 120)).await.unwrap());
    assert!(repo.add_activity(&activity(&a, ActivityKind::Whatsapp, 60)).await.unwrap());
    assert_eq!(repo.get_lead(a.id).await.unwrap().unwrap().first_contacted_at, Some(mins(60)));
    let kinds: Vec<ActivityKind> = repo.list_activities(a.id).await.unwrap().iter().map(|x| x.kind).collect();
    assert_eq!(kinds, [ActivityKind::Note, ActivityKind::Whatsapp, ActivityKind::Call]);
    assert_eq!(repo.get_activity(note.id).await.unwrap(), Some(note.clone()));

    // A stage change is saved with its entry and its audit record.
    let mut moved = repo.get_lead(a.id).await.unwrap().unwrap();
    let read_at = moved.updated_at;
    moved.stage = Stage::OnHold;
    moved.next_contact_on = Some(super::date(2026, 12, 1));
    moved.updated_at = mins(200);
    let mut audit = entry(&a);
    audit.action = "lead.stage_changed".into();
    let system = activity(&a, ActivityKind::System, 200);
    repo.change_lead(LeadChange {
        lead: &moved,
        activity: &system,
        audit: &audit,
        stops_cadence: true,
        expected_stage: Stage::Lead,
        read_at,
        follow_up: None,
        customer: None,
    })
    .await
    .unwrap();
    // The same change again, decided from what was read before it: a conflict, nothing written.
    let again = repo
        .change_lead(LeadChange {
            lead: &moved,
            activity: &activity(&a, ActivityKind::System, 201),
            audit: &audit,
            stops_cadence: true,
            expected_stage: Stage::OnHold,
            read_at,
            follow_up: None,
            customer: None,
        })
        .await;
    assert!(again.is_err_and(|e| e.is_conflict_on("leads.stage")), "a stale read is refused");
    let stored = repo.get_lead(a.id).await.unwrap().unwrap();
    assert_eq!((stored.stage, stored.next_contact_on), (Stage::OnHold, Some(super::date(2026, 12, 1))));
    assert_eq!(repo.list_activities(a.id).await.unwrap().len(), 4);
    assert_eq!(repo.list_audit("lead", &a.id.to_string()).await.unwrap().len(), 2);

    // After the deadline: b (never contacted) and c (contacted late) are breached, once; a
    // (contacted in time) is not.
    assert!(repo.add_activity(&activity(&c, ActivityKind::Call, 25 * 60)).await.unwrap());
    let event = |l: &Lead| {
        let mut j = job("webhook_event");
        j.unique_key = Some(format!("event:lead.sla_breached:{}", l.id));
        j
    };
    assert!(repo.breach_first_contacts(mins(23 * 60), &event).await.unwrap().is_empty(), "not yet");
    let mut late: Vec<LeadId> = repo.breach_first_contacts(mins(26 * 60), &event).await.unwrap().iter().map(|l| l.id).collect();
    late.sort();
    let mut want = vec![b.id, c.id];
    want.sort();
    assert_eq!(late, want);
    assert!(repo.breach_first_contacts(mins(27 * 60), &event).await.unwrap().is_empty(), "once");
    assert_eq!(repo.get_lead(b.id).await.unwrap().unwrap().sla_breached_at, Some(mins(26 * 60)));
}
