//! The use-case error: a kind (which the HTTP layer maps to a status once) and a stable code.

use crate::db::RepoError;
use crate::media::MediaError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A console sign-in whose login or password is wrong (which of the two is not said).
    #[error("the login or the password is wrong")]
    SignInFailed,
    /// Too many attempts: retry after the wait (429).
    #[error("{detail}")]
    TooManyRequests { code: &'static str, detail: String, retry_after_secs: u64 },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// Existed, and is gone for good (410): an expired export's file.
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    /// Well-formed but unacceptable input (422).
    #[error("{detail}")]
    Invalid { code: &'static str, detail: String, fields: Vec<String> },
    #[error(transparent)]
    Media(#[from] MediaError),
    /// The server is busy or a dependency is down (503); safe to retry.
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    /// The object store has no room for what was sent (507); nothing of it was kept, and the
    /// same request succeeds once space is freed.
    #[error("{detail}")]
    InsufficientStorage { code: &'static str, detail: String },
    /// A bulk request refused as a whole: what was wrong with each item (422 `bulk_rejected`).
    #[error("{} item(s) of the request were refused; nothing was written", errors.len())]
    BulkRejected { errors: Vec<ItemError> },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Why one item of a bulk request was refused.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemError {
    pub index: usize,
    pub code: &'static str,
    pub detail: String,
}

impl AppError {
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Forbidden { code, detail: detail.into() }
    }
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::NotFound { code, detail: detail.into() }
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict { code, detail: detail.into() }
    }
    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Invalid { code, detail: detail.into(), fields: Vec::new() }
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        AppError::Internal(anyhow::anyhow!(msg.into()))
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::SignInFailed => "sign_in_failed",
            AppError::TooManyRequests { code, .. } => code,
            AppError::Forbidden { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Gone { code, .. }
            | AppError::Invalid { code, .. }
            | AppError::Unavailable { code, .. }
            | AppError::InsufficientStorage { code, .. } => code,
            AppError::Media(e) => e.code(),
            AppError::BulkRejected { .. } => "bulk_rejected",
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable { reason, .. } => AppError::Unavailable { code: "database_unavailable", detail: reason.into() },
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// A store that is down, read-only or full is the deployment's state, not a bug: the client is
/// told so with its own code and may retry the same request. Anything else is a 500.
impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        let kept = "nothing of this request was kept";
        let answer = match e.code() {
            "storage_full" => AppError::InsufficientStorage {
                code: "storage_full",
                detail: format!("the object store is full; {kept} — retry once space is freed"),
            },
            "storage_read_only" => AppError::Unavailable {
                code: "storage_read_only",
                detail: format!("the object store is read-only; {kept} — retry shortly"),
            },
            "storage_unavailable" => AppError::Unavailable {
                code: "storage_unavailable",
                detail: format!("the object store is not reachable; {kept} — retry shortly"),
            },
            _ => return AppError::Internal(anyhow::Error::new(e).context("object store")),
        };
        tracing::warn!(error = %e, code = answer.code(), "object store");
        answer
    }
}
