//! Persistence, in domain verbs: one small trait per area (`jobs`, `customers`, `visits` …),
//! each in its own file with its record types; [`Repo`] is their sum. The statements are in
//! `sql/`, one file per area, written once for both backends and compiled for each in
//! `sqlite.rs` and `postgres.rs`; what the two dialects disagree on is named in `dialect.rs`.
//! One conformance suite (`tests/api/repo/`, a case per area) runs against both.
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
pub mod exports;
pub mod follow_ups;
pub mod hash_keys;
pub mod intents;
pub mod jobs;
pub mod leads;
pub mod photos;
pub mod policies;
mod repo;
pub mod reviews;
pub mod scorecards;
pub mod sessions;
pub mod tasks;
pub mod visits;
pub mod webhooks;

use std::sync::Arc;

pub use audit::AuditRepo;
pub use calendar::{CalendarRepo, DayCloseDone, DayCloseFound, DayClosePlan};
pub use classes::{ClassRepo, VolumeSums};
pub use customers::{CustomerFilter, CustomerRepo, UpsertCounts};
pub use directory::DirectoryRepo;
pub use error::RepoError;
pub use exports::{ExportFile, ExportRepo};
pub use follow_ups::{FollowUpDone, FollowUpFilter, FollowUpRepo, QuotationWrite};
pub use hash_keys::{hash_keys, probe_keys, HASH_KEY_SLOTS};
pub use intents::ObjectIntentRepo;
pub use jobs::{ClaimedJob, JobRecord, JobRepo, JobStat, NewJob};
pub use leads::{LeadChange, LeadFilter, LeadMerge, LeadRepo};
pub use photos::{HashCandidate, PhotoInsert, PhotoRepo};
pub use policies::{PolicyRepo, PolicyVersion};
pub use repo::{Backend, Repo};
pub use reviews::{ReviewRecord, ReviewRepo, VisitsEvidence};
pub use scorecards::{DigestRow, ScoreTasks, ScoreVisit, ScorecardRepo};
pub use sessions::{SessionRecord, SessionRepo};
pub use tasks::{TaskFilter, TaskRepo};
pub use visits::{SummaryCandidate, VerdictOutcome, VerdictRecord, VisitFilter, VisitRepo};
pub use webhooks::WebhookRepo;

/// Connects to the database named by the URL: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Arc<dyn Repo>> {
    match Backend::from_url(url).map_err(anyhow::Error::msg)? {
        Backend::Sqlite => Ok(Arc::new(sqlite::SqliteRepo::connect(url, max_connections).await?)),
        Backend::Postgres => Ok(Arc::new(postgres::PgRepo::connect(url, max_connections).await?)),
    }
}

/// A URL with its password replaced, for messages: the userinfo's (`postgres://u:***@h/db`) and a
/// `password=` query parameter's (`…?password=***`).
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => match base[scheme_end + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &base[..scheme_end + 3], user, &base[at..]),
            None => base.to_string(),
        },
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out = format!("{out}?{}", params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
        assert_eq!(
            super::redact_url("postgres://h/db?user=u&password=secret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(super::redact_url("sqlite://data/x.db?mode=rwc"), "sqlite://data/x.db?mode=rwc");
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
