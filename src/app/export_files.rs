//! The export files, written as streams: `visits.csv` (with findings and reviews),
//! `visits.geojson`, `photos.zip` (the photos of the visits with a CSV manifest), `tasks.csv` and
//! `scorecards.csv`. Each is written a page of rows at a time as its reader takes it — a
//! download (the API's and the console's) or an export job's file — so memory stays constant
//! whatever the size.

use std::collections::HashMap;
use std::io::Write;

use bytes::Bytes;
use chrono_tz::Tz;
use futures_util::stream::{self, Stream, StreamExt};

use super::exports::{spreadsheet_safe, ExportVisit, TaskPages, VisitPages};
use super::scorecards::Scorecards;
use super::{App, AppError};
use crate::domain::ids::BranchId;

/// A piece of a file, or why the file cannot be finished.
pub type Chunk = Result<Bytes, AppError>;

/// Each branch's code and zone, for the columns that name them.
pub async fn branch_zones(app: &App) -> Result<HashMap<BranchId, (String, Tz)>, AppError> {
    Ok(app.repo.list_branches().await?.into_iter().map(|b| (b.id, (b.code, b.time_zone))).collect())
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("writing an export: {e}"))
}

pub(crate) fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Chunk {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row.iter().map(|c| spreadsheet_safe(c).into_owned())).map_err(failed)?;
    }
    Ok(Bytes::from(w.into_inner().map_err(failed)?))
}

/// Pages of visits as chunks, each page made into bytes by `write` (`first` for the header).
fn visit_stream(pages: VisitPages, write: impl Fn(&[ExportVisit]) -> Chunk + Send + Sync + 'static) -> impl Stream<Item = Chunk> + Send {
    let write = std::sync::Arc::new(write);
    stream::unfold(Some(pages), move |state| {
        let write = write.clone();
        async move {
            let mut pages = state?;
            match pages.next().await {
                Ok(Some(page)) => Some((write(&page), Some(pages))),
                Ok(None) => None,
                Err(e) => Some((Err(failed(e)), None)),
            }
        }
    })
}

pub const VISIT_COLUMNS: [&str; 20] = [
    "visit_id",
    "branch",
    "visit_date",
    "rep",
    "customer_code",
    "customer_name",
    "customer_class",
    "method",
    "status",
    "review_status",
    "score",
    "deducted_points",
    "submitted_at",
    "distance_m",
    "photos",
    "findings",
    "reviews",
    "last_decision",
    "last_comment",
    "revisit_task_id",
];

fn severity(s: crate::domain::finding::Severity) -> &'static str {
    use crate::domain::finding::Severity;
    match s {
        Severity::Minor => "minor",
        Severity::Major => "major",
        Severity::Blocking => "blocking",
    }
}

fn visit_row(e: &ExportVisit, zones: &HashMap<BranchId, (String, Tz)>) -> Vec<String> {
    let v = &e.detail.visit;
    let (branch, tz) = zones.get(&v.branch_id).cloned().unwrap_or_else(|| (v.branch_id.to_string(), chrono_tz::Asia::Jakarta));
    let last = e.detail.reviews.last();
    vec![
        v.id.to_string(),
        branch,
        v.visit_date.map(|d| d.to_string()).unwrap_or_default(),
        e.rep_name.clone().unwrap_or_else(|| v.rep_id.to_string()),
        e.customer.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
        e.customer.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
        e.customer.as_ref().map(|c| c.class.as_str().to_string()).unwrap_or_default(),
        v.content.method.as_str().into(),
        v.status.as_str().into(),
        v.review_status.as_str().into(),
        v.score.map(|s| s.to_string()).unwrap_or_default(),
        v.deducted_points.to_string(),
        v.submitted_at.map(|t| t.with_timezone(&tz).to_rfc3339()).unwrap_or_default(),
        e.distance_m.map(|d| format!("{d:.1}")).unwrap_or_default(),
        e.detail.photos.len().to_string(),
        e.detail.findings.iter().map(|f| format!("{}:{}", f.code.as_str(), severity(f.severity))).collect::<Vec<_>>().join(";"),
        e.detail.reviews.len().to_string(),
        last.map(|r| r.decision.as_str().to_string()).unwrap_or_default(),
        last.and_then(|r| r.comment.clone()).unwrap_or_default(),
        v.revisit_task_id
            .or_else(|| e.detail.reviews.iter().rev().find_map(|r| r.revisit_task_id))
            .map(|t| t.to_string())
            .unwrap_or_default(),
    ]
}

/// `visits.csv`: a header, then a row per visit.
pub fn visits_csv(pages: VisitPages, zones: HashMap<BranchId, (String, Tz)>) -> impl Stream<Item = Chunk> + Send {
    let header = stream::once(async { csv_bytes([VISIT_COLUMNS.iter().map(|c| c.to_string()).collect()]) });
    header.chain(visit_stream(pages, move |page| csv_bytes(page.iter().map(|e| visit_row(e, &zones)))))
}

