//! Tasks: what a rep must do for a customer by a due date.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::customer::{CustomerClass, CustomerSlice, Ownership};
use crate::domain::ids::{BranchId, CustomerId, TaskId, UserId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::Scope;
use crate::domain::task::{Task, TaskStatus, TaskType};
use crate::domain::visit::ReviewStatus;
use serde::{Deserialize, Serialize};

/// Which tasks a list, a count or an export reads. Kept with an export job as JSON; the scope is
/// not (it is the requester's, set again when the job runs: until then it sees nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskFilter {
    #[serde(skip, default = "Scope::nothing")]
    pub scope: Scope,
    pub assignee_id: Option<UserId>,
    /// One branch's tasks (within the scope).
    pub branch_id: Option<BranchId>,
    pub status: Option<TaskStatus>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub customer_id: Option<CustomerId>,
    /// H-1: only open, unconfirmed tasks due on the given date of each branch (each branch's
    /// "tomorrow" in its own time zone). `Some(empty)` matches nothing.
    pub needs_confirmation: Option<Vec<(BranchId, NaiveDate)>>,
    pub task_type: Option<TaskType>,
    /// Tasks of customers now of this class.
    pub customer_class: Option<CustomerClass>,
    /// Tasks of customers whose name or code contains this (any case).
    pub customer_query: Option<String>,
    /// Tasks of customers whose class before their latest change was this.
    pub previous_class: Option<CustomerClass>,
    /// Tasks followed up by a visit of this review status.
    pub review_status: Option<ReviewStatus>,
    /// One task by its id (JMS's "task id" search).
    pub task_id: Option<TaskId>,
    /// Tasks of customers of this type (`retail`, `online_seller` …, as stored).
    pub customer_type: Option<String>,
    /// Tasks of customers created on or after / on or before these dates.
    pub customer_created_from: Option<NaiveDate>,
    pub customer_created_to: Option<NaiveDate>,
    /// Tasks of customers of this ownership, of this distribution point.
    pub ownership: Option<Ownership>,
    pub dp: Option<String>,
    /// Tasks of customers whose AWB in the previous / current calendar month (the JMS's "Jumlah
    /// Paket Periode Sebelumnya / Ini") is at least / at most these.
    pub previous_volume_min: Option<i64>,
    pub previous_volume_max: Option<i64>,
    pub current_volume_min: Option<i64>,
    pub current_volume_max: Option<i64>,
    /// The current month's first and last day those volumes are counted in; set by the use case
    /// from its clock (the volume bounds mean nothing without it).
    #[serde(skip)]
    pub volume_month: Option<(NaiveDate, NaiveDate)>,
}

impl TaskFilter {
    /// No condition: every task of the scope (`All` here; a use case narrows it to its actor's).
    pub fn any() -> TaskFilter {
        TaskFilter {
            scope: Scope::All,
            assignee_id: None,
            branch_id: None,
            status: None,
            due_from: None,
            due_to: None,
            customer_id: None,
            needs_confirmation: None,
            task_type: None,
            customer_class: None,
            customer_query: None,
            previous_class: None,
            review_status: None,
            task_id: None,
            customer_type: None,
            customer_created_from: None,
            customer_created_to: None,
            ownership: None,
            dp: None,
            previous_volume_min: None,
            previous_volume_max: None,
            current_volume_min: None,
            current_volume_max: None,
            volume_month: None,
        }
    }

    /// Whether it bounds a customer's monthly volume.
    pub fn by_volume(&self) -> bool {
        [self.previous_volume_min, self.previous_volume_max, self.current_volume_min, self.current_volume_max].iter().any(Option::is_some)
    }

    /// The customers the filter keeps.
    pub fn customers(&self) -> CustomerSlice {
        CustomerSlice { ownership: self.ownership, dp: self.dp.clone() }
    }
}

#[async_trait]
pub trait TaskRepo: Send + Sync {
    /// Inserts a task; returns false when its id exists already.
    async fn insert_task(&self, task: &Task) -> Result<bool, RepoError>;
    /// Inserts a task and, only when it is new, enqueues `job` (its `task.created` event) in the
    /// same transaction.
    async fn insert_task_with_job(&self, task: &Task, job: &NewJob) -> Result<bool, RepoError>;
    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, RepoError>;
    async fn list_tasks(&self, filter: &TaskFilter, page: Page) -> Result<Paged<Task>, RepoError>;
    /// Records the H-1 confirmation of an open task not confirmed yet; `false` otherwise.
    async fn confirm_task(&self, id: TaskId, by: UserId, note: Option<&str>, at: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Inserts planned tasks under their plan keys; a key that exists is skipped. Returns how
    /// many were created.
    /// How many tasks of each status match the filter (every page of it).
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<Vec<(TaskStatus, i64)>, RepoError>;
    /// Gives an open task to another rep; false when the task is not open (or not there).
    async fn reassign_task(&self, id: TaskId, assignee: UserId, at: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Deletes a task made by hand that is still open and that no visit names; false otherwise.
    async fn delete_manual_task(&self, id: TaskId) -> Result<bool, RepoError>;
    /// Whether any visit names the task.
    async fn task_has_visit(&self, id: TaskId) -> Result<bool, RepoError>;
    /// Marks an open task done without a visit (a thank-you message); `false` when it was not open.
    async fn complete_task(&self, id: TaskId, at: DateTime<Utc>) -> Result<bool, RepoError>;
    async fn insert_planned_tasks(&self, tasks: &[(Task, String)]) -> Result<u64, RepoError>;
}
