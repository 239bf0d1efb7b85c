//! What the month's scorecards count: submitted visits dated in the month, tasks due in it, and
//! the re-visits still open from its visits, each in a scope.

use fieldproof::db::{Repo, VerdictOutcome, VerdictRecord};
use fieldproof::domain::customer::CustomerClass;
use fieldproof::domain::finding::FindingCode;
use fieldproof::domain::ids::*;
use fieldproof::domain::role::Scope;
use fieldproof::domain::task::{RequiredMethod, Task, TaskStatus, TaskType};
use fieldproof::domain::visit::*;
use uuid::Uuid;

use super::{date, finding, revisit, stored_customer, task, today, verdict, visit};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(scorecards_count_the_months_visits_tasks_and_open_revisits);

/// Stores a visit of `rep` dated `on` and submits it with the verdict `record` makes, if any.
async fn visit_on(
    repo: &dyn Repo,
    rep: Uuid,
    branch: Uuid,
    customer: CustomerId,
    on: chrono::NaiveDate,
    record: impl FnOnce(VisitId) -> Option<VerdictRecord>,
) -> VisitId {
    let mut v = visit(VisitId::new_random(), rep, branch, customer);
    v.visit_date = Some(on);
    assert!(repo.insert_visit(&v).await.unwrap());
    if let Some(r) = record(v.id) {
        assert_eq!(repo.record_verdict(&r).await.unwrap(), VerdictOutcome::Recorded);
    }
    v.id
}