/// `visits.geojson`: a FeatureCollection, a Point per visit at its first photo's position (the
/// customer's place when no photo has one); visits with neither are left out.
pub fn visits_geojson(pages: VisitPages, zones: HashMap<BranchId, (String, Tz)>) -> impl Stream<Item = Chunk> + Send {
    use std::sync::atomic::{AtomicBool, Ordering};
    let first = std::sync::Arc::new(AtomicBool::new(true));
    let head = stream::once(async { Ok(Bytes::from_static(b"{\"type\":\"FeatureCollection\",\"features\":[")) });
    let body = visit_stream(pages, move |page| {
        let mut out = Vec::new();
        for e in page {
            let v = &e.detail.visit;
            let photo =
                e.detail.photos.iter().filter(|p| !p.kind.is_screenshot()).find_map(|p| p.facts.exif_location.or(p.capture.location));
            let (at, source) = match (photo, e.customer.as_ref().and_then(|c| c.location)) {
                (Some(p), _) => (p, "photo"),
                (None, Some(c)) => (c, "customer"),
                (None, None) => continue,
            };
            let feature = serde_json::json!({
                "type": "Feature",
                "geometry": { "type": "Point", "coordinates": [at.longitude, at.latitude] },
                "properties": {
                    "visit_id": v.id, "branch": zones.get(&v.branch_id).map(|z| z.0.clone()), "visit_date": v.visit_date,
                    "status": v.status.as_str(), "review_status": v.review_status.as_str(), "score": v.score,
                    "customer_code": e.customer.as_ref().map(|c| c.code.clone()), "customer_name": e.customer.as_ref().map(|c| c.name.clone()),
                    "rep": e.rep_name, "position_source": source, "distance_m": e.distance_m,
                }
            });
            if !first.swap(false, Ordering::SeqCst) {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &feature).map_err(failed)?;
        }
        Ok(Bytes::from(out))
    });
    head.chain(body).chain(stream::once(async { Ok(Bytes::from_static(b"]}")) }))
}

pub const TASK_COLUMNS: [&str; 14] = [
    "task_id",
    "branch",
    "customer_code",
    "customer_name",
    "customer_class",
    "assignee",
    "task_type",
    "required_method",
    "due_date",
    "status",
    "origin",
    "origin_visit_id",
    "created_at",
    "confirmed_at",
];

/// `tasks.csv`.
pub fn tasks_csv(pages: TaskPages, zones: HashMap<BranchId, (String, Tz)>) -> impl Stream<Item = Chunk> + Send {
    let header = stream::once(async { csv_bytes([TASK_COLUMNS.iter().map(|c| c.to_string()).collect()]) });
    let rows = stream::unfold(Some(pages), move |state| {
        let zones = zones.clone();
        async move {
            let mut pages = state?;
            match pages.next().await {
                Ok(Some(page)) => {
                    let rows = page.iter().map(|e| {
                        let t = &e.task;
                        let (branch, tz) =
                            zones.get(&t.branch_id).cloned().unwrap_or_else(|| (t.branch_id.to_string(), chrono_tz::Asia::Jakarta));
                        vec![
                            t.id.to_string(),
                            branch,
                            e.customer.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
                            e.customer.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
                            e.customer.as_ref().map(|c| c.class.as_str().to_string()).unwrap_or_default(),
                            e.assignee_name.clone().unwrap_or_else(|| t.assignee_id.to_string()),
                            t.task_type.as_str().into(),
                            t.required_method.as_str().into(),
                            t.due_date.to_string(),
                            t.status.as_str().into(),
                            t.origin.clone(),
                            t.origin_visit_id.map(|v| v.to_string()).unwrap_or_default(),
                            t.created_at.with_timezone(&tz).to_rfc3339(),
                            t.confirmed_at.map(|c| c.with_timezone(&tz).to_rfc3339()).unwrap_or_default(),
                        ]
                    });
                    Some((csv_bytes(rows), Some(pages)))
                }
                Ok(None) => None,
                Err(e) => Some((Err(failed(e)), None)),
            }
        }
    });
    header.chain(rows)
}

pub const SCORECARD_COLUMNS: [&str; 19] = [
    "month",
    "level",
    "branch",
    "rep",
    "tasks_due",
    "door_visits_required",
    "tasks_done",
    "tasks_missed",
    "door_visits",
    "whatsapp_visits",
    "phone_visits",
    "average_score",
    "record_visit_score",
    "compliant_rate",
    "non_compliant",
    "late_uploads",
    "deducted_points",
    "open_revisits",
    "rep_id",
];

