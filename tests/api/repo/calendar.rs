//! The calendar: holidays replaced a year at a time with who set them, and the day close of
//! each branch, once per date, in one transaction.

use std::sync::{Arc, Mutex};

use fieldproof::db::{DayCloseDone, DayCloseFound, DayClosePlan, Repo};

use fieldproof::domain::customer::CustomerClass;
use fieldproof::domain::finding::FindingCode;
use fieldproof::domain::holiday::{Holiday, HolidaySource};
use fieldproof::domain::ids::*;
use fieldproof::domain::task::{Task, TaskStatus, TaskType};
use fieldproof::domain::visit::*;

use super::{date, finding, job, mins, stored_customer, task, today, verdict, visit};
use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(holidays_are_kept_per_year_and_each_branch_day_closes_once);

fn holiday(y: i32, m: u32, d: u32, name: &str) -> Holiday {
    Holiday { date: date(y, m, d), name: name.into(), kind: "holiday".into() }
}

/// What the plan was shown: the late visits, and the missed tasks with their status and class.
type Seen = Vec<(Vec<VisitId>, Vec<(TaskId, TaskStatus, CustomerClass)>)>;

async fn holidays_are_kept_per_year_and_each_branch_day_closes_once(app: TestApp) {
    let repo: &dyn Repo = app.app.repo.as_ref();

    // Holidays: a year never set has no source; replacing a year replaces only that year.
    assert_eq!(repo.holiday_source(2031).await.unwrap(), None);
    let new_year = holiday(2031, 1, 1, "Tahun Baru");
    let eve = Holiday { kind: "collective_leave".into(), ..holiday(2031, 12, 31, "Cuti bersama") };
    let next_year = holiday(2032, 1, 1, "Tahun Baru");
    repo.replace_holidays(2032, std::slice::from_ref(&next_year), HolidaySource::Shipped).await.unwrap();
    repo.replace_holidays(2031, &[eve.clone(), new_year.clone()], HolidaySource::Operator).await.unwrap();
    assert_eq!(repo.holiday_source(2031).await.unwrap(), Some(HolidaySource::Operator));
    assert_eq!(repo.holiday_source(2032).await.unwrap(), Some(HolidaySource::Shipped));
    assert_eq!(
        repo.list_holidays(date(2031, 1, 1), date(2032, 12, 31)).await.unwrap(),
        [new_year.clone(), eve.clone(), next_year.clone()],
        "by date"
    );
    assert_eq!(repo.list_holidays(date(2031, 1, 1), date(2031, 1, 1)).await.unwrap(), vec![new_year.clone()], "the range is inclusive");
    assert!(repo.list_holidays(date(2031, 1, 2), date(2031, 12, 30)).await.unwrap().is_empty());
    let independence = holiday(2031, 8, 17, "Hari Kemerdekaan");
    repo.replace_holidays(2031, std::slice::from_ref(&independence), HolidaySource::Shipped).await.unwrap();
    assert_eq!(repo.list_holidays(date(2031, 1, 1), date(2032, 12, 31)).await.unwrap(), [independence, next_year.clone()]);
    assert_eq!(repo.holiday_source(2031).await.unwrap(), Some(HolidaySource::Shipped), "the source is replaced too");
    repo.replace_holidays(2031, &[], HolidaySource::Operator).await.unwrap();
    assert_eq!(repo.list_holidays(date(2031, 1, 1), date(2032, 12, 31)).await.unwrap(), [next_year]);
    assert_eq!(repo.holiday_source(2031).await.unwrap(), Some(HolidaySource::Operator), "an empty year is still set");

    // The day close of JKT on the 10th. Open tasks due on or before it, with customers of each
    // class; tasks that stay: due later, already done, in JAP.
    let close = today();
    let customer_of = |class: CustomerClass| async move {
        let mut c = stored_customer(repo, app.jkt).await;
        c.class = class;
        repo.update_customer(&c).await.unwrap();
        c
    };
    let c = customer_of(CustomerClass::C).await;
    let lost = customer_of(CustomerClass::Lost).await;
    let warning = customer_of(CustomerClass::LostWarning).await;
    let jap_customer = stored_customer(repo, app.jap).await;
    let routine = |customer: CustomerId, due| task(customer, app.jkt, app.rep.id, TaskType::Routine, due);
    let overdue = routine(c.id, date(2026, 11, 9));
    let due_c = routine(c.id, close);
    let due_lost = routine(lost.id, close);
    let due_warning = routine(warning.id, close);
    let tomorrows = routine(c.id, date(2026, 11, 11));
    let done = Task { status: TaskStatus::Done, ..routine(c.id, close) };
    let japs = task(jap_customer.id, app.jap, app.jap_rep.id, TaskType::Routine, close);
    for t in [&due_c, &overdue, &due_warning, &due_lost, &tomorrows, &done, &japs] {
        assert!(repo.insert_task(t).await.unwrap());
    }
    // Drafts of the day are late; not a draft of tomorrow, not a submitted visit, not JAP's.
    let late = visit(VisitId::new_random(), app.rep.id, app.jkt, c.id);
    let mut tomorrow_draft = visit(VisitId::new_random(), app.rep.id, app.jkt, c.id);
    tomorrow_draft.visit_date = Some(date(2026, 11, 11));
    let submitted = visit(VisitId::new_random(), app.rep.id, app.jkt, c.id);
    let jap_draft = visit(VisitId::new_random(), app.jap_rep.id, app.jap, jap_customer.id);
    for v in [&late, &tomorrow_draft, &submitted, &jap_draft] {
        assert!(repo.insert_visit(v).await.unwrap());
    }
    assert_eq!(
        repo.record_verdict(&verdict(submitted.id, VisitStatus::Compliant, 100)).await.unwrap(),
        fieldproof::db::VerdictOutcome::Recorded
    );

    // The plan sees what was found and says what to write: a finding per late visit, an event
    // per missed task.
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let planned_jobs: Arc<Mutex<Vec<uuid::Uuid>>> = Arc::default();
    let plan = {
        let (seen, planned_jobs) = (seen.clone(), planned_jobs.clone());
        move |found: DayCloseFound<'_>| {
            seen.lock().unwrap().push((
                found.late_visits.iter().map(|v| v.id).collect(),
                found.missed_tasks.iter().map(|(t, class)| (t.id, t.status, *class)).collect(),
            ));
            let mut plan = DayClosePlan::default();
            for v in found.late_visits {
                plan.findings.push((v.id, finding(FindingCode::UploadLate, None)));
            }
            for _ in found.missed_tasks {
                let j = job("task.missed");
                planned_jobs.lock().unwrap().push(j.id);
                plan.jobs.push(j);
            }
            plan
        }
    };
    assert_eq!(repo.last_closed_day(BranchId(app.jkt)).await.unwrap(), None, "never closed");
    let done_close = repo.close_day(BranchId(app.jkt), close, mins(21 * 60), &plan).await.unwrap();
    // Missed in escalation order: Lost, then Lost Warning, then the rest, oldest due first.
    let escalation = vec![due_lost.id, due_warning.id, overdue.id, due_c.id];
    assert_eq!(done_close, Some(DayCloseDone { late_visits: vec![late.id], missed_tasks: escalation.clone(), overdue_reviews: vec![] }));
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![(
            vec![late.id],
            vec![
                (due_lost.id, TaskStatus::Missed, CustomerClass::Lost),
                (due_warning.id, TaskStatus::Missed, CustomerClass::LostWarning),
                (overdue.id, TaskStatus::Missed, CustomerClass::C),
                (due_c.id, TaskStatus::Missed, CustomerClass::C),
            ]
        )],
        "the plan is shown the missed tasks, already missed, with their customer's class"
    );
    for id in &escalation {
        assert_eq!(repo.get_task(*id).await.unwrap().unwrap().status, TaskStatus::Missed);
    }
    for (t, status) in [(&tomorrows, TaskStatus::Open), (&done, TaskStatus::Done), (&japs, TaskStatus::Open)] {
        assert_eq!(repo.get_task(t.id).await.unwrap().unwrap().status, status, "untouched");
    }
    // What the plan made is written with it.
    assert_eq!(repo.list_findings(late.id).await.unwrap(), vec![finding(FindingCode::UploadLate, None)]);
    assert!(repo.list_findings(tomorrow_draft.id).await.unwrap().is_empty());
    assert!(repo.list_findings(jap_draft.id).await.unwrap().is_empty());
    let jobs = planned_jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 4);
    for id in &jobs {
        assert!(repo.get_job(*id).await.unwrap().is_some(), "the plan's events are written with the close");
    }
    assert_eq!(repo.get_visit(late.id).await.unwrap().unwrap().status, VisitStatus::Draft, "a late visit stays a draft");
    assert_eq!(repo.last_closed_day(BranchId(app.jkt)).await.unwrap(), Some(close));
    assert_eq!(repo.last_closed_day(BranchId(app.jap)).await.unwrap(), None, "each branch closes on its own");

    // Once per branch and date: a second close does nothing, and the plan is not asked.
    assert_eq!(repo.close_day(BranchId(app.jkt), close, mins(22 * 60), &plan).await.unwrap(), None);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(repo.list_findings(late.id).await.unwrap().len(), 1);
    // An earlier date not closed yet closes (nothing left due); the latest closed day stays.
    let earlier = repo.close_day(BranchId(app.jkt), date(2026, 11, 9), mins(23 * 60), &plan).await.unwrap();
    assert_eq!(earlier, Some(DayCloseDone { late_visits: vec![], missed_tasks: vec![], overdue_reviews: vec![] }));
    assert_eq!(repo.last_closed_day(BranchId(app.jkt)).await.unwrap(), Some(close), "the latest date closed");
    // JAP's day is its own.
    let jap_close = repo.close_day(BranchId(app.jap), close, mins(21 * 60), &plan).await.unwrap().unwrap();
    assert_eq!((jap_close.late_visits, jap_close.missed_tasks), (vec![jap_draft.id], vec![japs.id]));
    assert_eq!(repo.last_closed_day(BranchId(app.jap)).await.unwrap(), Some(close));
}
