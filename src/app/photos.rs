//! Photo upload: inspect the bytes off the async threads, judge them against the customer's
//! geofence, store the object, then the row — and nothing half-done if any step fails.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::access::{owned_visit, visible_visit};
use super::evidence::{self, facts_from, limits_for, Against};
use super::{App, AppError};
use crate::db::PhotoInsert;
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::role::Actor;
use crate::domain::rules::{self, PhotoContext};
use crate::domain::visit::{CaptureMeta, Photo, PhotoFacts, PhotoKind, VisitStatus};
use crate::media::{self, Inspection};
use crate::storage::{new_photo_key, CleanupGuard};

/// A collected upload, parsed at the edge.
#[derive(Debug, Clone)]
pub struct PhotoUpload {
    pub bytes: bytes::Bytes,
    pub kind: PhotoKind,
    /// The file part's content type, when the client sent a specific one.
    pub declared_type: Option<String>,
    pub capture: CaptureMeta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    Unchanged,
}

/// `PUT /v1/visits/{visit}/photos/{photo}`.
pub async fn upload(
    app: &App,
    actor: &Actor,
    visit_id: VisitId,
    photo_id: PhotoId,
    upload: PhotoUpload,
) -> Result<(Photo, Stored), AppError> {
    let (mut photo, stored) = upload_as_owner(app, actor, visit_id, photo_id, upload).await?;
    super::access::findings_seen_by(app, actor, [&mut photo.findings]).await?;
    Ok((photo, stored))
}

async fn upload_as_owner(
    app: &App,
    actor: &Actor,
    visit_id: VisitId,
    photo_id: PhotoId,
    upload: PhotoUpload,
) -> Result<(Photo, Stored), AppError> {
    let visit = owned_visit(app, actor, visit_id).await?;
    if let Some(existing) = app.repo.get_photo(photo_id).await? {
        // A retry: hashing alone tells whether it is the same photo.
        let bytes = upload.bytes.clone();
        let sha256 = bounded_blocking(&app.inspect_permits, move || sha256_hex(&bytes))
            .await?
            .await
            .map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?;
        return same_photo(existing, visit_id, &sha256, &upload);
    }
    if visit.status != VisitStatus::Draft {
        return Err(AppError::conflict("visit_already_submitted", "the visit was submitted; no more photos"));
    }

    let (sha256, inspection) = inspect(app, upload.bytes.clone(), upload.declared_type.clone(), upload.kind).await?;
    let customer = app.repo.get_customer(visit.content.customer_id).await?.ok_or_else(|| AppError::internal("customer vanished"))?;
    let branch = app.branch(visit.branch_id).await?;
    let key = new_photo_key(inspection.format.as_str());
    let mut photo = Photo {
        id: photo_id,
        visit_id,
        kind: upload.kind,
        sha256,
        size_bytes: upload.bytes.len() as u64,
        content_type: inspection.format.mime().to_string(),
        storage_key: key.clone(),
        capture: upload.capture.clone(),
        facts: facts_from(&inspection, branch.time_zone),
        findings: Vec::new(),
        received_at: app.now(),
    };
    let against = Against { visit_date: visit.visit_date, customer: &customer, branch_tz: branch.time_zone };
    // Judged by the policy of the visit's day (today's while the record has no date yet).
    let day = visit.visit_date.unwrap_or_else(|| crate::domain::time::local_date(photo.received_at, branch.time_zone));
    let (_, policy) = super::policies::policy_at(app, day).await?;
    photo.findings = evidence::judge_photo(app, &policy, &against, &photo).await?;

    // Object first, then the row; the guard removes the object if the row never lands. The
    // intent recorded before the write is what the orphan sweep finds if this process dies
    // between the two (a guard cannot run after kill -9); the row's transaction removes it.
    app.repo.record_object_intent(&key, photo.received_at).await?;
    app.store.put(&key, upload.bytes.clone()).await?;
    let guard = CleanupGuard::new(app.store.clone(), key);
    match app.repo.insert_photo(&photo, photo.received_at).await? {
        PhotoInsert::Inserted => {
            guard.disarm();
            Ok((photo, Stored::Created))
        }
        PhotoInsert::Exists(existing) => same_photo(*existing, visit_id, &photo.sha256, &upload),
        PhotoInsert::VisitNotDraft => Err(AppError::conflict("visit_already_submitted", "the visit was submitted; no more photos")),
    }
}

