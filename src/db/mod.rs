//! Persistence behind one trait written in domain verbs. `sqlite.rs` and `postgres.rs`
//! implement it from the same statements (`sql.rs`); dialect differences are small named
//! fragments. One conformance suite (`tests/api/repo.rs`) runs against both.
//!
//! Promises: every write that must be atomic is one transaction here (a verdict with its
//! findings, re-visit task and audit entry; a review with its task); idempotency rests on
//! unique constraints, not on timing.

mod rows;
mod sql;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::ids::{BranchId, CustomerId, PhotoId, ReviewId, TaskId, UserId, VisitId};
use crate::domain::role::{Role, Scope};
use crate::domain::task::{Task, TaskStatus};
use crate::domain::visit::{Photo, Review, ReviewStatus, Visit, VisitStatus};
use crate::domain::webhook::{Delivery, Webhook};

/// Why a repository call failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("reference not found: {0}")]
    ForeignKey(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl RepoError {
    pub fn code(&self) -> &'static str {
        match self {
            RepoError::Conflict(_) => "conflict",
            RepoError::ForeignKey(_) => "reference_not_found",
            RepoError::Database(_) | RepoError::Corrupt(_) => "database_unavailable",
        }
    }
}

impl From<sqlx::Error> for RepoError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return RepoError::Conflict(db.message().to_string()),
                sqlx::error::ErrorKind::ForeignKeyViolation => return RepoError::ForeignKey(db.message().to_string()),
                _ => {}
            }
        }
        RepoError::Database(e)
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    /// Periodic work is enqueued by every instance under one key per period: it runs once.
    pub unique_key: Option<String>,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
}

/// A job a worker has claimed.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i64,
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: Uuid,
    pub kind: String,
    pub unique_key: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
}

/// One status of the job queue, for the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStat {
    pub status: String,
    pub count: i64,
    pub oldest_run_at: Option<DateTime<Utc>>,
}

/// Which database a repository talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Monday to Friday, the default working week.
pub const MONDAY_TO_FRIDAY: [bool; 7] = [true, true, true, true, true, false, false];

#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub id: BranchId,
    pub code: String,
    pub name: String,
    pub time_zone: chrono_tz::Tz,
    /// Working weekdays, Monday = 0 (Monday–Friday by default).
    pub working_days: [bool; 7],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub branch_id: Option<BranchId>,
}

/// Keyset pagination: rows older than `before` (the cursor), newest first.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: u32,
}

/// One page of rows and the cursor of the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub branch_id: Option<BranchId>,
    pub assigned_rep_id: Option<UserId>,
    pub class: Option<CustomerClass>,
    /// Case-insensitive substring of the code or the name.
    pub q: Option<String>,
}

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

#[derive(Debug, Clone)]
pub struct VisitFilter {
    pub scope: Scope,
    pub status: Option<VisitStatus>,
    pub review_status: Option<ReviewStatus>,
    pub rep_id: Option<UserId>,
    pub branch_id: Option<BranchId>,
    pub customer_id: Option<CustomerId>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub finding_code: Option<FindingCode>,
}

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: serde_json::Value,
}

/// A stored photo's perceptual hashes, as a near-duplicate candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashCandidate {
    pub photo_id: PhotoId,
    pub visit_id: VisitId,
    pub dhash: [u8; 32],
    pub ahash: u64,
}

/// Index slots per photo: 8 dHash chunks, then the aHash's low and high halves.
pub const HASH_KEY_SLOTS: usize = 10;

/// The 32-bit chunks of a photo's hashes, by slot (see migration 0003).
fn hash_chunks(dhash: &[u8; 32], ahash: u64) -> [u32; HASH_KEY_SLOTS] {
    std::array::from_fn(|slot| match slot {
        0..=7 => u32::from_be_bytes([dhash[4 * slot], dhash[4 * slot + 1], dhash[4 * slot + 2], dhash[4 * slot + 3]]),
        8 => ahash as u32,
        _ => (ahash >> 32) as u32,
    })
}

