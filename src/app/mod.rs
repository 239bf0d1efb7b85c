//! Use cases: upload a photo, submit a visit, review it, manage customers and tasks. Each
//! function takes the authenticated [`Actor`], checks what the actor may do, and orchestrates
//! the domain rules, the media inspector, the repository and the object store.

pub mod access;
pub mod auth;
pub mod calendar;
pub mod classes;
pub mod customers;
pub mod deals;
pub mod demo;
pub mod digests;
pub mod downloads;
mod error;
pub mod events;
mod evidence;
pub mod export_files;
pub mod exports;
pub mod feeds;
pub mod follow_ups;
pub mod imports;
pub mod jobs;
pub mod lead_imports;
pub mod lead_merges;
pub mod leads;
pub mod photos;
pub mod pipeline;
pub mod policies;
pub mod reviews;
pub mod scorecards;
pub mod sessions;
pub mod tasks;
pub mod throttle;
pub mod tokens;
pub mod uploads;
pub mod visits;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

/// Why a file is not a photo, as the API answers it (carried by [`AppError::Media`]).
pub use crate::media::MediaError;
pub use error::{AppError, ItemError};

use crate::db::Repo;

use crate::domain::audit::AuditEntry;

use crate::domain::directory::Branch;
use crate::domain::ids::BranchId;
use crate::domain::policy::Policy;
use crate::domain::reasons::Taxonomy;
use crate::domain::role::Actor;
use crate::storage::ObjectStore;

/// Where "now" comes from; tests of deadlines swap it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Everything a use case needs; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub repo: Arc<dyn Repo>,
    pub store: Arc<dyn ObjectStore>,
    /// The configured policy (the file, else the defaults): in force before the first version.
    pub policy: Arc<Policy>,
    /// The stored policy versions this instance has read (`policies::policy_at`).
    pub policy_book: Arc<PolicyBook>,
    pub taxonomy: Arc<Taxonomy>,
    pub clock: Arc<dyn Clock>,
    /// Bounds the photo inspections running at once (CPU work off the async threads).
    pub inspect_permits: Arc<Semaphore>,
    pub inspect_timeout: Duration,
    /// Bounds the memory the running decodes may hold, in MiB (see `media::decode_cost`).
    pub decode_budget: DecodeBudget,
    /// Failed bearer requests per client address (see `throttle::BearerFailures`).
    pub bearer_failures: Arc<throttle::BearerFailures>,
    /// The photo bodies in flight (see `uploads::UploadSlots`).
    pub uploads: Arc<uploads::UploadSlots>,
    /// The OCR engine that reads WhatsApp screenshots, or why there is none.
    pub ocr: Result<Arc<crate::media::ocr::Tesseract>, String>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// How long a console session lives.
    pub sessions: SessionLimits,
    /// When an export streams at once, and how long a prepared one is kept.
    pub exports: ExportLimits,
}

/// The memory all running decodes may hold together: each inspection or thumbnail takes its
/// estimated peak before it starts and gives it back when its decode ends, so any mix of
/// uploads stays within it; one that alone would exceed it is refused (`photo_decode_too_large`).
#[derive(Clone)]
pub struct DecodeBudget {
    pub mib: u32,
    pub permits: Arc<Semaphore>,
}

impl DecodeBudget {
    pub fn new(mib: u32) -> DecodeBudget {
        DecodeBudget { mib, permits: Arc::new(Semaphore::new(mib as usize)) }
    }
}

/// The policy versions an instance has read, each parsed once (`policies::policy_at`).
#[derive(Default)]
pub struct PolicyBook {
    pub(crate) loaded: std::sync::RwLock<Option<(std::time::Instant, Vec<LoadedPolicy>)>>,
}

/// One stored version, parsed.
#[derive(Clone)]
pub(crate) struct LoadedPolicy {
    pub id: uuid::Uuid,
    pub effective_from: chrono::NaiveDate,
    pub policy: Arc<Policy>,
}

/// When an export streams at once, and how long a prepared one is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportLimits {
    /// Visits or tasks a CSV or GeoJSON download may have; above, it is prepared as a job.
    pub stream_rows: u64,
    /// Visits whose photos a ZIP download may have.
    pub stream_zip_visits: u64,
    /// How long a prepared file (or a failed export's entry) stays in the download centre.
    pub retention: Duration,
    /// Where a job writes its file before it goes to the store (`None`: the system's temporary
    /// directory). A photo ZIP can be gigabytes: not a RAM-backed `/tmp`.
    pub temp_dir: Option<std::path::PathBuf>,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits { stream_rows: 20_000, stream_zip_visits: 300, retention: Duration::from_secs(7 * 24 * 3600), temp_dir: None }
    }
}

/// How long a console session lives: `idle` since its last request, `absolute` since sign-in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl App {
    /// Now, to the microsecond: PostgreSQL keeps no finer, and a response must say exactly what
    /// a later read of the same row will say.
    pub fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.clock.now().trunc_subsecs(6)
    }

    /// Readiness: the database answers and the object store accepts a write.
    pub async fn readiness(&self) -> Result<crate::db::Backend, AppError> {
        if let Err(e) = self.repo.ping().await {
            tracing::warn!(error = %e, "readiness: database");
            return Err(AppError::Unavailable { code: "database_unavailable", detail: "the database is not reachable".into() });
        }
        if let Err(e) = self.store.ping().await {
            tracing::warn!(error = %e, "readiness: object store");
            return Err(AppError::Unavailable { code: "storage_unavailable", detail: "the object store is not reachable".into() });
        }
        Ok(self.repo.backend())
    }

    /// The metrics in the Prometheus text format, with the job queue read just now.
    pub async fn metrics_text(&self) -> Result<String, AppError> {
        let now = self.clock.now();
        let stats = self.repo.job_stats(now).await?;
        let by_status: Vec<_> =
            stats.into_iter().map(|s| (s.status, s.count, s.oldest_run_at.and_then(|t| (now - t).to_std().ok()))).collect();
        self.metrics.set_jobs(&by_status);
        Ok(self.metrics.render())
    }

    /// The actor's branch, if they have one.
    pub async fn branch_of(&self, actor: &Actor) -> Result<Option<Branch>, AppError> {
        match actor.branch_id {
            Some(id) => Ok(self.repo.get_branch(id).await?),
            None => Ok(None),
        }
    }

    pub(crate) async fn branch(&self, id: BranchId) -> Result<Branch, AppError> {
        self.repo.get_branch(id).await?.ok_or_else(|| AppError::internal(format!("branch {id} is missing")))
    }

    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: &str,
        subject_type: &str,
        subject_id: String,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            actor_id: Some(actor.id),
            action: action.into(),
            subject_type: subject_type.into(),
            subject_id,
            detail,
        }
    }
}