/// A photo, once stored, never changes: the same upload again is answered with it, anything
/// else under its id is a conflict.
fn same_photo(existing: Photo, visit_id: VisitId, sha256: &str, upload: &PhotoUpload) -> Result<(Photo, Stored), AppError> {
    if existing.visit_id != visit_id {
        return Err(AppError::conflict("photo_id_conflict", "this photo id belongs to another visit"));
    }
    if existing.sha256 != sha256 || existing.kind != upload.kind || existing.capture != upload.capture {
        return Err(AppError::conflict("photo_conflict", "a different photo is already stored under this id"));
    }
    Ok((existing, Stored::Unchanged))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Starts `work` on a blocking thread once an inspection permit is free. The permit moves into
/// the task and is released when the work really ends — not when a caller stops waiting for
/// it — so a timed-out inspection still counts against the bound until its decode finishes.
async fn bounded_blocking<T: Send + 'static>(
    permits: &Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<tokio::task::JoinHandle<T>, AppError> {
    let permit = permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| AppError::Unavailable { code: "server_shutting_down", detail: "the server is shutting down".into() })?;
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    }))
}

/// Takes `bytes` of the decode memory budget, waiting (at most the inspection timeout) while
/// other decodes hold it; the permit goes into the decode's task and is given back when the
/// decode ends. A decode that alone exceeds the whole budget is refused before it starts.
async fn decode_memory(app: &App, bytes: u64) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
    let budget = &app.decode_budget;
    let mib = bytes.div_ceil(1024 * 1024).max(1);
    if mib > u64::from(budget.mib) {
        return Err(AppError::invalid(
            "photo_decode_too_large",
            format!("decoding this photo would take about {mib} MiB; this server decodes photos within {} MiB", budget.mib),
        ));
    }
    let wait = budget.permits.clone().acquire_many_owned(mib as u32);
    match tokio::time::timeout(app.inspect_timeout, wait).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(AppError::Unavailable { code: "server_shutting_down", detail: "the server is shutting down".into() }),
        Err(_) => {
            Err(AppError::Unavailable { code: "server_busy", detail: "the server is decoding as many photos as it can; retry".into() })
        }
    }
}

/// Hashes the photo and runs the inspector, in one task on a blocking thread (one hop, not two),
/// behind the semaphore, with a timeout; a panic inside a decoder becomes a clean error instead
/// of a dead worker.
#[tracing::instrument(skip_all, fields(bytes = bytes.len(), ?kind))]
async fn inspect(app: &App, bytes: bytes::Bytes, declared: Option<String>, kind: PhotoKind) -> Result<(String, Inspection), AppError> {
    let limits = limits_for(&app.policy, kind);
    let metrics = app.metrics.clone();
    let ocr = app.ocr.clone().ok();
    let memory = decode_memory(app, media::decode_cost(&bytes, &limits, kind == PhotoKind::WhatsappScreenshot)).await?;
    let task = bounded_blocking(&app.inspect_permits, move || {
        let _memory = memory;
        let sha256 = sha256_hex(&bytes);
        let started = std::time::Instant::now();
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| inspect_kind(&bytes, declared.as_deref(), &limits, kind, ocr.as_deref())));
        metrics.observe_photo_check(started.elapsed());
        (sha256, result)
    })
    .await?;
    match tokio::time::timeout(app.inspect_timeout, task).await {
        Err(_) => Err(AppError::invalid("photo_inspection_timeout", "the photo took too long to inspect")),
        Ok(Err(join)) => Err(AppError::internal(format!("inspection task failed: {join}"))),
        Ok(Ok((_, Err(_panic)))) => {
            tracing::error!("photo inspection panicked; the file is refused");
            Err(AppError::invalid("photo_unreadable", "the photo could not be read"))
        }
        Ok(Ok((sha256, Ok(result)))) => Ok((sha256, result?)),
    }
}

/// The inspection a photo of `kind` gets: the file's, and for a WhatsApp screenshot its chat read.
fn inspect_kind(
    bytes: &[u8],
    declared: Option<&str>,
    limits: &media::Limits,
    kind: PhotoKind,
    ocr: Option<&media::ocr::Tesseract>,
) -> Result<Inspection, media::MediaError> {
    let mut inspection = media::inspect(bytes, declared, limits)?;
    if kind == PhotoKind::WhatsappScreenshot {
        inspection.chat = Some(media::read_screenshot(ocr, bytes, &inspection, limits.max_pixels));
    }
    Ok(inspection)
}