async fn scorecards_count_the_months_visits_tasks_and_open_revisits(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let (from, to) = (date(2026, 11, 1), date(2026, 11, 30));
    let c = stored_customer(repo, app.jkt).await;
    let jap_customer = stored_customer(repo, app.jap).await;

    // November: rep's late non-compliant door visit that carried out a routine task and left a
    // re-visit; rep2's compliant WhatsApp visit; a JAP visit; rep's draft. December: one more.
    let routine = task(c.id, app.jkt, app.rep.id, TaskType::Routine, today());
    assert!(repo.insert_task(&routine).await.unwrap());
    let mut late = visit(VisitId::new_random(), app.rep.id, app.jkt, c.id);
    late.content.task_id = Some(routine.id);
    late.content.result_reason = Some(ResultReason { level1: "service".into(), level2: "pickup_late".into() });
    assert!(repo.insert_visit(&late).await.unwrap());
    let late_verdict = VerdictRecord {
        findings: vec![finding(FindingCode::UploadLate, None), finding(FindingCode::PhotoNoGps, None)],
        revisit_task: Some(revisit(c.id, app.jkt, app.rep.id, late.id)),
        completes_task: Some(routine.id),
        ..verdict(late.id, VisitStatus::NonCompliant, 40)
    };
    assert_eq!(repo.record_verdict(&late_verdict).await.unwrap(), VerdictOutcome::Recorded);
    let whatsapp = {
        let mut v = visit(VisitId::new_random(), app.rep2.id, app.jkt, c.id);
        v.content.method = Method::Whatsapp;
        v.visit_date = Some(date(2026, 11, 12));
        assert!(repo.insert_visit(&v).await.unwrap());
        assert_eq!(repo.record_verdict(&verdict(v.id, VisitStatus::Compliant, 100)).await.unwrap(), VerdictOutcome::Recorded);
        v.id
    };
    let jap = visit_on(repo, app.jap_rep.id, app.jap, jap_customer.id, today(), |id| Some(verdict(id, VisitStatus::Flagged, 80))).await;
    visit_on(repo, app.rep.id, app.jkt, c.id, today(), |_| None).await;
    let december =
        visit_on(repo, app.rep.id, app.jkt, c.id, date(2026, 12, 1), |id| Some(verdict(id, VisitStatus::NonCompliant, 10))).await;
    // The customer's class now is what counts.
    let mut changed = repo.get_customer(c.id).await.unwrap().unwrap();
    changed.class = CustomerClass::LostWarning;
    repo.update_customer(&changed).await.unwrap();

    // Submitted visits dated in [from, to], in the scope; drafts never.
    let mut all = repo.score_visits(Scope::All, &Default::default(), from, to).await.unwrap();
    all.sort_by_key(|v| v.score);
    assert_eq!(
        all.iter().map(|v| (v.rep_id, v.branch_id, v.status.as_str(), v.score)).collect::<Vec<_>>(),
        [
            (UserId(app.rep.id), BranchId(app.jkt), "non_compliant", Some(40)),
            (UserId(app.jap_rep.id), BranchId(app.jap), "flagged", Some(80)),
            (UserId(app.rep2.id), BranchId(app.jkt), "compliant", Some(100)),
        ]
    );
    let (l, w) = (&all[0], &all[2]);
    assert_eq!(
        (l.method.as_str(), l.late, l.customer_class.as_str(), l.task_type.as_deref()),
        ("door_visit", true, "lost_warning", Some("routine"))
    );
    assert_eq!(l.result_reason, late.content.result_reason);
    assert_eq!(l.deducted_points, 0);
    assert_eq!((w.method.as_str(), w.late, w.task_type.as_deref(), w.result_reason.clone()), ("whatsapp", false, None, None));
    let jkt = repo.score_visits(Scope::Branch(BranchId(app.jkt)), &Default::default(), from, to).await.unwrap();
    assert_eq!(jkt.len(), 2);
    let own = repo.score_visits(Scope::Own(UserId(app.rep.id)), &Default::default(), from, to).await.unwrap();
    assert_eq!(own.iter().map(|v| v.score).collect::<Vec<_>>(), [Some(40)], "not the draft, not December's");
    let one_day = repo.score_visits(Scope::All, &Default::default(), date(2026, 11, 12), date(2026, 11, 12)).await.unwrap();
    assert_eq!(one_day.iter().map(|v| v.rep_id).collect::<Vec<_>>(), [UserId(app.rep2.id)], "the range is inclusive");
    assert_eq!(repo.score_visits(Scope::All, &Default::default(), date(2026, 12, 1), date(2026, 12, 31)).await.unwrap().len(), 1);

    // Tasks due in [from, to], counted by assignee, branch, required method and status.
    let due = |assignee: Uuid, branch: Uuid, customer: CustomerId, on: chrono::NaiveDate, method: RequiredMethod| Task {
        required_method: method,
        ..task(customer, branch, assignee, TaskType::Routine, on)
    };
    for t in [
        due(app.rep.id, app.jkt, c.id, date(2026, 11, 20), RequiredMethod::DoorVisit),
        due(app.rep.id, app.jkt, c.id, date(2026, 11, 30), RequiredMethod::DoorVisit),
        due(app.rep.id, app.jkt, c.id, date(2026, 11, 30), RequiredMethod::Any),
        due(app.rep2.id, app.jkt, c.id, date(2026, 11, 1), RequiredMethod::Any),
        due(app.jap_rep.id, app.jap, jap_customer.id, date(2026, 11, 15), RequiredMethod::DoorVisit),
        due(app.rep.id, app.jkt, c.id, date(2026, 12, 1), RequiredMethod::DoorVisit),
        due(app.rep.id, app.jkt, c.id, date(2026, 10, 31), RequiredMethod::DoorVisit),
    ] {
        assert!(repo.insert_task(&t).await.unwrap());
    }
    let counted = |rows: Vec<fieldproof::db::ScoreTasks>| {
        let mut rows: Vec<_> = rows.into_iter().map(|r| (r.assignee_id.0, r.branch_id.0, r.required_method, r.status, r.count)).collect();
        rows.sort();
        rows
    };
    let mut expected = vec![
        // The routine task the late visit carried out, and its re-visit (due today).
        (app.rep.id, app.jkt, "door_visit".to_string(), "done".to_string(), 1),
        (app.rep.id, app.jkt, "door_visit".to_string(), "open".to_string(), 3),
        (app.rep.id, app.jkt, "any".to_string(), "open".to_string(), 1),
        (app.rep2.id, app.jkt, "any".to_string(), "open".to_string(), 1),
        (app.jap_rep.id, app.jap, "door_visit".to_string(), "open".to_string(), 1),
    ];
    expected.sort();
    assert_eq!(counted(repo.score_tasks(Scope::All, &Default::default(), from, to).await.unwrap()), expected);
    let jkt_only: Vec<_> = expected.iter().filter(|r| r.1 == app.jkt).cloned().collect();
    assert_eq!(counted(repo.score_tasks(Scope::Branch(BranchId(app.jkt)), &Default::default(), from, to).await.unwrap()), jkt_only);
    assert_eq!(
        counted(repo.score_tasks(Scope::Own(UserId(app.rep2.id)), &Default::default(), from, to).await.unwrap()),
        [(app.rep2.id, app.jkt, "any".to_string(), "open".to_string(), 1)]
    );

    // Re-visits still open from visits dated in [from, to], per assignee and branch.
    let closed = Task { status: TaskStatus::Done, ..revisit(c.id, app.jkt, app.rep2.id, whatsapp) };
    assert!(repo.insert_task(&closed).await.unwrap(), "a done re-visit does not count");
    assert!(repo.insert_task(&revisit(jap_customer.id, app.jap, app.jap_rep.id, jap)).await.unwrap());
    assert!(repo.insert_task(&revisit(c.id, app.jkt, app.rep.id, december)).await.unwrap(), "December's");
    let mut open = repo.open_revisits(Scope::All, &Default::default(), from, to).await.unwrap();
    open.sort();
    let mut expected = vec![(UserId(app.rep.id), BranchId(app.jkt), 1), (UserId(app.jap_rep.id), BranchId(app.jap), 1)];
    expected.sort();
    assert_eq!(open, expected);
    assert_eq!(
        repo.open_revisits(Scope::Branch(BranchId(app.jkt)), &Default::default(), from, to).await.unwrap(),
        [(UserId(app.rep.id), BranchId(app.jkt), 1)]
    );
    assert!(repo.open_revisits(Scope::Own(UserId(app.rep2.id)), &Default::default(), from, to).await.unwrap().is_empty());
    assert_eq!(
        repo.open_revisits(Scope::All, &Default::default(), date(2026, 12, 1), date(2026, 12, 31)).await.unwrap(),
        [(UserId(app.rep.id), BranchId(app.jkt), 1)]
    );
}
