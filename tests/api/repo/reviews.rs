//! Reviews: one decision at a time or a batch (all or none), each with what it causes in one
//! transaction; the review queue in priority order and pages; the queue's batched reads.

use fieldproof::db::{PhotoInsert, Repo, ReviewRecord, VerdictOutcome, VerdictRecord, VisitFilter};

use fieldproof::domain::finding::FindingCode;
use fieldproof::domain::ids::*;
use fieldproof::domain::page::Page;
use fieldproof::domain::role::Scope;
use fieldproof::domain::visit::*;

use super::{all_visits, audit, finding, first, job, mins, photo, revisit, stored_customer, stored_visit, verdict};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(reviews_are_recorded_once_and_the_queue_puts_the_worst_first);

fn new_review(visit: VisitId, reviewer: uuid::Uuid, decision: Decision, deduct_points: u32) -> Review {
    Review {
        id: ReviewId::new_random(),
        visit_id: visit,
        reviewer_id: UserId(reviewer),
        decision,
        comment: Some("no".into()),
        deduct_points,
        revisit_task_id: None,
        created_at: mins(60),
    }
}

/// A review record causing one event and no re-visit.
fn reviewed(review: Review) -> ReviewRecord {
    let visit = review.visit_id;
    ReviewRecord {
        review,
        revisit_task: None,
        jobs: vec![job("visit.reviewed")],
        revisit_created_job: None,
        audit: audit("visit.reviewed", visit),
    }
}

fn ids(visits: &[Visit]) -> Vec<VisitId> {
    visits.iter().map(|v| v.id).collect()
}

