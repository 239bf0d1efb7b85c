//! The download centre: exports too large to stream at once are prepared by a job, land in the
//! object store, and are listed for the user who asked until they expire.
//!
//! - [`request`] stores the export and its job in one transaction, under the client's id when
//!   it sends one: a retried request finds its export and makes no second one.
//! - The `export` job writes the file to a temporary file with the same streamed writers as a
//!   download (one page of rows in memory), then puts it in the store part by part, under a
//!   key of its own attempt (a retry never meets a half-written object of an earlier one).
//! - The `expire_exports` job (every 10 minutes) deletes the files whose time is up.

use std::io::Write;

use futures_util::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::export_files as files;
use super::exports::{TaskPages, VisitPages};
use super::tasks::TaskFilter;
use super::visits::VisitFilter;
use super::{App, AppError};
use crate::db::{ExportFile, NewJob};
use crate::domain::export::{Export, ExportKind, ExportStatus};
use crate::domain::ids::ExportId;
use crate::domain::page::{Page, Paged};
use crate::domain::role::Actor;
pub use crate::storage::ByteStream;
use crate::storage::CleanupGuard;

pub const EXPORT_JOB: &str = "export";
pub const EXPIRE_EXPORTS_JOB: &str = "expire_exports";

/// The rows an export reads.
#[derive(Debug, Clone)]
pub enum ExportFilter {
    Visits(VisitFilter),
    Tasks(TaskFilter),
}

impl ExportFilter {
    fn to_json(&self) -> serde_json::Value {
        match self {
            ExportFilter::Visits(f) => serde_json::to_value(f),
            ExportFilter::Tasks(f) => serde_json::to_value(f),
        }
        .unwrap_or_default()
    }
}

/// How many rows the export would have (in the actor's scope), and whether that is small
/// enough to stream at once.
pub async fn size(app: &App, actor: &Actor, kind: ExportKind, filter: &ExportFilter) -> Result<(i64, bool), AppError> {
    super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
    let rows = match filter {
        ExportFilter::Visits(f) => app.repo.count_visits(&VisitFilter { scope: actor.scope(), ..f.clone() }).await?,
        ExportFilter::Tasks(f) => {
            let c = super::tasks::counts(app, actor, f.clone()).await?;
            c.open + c.done + c.missed + c.cancelled
        }
    };
    let limit = if kind == ExportKind::PhotosZip { app.exports.stream_zip_visits } else { app.exports.stream_rows };
    Ok((rows, u64::try_from(rows).unwrap_or(0) <= limit))
}

/// Asks for an export to be prepared (audited). Returns it, and whether this request made it
/// (false: the id was known — a retry — and the export is returned as it stands).
pub async fn request(
    app: &App,
    actor: &Actor,
    id: Option<ExportId>,
    kind: ExportKind,
    filter: ExportFilter,
) -> Result<(Export, bool), AppError> {
    super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
    if kind.of_visits() != matches!(filter, ExportFilter::Visits(_)) {
        return Err(AppError::invalid(
            "invalid_field",
            format!("{} takes a {} filter", kind.as_str(), if kind.of_visits() { "visit" } else { "task" }),
        ));
    }
    let id = id.unwrap_or_else(ExportId::new_random);
    if let Some(existing) = app.repo.get_export(id).await? {
        return if existing.requested_by == actor.id && existing.kind == kind {
            Ok((existing, false))
        } else {
            Err(AppError::conflict("export_id_taken", format!("export {id} exists with another kind or requester")))
        };
    }
    let now = app.now();
    let export = Export {
        id,
        kind,
        requested_by: actor.id,
        filter: filter.to_json(),
        status: ExportStatus::Queued,
        rows: None,
        bytes: None,
        storage_key: None,
        error: None,
        created_at: now,
        finished_at: None,
        expires_at: None,
    };
    let job = NewJob {
        id: Uuid::new_v4(),
        kind: EXPORT_JOB.into(),
        unique_key: Some(format!("{EXPORT_JOB}:{id}")),
        payload: json!({ "export_id": id }),
        run_at: now,
    };
    if !app.repo.create_export(&export, &job, now).await? {
        // A concurrent retry stored it first.
        let existing = app.repo.get_export(id).await?.ok_or_else(|| AppError::internal(format!("export {id} vanished")))?;
        return Ok((existing, false));
    }
    app.repo
        .append_audit(&app.audit(
            actor,
            "export.requested",
            "export",
            id.to_string(),
            json!({ "kind": kind.as_str(), "filter": export.filter }),
        ))
        .await?;
    Ok((export, true))
}

