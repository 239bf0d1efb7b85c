//! Tasks: what a rep must do for a customer by a due date.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::ids::{BranchId, CustomerId, TaskId, UserId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::Scope;
use crate::domain::task::{Task, TaskStatus};

#[derive(Debug, Clone)]
pub struct TaskFilter {
    pub scope: Scope,
    pub assignee_id: Option<UserId>,
    pub status: Option<TaskStatus>,
    pub due_from: Option<NaiveDate>,
    pub due_to: Option<NaiveDate>,
    pub customer_id: Option<CustomerId>,
    /// H-1: only open, unconfirmed tasks due on the given date of each branch (each branch's
    /// "tomorrow" in its own time zone). `Some(empty)` matches nothing.
    pub needs_confirmation: Option<Vec<(BranchId, NaiveDate)>>,
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
    async fn insert_planned_tasks(&self, tasks: &[(Task, String)]) -> Result<u64, RepoError>;
}
