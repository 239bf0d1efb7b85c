//! The repository as a whole: the sum of the area traits, and which backend it talks to.

use async_trait::async_trait;
use serde::Serialize;

use super::audit::AuditRepo;
use super::calendar::CalendarRepo;
use super::classes::ClassRepo;
use super::customers::CustomerRepo;
use super::directory::DirectoryRepo;
use super::error::RepoError;
use super::exports::ExportRepo;
use super::follow_ups::FollowUpRepo;
use super::intents::ObjectIntentRepo;
use super::jobs::JobRepo;
use super::leads::LeadRepo;
use super::photos::PhotoRepo;
use super::policies::PolicyRepo;
use super::reviews::ReviewRepo;
use super::scorecards::ScorecardRepo;
use super::sessions::SessionRepo;
use super::tasks::TaskRepo;
use super::visits::VisitRepo;
use super::webhooks::WebhookRepo;

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
            Err(format!("database URL {:?} must start with sqlite:// or postgres://", super::redact_url(url)))
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
    + SessionRepo
    + ExportRepo
    + PolicyRepo
    + LeadRepo
    + FollowUpRepo
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> Result<(), RepoError>;
    async fn ping(&self) -> Result<(), RepoError>;
}