/// The whole photo check on a local file, without the database (no reuse check, no
/// customer): what `fieldproof check-photo` runs.
pub fn check_file(
    policy: &crate::domain::policy::Policy,
    bytes: &[u8],
    kind: PhotoKind,
    branch_tz: Tz,
) -> Result<(Inspection, PhotoFacts, Vec<crate::domain::finding::Finding>), media::MediaError> {
    check_file_with(policy, bytes, kind, branch_tz, None)
}

/// [`check_file`] with an OCR engine for WhatsApp screenshots.
pub fn check_file_with(
    policy: &crate::domain::policy::Policy,
    bytes: &[u8],
    kind: PhotoKind,
    branch_tz: Tz,
    ocr: Option<&media::ocr::Tesseract>,
) -> Result<(Inspection, PhotoFacts, Vec<crate::domain::finding::Finding>), media::MediaError> {
    let inspection = inspect_kind(bytes, None, &limits_for(policy, kind), kind, ocr)?;
    let facts = facts_from(&inspection, branch_tz);
    let ctx = PhotoContext {
        photo_id: PhotoId(uuid::Uuid::nil()),
        kind,
        geofence: None,
        customer_unplaced: false,
        visit_date: None,
        branch_tz,
        received_at: chrono::Utc::now(),
        earlier_copies: &[],
        customer_names: &[],
        customer_phone: None,
    };
    let findings = rules::photo_findings(policy, &ctx, &facts, &CaptureMeta::default());
    Ok((inspection, facts, findings))
}

/// `GET /v1/screenshots?q=`: WhatsApp screenshots whose chat text contains `q` (2–100
/// characters, any case), newest first, of the visits the caller sees — how HQ finds every
/// screenshot that names a customer, a number or an offer.
pub async fn search_screenshots(app: &App, actor: &Actor, q: &str, limit: u32) -> Result<Vec<Photo>, AppError> {
    let needle = q.trim().to_lowercase();
    let chars = needle.chars().count();
    if !(2..=100).contains(&chars) || needle.contains('\0') {
        return Err(AppError::invalid("invalid_field", "q must be 2 to 100 characters"));
    }
    let mut photos = app.repo.search_chat_text(&needle, &actor.scope(), limit.clamp(1, 100)).await?;
    super::access::findings_seen_by(app, actor, photos.iter_mut().map(|p| &mut p.findings)).await?;
    Ok(photos)
}

/// `GET …/photos/{photo}/content`: the bytes, to those who may see the visit. Anyone but the
/// rep who took it is audited (the photo carries the rep's position).
/// What a read of a photo gives: its bytes, or a short-lived link into the object store.
pub enum PhotoContent {
    /// The bytes, streamed from the store as the client reads them.
    Bytes(Box<Photo>, crate::storage::ByteStream),
    Link(String),
}

/// How long a reviewer's direct link to a photo in the object store stays valid.
pub const PHOTO_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// A photo to those who may see its visit. With `prefer_link`, and a store that has them (S3
/// presigned GET), a short-lived link instead of the bytes, so a reviewer's browser does not pull
/// them through the API. A read by anyone but the visit's rep is audited once, either way.
pub async fn content(app: &App, actor: &Actor, visit_id: VisitId, photo_id: PhotoId, prefer_link: bool) -> Result<PhotoContent, AppError> {
    let visit = visible_visit(app, actor, visit_id).await?;
    let photo = match app.repo.get_photo(photo_id).await? {
        Some(p) if p.visit_id == visit.id => p,
        _ => return Err(AppError::not_found("photo_not_found", format!("photo {photo_id} not found"))),
    };
    let link = if prefer_link { app.store.presigned_get(&photo.storage_key, PHOTO_LINK_TTL).await? } else { None };
    if visit.rep_id != actor.id {
        let via = if link.is_some() { "link" } else { "bytes" };
        let entry =
            app.audit(actor, "photo.viewed", "photo", photo_id.to_string(), serde_json::json!({ "visit_id": visit_id, "via": via }));
        app.repo.append_audit(&entry).await?;
    }
    match link {
        Some(link) => Ok(PhotoContent::Link(link)),
        None => {
            let stream = app.store.get_stream(&photo.storage_key).await?;
            Ok(PhotoContent::Bytes(Box::new(photo), stream))
        }
    }
}