fn hash_key(slot: usize, chunk: u32) -> i64 {
    ((slot as i64) << 32) | i64::from(chunk)
}

/// The keys a photo is stored under: one per slot.
pub fn hash_keys(dhash: &[u8; 32], ahash: u64) -> [i64; HASH_KEY_SLOTS] {
    let chunks = hash_chunks(dhash, ahash);
    std::array::from_fn(|slot| hash_key(slot, chunks[slot]))
}

/// The keys a lookup probes: every chunk as it is and with each one of its bits flipped, so a
/// stored hash whose chunk is within one bit is found (330 keys).
pub fn probe_keys(dhash: &[u8; 32], ahash: u64) -> Vec<i64> {
    let mut keys = Vec::with_capacity(HASH_KEY_SLOTS * 33);
    for (slot, chunk) in hash_chunks(dhash, ahash).into_iter().enumerate() {
        keys.push(hash_key(slot, chunk));
        keys.extend((0..32).map(|bit| hash_key(slot, chunk ^ (1 << bit))));
    }
    keys
}

/// Outcome of storing a photo row.
#[derive(Debug)]
pub enum PhotoInsert {
    Inserted,
    /// The photo id is taken; here is what it holds.
    Exists(Box<Photo>),
    /// The visit is no longer a draft.
    VisitNotDraft,
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
    pub audit: AuditEntry,
}

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

/// A holiday or collective leave day: not a working day anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
    /// `holiday` or `collective_leave` (cuti bersama).
    pub kind: String,
}

/// What [`Repo::visits_evidence`] reads.
#[derive(Debug, Default)]
pub struct VisitsEvidence {
    pub photos: Vec<Photo>,
    pub findings: Vec<(VisitId, Finding)>,
    pub reviews: Vec<Review>,
}

/// Who set a year's holidays: the release's shipped list, which a later release may correct,
/// or an operator, whose list an upgrade never touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidaySource {
    Shipped,
    Operator,
}

impl HolidaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shipped => "shipped",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shipped" => Some(Self::Shipped),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// What the day close found, for the caller to turn into findings and events.
pub struct DayCloseFound<'a> {
    /// The branch's visits of that date still not submitted.
    pub late_visits: &'a [Visit],
    /// The tasks that were open and due on or before that date, now `missed`, with their
    /// customer's class.
    pub missed_tasks: &'a [(Task, CustomerClass)],
}

/// What the day close writes besides the status changes.
#[derive(Default)]
pub struct DayClosePlan {
    pub findings: Vec<(VisitId, Finding)>,
    pub jobs: Vec<NewJob>,
}

/// What one day close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCloseDone {
    pub late_visits: Vec<VisitId>,
    /// In escalation order: Lost first, then Lost Warning, then the rest.
    pub missed_tasks: Vec<TaskId>,
}

/// How many rows an import batch created, changed and found as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// A customer's volumes summed over the classification's three spans.
#[derive(Debug, Clone)]
pub struct VolumeSums {
    pub customer: Customer,
    /// The whole of last month.
    pub last_month: i64,
    /// Last month from its 1st to the same day of the month as yesterday.
    pub last_month_same_span: i64,
    /// This month from the 1st to yesterday.
    pub month_to_date: i64,
}

/// One change of a customer's class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassChange {
    pub at: DateTime<Utc>,
    pub from_class: CustomerClass,
    pub to_class: CustomerClass,
    pub previous_level: Option<CustomerClass>,
    pub reason: serde_json::Value,
}

/// An earlier submitted summary that shares MinHash bands with a new one.
#[derive(Debug, Clone)]
pub struct SummaryCandidate {
    pub visit_id: VisitId,
    pub rep_id: UserId,
    pub summary: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerdictOutcome {
    Recorded,
    AlreadySubmitted,
    /// Photos changed while the verdict was computed: compute again.
    PhotosChanged,
}

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

/// The repository: every query FieldProof makes.
#[async_trait]
pub trait Repo: Send + Sync + 'static {
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> Result<(), RepoError>;
    async fn ping(&self) -> Result<(), RepoError>;
    /// Jobs not done, by status: how many, and the oldest one's `run_at` (for `queued`, the
    /// oldest that is already due). Reads the `(status, run_at)` index only.
    async fn job_stats(&self, now: DateTime<Utc>) -> Result<Vec<JobStat>, RepoError>;