async fn reviews_are_recorded_once_and_the_queue_puts_the_worst_first(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let c1 = stored_customer(repo, app.jkt).await;

    // A non-compliant visit with a photo, a finding and its open re-visit task.
    let vid = stored_visit(repo, app.rep.id, app.jkt, c1.id).await.id;
    let pid = PhotoId::new_random();
    assert!(matches!(repo.insert_photo(&photo(pid, vid, "photos/aa/bb/one.jpeg"), mins(1)).await.unwrap(), PhotoInsert::Inserted));
    let verdict_record = VerdictRecord {
        findings: vec![finding(FindingCode::UploadLate, Some(pid))],
        photo_count: 1,
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep.id, vid)),
        ..verdict(vid, VisitStatus::NonCompliant, 40)
    };
    assert_eq!(repo.record_verdict(&verdict_record).await.unwrap(), VerdictOutcome::Recorded);
    let revisit_id = repo.get_visit(vid).await.unwrap().unwrap().revisit_task_id.unwrap();

    // A reject reuses the one open re-visit task (and announces no new one).
    let review = new_review(vid, app.marketing.id, Decision::Reject, 7);
    let record = ReviewRecord {
        review: review.clone(),
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep.id, vid)),
        jobs: vec![job("visit.reviewed")],
        revisit_created_job: Some(job("task.created")),
        audit: audit("visit.reviewed", vid),
    };
    assert!(repo.record_review(&record).await.unwrap());
    assert!(repo.get_job(record.jobs[0].id).await.unwrap().is_some());
    assert!(
        repo.get_job(record.revisit_created_job.as_ref().unwrap().id).await.unwrap().is_none(),
        "no task.created for the re-visit that already existed"
    );
    assert!(repo.get_task(record.revisit_task.as_ref().unwrap().id).await.unwrap().is_none(), "no second re-visit task");
    assert!(!repo.record_review(&record).await.unwrap(), "the same review id twice is recorded once");
    let got = repo.get_review(review.id).await.unwrap().unwrap();
    assert_eq!((got.id, got.revisit_task_id, got.deduct_points, got.decision), (review.id, Some(revisit_id), 7, Decision::Reject));
    assert_eq!(got, Review { revisit_task_id: Some(revisit_id), ..review.clone() });
    assert!(repo.get_review(ReviewId::new_random()).await.unwrap().is_none());
    let reviews = repo.list_reviews(vid).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].revisit_task_id, Some(revisit_id));
    let after = repo.get_visit(vid).await.unwrap().unwrap();
    assert_eq!((after.review_status, after.deducted_points), (ReviewStatus::Rejected, 7));
    // The taken id wrote nothing: not its new events, not its points, not its audit entry.
    let retry = ReviewRecord { jobs: vec![job("visit.reviewed")], ..record.clone() };
    assert!(!repo.record_review(&retry).await.unwrap());
    assert!(repo.get_job(retry.jobs[0].id).await.unwrap().is_none());
    assert_eq!(repo.get_visit(vid).await.unwrap().unwrap().deducted_points, 7);
    assert_eq!(repo.list_audit("visit", &vid.to_string()).await.unwrap().len(), 2, "the verdict's entry and one review's");

    // A reject of a visit without an open re-visit places one, and announces it.
    let fine = stored_visit(repo, app.rep2.id, app.jkt, c1.id).await.id;
    assert_eq!(repo.record_verdict(&verdict(fine, VisitStatus::Compliant, 95)).await.unwrap(), VerdictOutcome::Recorded);
    let placed = ReviewRecord {
        revisit_task: Some(revisit(c1.id, app.jkt, app.rep2.id, fine)),
        revisit_created_job: Some(job("task.created")),
        ..reviewed(new_review(fine, app.hq.id, Decision::Reject, 3))
    };
    assert!(repo.record_review(&placed).await.unwrap());
    let new_revisit = placed.revisit_task.as_ref().unwrap().id;
    assert!(repo.get_task(new_revisit).await.unwrap().is_some());
    assert!(repo.get_job(placed.revisit_created_job.as_ref().unwrap().id).await.unwrap().is_some(), "its task.created is written");
    let fine_after = repo.get_visit(fine).await.unwrap().unwrap();
    assert_eq!(
        (fine_after.revisit_task_id, fine_after.review_status, fine_after.deducted_points),
        (Some(new_revisit), ReviewStatus::Rejected, 3)
    );
    // Points add up over reviews; an approval without a re-visit keeps the visit's task.
    let approve = reviewed(new_review(fine, app.hq.id, Decision::Approve, 2));
    assert!(repo.record_review(&approve).await.unwrap());
    let fine_after = repo.get_visit(fine).await.unwrap().unwrap();
    assert_eq!(
        (fine_after.revisit_task_id, fine_after.review_status, fine_after.deducted_points),
        (Some(new_revisit), ReviewStatus::Approved, 5)
    );
    assert_eq!(repo.list_reviews(fine).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![placed.review.id, approve.review.id]);

    // A batch is all or none: a taken id anywhere writes nothing of the others.
    let flagged = stored_visit(repo, app.rep.id, app.jkt, c1.id).await.id;
    assert_eq!(repo.record_verdict(&verdict(flagged, VisitStatus::Flagged, 70)).await.unwrap(), VerdictOutcome::Recorded);
    let first_of_batch = reviewed(new_review(flagged, app.marketing.id, Decision::Flag, 1));
    assert_eq!(repo.record_reviews(&[first_of_batch.clone(), approve.clone()]).await.unwrap(), Some(1), "item 1's id exists");
    assert!(repo.get_review(first_of_batch.review.id).await.unwrap().is_none());
    assert!(repo.get_job(first_of_batch.jobs[0].id).await.unwrap().is_none());
    assert_eq!(repo.get_visit(flagged).await.unwrap().unwrap().review_status, ReviewStatus::Pending);
    let second_of_batch = reviewed(new_review(flagged, app.marketing.id, Decision::Flag, 2));
    assert_eq!(repo.record_reviews(&[first_of_batch.clone(), second_of_batch.clone()]).await.unwrap(), None);
    for r in [&first_of_batch, &second_of_batch] {
        assert!(repo.get_review(r.review.id).await.unwrap().is_some());
        assert!(repo.get_job(r.jobs[0].id).await.unwrap().is_some());
    }
    let flagged_after = repo.get_visit(flagged).await.unwrap().unwrap();
    assert_eq!((flagged_after.review_status, flagged_after.deducted_points), (ReviewStatus::Flagged, 3));
    assert_eq!(repo.record_reviews(&[]).await.unwrap(), None);

    // The queue: submitted visits only, of the given review statuses; non-compliant first, then
    // flagged, then the rest, newest first within each.
    let nc2 = stored_visit(repo, app.rep.id, app.jkt, c1.id).await.id;
    assert_eq!(repo.record_verdict(&verdict(nc2, VisitStatus::NonCompliant, 30)).await.unwrap(), VerdictOutcome::Recorded);
    let ok2 = stored_visit(repo, app.rep.id, app.jkt, c1.id).await.id;
    assert_eq!(repo.record_verdict(&verdict(ok2, VisitStatus::Compliant, 100)).await.unwrap(), VerdictOutcome::Recorded);
    let fl2 = stored_visit(repo, app.rep2.id, app.jkt, c1.id).await.id;
    assert_eq!(repo.record_verdict(&verdict(fl2, VisitStatus::Flagged, 75)).await.unwrap(), VerdictOutcome::Recorded);
    let _draft = stored_visit(repo, app.rep.id, app.jkt, c1.id).await;
    let all = all_visits();
    let statuses = [ReviewStatus::Pending, ReviewStatus::Rejected, ReviewStatus::Flagged, ReviewStatus::Approved];
    let queue = repo.review_queue(&all, &statuses, first(50)).await.unwrap();
    assert_eq!(ids(&queue.items), [nc2, vid, fl2, flagged, ok2, fine]);
    assert_eq!(queue.next, None);
    let pending = repo.review_queue(&all, &[ReviewStatus::Pending], first(50)).await.unwrap();
    assert_eq!(ids(&pending.items), [nc2, fl2, ok2], "only the given review statuses");
    let rejected = repo.review_queue(&all, &[ReviewStatus::Rejected], first(50)).await.unwrap();
    assert_eq!(ids(&rejected.items), [vid]);
    // Pages across the ranks give the same order as one page.
    let mut paged = Vec::new();
    let mut page = Page { before: None, limit: 2 };
    loop {
        let got = repo.review_queue(&all, &statuses, page).await.unwrap();
        assert!(got.items.len() <= 2);
        paged.extend(ids(&got.items));
        match got.next {
            Some(next) => page.before = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, ids(&queue.items));
    // The visit filter applies.
    let rep2s = VisitFilter { scope: Scope::Own(UserId(app.rep2.id)), ..all.clone() };
    assert_eq!(ids(&repo.review_queue(&rep2s, &statuses, first(50)).await.unwrap().items), [fl2, fine]);
    let jap = VisitFilter { scope: Scope::Branch(BranchId(app.jap)), ..all.clone() };
    assert!(repo.review_queue(&jap, &statuses, first(50)).await.unwrap().items.is_empty());
    let by_code = VisitFilter { finding_code: Some(FindingCode::UploadLate), ..all.clone() };
    assert_eq!(ids(&repo.review_queue(&by_code, &statuses, first(50)).await.unwrap().items), [vid]);

    // The review queue's batched reads give what the per-visit ones give.
    let other_visit = VisitId::new_random();
    let evidence = repo.visits_evidence(&[vid, other_visit]).await.unwrap();
    assert_eq!(
        evidence.photos.iter().map(|p| p.id).collect::<Vec<_>>(),
        repo.list_photos(vid).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>()
    );
    assert_eq!(evidence.findings, repo.list_findings(vid).await.unwrap().into_iter().map(|f| (vid, f)).collect::<Vec<_>>());
    assert_eq!(evidence.reviews.iter().map(|r| r.id).collect::<Vec<_>>(), vec![review.id]);
    assert!(repo.visits_evidence(&[]).await.unwrap().photos.is_empty());
    // Several visits at once, each in its visit's order.
    let evidence = repo.visits_evidence(&[fine, vid, flagged]).await.unwrap();
    for v in [vid, fine, flagged] {
        let photos: Vec<PhotoId> = evidence.photos.iter().filter(|p| p.visit_id == v).map(|p| p.id).collect();
        assert_eq!(photos, repo.list_photos(v).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>());
        let findings: Vec<_> = evidence.findings.iter().filter(|(id, _)| *id == v).map(|(_, f)| f.clone()).collect();
        assert_eq!(findings, repo.list_findings(v).await.unwrap());
        let reviews: Vec<Review> = evidence.reviews.iter().filter(|r| r.visit_id == v).cloned().collect();
        assert_eq!(reviews, repo.list_reviews(v).await.unwrap());
    }
    assert_eq!((evidence.photos.len(), evidence.findings.len(), evidence.reviews.len()), (1, 1, 5));
}
