//! The calendar: holidays by year and who set them, and the day close of each branch.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::customer::CustomerClass;
use crate::domain::finding::Finding;
use crate::domain::holiday::{Holiday, HolidaySource};
use crate::domain::ids::{BranchId, TaskId, VisitId};
use crate::domain::task::Task;
use crate::domain::visit::Visit;

/// What the day close found, for the caller to turn into findings and events.
pub struct DayCloseFound<'a> {
    /// The branch's visits of that date still not submitted.
    pub late_visits: &'a [Visit],
    /// The tasks that were open and due on or before that date, now `missed`, with their
    /// customer's class.
    pub missed_tasks: &'a [(Task, CustomerClass)],
    /// Flagged visits still awaiting a decision whose review deadline is that date or earlier,
    /// now escalated.
    pub overdue_reviews: &'a [Visit],
}

/// What the day close writes besides the status changes.
#[derive(Default)]
pub struct DayClosePlan {
    pub findings: Vec<(VisitId, Finding)>,
    pub jobs: Vec<NewJob>,
    /// Re-visit tasks for overdue reviews, each with the event announcing it (enqueued only
    /// when the task is new: one open re-visit per visit).
    pub revisits: Vec<(VisitId, Task, NewJob)>,
}

/// What one day close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCloseDone {
    pub late_visits: Vec<VisitId>,
    /// In escalation order: Lost first, then Lost Warning, then the rest.
    pub missed_tasks: Vec<TaskId>,
    pub overdue_reviews: Vec<VisitId>,
}

#[async_trait]
pub trait CalendarRepo: Send + Sync {
    /// Replaces the holidays of one calendar year and records who set them.
    async fn replace_holidays(&self, year: i32, holidays: &[Holiday], source: HolidaySource) -> Result<(), RepoError>;
    /// Who set the year's holidays; `None` for a year never set (or set before this was kept).
    async fn holiday_source(&self, year: i32) -> Result<Option<HolidaySource>, RepoError>;
    async fn list_holidays(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Holiday>, RepoError>;
    /// The latest date the branch's day close has run for.
    async fn last_closed_day(&self, branch: BranchId) -> Result<Option<NaiveDate>, RepoError>;
    /// Closes one branch day in one transaction: records it (or returns `None` when it was closed
    /// already), marks the open tasks due on or before it `missed`, and writes what `plan` makes
    /// of the late visits and the missed tasks.
    async fn close_day(
        &self,
        branch: BranchId,
        date: NaiveDate,
        now: DateTime<Utc>,
        plan: &(dyn for<'a> Fn(DayCloseFound<'a>) -> DayClosePlan + Send + Sync),
    ) -> Result<Option<DayCloseDone>, RepoError>;
}