    // --- Jobs: claimed by one worker at a time, kept alive by heartbeats -------------------
    /// Queues a job; with a unique key that is already taken, nothing happens (`false`).
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Takes the oldest due queued job for `worker` (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
    /// write lock on SQLite), counting the attempt.
    async fn claim_job(&self, worker: &str, now: DateTime<Utc>) -> Result<Option<ClaimedJob>, RepoError>;
    /// `false` when the job is no longer this worker's (it was given back as stale).
    async fn heartbeat_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<bool, RepoError>;
    /// Done; `locked_by` keeps the worker that did it.
    async fn complete_job(&self, id: Uuid, worker: &str, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// A failed attempt: queued again at `retry_at`, or `dead` when `None`.
    async fn fail_job(&self, id: Uuid, worker: &str, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Running jobs of `worker` (at shutdown), or of any worker whose heartbeat is older than
    /// `stale_before`, go back to the queue; the attempt they were on does not count.
    async fn release_jobs(&self, worker: Option<&str>, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, RepoError>;
    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>, RepoError>;
    /// Deletes `done` jobs last touched before `before`.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, RepoError>;

    // --- Objects whose photo row has not landed ---------------------------------------------
    async fn record_object_intent(&self, key: &str, now: DateTime<Utc>) -> Result<(), RepoError>;
    /// Keys recorded before `before`, oldest first, with whether a photo row references them.
    async fn stale_object_intents(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<(String, bool)>, RepoError>;
    async fn drop_object_intent(&self, key: &str) -> Result<(), RepoError>;

    async fn upsert_branch(&self, branch: &Branch) -> Result<(), RepoError>;
    async fn get_branch(&self, id: BranchId) -> Result<Option<Branch>, RepoError>;
    async fn list_branches(&self) -> Result<Vec<Branch>, RepoError>;
    /// Records the H-1 confirmation of an open task not confirmed yet; `false` otherwise.
    async fn confirm_task(&self, id: TaskId, by: UserId, note: Option<&str>, at: DateTime<Utc>) -> Result<bool, RepoError>;
    async fn branch_by_code(&self, code: &str) -> Result<Option<Branch>, RepoError>;
    async fn upsert_user(&self, user: &User, at: DateTime<Utc>) -> Result<(), RepoError>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>, RepoError>;
    /// Adds a token hash; adding the same hash again is a no-op.
    async fn add_token(&self, user: UserId, token_hash: &str, label: &str, at: DateTime<Utc>) -> Result<(), RepoError>;
    async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>, RepoError>;

    async fn insert_customer(&self, customer: &Customer) -> Result<(), RepoError>;
    /// Inserts or, when the code exists, updates everything but the id.
    async fn upsert_customer_by_code(&self, customer: &Customer) -> Result<(), RepoError>;
    async fn update_customer(&self, customer: &Customer) -> Result<(), RepoError>;
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>, RepoError>;
    async fn list_customers(&self, filter: &CustomerFilter, page: Page) -> Result<Paged<Customer>, RepoError>;

    /// Inserts a task; returns false when its id exists already.
    async fn insert_task(&self, task: &Task) -> Result<bool, RepoError>;
    /// Inserts a task and, only when it is new, enqueues `job` (its `task.created` event) in the
    /// same transaction.
    async fn insert_task_with_job(&self, task: &Task, job: &NewJob) -> Result<bool, RepoError>;
    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, RepoError>;
    async fn list_tasks(&self, filter: &TaskFilter, page: Page) -> Result<Paged<Task>, RepoError>;

    /// Inserts a visit; returns false when its id exists already.
    async fn insert_visit(&self, visit: &Visit) -> Result<bool, RepoError>;
    /// Replaces a draft's content; returns false when the visit is no longer a draft.
    async fn update_draft_visit(&self, visit: &Visit) -> Result<bool, RepoError>;
    async fn get_visit(&self, id: VisitId) -> Result<Option<Visit>, RepoError>;
    async fn list_visits(&self, filter: &VisitFilter, page: Page) -> Result<Paged<Visit>, RepoError>;

    /// Stores a photo row if its visit is still a draft and the id is free.
    async fn insert_photo(&self, photo: &Photo, at: DateTime<Utc>) -> Result<PhotoInsert, RepoError>;
    async fn get_photo(&self, id: PhotoId) -> Result<Option<Photo>, RepoError>;
    async fn list_photos(&self, visit: VisitId) -> Result<Vec<Photo>, RepoError>;
    /// Photos of other visits received before `before` whose perceptual hashes share at least
    /// one 16-bit chunk with `dhash` or `ahash` (the multi-index candidates; at most 2000).
    async fn hash_candidates(&self, dhash: &[u8; 32], ahash: u64, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<HashCandidate>, RepoError>;
    /// Photos of other visits with the same bytes, received before `before` (at most 10).
    async fn earlier_copies(&self, sha256: &str, before: DateTime<Utc>, other_than: VisitId) -> Result<Vec<(PhotoId, VisitId)>, RepoError>;

    async fn record_verdict(&self, record: &VerdictRecord) -> Result<VerdictOutcome, RepoError>;
    async fn list_findings(&self, visit: VisitId) -> Result<Vec<Finding>, RepoError>;
    /// Submitted visits (not `other_than`) whose summaries share any of these band keys, the
    /// most shared first, at most `limit`.
    async fn similar_summaries(&self, band_keys: &[i64], other_than: VisitId, limit: u32) -> Result<Vec<SummaryCandidate>, RepoError>;

    /// Records a review and what it causes; returns false (writing nothing) when its id exists.
    async fn record_review(&self, record: &ReviewRecord) -> Result<bool, RepoError>;
    async fn get_review(&self, id: ReviewId) -> Result<Option<Review>, RepoError>;
    /// Records many reviews in one transaction: all or none. `Some(i)` (nothing written) when
    /// item `i`'s id exists.
    async fn record_reviews(&self, records: &[ReviewRecord]) -> Result<Option<usize>, RepoError>;
    /// Submitted visits needing a look: non-compliant first, then flagged, then the rest, newest
    /// first within each; only the given review statuses.
    async fn review_queue(&self, filter: &VisitFilter, review_statuses: &[ReviewStatus], page: Page) -> Result<Paged<Visit>, RepoError>;
    async fn list_reviews(&self, visit: VisitId) -> Result<Vec<Review>, RepoError>;
    /// The photos, findings and reviews of several visits in three queries (a page of the
    /// review queue), each in its visit's order.
    async fn visits_evidence(&self, visits: &[VisitId]) -> Result<VisitsEvidence, RepoError>;
    /// Customers and users by id, one query each; the ones not found are left out.
    async fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Customer>, RepoError>;
    async fn users_by_id(&self, ids: &[UserId]) -> Result<Vec<User>, RepoError>;

    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), RepoError>;
    async fn get_webhook(&self, id: Uuid) -> Result<Option<Webhook>, RepoError>;
    /// Every subscription, active or not, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<Webhook>, RepoError>;
    /// Stops a subscription (its deliveries stay in the log); false when it does not exist.
    async fn deactivate_webhook(&self, id: Uuid) -> Result<bool, RepoError>;
    /// Writes deliveries that do not exist yet and their jobs, in one transaction.
    async fn create_deliveries(&self, deliveries: &[(Delivery, NewJob)], now: DateTime<Utc>) -> Result<(), RepoError>;
    async fn get_delivery(&self, id: Uuid) -> Result<Option<Delivery>, RepoError>;
    /// Records one attempt's outcome.
    async fn record_delivery_attempt(&self, delivery: &Delivery) -> Result<(), RepoError>;
    async fn list_deliveries(&self, webhook_id: Uuid, page: Page) -> Result<Paged<Delivery>, RepoError>;

    /// Submitted visits dated within [from, to] in the scope.
    async fn score_visits(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<ScoreVisit>, RepoError>;
    /// Tasks due within [from, to] in the scope, counted.
    async fn score_tasks(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<ScoreTasks>, RepoError>;
    /// Re-visit tasks still open that came from visits dated within [from, to], per assignee
    /// and branch, in the scope.
    async fn open_revisits(&self, scope: Scope, from: NaiveDate, to: NaiveDate) -> Result<Vec<(UserId, BranchId, i64)>, RepoError>;

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

    /// Users with this exact name (an import names reps by id or by name).
    async fn users_by_name(&self, name: &str) -> Result<Vec<User>, RepoError>;
    /// Inserts or updates customers by code in one transaction; a row equal to the stored one is
    /// left alone (so importing the same file twice changes nothing).
    async fn upsert_customers(&self, customers: &[Customer]) -> Result<UpsertCounts, RepoError>;
    async fn customer_ids_by_code(&self, codes: &[String]) -> Result<std::collections::HashMap<String, CustomerId>, RepoError>;
    /// Inserts or updates daily volumes in one transaction (`updated` counts changed values).
    async fn upsert_volumes(&self, rows: &[(CustomerId, NaiveDate, i64)]) -> Result<UpsertCounts, RepoError>;
    /// The sum of a customer's volumes over [from, to].
    async fn volume_sum(&self, customer: CustomerId, from: NaiveDate, to: NaiveDate) -> Result<i64, RepoError>;
    /// Every customer of a branch with its volumes over the classification's spans.
    async fn volume_sums(&self, branch: BranchId, last_month: (NaiveDate, NaiveDate), same_span_end: NaiveDate, month_to_date: (NaiveDate, NaiveDate)) -> Result<Vec<VolumeSums>, RepoError>;
    /// Sets a customer's class and previous level, keeping the change in its history.
    async fn change_class(&self, customer: CustomerId, change: &ClassChange) -> Result<(), RepoError>;
    /// [`Repo::change_class`] for many customers in one transaction.
    async fn change_classes(&self, changes: &[(CustomerId, ClassChange)]) -> Result<(), RepoError>;
    async fn class_history(&self, customer: CustomerId) -> Result<Vec<ClassChange>, RepoError>;
    /// Submitted door visits per customer of a branch dated within [from, to].
    async fn door_visits_by_customer(&self, branch: BranchId, from: NaiveDate, to: NaiveDate) -> Result<std::collections::HashMap<CustomerId, i64>, RepoError>;
    /// Inserts planned tasks under their plan keys; a key that exists is skipped. Returns how
    /// many were created.
    async fn insert_planned_tasks(&self, tasks: &[(Task, String)]) -> Result<u64, RepoError>;

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), RepoError>;
    async fn list_audit(&self, subject_type: &str, subject_id: &str) -> Result<Vec<AuditEntry>, RepoError>;
}

/// A pooled connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The pool options both backends share. sqlx pings every connection when it is acquired and
/// again when it is released: on a busy server that is two extra round trips (on SQLite, two
/// hand-offs to the connection's thread) per query. The release ping stays — it finds a broken
/// connection and drops it — and the acquire ping is kept only for a connection that sat idle,
/// the one that may have died unseen (a database restart); a connection just used is not.
pub(crate) fn pool_options<DB: sqlx::Database>(max_connections: u32) -> sqlx::pool::PoolOptions<DB> {
    use sqlx::Connection;
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(max_connections.max(1))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Connects to the database named by the URL: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Arc<dyn Repo>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteRepo::connect(url, max_connections).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgRepo::connect(url, max_connections).await?))
    } else {
        anyhow::bail!("database URL must start with sqlite:// or postgres:// (got {:?})", redact_url(url))
    }
}

/// A URL with its password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
