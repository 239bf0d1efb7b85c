//! Visits: drafts, their verdict (findings, score, re-visit task) written in one transaction,
//! and the summaries later visits are compared with.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::audit::AuditEntry;
use crate::domain::customer::{CustomerSlice, Ownership};
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::ids::{BranchId, CustomerId, TaskId, UserId, VisitId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::Scope;
use crate::domain::task::Task;
use crate::domain::visit::{ReviewStatus, Visit, VisitStatus};
use serde::{Deserialize, Serialize};

/// Which visits a list or an export reads. Kept with an export job as JSON; the scope is not
/// (it is the requester's, set again when the job runs: until then it sees nothing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitFilter {
    #[serde(skip, default = "Scope::nothing")]
    pub scope: Scope,
    pub status: Option<VisitStatus>,
    pub review_status: Option<ReviewStatus>,
    pub rep_id: Option<UserId>,
    pub branch_id: Option<BranchId>,
    pub customer_id: Option<CustomerId>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub finding_code: Option<FindingCode>,
    /// Only the visits whose rep asked for HQ's help (or only the others).
    pub needs_hq_help: Option<bool>,
    /// Visits of customers of this ownership, of this distribution point.
    pub ownership: Option<Ownership>,
    pub dp: Option<String>,
}

impl VisitFilter {
    /// No condition: every visit of the scope (`All` here; a use case narrows it to its actor's).
    pub fn any() -> VisitFilter {
        VisitFilter {
            scope: Scope::All,
            status: None,
            review_status: None,
            rep_id: None,
            branch_id: None,
            customer_id: None,
            date_from: None,
            date_to: None,
            finding_code: None,
            needs_hq_help: None,
            ownership: None,
            dp: None,
        }
    }

    /// The customers the filter keeps.
    pub fn customers(&self) -> CustomerSlice {
        CustomerSlice { ownership: self.ownership, dp: self.dp.clone() }
    }
}

/// Everything a submit writes, in one transaction.
#[derive(Debug, Clone)]
pub struct VerdictRecord {
    pub visit_id: VisitId,
    pub status: VisitStatus,
    pub score: u32,
    pub submitted_at: DateTime<Utc>,
    pub findings: Vec<Finding>,
    /// The photos the verdict was computed on; if another landed meanwhile, nothing is written.
    pub photo_count: usize,
    pub revisit_task: Option<Task>,
    /// Tasks the record asks for: its next follow-up, a refusal's WhatsApp follow-up.
    pub new_tasks: Vec<Task>,
    /// The summary's MinHash band keys, so later summaries can find this one.
    pub summary_bands: Vec<i64>,
    /// Jobs the submit causes (webhook events), enqueued in the same transaction.
    pub jobs: Vec<NewJob>,
    /// Enqueued only when `revisit_task` was placed as a new task.
    pub revisit_created_job: Option<NewJob>,
    /// The task this visit carried out, marked done.
    pub completes_task: Option<TaskId>,
    /// The record asks for HQ's help.
    pub needs_hq_help: bool,
    /// A flagged visit's review deadline.
    pub review_due_date: Option<NaiveDate>,
    /// The policy version the verdict used.
    pub policy_version: Option<uuid::Uuid>,
    pub audit: AuditEntry,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerdictOutcome {
    Recorded,
    AlreadySubmitted,
    /// Photos changed while the verdict was computed: compute again.
    PhotosChanged,
}

/// An earlier submitted summary that shares MinHash bands with a new one.
#[derive(Debug, Clone)]
pub struct SummaryCandidate {
    pub visit_id: VisitId,
    pub rep_id: UserId,
    pub summary: String,
}

#[async_trait]
pub trait VisitRepo: Send + Sync {
    /// Inserts a visit; returns false when its id exists already.
    async fn insert_visit(&self, visit: &Visit) -> Result<bool, RepoError>;
    /// Replaces a draft's content; returns false when the visit is no longer a draft.
    async fn update_draft_visit(&self, visit: &Visit) -> Result<bool, RepoError>;
    async fn get_visit(&self, id: VisitId) -> Result<Option<Visit>, RepoError>;
    async fn list_visits(&self, filter: &VisitFilter, page: Page) -> Result<Paged<Visit>, RepoError>;
    /// How many visits the filter matches (an export's size, before it starts).
    async fn count_visits(&self, filter: &VisitFilter) -> Result<i64, RepoError>;
    async fn record_verdict(&self, record: &VerdictRecord) -> Result<VerdictOutcome, RepoError>;
    async fn list_findings(&self, visit: VisitId) -> Result<Vec<Finding>, RepoError>;
    /// Submitted visits (not `other_than`) whose summaries share any of these band keys, the
    /// most shared first, at most `limit`.
    async fn similar_summaries(&self, band_keys: &[i64], other_than: VisitId, limit: u32) -> Result<Vec<SummaryCandidate>, RepoError>;
}
