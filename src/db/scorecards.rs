//! What the month's scorecards count: submitted visits, due tasks, open re-visits.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::error::RepoError;
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Scope;

/// One submitted visit of a month, as the scorecards count it.
#[derive(Debug, Clone)]
pub struct ScoreVisit {
    pub rep_id: UserId,
    pub branch_id: BranchId,
    pub method: String,
    pub status: String,
    pub score: Option<i64>,
    pub deducted_points: i64,
    pub late: bool,
    /// The customer's class now, and the task type the visit carried out.
    pub customer_class: String,
    pub task_type: Option<String>,
    pub result_reason: Option<crate::domain::visit::ResultReason>,
}

/// Tasks due in a month, counted by assignee, branch, required method and status.
#[derive(Debug, Clone)]
pub struct ScoreTasks {
    pub assignee_id: UserId,
    pub branch_id: BranchId,
    pub required_method: String,
    pub status: String,
    pub count: i64,
}

#[async_trait]
pub trait ScorecardRepo: Send + Sync {
    /// Submitted visits dated within [from, to] in the scope.
    async fn score_visits(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<ScoreVisit>, RepoError>;
    /// Tasks due within [from, to] in the scope, counted.
    async fn score_tasks(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<ScoreTasks>, RepoError>;
    /// Re-visit tasks still open that came from visits dated within [from, to], per assignee
    /// and branch, in the scope.
    async fn open_revisits(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<(UserId, BranchId, i64)>, RepoError>;
    /// How often each finding code was found on the submitted visits dated in the span, in the
    /// scope (one branch when given), most frequent first.
    async fn finding_counts(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64)>, RepoError>;
}
