//! The audit log: append-only, every entry of a subject in the order it was written, whether
//! appended alone or with the verdict or review that caused it.

use fieldproof::db::{Repo, ReviewRecord, VerdictOutcome};

use fieldproof::domain::audit::AuditEntry;
use fieldproof::domain::ids::*;
use fieldproof::domain::visit::*;
use serde_json::json;

use super::{audit, mins, stored_customer, stored_visit, verdict};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(the_audit_log_keeps_every_entry_in_order);

async fn the_audit_log_keeps_every_entry_in_order(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let c = stored_customer(repo, app.jkt).await;
    let vid = stored_visit(repo, app.rep.id, app.jkt, c.id).await.id;

    // A verdict and a review each write their entry with them.
    assert_eq!(repo.record_verdict(&verdict(vid, VisitStatus::Compliant, 100)).await.unwrap(), VerdictOutcome::Recorded);
    let review = Review {
        id: ReviewId::new_random(),
        visit_id: vid,
        reviewer_id: UserId(app.marketing.id),
        decision: Decision::Approve,
        comment: None,
        deduct_points: 0,
        revisit_task_id: None,
        created_at: mins(60),
    };
    let record = ReviewRecord { review, revisit_task: None, jobs: vec![], revisit_created_job: None, audit: audit("visit.reviewed", vid) };
    assert!(repo.record_review(&record).await.unwrap());

    // The audit log keeps every entry in order.
    let entries = repo.list_audit("visit", &vid.to_string()).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["visit.submitted", "visit.reviewed"]);
    assert_eq!(entries[0].detail, json!({"n": 1}));

    // Appended entries round-trip, actor and detail included, after the others: in the order
    // written, whatever their instants say.
    let exported = AuditEntry {
        at: mins(-600),
        actor_id: Some(UserId(app.hq.id)),
        action: "visit.exported".into(),
        subject_type: "visit".into(),
        subject_id: vid.to_string(),
        detail: json!({"format": "csv", "rows": [1, 2]}),
    };
    repo.append_audit(&exported).await.unwrap();
    repo.append_audit(&exported).await.unwrap();
    let entries = repo.list_audit("visit", &vid.to_string()).await.unwrap();
    assert_eq!(entries.len(), 4, "appending the same entry twice keeps both");
    assert_eq!(entries[2..], [exported.clone(), exported.clone()]);

    // Only the subject asked for: the type and the id both count.
    let task_entry = AuditEntry { subject_type: "task".into(), action: "task.created".into(), ..exported.clone() };
    repo.append_audit(&task_entry).await.unwrap();
    assert_eq!(repo.list_audit("task", &vid.to_string()).await.unwrap(), vec![task_entry]);
    assert_eq!(repo.list_audit("visit", &vid.to_string()).await.unwrap().len(), 4);
    assert!(repo.list_audit("visit", &VisitId::new_random().to_string()).await.unwrap().is_empty());
}
