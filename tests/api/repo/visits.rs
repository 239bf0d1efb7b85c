//! Visits: inserted once, drafts edited until the verdict, the verdict written whole in one
//! transaction (or not at all), findings, lists with filters, and similar summaries.

use chrono::Days;
use fieldproof::db::{PhotoInsert, Repo, VerdictOutcome, VerdictRecord, VisitFilter};
use fieldproof::domain::finding::FindingCode;
use fieldproof::domain::ids::*;
use fieldproof::domain::page::Page;
use fieldproof::domain::role::Scope;
use fieldproof::domain::task::{TaskStatus, TaskType};
use fieldproof::domain::visit::*;

use super::{
    all_visits, audit, date, finding, first, job, mins, photo, revisit, stored_customer, stored_visit, task, today, verdict, visit,
};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(a_visit_is_edited_as_a_draft_and_submitted_once);

fn ids(visits: &[Visit]) -> Vec<VisitId> {
    visits.iter().map(|v| v.id).collect()
}

async fn a_visit_is_edited_as_a_draft_and_submitted_once(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let c1 = stored_customer(repo, app.jkt).await;

    // Inserted once; it round-trips.
    let vid = VisitId::new_random();
    let v = visit(vid, app.rep.id, app.jkt, c1.id);
    assert!(repo.insert_visit(&v).await.unwrap());
    assert!(!repo.insert_visit(&v).await.unwrap(), "the same id twice inserts once");
    assert_eq!(repo.get_visit(vid).await.unwrap().unwrap(), v);
    assert!(repo.get_visit(VisitId::new_random()).await.unwrap().is_none());

    // A draft's content is replaced.
    let mut edited = v.clone();
    edited.content.summary = Some("Baru".into());
    edited.content_hash = "h2".into();
    edited.updated_at = mins(10);
    assert!(repo.update_draft_visit(&edited).await.unwrap());
    let got = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((got.content.summary.as_deref(), got.content_hash.as_str()), (Some("Baru"), "h2"));
    assert_eq!(got.content.answers.get("volume_plan").map(String::as_str), Some("naik"));
    assert_eq!(got, edited);

    // The verdict: findings, a re-visit task, the task the visit carried out, new tasks, summary
    // bands, events and the audit entry, all in one transaction.
    let pid = PhotoId::new_random();
    assert!(matches!(repo.insert_photo(&photo(pid, vid, "photos/aa/bb/one.jpeg"), mins(5)).await.unwrap(), PhotoInsert::Inserted));
    let carried_out = task(c1.id, app.jkt, app.rep.id, TaskType::Routine, today());
    assert!(repo.insert_task(&carried_out).await.unwrap());
    let follow_up = task(c1.id, app.jkt, app.rep.id, TaskType::FollowUp, date(2026, 11, 17));
    let late = finding(FindingCode::UploadLate, Some(pid));
    let mut record = VerdictRecord {
        status: VisitStatus::NonCompliant,
        score: 40,
        findings: vec![late.clone()],
        photo_count: 0,
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep.id, vid)),
        new_tasks: vec![follow_up.clone()],
        summary_bands: vec![11, -22, 33],
        jobs: vec![job("visit.submitted")],
        revisit_created_job: Some(job("task.created")),
        completes_task: Some(carried_out.id),
        ..verdict(vid, VisitStatus::NonCompliant, 40)
    };

    // A stale photo count writes nothing at all.
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::PhotosChanged);
    assert_eq!(repo.get_visit(vid).await.unwrap().unwrap().status, VisitStatus::Draft, "a refused verdict leaves the draft");
    assert!(repo.list_findings(vid).await.unwrap().is_empty());
    for j in record.jobs.iter().chain(&record.revisit_created_job) {
        assert!(repo.get_job(j.id).await.unwrap().is_none(), "no event of a refused verdict: {}", j.kind);
    }
    assert!(repo.get_task(record.revisit_task.as_ref().unwrap().id).await.unwrap().is_none());
    assert!(repo.get_task(follow_up.id).await.unwrap().is_none());
    assert_eq!(repo.get_task(carried_out.id).await.unwrap().unwrap().status, TaskStatus::Open);
    assert!(repo.list_audit("visit", &vid.to_string()).await.unwrap().is_empty());
    assert!(repo.similar_summaries(&[11], VisitId::new_random(), 20).await.unwrap().is_empty());

    // Then once; then never again.
    record.photo_count = 1;
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::Recorded);
    assert_eq!(repo.record_verdict(&record).await.unwrap(), VerdictOutcome::AlreadySubmitted);
    let submitted = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((submitted.status, submitted.score), (VisitStatus::NonCompliant, Some(40)));
    assert_eq!(submitted.submitted_at, Some(mins(30)));
    let revisit_id = submitted.revisit_task_id.expect("linked re-visit task");
    assert_eq!(revisit_id, record.revisit_task.as_ref().unwrap().id, "a new re-visit task is placed");
    for j in record.jobs.iter().chain(&record.revisit_created_job) {
        assert!(repo.get_job(j.id).await.unwrap().is_some(), "the verdict's jobs are written with it: {}", j.kind);
    }
    assert_eq!(repo.get_task(carried_out.id).await.unwrap().unwrap().status, TaskStatus::Done, "the task carried out is done");
    assert_eq!(repo.get_task(follow_up.id).await.unwrap().unwrap(), follow_up);
    let entries = repo.list_audit("visit", &vid.to_string()).await.unwrap();
    assert_eq!(entries, vec![audit("visit.submitted", vid)]);
    // A repeated submit writes nothing either.
    let repeat = VerdictRecord { jobs: vec![job("visit.submitted")], ..record.clone() };
    assert_eq!(repo.record_verdict(&repeat).await.unwrap(), VerdictOutcome::AlreadySubmitted);
    assert!(repo.get_job(repeat.jobs[0].id).await.unwrap().is_none());
    assert_eq!(repo.list_findings(vid).await.unwrap().len(), 1);
    assert_eq!(repo.list_audit("visit", &vid.to_string()).await.unwrap().len(), 1);

    // Similar summaries: submitted visits sharing band keys, the most shared first, never the
    // visit itself.
    let similar = repo.similar_summaries(&[5, -22, 33, 44], VisitId::new_random(), 20).await.unwrap();
    assert_eq!(similar.iter().map(|c| c.visit_id).collect::<Vec<_>>(), vec![vid], "found by shared bands");
    assert_eq!((similar[0].rep_id, similar[0].summary.as_str()), (UserId(app.rep.id), "Baru"));
    assert!(repo.similar_summaries(&[-22], vid, 20).await.unwrap().is_empty(), "never the visit itself");
    assert!(repo.similar_summaries(&[], VisitId::new_random(), 20).await.unwrap().is_empty());
    let other = stored_visit(repo, app.rep2.id, app.jkt, c1.id).await;
    let other_record = VerdictRecord { summary_bands: vec![11, 500], ..verdict(other.id, VisitStatus::Compliant, 100) };
    assert_eq!(repo.record_verdict(&other_record).await.unwrap(), VerdictOutcome::Recorded);
    let both = repo.similar_summaries(&[11, -22], VisitId::new_random(), 20).await.unwrap();
    assert_eq!(both.iter().map(|c| c.visit_id).collect::<Vec<_>>(), vec![vid, other.id], "two shared bands before one");
    let top = repo.similar_summaries(&[11, -22], VisitId::new_random(), 1).await.unwrap();
    assert_eq!(top.iter().map(|c| c.visit_id).collect::<Vec<_>>(), vec![vid], "at most `limit`");
    let not_vid = repo.similar_summaries(&[11, -22], vid, 20).await.unwrap();
    assert_eq!(not_vid.iter().map(|c| c.visit_id).collect::<Vec<_>>(), vec![other.id]);

    // Findings come back as written; a submitted visit is frozen.
    assert_eq!(repo.list_findings(vid).await.unwrap(), vec![late]);
    assert!(repo.list_findings(other.id).await.unwrap().is_empty());
    assert!(!repo.update_draft_visit(&edited).await.unwrap(), "a submitted visit is frozen");
    assert_eq!(repo.get_visit(vid).await.unwrap().unwrap().status, VisitStatus::NonCompliant);

    // Lists: scope, status and finding code.
    let all = all_visits();
    let by_code = VisitFilter { finding_code: Some(FindingCode::UploadLate), ..all.clone() };
    assert_eq!(repo.list_visits(&by_code, Page { before: None, limit: 10 }).await.unwrap().items.len(), 1);
    assert_eq!(ids(&repo.list_visits(&by_code, first(10)).await.unwrap().items), [vid]);
    let by_other_code = VisitFilter { finding_code: Some(FindingCode::PhotoNoGps), ..all.clone() };
    assert!(repo.list_visits(&by_other_code, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let jap_scope = VisitFilter { scope: Scope::Branch(BranchId(app.jap)), ..all.clone() };
    assert!(repo.list_visits(&jap_scope, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let tomorrow = VisitFilter { date_from: Some(today() + Days::new(2)), ..all.clone() };
    assert!(repo.list_visits(&tomorrow, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());

    // …and rep, branch, customer, review status and date range, with a draft in JKT and a visit
    // of tomorrow in JAP.
    let draft = stored_visit(repo, app.rep.id, app.jkt, c1.id).await;
    let jap_customer = stored_customer(repo, app.jap).await;
    let mut jap = visit(VisitId::new_random(), app.jap_rep.id, app.jap, jap_customer.id);
    jap.visit_date = Some(today() + Days::new(1));
    assert!(repo.insert_visit(&jap).await.unwrap());
    let everything = repo.list_visits(&all, first(50)).await.unwrap();
    assert_eq!(ids(&everything.items), [jap.id, draft.id, other.id, vid], "newest first");
    assert_eq!(ids(&repo.list_visits(&jap_scope, first(50)).await.unwrap().items), [jap.id]);
    let jkt_scope = VisitFilter { scope: Scope::Branch(BranchId(app.jkt)), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&jkt_scope, first(50)).await.unwrap().items), [draft.id, other.id, vid]);
    let own = VisitFilter { scope: Scope::Own(UserId(app.rep2.id)), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&own, first(50)).await.unwrap().items), [other.id]);
    let from_tomorrow = VisitFilter { date_from: Some(today() + Days::new(1)), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&from_tomorrow, first(50)).await.unwrap().items), [jap.id]);
    let from_tomorrow_in_jkt = VisitFilter { branch_id: Some(BranchId(app.jkt)), ..from_tomorrow.clone() };
    assert!(repo.list_visits(&from_tomorrow_in_jkt, first(50)).await.unwrap().items.is_empty());
    let today_only = VisitFilter { date_from: Some(today()), date_to: Some(today()), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&today_only, first(50)).await.unwrap().items), [draft.id, other.id, vid], "dates are inclusive");
    let drafts = VisitFilter { status: Some(VisitStatus::Draft), rep_id: Some(UserId(app.rep.id)), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&drafts, first(50)).await.unwrap().items), [draft.id]);
    let compliant = VisitFilter { status: Some(VisitStatus::Compliant), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&compliant, first(50)).await.unwrap().items), [other.id]);
    let pending = VisitFilter { review_status: Some(ReviewStatus::Pending), branch_id: Some(BranchId(app.jkt)), ..all.clone() };
    assert_eq!(repo.list_visits(&pending, first(50)).await.unwrap().items.len(), 3);
    let rejected = VisitFilter { review_status: Some(ReviewStatus::Rejected), ..all.clone() };
    assert!(repo.list_visits(&rejected, first(50)).await.unwrap().items.is_empty());
    let of_customer = VisitFilter { customer_id: Some(jap_customer.id), ..all.clone() };
    assert_eq!(ids(&repo.list_visits(&of_customer, first(50)).await.unwrap().items), [jap.id]);
    // Pages chained by the cursor.
    let page1 = repo.list_visits(&all, first(3)).await.unwrap();
    let page2 = repo.list_visits(&all, Page { before: page1.next, limit: 3 }).await.unwrap();
    assert_eq!((ids(&page1.items), ids(&page2.items), page2.next), (ids(&everything.items[..3]), vec![vid], None));
}
