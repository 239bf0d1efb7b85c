//! `/v1/imports/{customers,volumes,leads}` and `/v1/classification/run`.

use actix_web::{web, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use crate::app::imports::{import_file, ImportKind};
use crate::app::{classes, App, AppError};
use crate::domain::ids::BranchId;

/// Largest CSV upload (100k customers × 90 days of volumes is about 300 MB).
const MAX_IMPORT_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Largest lead import: it is read whole (50 000 rows of a HubSpot export are ~15 MB).
const MAX_LEAD_IMPORT_BYTES: u64 = 32 * 1024 * 1024;

/// Deletes the spooled upload however the request ends.
struct Spool(std::path::PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams the body to a temporary file (memory stays flat); the file is deleted when the
/// returned guard is dropped.
async fn spool(app: &App, actor: &crate::domain::role::Actor, mut body: web::Payload, max: u64) -> Result<Spool, ApiError> {
    if !actor.role.is_marketing() {
        return Err(AppError::forbidden("role_forbidden", "imports are for marketing roles and admins").into());
    }
    let spool = Spool(std::env::temp_dir().join(format!("fieldproof-import-{}.csv", Uuid::new_v4())));
    let mut file = tokio::fs::File::create(&spool.0).await.map_err(|e| AppError::internal(format!("spooling the upload: {e}")))?;
    let mut size: u64 = 0;
    // Spooled to disk, not memory, but a trickle would still hold a connection and a file.
    let mut pace = super::multipart::Pace::new(app.uploads.min_bytes_per_sec());
    while let Some(chunk) = pace.read(body.next()).await? {
        let chunk = chunk.map_err(|e| ApiError::bad_request("malformed_request", format!("the upload broke off: {e}")))?;
        pace.add(chunk.len());
        size += chunk.len() as u64;
        if size > max {
            return Err(ApiError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "import_too_large",
                format!("this import's file is at most {} MiB", max / (1024 * 1024)),
            ));
        }
        file.write_all(&chunk).await.map_err(|e| AppError::internal(format!("spooling the upload: {e}")))?;
    }
    file.flush().await.map_err(|e| AppError::internal(format!("spooling the upload: {e}")))?;
    drop(file);
    if size == 0 {
        return Err(ApiError::unprocessable("import_empty", "the CSV file is empty"));
    }
    Ok(spool)
}

/// Spools the body, then imports it.
async fn import(
    app: web::Data<App>,
    actor: crate::domain::role::Actor,
    body: web::Payload,
    kind: ImportKind,
) -> Result<HttpResponse, ApiError> {
    let spool = spool(&app, &actor, body, MAX_IMPORT_BYTES).await?;
    let report = import_file(&app, Some(&actor), kind, &spool.0, &|_| {}).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /v1/imports/leads`: a HubSpot contacts export, a Google Sheets CSV or FieldProof's own.
pub async fn leads(app: web::Data<App>, Authed(actor): Authed, body: web::Payload) -> Result<HttpResponse, ApiError> {
    let spool = spool(&app, &actor, body, MAX_LEAD_IMPORT_BYTES).await?;
    let report = crate::app::lead_imports::import_csv(&app, &actor, &spool.0).await?;
    Ok(HttpResponse::Ok().json(report))
}

pub async fn customers(app: web::Data<App>, Authed(actor): Authed, body: web::Payload) -> Result<HttpResponse, ApiError> {
    import(app, actor, body, ImportKind::Customers).await
}

pub async fn volumes(app: web::Data<App>, Authed(actor): Authed, body: web::Payload) -> Result<HttpResponse, ApiError> {
    import(app, actor, body, ImportKind::Volumes).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    pub branch_id: Option<Uuid>,
}

pub async fn classify(
    app: web::Data<App>,
    Authed(actor): Authed,
    body: super::json::OptionalJson<RunInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.unwrap_or_default();
    let runs = classes::run_now(&app, Some(&actor), input.branch_id.map(BranchId)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "runs": runs })))
}