/// The actor's exports, newest first.
pub async fn list(app: &App, actor: &Actor, page: Page) -> Result<Paged<Export>, AppError> {
    super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
    Ok(app.repo.list_exports(actor.id, page).await?)
}

/// One of the actor's exports (another user's is not found: a download centre is personal).
pub async fn get(app: &App, actor: &Actor, id: ExportId) -> Result<Export, AppError> {
    super::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
    match app.repo.get_export(id).await? {
        Some(export) if export.requested_by == actor.id => Ok(export),
        _ => Err(AppError::not_found("export_not_found", format!("no export {id}"))),
    }
}

/// A ready export's file, as a stream from the store (audited).
pub async fn file(app: &App, actor: &Actor, id: ExportId) -> Result<(Export, ByteStream), AppError> {
    let export = get(app, actor, id).await?;
    let key = match (export.status, &export.storage_key) {
        (ExportStatus::Ready, Some(key)) => key.clone(),
        (ExportStatus::Expired, _) => return Err(AppError::Gone { code: "export_expired", detail: format!("export {id} has expired") }),
        (status, _) => {
            return Err(AppError::conflict("export_not_ready", format!("export {id} is {}, not ready", status.as_str())));
        }
    };
    let body = app.store.get_stream(&key).await?;
    app.repo
        .append_audit(&app.audit(actor, "export.downloaded", "export", id.to_string(), json!({ "kind": export.kind.as_str() })))
        .await?;
    Ok((export, body))
}

/// The `export` job: makes the file and records it; a failed attempt is recorded, and the
/// export fails with the job's last attempt.
pub async fn run_job(app: &App, payload: &serde_json::Value, attempt: i64, max_attempts: u32) -> Result<(), String> {
    let id: ExportId = serde_json::from_value(payload["export_id"].clone()).map_err(|e| format!("export job payload: {e}"))?;
    let Some(export) = app.repo.get_export(id).await.map_err(|e| e.to_string())? else { return Ok(()) };
    if !app.repo.start_export(id).await.map_err(|e| e.to_string())? {
        return Ok(()); // made by an earlier attempt, or given up on
    }
    match make(app, &export).await {
        Ok(()) => Ok(()),
        Err(error) => {
            let now = app.now();
            let gave_up = (attempt >= i64::from(max_attempts)).then(|| (now, now + retention(app)));
            app.repo.fail_export(id, &error, gave_up).await.map_err(|e| e.to_string())?;
            Err(error)
        }
    }
}

fn retention(app: &App) -> chrono::Duration {
    chrono::Duration::from_std(app.exports.retention).unwrap_or(chrono::Duration::days(7))
}