/// `scorecards.csv`: one row per branch, then one per rep (a month is small: written at once).
pub fn scorecards_csv(cards: &Scorecards, zones: &HashMap<BranchId, (String, Tz)>) -> Chunk {
    let card_cells = |c: &crate::app::scorecards::Card| {
        vec![
            c.tasks_due.to_string(),
            c.door_visits_required.to_string(),
            c.tasks_done.to_string(),
            c.tasks_missed.to_string(),
            c.door_visits.to_string(),
            c.whatsapp_visits.to_string(),
            c.phone_visits.to_string(),
            c.average_score.map(|s| s.to_string()).unwrap_or_default(),
            c.record_visit_score.map(|s| s.to_string()).unwrap_or_default(),
            c.compliant_rate.map(|s| s.to_string()).unwrap_or_default(),
            c.non_compliant.to_string(),
            c.late_uploads.to_string(),
            c.deducted_points.to_string(),
            c.open_revisits.to_string(),
        ]
    };
    let code = |b: BranchId| zones.get(&b).map_or_else(|| b.to_string(), |z| z.0.clone());
    let mut rows = vec![SCORECARD_COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    for b in &cards.branches {
        let mut row = vec![cards.month.clone(), "branch".into(), code(b.branch_id), String::new()];
        row.extend(card_cells(&b.card));
        row.push(String::new());
        rows.push(row);
    }
    for r in &cards.reps {
        let mut row = vec![cards.month.clone(), "rep".into(), code(r.branch_id), r.rep_name.clone().unwrap_or_default()];
        row.extend(card_cells(&r.card));
        row.push(r.rep_id.to_string());
        rows.push(row);
    }
    csv_bytes(rows)
}

/// A `Write` that hands what it is given to the response, a chunk at a time, waiting while the
/// client is slower (the channel is bounded: memory stays a few chunks).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, String>>,
    buf: Vec<u8>,
}

const ZIP_CHUNK: usize = 256 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= ZIP_CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        }
        Ok(())
    }
}

pub const MANIFEST_COLUMNS: [&str; 11] =
    ["file", "visit_id", "photo_id", "kind", "customer_code", "visit_date", "sha256", "bytes", "taken_at", "latitude", "longitude"];

/// `photos.zip`: every photo of the visits as it was uploaded (stored, not recompressed: they are
/// JPEG/HEIC already), named `<visit date>_<customer code>_<visit id>/<kind>_<photo id>.<ext>`,
/// and `manifest.csv` listing them. Written on a blocking thread into a bounded channel: one
/// photo and a few chunks in memory at a time.
pub fn photos_zip(app: App, pages: VisitPages) -> impl Stream<Item = Chunk> + Send {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(4);
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let error_tx = tx.clone();
        let result = write_zip(&app, pages, &handle, ChannelWriter { tx, buf: Vec::with_capacity(ZIP_CHUNK) });
        if let Err(e) = result {
            let _ = error_tx.blocking_send(Err(e));
        }
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk.map_err(failed), rx)) })
}

/// Writes `photos.zip` into `out`, on a blocking thread (`handle` runs the reads).
pub fn write_zip(app: &App, mut pages: VisitPages, handle: &tokio::runtime::Handle, out: impl Write) -> Result<(), String> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new_stream(out);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(false);
    let mut manifest = csv::Writer::from_writer(Vec::new());
    manifest.write_record(MANIFEST_COLUMNS).map_err(|e| e.to_string())?;
    while let Some(page) = handle.block_on(pages.next()).map_err(|e| e.to_string())? {
        for e in &page {
            let v = &e.detail.visit;
            let code = e.customer.as_ref().map_or_else(|| "customer".to_string(), |c| file_safe(&c.code));
            let date = v.visit_date.map(|d| d.to_string()).unwrap_or_else(|| "undated".into());
            for p in &e.detail.photos {
                let ext = p.storage_key.rsplit_once('.').map_or("bin", |(_, x)| x);
                let name = format!("{date}_{code}_{}/{}_{}.{ext}", v.id, p.kind.as_str(), p.id);
                let bytes = handle.block_on(app.store.get(&p.storage_key)).map_err(|e| format!("photo {}: {e}", p.id))?;
                zip.start_file(name.as_str(), stored).map_err(|e| e.to_string())?;
                zip.write_all(&bytes).map_err(|e| e.to_string())?;
                let at = p.facts.exif_location.or(p.capture.location);
                manifest
                    .write_record([
                        name,
                        v.id.to_string(),
                        p.id.to_string(),
                        p.kind.as_str().to_string(),
                        e.customer.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
                        date.clone(),
                        p.sha256.clone(),
                        p.size_bytes.to_string(),
                        p.facts.exif_taken_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        at.map(|g| g.latitude.to_string()).unwrap_or_default(),
                        at.map(|g| g.longitude.to_string()).unwrap_or_default(),
                    ])
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let manifest = manifest.into_inner().map_err(|e| e.to_string())?;
    zip.start_file("manifest.csv", SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated))
        .map_err(|e| e.to_string())?;
    zip.write_all(&manifest).map_err(|e| e.to_string())?;
    let mut out = zip.finish().map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

/// A customer code as a path segment: letters, digits, `-` and `_`.
fn file_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(40).collect()
}
