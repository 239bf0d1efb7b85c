//! What the month's scorecards count: submitted visits, due tasks, open re-visits.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::error::RepoError;
use crate::domain::customer::CustomerSlice;
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

/// One rep's (or a branch's) figures of a branch day, for the supervisor's digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DigestRow {
    /// Submitted visits dated that day, and how they were judged.
    pub visits: i64,
    pub compliant: i64,
    pub flagged: i64,
    pub non_compliant: i64,
    /// … of which submitted after the day's midnight, or still a draft when it closed.
    pub late: i64,
    /// Tasks due that day that nobody followed up (`missed`).
    pub missed_tasks: i64,
    /// Re-visit tasks open now, whatever their origin's date.
    pub open_revisits: i64,
}

impl DigestRow {
    pub fn add(&mut self, o: &DigestRow) {
        self.visits += o.visits;
        self.compliant += o.compliant;
        self.flagged += o.flagged;
        self.non_compliant += o.non_compliant;
        self.late += o.late;
        self.missed_tasks += o.missed_tasks;
        self.open_revisits += o.open_revisits;
    }
}

#[async_trait]
pub trait ScorecardRepo: Send + Sync {
    /// A branch day's digest figures, per rep with anything to report.
    async fn day_digest(&self, branch: BranchId, date: NaiveDate) -> Result<Vec<(UserId, DigestRow)>, RepoError>;
    /// Submitted visits dated within [from, to] in the scope.
    async fn score_visits(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ScoreVisit>, RepoError>;
    /// Tasks due within [from, to] in the scope, counted.
    async fn score_tasks(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ScoreTasks>, RepoError>;
    /// Re-visit tasks still open that came from visits dated within [from, to], per assignee
    /// and branch, in the scope.
    async fn open_revisits(
        &self,
        scope: Scope,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(UserId, BranchId, i64)>, RepoError>;
    /// How often each finding code was found on the submitted visits dated in the span, in the
    /// scope (one branch when given), most frequent first.
    async fn finding_counts(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        customers: &CustomerSlice,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64)>, RepoError>;
}