async fn make(app: &App, export: &Export) -> Result<(), String> {
    let user = app.repo.users_by_id(&[export.requested_by]).await.map_err(|e| e.to_string())?.pop();
    let user = user.ok_or_else(|| format!("the requester {} no longer exists", export.requested_by))?;
    let actor = Actor { id: user.id, name: user.name, role: user.role, branch_id: user.branch_id };
    if !actor.role.is_marketing() {
        return Err("the requester no longer has a marketing role".into());
    }
    let tmp = match &app.exports.temp_dir {
        Some(dir) => tempfile::NamedTempFile::new_in(dir),
        None => tempfile::NamedTempFile::new(),
    }
    .map_err(|e| format!("temporary file: {e}"))?;
    let rows = write_file(app, &actor, export, tmp.path()).await?;
    let bytes = std::fs::metadata(tmp.path()).map_err(|e| e.to_string())?.len();
    let attempt = Uuid::new_v4().simple().to_string();
    let key = format!("exports/{}/{}-{}.{}", &attempt[..2], export.id.0.simple(), &attempt[..8], export.kind.extension());
    app.store.put_file(&key, tmp.path()).await.map_err(|e| format!("storing the file: {e}"))?;
    let guard = CleanupGuard::new(app.store.clone(), key.clone());
    let now = app.now();
    let file = ExportFile {
        storage_key: key,
        rows: i64::try_from(rows).unwrap_or(i64::MAX),
        bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        finished_at: now,
        expires_at: now + retention(app),
    };
    if app.repo.finish_export(export.id, &file).await.map_err(|e| e.to_string())? {
        guard.disarm();
    }
    tracing::info!(export_id = %export.id, kind = export.kind.as_str(), rows, bytes, "export ready");
    Ok(())
}

/// Writes the export's file to `path`; returns its rows.
async fn write_file(app: &App, actor: &Actor, export: &Export, path: &std::path::Path) -> Result<u64, String> {
    let visits = || serde_json::from_value::<VisitFilter>(export.filter.clone()).map_err(|e| format!("the export's filter: {e}"));
    let zones = || files::branch_zones(app);
    let (stream, counter) = match export.kind {
        ExportKind::PhotosZip => {
            let pages = VisitPages::resume(app, actor, visits()?);
            let counter = pages.counter();
            let (app, path, handle) = (app.clone(), path.to_path_buf(), tokio::runtime::Handle::current());
            tokio::task::spawn_blocking(move || -> Result<(), String> {
                let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
                let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
                files::write_zip(&app, pages, &handle, &mut out)?;
                out.flush().map_err(|e| e.to_string())?;
                out.get_ref().sync_all().map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| format!("the ZIP writer failed: {e}"))??;
            return Ok(counter.load(std::sync::atomic::Ordering::Relaxed));
        }
        ExportKind::VisitsCsv | ExportKind::VisitsGeojson => {
            let pages = VisitPages::resume(app, actor, visits()?);
            let counter = pages.counter();
            let zones = zones().await.map_err(|e| e.to_string())?;
            let stream = if export.kind == ExportKind::VisitsCsv {
                files::visits_csv(pages, zones).boxed()
            } else {
                files::visits_geojson(pages, zones).boxed()
            };
            (stream, counter)
        }
        ExportKind::TasksCsv => {
            let filter = serde_json::from_value::<TaskFilter>(export.filter.clone()).map_err(|e| format!("the export's filter: {e}"))?;
            let pages = TaskPages::resume(app, actor, filter).await.map_err(|e| e.to_string())?;
            let counter = pages.counter();
            (files::tasks_csv(pages, zones().await.map_err(|e| e.to_string())?).boxed(), counter)
        }
    };
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::create(path).await.map_err(|e| e.to_string())?);
    let mut stream = stream;
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk.map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
    }
    file.flush().await.map_err(|e| e.to_string())?;
    file.get_ref().sync_all().await.map_err(|e| e.to_string())?;
    Ok(counter.load(std::sync::atomic::Ordering::Relaxed))
}

/// The `expire_exports` job: deletes the files of exports whose time is up; returns how many
/// exports expired.
pub async fn expire(app: &App) -> Result<u64, String> {
    let mut expired = 0;
    loop {
        let due = app.repo.expired_exports(app.now(), 200).await.map_err(|e| e.to_string())?;
        for (id, key) in &due {
            if let Some(key) = key {
                app.store.delete(key).await.map_err(|e| format!("deleting export {id}'s file: {e}"))?;
            }
            app.repo.expire_export(*id).await.map_err(|e| e.to_string())?;
            expired += 1;
        }
        if due.len() < 200 {
            break;
        }
    }
    if expired > 0 {
        tracing::info!(expired, "expired exports deleted");
    }
    Ok(expired)
}