/// Where a photo's thumbnail lives: beside the original, `….thumb.jpg`.
pub fn thumbnail_key(photo_key: &str) -> String {
    let stem = photo_key.rsplit_once('.').map_or(photo_key, |(stem, _)| stem);
    format!("{stem}.thumb.jpg")
}

/// A photo's thumbnail (JPEG, about 480 px, no metadata) to those who may see its visit. Made
/// from the original the first time it is asked for, behind the inspection semaphore, and
/// stored beside it; every later read is one object-store read. Not audited: it shows the
/// picture small, not the EXIF (the queue page that lists them is audited).
pub async fn thumbnail(app: &App, actor: &Actor, visit_id: VisitId, photo_id: PhotoId) -> Result<Vec<u8>, AppError> {
    let visit = visible_visit(app, actor, visit_id).await?;
    let photo = match app.repo.get_photo(photo_id).await? {
        Some(p) if p.visit_id == visit.id => p,
        _ => return Err(AppError::not_found("photo_not_found", format!("photo {photo_id} not found"))),
    };
    let key = thumbnail_key(&photo.storage_key);
    match app.store.get(&key).await {
        Ok(bytes) => return Ok(bytes),
        Err(crate::storage::StorageError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let original = app.store.get(&photo.storage_key).await?;
    let max_pixels = app.policy.photo.max_pixels;
    let limits = limits_for(&app.policy, photo.kind);
    let memory = decode_memory(app, media::decode_cost(&original, &limits, false)).await?;
    let made = bounded_blocking(&app.inspect_permits, move || {
        let _memory = memory;
        let started = std::time::Instant::now();
        let thumb = std::panic::catch_unwind(AssertUnwindSafe(|| media::thumbnail::thumbnail(&original, max_pixels)));
        (thumb, started.elapsed())
    })
    .await?;
    let (thumb, took) = tokio::time::timeout(app.inspect_timeout, made)
        .await
        .map_err(|_| AppError::Unavailable { code: "thumbnail_timeout", detail: "making the thumbnail took too long".into() })?
        .map_err(|e| AppError::internal(format!("thumbnail task: {e}")))?;
    let thumb = thumb.map_err(|_| AppError::internal("the thumbnail decoder panicked"))?.map_err(AppError::Media)?;
    tracing::debug!(photo_id = %photo_id, bytes = thumb.len(), ms = took.as_secs_f64() * 1000.0, "thumbnail made");
    // Two first views at once make the same bytes twice; either write wins.
    app.store.put(&key, bytes::Bytes::from(thumb.clone())).await?;
    Ok(thumb)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Semaphore;

    #[test]
    fn thumbnails_sit_beside_their_photo() {
        assert_eq!(super::thumbnail_key("photos/3f/a2/3fa2.jpeg"), "photos/3f/a2/3fa2.thumb.jpg");
        assert!(crate::storage::is_valid_key(&super::thumbnail_key(&crate::storage::new_photo_key("heic"))));
    }

    #[tokio::test]
    async fn a_timed_out_inspection_holds_its_permit_until_the_work_ends() {
        let permits = Arc::new(Semaphore::new(1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let task = super::bounded_blocking(&permits, move || wait.recv().is_ok()).await.unwrap();
        // The caller gives up on the work, as the upload's timeout does.
        assert!(tokio::time::timeout(Duration::from_millis(20), task).await.is_err());
        assert_eq!(permits.available_permits(), 0, "the decode goes on, so it still counts against the bound");
        release.send(()).unwrap();
        let _permit = tokio::time::timeout(Duration::from_secs(10), permits.acquire()).await.expect("released when the work ends");
    }

    #[tokio::test]
    async fn work_waits_for_a_free_permit() {
        use futures_util::FutureExt;
        use std::sync::atomic::{AtomicBool, Ordering};
        let permits = Arc::new(Semaphore::new(1));
        let held = permits.clone().acquire_owned().await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let work = {
            let ran = ran.clone();
            move || ran.store(true, Ordering::SeqCst)
        };
        let mut start = Box::pin(super::bounded_blocking(&permits, work));
        assert!((&mut start).now_or_never().is_none(), "no permit: the work is not started");
        assert!(!ran.load(Ordering::SeqCst));
        drop(held);
        start.await.unwrap().await.unwrap();
        assert!(ran.load(Ordering::SeqCst), "started once the permit was free");
    }
}
