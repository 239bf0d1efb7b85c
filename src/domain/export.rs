//! Exports prepared in the background: what file, for whom, and where it stands. A large
//! export is a job; its file lands in the object store and is listed in the requester's
//! download centre until it expires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ExportId, UserId};
use super::task::str_enum;

/// The files an export job can make (the scorecards' CSV is one month: always streamed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportKind {
    #[serde(rename = "visits.csv")]
    VisitsCsv,
    #[serde(rename = "visits.geojson")]
    VisitsGeojson,
    #[serde(rename = "photos.zip")]
    PhotosZip,
    #[serde(rename = "tasks.csv")]
    TasksCsv,
}
str_enum!(ExportKind {
    VisitsCsv = "visits.csv",
    VisitsGeojson = "visits.geojson",
    PhotosZip = "photos.zip",
    TasksCsv = "tasks.csv",
});

impl ExportKind {
    pub const ALL: [ExportKind; 4] = [ExportKind::VisitsCsv, ExportKind::VisitsGeojson, ExportKind::PhotosZip, ExportKind::TasksCsv];

    pub fn content_type(self) -> &'static str {
        match self {
            ExportKind::VisitsCsv | ExportKind::TasksCsv => "text/csv; charset=utf-8",
            ExportKind::VisitsGeojson => "application/geo+json",
            ExportKind::PhotosZip => "application/zip",
        }
    }

    /// The stored file's extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportKind::VisitsCsv | ExportKind::TasksCsv => "csv",
            ExportKind::VisitsGeojson => "geojson",
            ExportKind::PhotosZip => "zip",
        }
    }

    /// Whether the filter is a visit filter (else a task filter).
    pub fn of_visits(self) -> bool {
        !matches!(self, ExportKind::TasksCsv)
    }
}

/// Where an export stands: `queued` → `running` → `ready` (downloadable until `expires_at`) →
/// `expired`; or `failed` after its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
    Expired,
}
str_enum!(ExportStatus { Queued = "queued", Running = "running", Ready = "ready", Failed = "failed", Expired = "expired" });

impl ExportStatus {
    /// Still being made: the download centre keeps polling.
    pub fn pending(self) -> bool {
        matches!(self, ExportStatus::Queued | ExportStatus::Running)
    }
}

/// An export as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Export {
    pub id: ExportId,
    pub kind: ExportKind,
    pub requested_by: UserId,
    /// The filter, as the job reads it back (a visit or a task filter, by `kind`).
    pub filter: serde_json::Value,
    pub status: ExportStatus,
    /// Rows written (visits or tasks); set when ready.
    pub rows: Option<i64>,
    /// The file's size; set when ready.
    pub bytes: Option<i64>,
    #[serde(skip)]
    pub storage_key: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// After this, the file is deleted and the export is `expired`.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Export {
    /// The name a download is saved under: `visits-<first 8 of the id>.csv`.
    pub fn file_name(&self) -> String {
        let stem = self.kind.as_str().split('.').next().unwrap_or("export");
        format!("{stem}-{}.{}", &self.id.0.simple().to_string()[..8], self.kind.extension())
    }
}
