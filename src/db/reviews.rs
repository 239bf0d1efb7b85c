//! Reviews: decisions on submitted visits, one at a time or in bulk, and the review queue.

use async_trait::async_trait;

use super::error::RepoError;
use super::jobs::NewJob;
use super::visits::VisitFilter;
use crate::domain::audit::AuditEntry;
use crate::domain::finding::Finding;
use crate::domain::ids::{ReviewId, VisitId};
use crate::domain::page::{Page, Paged};
use crate::domain::task::Task;
use crate::domain::visit::{Photo, Review, ReviewStatus, Visit};

/// A review and what it causes, in one transaction.
#[derive(Debug, Clone)]
pub struct ReviewRecord {
    pub review: Review,
    pub revisit_task: Option<Task>,
    /// Jobs the decision causes (webhook events), enqueued in the same transaction.
    pub jobs: Vec<NewJob>,
    /// Enqueued only when `revisit_task` was placed as a new task, not found already open.
    pub revisit_created_job: Option<NewJob>,
    pub audit: AuditEntry,
}

/// What [`Repo::visits_evidence`] reads.
#[derive(Debug, Default)]
pub struct VisitsEvidence {
    pub photos: Vec<Photo>,
    pub findings: Vec<(VisitId, Finding)>,
    pub reviews: Vec<Review>,
}

#[async_trait]
pub trait ReviewRepo: Send + Sync {
    /// Records a review and what it causes; returns false (writing nothing) when its id exists.
    async fn record_review(&self, record: &ReviewRecord) -> Result<bool, RepoError>;
    /// Records many reviews in one transaction: all or none. `Some(i)` (nothing written) when
    /// item `i`'s id exists.
    async fn record_reviews(&self, records: &[ReviewRecord]) -> Result<Option<usize>, RepoError>;
    async fn get_review(&self, id: ReviewId) -> Result<Option<Review>, RepoError>;
    async fn list_reviews(&self, visit: VisitId) -> Result<Vec<Review>, RepoError>;
    /// Submitted visits needing a look: non-compliant first, then flagged, then the rest, newest
    /// first within each; only the given review statuses.
    async fn review_queue(&self, filter: &VisitFilter, review_statuses: &[ReviewStatus], page: Page) -> Result<Paged<Visit>, RepoError>;
    /// The photos, findings and reviews of several visits in three queries (a page of the
    /// review queue), each in its visit's order.
    async fn visits_evidence(&self, visits: &[VisitId]) -> Result<VisitsEvidence, RepoError>;
}
