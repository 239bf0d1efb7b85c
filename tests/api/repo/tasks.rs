//! Tasks: inserted once (with their event, in one transaction), listed by scope and filters in
//! pages, confirmed H-1 once, and planned under keys that a rerun never doubles.

use fieldproof::db::{Repo, TaskFilter};

use fieldproof::domain::ids::{BranchId, TaskId, UserId, VisitId};
use fieldproof::domain::page::Page;
use fieldproof::domain::role::Scope;
use fieldproof::domain::task::{Task, TaskStatus, TaskType};

use super::{date, first, job, mins, revisit, stored_customer, task, today};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(tasks_are_inserted_once_and_listed_by_scope);

fn ids(tasks: &[Task]) -> Vec<TaskId> {
    tasks.iter().map(|t| t.id).collect()
}

async fn tasks_are_inserted_once_and_listed_by_scope(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();
    let c = stored_customer(repo, app.jkt).await;

    // A re-visit task, inserted once, is the rep's only open task; not the other rep's.
    let rv = revisit(c.id, app.jkt, app.rep.id, VisitId::new_random());
    assert!(repo.insert_task(&rv).await.unwrap());
    let revisit_id = rv.id;
    let own = TaskFilter { scope: Scope::Own(UserId(app.rep.id)), status: Some(TaskStatus::Open), ..TaskFilter::any() };
    let tasks = repo.list_tasks(&own, Page { before: None, limit: 10 }).await.unwrap();
    assert_eq!(tasks.items.iter().map(|t| t.id).collect::<Vec<_>>(), vec![revisit_id]);
    let other = TaskFilter { scope: Scope::Own(UserId(app.rep2.id)), ..own.clone() };
    assert!(repo.list_tasks(&other, Page { before: None, limit: 10 }).await.unwrap().items.is_empty());
    let t = repo.get_task(revisit_id).await.unwrap().unwrap();
    assert_eq!(t, rv, "a task round-trips");
    assert!(!repo.insert_task(&t).await.unwrap(), "the same task id twice inserts once");
    assert!(repo.get_task(TaskId::new_random()).await.unwrap().is_none());

    // With its event: the job is written exactly when the task is new.
    let tomorrow = date(2026, 11, 11);
    let routine = task(c.id, app.jkt, app.rep.id, TaskType::Routine, tomorrow);
    let created = job("task.created");
    assert!(repo.insert_task_with_job(&routine, &created).await.unwrap());
    assert_eq!(repo.get_job(created.id).await.unwrap().unwrap().status, "queued");
    let retried = job("task.created");
    assert!(!repo.insert_task_with_job(&routine, &retried).await.unwrap(), "the same task id twice inserts once");
    assert!(repo.get_job(retried.id).await.unwrap().is_none(), "and writes no second event");

    // More tasks: rep2's in JKT, one done, one in JAP, one later in the month.
    let rep2s = task(c.id, app.jkt, app.rep2.id, TaskType::Manual, tomorrow);
    let done = Task { status: TaskStatus::Done, ..task(c.id, app.jkt, app.rep.id, TaskType::Routine, tomorrow) };
    let jap_customer = stored_customer(repo, app.jap).await;
    let jap = task(jap_customer.id, app.jap, app.jap_rep.id, TaskType::Routine, tomorrow);
    let later = task(c.id, app.jkt, app.rep.id, TaskType::FollowUp, date(2026, 11, 20));
    for t in [&rep2s, &done, &jap, &later] {
        assert!(repo.insert_task(t).await.unwrap());
    }

    // Lists: newest first; scope, assignee, status, due range and customer filter.
    let all = TaskFilter { scope: Scope::All, status: None, ..own.clone() };
    let everything = repo.list_tasks(&all, first(50)).await.unwrap();
    assert_eq!(ids(&everything.items), [later.id, jap.id, done.id, rep2s.id, routine.id, revisit_id]);
    assert_eq!(ids(&repo.list_tasks(&own, first(50)).await.unwrap().items), [later.id, routine.id, revisit_id]);
    let branch = TaskFilter { scope: Scope::Branch(BranchId(app.jap)), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&branch, first(50)).await.unwrap().items), [jap.id]);
    let assignee = TaskFilter { assignee_id: Some(UserId(app.rep2.id)), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&assignee, first(50)).await.unwrap().items), [rep2s.id]);
    let finished = TaskFilter { status: Some(TaskStatus::Done), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&finished, first(50)).await.unwrap().items), [done.id]);
    let due = TaskFilter { due_from: Some(tomorrow), due_to: Some(tomorrow), ..own.clone() };
    assert_eq!(ids(&repo.list_tasks(&due, first(50)).await.unwrap().items), [routine.id], "the due range is inclusive");
    let from = TaskFilter { due_from: Some(date(2026, 11, 12)), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&from, first(50)).await.unwrap().items), [later.id]);
    let to = TaskFilter { due_to: Some(today()), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&to, first(50)).await.unwrap().items), [revisit_id]);
    let of_customer = TaskFilter { customer_id: Some(jap_customer.id), ..all.clone() };
    assert_eq!(ids(&repo.list_tasks(&of_customer, first(50)).await.unwrap().items), [jap.id]);
    // Pages chained by the cursor give the same rows as one page.
    let mut paged = Vec::new();
    let mut page = Page { before: None, limit: 4 };
    loop {
        let got = repo.list_tasks(&all, page).await.unwrap();
        paged.extend(ids(&got.items));
        match got.next {
            Some(next) => page.before = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, ids(&everything.items));
    assert_eq!(everything.next, None);

    // H-1 confirmation: once, of an open task.
    assert!(repo.confirm_task(routine.id, UserId(app.rep.id), Some("jam 10"), mins(60)).await.unwrap());
    let confirmed = repo.get_task(routine.id).await.unwrap().unwrap();
    assert_eq!(
        (confirmed.confirmed_at, confirmed.confirmed_by, confirmed.confirmation_note.as_deref()),
        (Some(mins(60)), Some(UserId(app.rep.id)), Some("jam 10"))
    );
    assert!(!repo.confirm_task(routine.id, UserId(app.rep2.id), None, mins(61)).await.unwrap(), "already confirmed");
    assert_eq!(repo.get_task(routine.id).await.unwrap().unwrap().confirmed_by, Some(UserId(app.rep.id)), "the first one stays");
    assert!(!repo.confirm_task(done.id, UserId(app.rep.id), None, mins(60)).await.unwrap(), "not an open task");
    assert!(!repo.confirm_task(TaskId::new_random(), UserId(app.rep.id), None, mins(60)).await.unwrap());

    // Needing confirmation: open, unconfirmed, due on each branch's given date.
    let h1 = |due: Vec<(BranchId, chrono::NaiveDate)>| TaskFilter { needs_confirmation: Some(due), ..all.clone() };
    let tomorrow_everywhere = h1(vec![(BranchId(app.jkt), tomorrow), (BranchId(app.jap), tomorrow)]);
    assert_eq!(
        ids(&repo.list_tasks(&tomorrow_everywhere, first(50)).await.unwrap().items),
        [jap.id, rep2s.id],
        "not the confirmed, not the done"
    );
    assert_eq!(ids(&repo.list_tasks(&h1(vec![(BranchId(app.jkt), tomorrow)]), first(50)).await.unwrap().items), [rep2s.id]);
    assert!(
        repo.list_tasks(&h1(vec![(BranchId(app.jap), today())]), first(50)).await.unwrap().items.is_empty(),
        "each branch its own date"
    );
    assert!(repo.list_tasks(&h1(vec![]), first(50)).await.unwrap().items.is_empty(), "Some(empty) matches nothing");

    // Planned tasks: a key that exists is skipped, however the task's id differs.
    let planned = |key: &str| (task(c.id, app.jkt, app.rep.id, TaskType::Routine, date(2026, 11, 25)), key.to_string());
    let plan = vec![planned("plan:c:2026-11:1"), planned("plan:c:2026-11:2")];
    assert_eq!(repo.insert_planned_tasks(&plan).await.unwrap(), 2);
    assert_eq!(repo.get_task(plan[0].0.id).await.unwrap().unwrap(), plan[0].0);
    let rerun = vec![planned("plan:c:2026-11:1"), planned("plan:c:2026-11:2")];
    assert_eq!(repo.insert_planned_tasks(&rerun).await.unwrap(), 0, "a rerun of the planner creates nothing");
    assert!(repo.get_task(rerun[0].0.id).await.unwrap().is_none());
    let more = vec![planned("plan:c:2026-11:1"), planned("plan:c:2026-11:3")];
    assert_eq!(repo.insert_planned_tasks(&more).await.unwrap(), 1, "only the new key");
    assert!(repo.get_task(more[1].0.id).await.unwrap().is_some());
    assert_eq!(repo.insert_planned_tasks(&[]).await.unwrap(), 0);
    let planned_due = TaskFilter { due_from: Some(date(2026, 11, 25)), ..all.clone() };
    assert_eq!(repo.list_tasks(&planned_due, first(50)).await.unwrap().items.len(), 3);
}
