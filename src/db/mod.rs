//! Persistence, in domain verbs: one small trait per area (`jobs`, `customers`, `visits` …),
//! each in its own file with its record types; [`Repo`] is their sum. The statements are in
//! `sql/`, one file per area, written once for both backends and compiled for each in
//! `sqlite.rs` and `postgres.rs`; what the two dialects disagree on is named in `dialect.rs`.
//! One conformance suite (`tests/api/repo.rs`, a case per area) runs against both.
//!
//! Promises: every write that must be atomic is one transaction here (a verdict with its
//! findings, re-visit task and audit entry; a review with its task); idempotency rests on
//! unique constraints, not on timing.

mod columns;
mod dialect;
mod error;
mod pool;
pub mod postgres;
mod rows;
pub mod sqlite;

pub mod audit;
pub mod calendar;
pub mod classes;
pub mod customers;
pub mod directory;
pub mod hash_keys;
pub mod intents;
pub mod jobs;
pub mod photos;
pub mod reviews;
pub mod scorecards;
pub mod tasks;
pub mod visits;
pub mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

pub use audit::AuditRepo;
pub use calendar::{CalendarRepo, DayCloseDone, DayCloseFound, DayClosePlan};
pub use classes::{ClassRepo, VolumeSums};
pub use customers::{CustomerFilter, CustomerRepo, UpsertCounts};
pub use directory::DirectoryRepo;
pub use error::RepoError;
pub use hash_keys::{hash_keys, probe_keys, HASH_KEY_SLOTS};
pub use intents::ObjectIntentRepo;
pub use jobs::{ClaimedJob, JobRecord, JobRepo, JobStat, NewJob};
pub use photos::{HashCandidate, PhotoInsert, PhotoRepo};
pub(crate) use pool::{pool_options, SqlRepo};
pub use reviews::{ReviewRecord, ReviewRepo, VisitsEvidence};
pub use scorecards::{ScoreTasks, ScoreVisit, ScorecardRepo};
pub use tasks::{TaskFilter, TaskRepo};
pub use visits::{SummaryCandidate, VerdictOutcome, VerdictRecord, VisitFilter, VisitRepo};
pub use webhooks::WebhookRepo;

// The entities the repository stores that live in `domain`, where older code looked for them.
pub use crate::domain::audit::AuditEntry;
pub use crate::domain::classify::ClassChange;
pub use crate::domain::directory::{Branch, User, MONDAY_TO_FRIDAY};
pub use crate::domain::holiday::{Holiday, HolidaySource};
pub use crate::domain::page::{Page, Paged};

/// Which database a repository talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names by its scheme: `sqlite:…` or `postgres://…`
    /// (`postgresql://…`). The configuration's check and [`connect`] both ask this.
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(format!("database URL {:?} must start with sqlite:// or postgres://", redact_url(url)))
        }
    }
}

/// The repository: every query FieldProof makes, area by area.
#[async_trait]
pub trait Repo:
    JobRepo
    + ObjectIntentRepo
    + DirectoryRepo
    + CustomerRepo
    + TaskRepo
    + VisitRepo
    + PhotoRepo
    + ReviewRepo
    + WebhookRepo
    + ScorecardRepo
    + CalendarRepo
    + ClassRepo
    + AuditRepo
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> Result<(), RepoError>;
    async fn ping(&self) -> Result<(), RepoError>;
}

/// Connects to the database named by the URL: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Arc<dyn Repo>> {
    match Backend::from_url(url).map_err(anyhow::Error::msg)? {
        Backend::Sqlite => Ok(Arc::new(sqlite::SqliteRepo::connect(url, max_connections).await?)),
        Backend::Postgres => Ok(Arc::new(postgres::PgRepo::connect(url, max_connections).await?)),
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
    use super::Backend;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn the_backend_is_the_url_scheme() {
        assert_eq!(Backend::from_url("sqlite://data/x.db"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("sqlite::memory:"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://h/db"), Ok(Backend::Postgres));
        assert_eq!(Backend::from_url("postgresql://h/db"), Ok(Backend::Postgres));
        let err = Backend::from_url("mysql://u:pw@h/db").unwrap_err();
        assert!(err.contains("mysql://u:***@h/db"), "{err}");
    }
}
