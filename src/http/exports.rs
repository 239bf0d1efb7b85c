//! Exports over HTTP: a streamed download of any file of `app::export_files`, and the API's
//! export endpoints (bearer token). The console serves the same downloads under a session.

use actix_web::http::header;
use actix_web::HttpResponse;
use futures_util::stream::{self, Stream, StreamExt};

use crate::app::export_files::{self as files, Chunk};
use crate::app::exports::{TaskPages, VisitPages};
use crate::app::{App, AppError};
use crate::domain::ids::BranchId;

/// A download: its type, its file name, no caching.
pub fn download(content_type: &str, file_name: &str, body: impl Stream<Item = Chunk> + 'static) -> HttpResponse {
    let body = body.map(|chunk| chunk.map_err(cut_short));
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// An error after the first byte: the status is sent already, so cutting the body is all that
/// is left (the client sees an incomplete transfer, never a short file passed off as whole).
fn cut_short(e: AppError) -> actix_web::Error {
    tracing::warn!(error = %e, "export cut short");
    actix_web::error::ErrorInternalServerError("export failed")
}

// --- The API's export endpoints (bearer token) -------------------------------------------------

use actix_web::web;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{TaskListQuery, VisitListQuery};

/// `GET /v1/exports/visits.csv`: the visits of the filter (the list's parameters; `limit` and
/// `cursor` are not used: an export is the whole filter).
pub async fn api_visits_csv(app: web::Data<App>, Authed(actor): Authed, q: web::Query<VisitListQuery>) -> Result<HttpResponse, ApiError> {
    let pages = VisitPages::start(&app, &actor, q.filter()?, "visits.csv").await?;
    let zones = files::branch_zones(&app).await?;
    Ok(download("text/csv; charset=utf-8", "visits.csv", files::visits_csv(pages, zones)))
}

/// `GET /v1/exports/visits.geojson`.
pub async fn api_visits_geojson(
    app: web::Data<App>,
    Authed(actor): Authed,
    q: web::Query<VisitListQuery>,
) -> Result<HttpResponse, ApiError> {
    let pages = VisitPages::start(&app, &actor, q.filter()?, "visits.geojson").await?;
    let zones = files::branch_zones(&app).await?;
    Ok(download("application/geo+json", "visits.geojson", files::visits_geojson(pages, zones)))
}

/// `GET /v1/exports/photos.zip`.
pub async fn api_photos_zip(app: web::Data<App>, Authed(actor): Authed, q: web::Query<VisitListQuery>) -> Result<HttpResponse, ApiError> {
    let pages = VisitPages::start(&app, &actor, q.filter()?, "photos.zip").await?;
    Ok(download("application/zip", "photos.zip", files::photos_zip(app.get_ref().clone(), pages)))
}

/// `GET /v1/exports/tasks.csv`.
pub async fn api_tasks_csv(app: web::Data<App>, Authed(actor): Authed, q: web::Query<TaskListQuery>) -> Result<HttpResponse, ApiError> {
    let filter = q.filter(&actor)?;
    let pages = TaskPages::start(&app, &actor, filter).await?;
    let zones = files::branch_zones(&app).await?;
    Ok(download("text/csv; charset=utf-8", "tasks.csv", files::tasks_csv(pages, zones)))
}

#[derive(Debug, serde::Deserialize)]
pub struct ScorecardsExportQuery {
    month: Option<String>,
    branch_id: Option<uuid::Uuid>,
    ownership: Option<crate::domain::customer::Ownership>,
    dp: Option<String>,
}

/// `GET /v1/exports/scorecards.csv?month=YYYY-MM`.
pub async fn api_scorecards_csv(
    app: web::Data<App>,
    Authed(actor): Authed,
    q: web::Query<ScorecardsExportQuery>,
) -> Result<HttpResponse, ApiError> {
    crate::app::access::require(actor.role.is_marketing(), "exports are for marketing roles")?;
    let month = q.month.clone().ok_or_else(|| ApiError::bad_request("invalid_query", "month (YYYY-MM) is required"))?;
    let customers = super::requests::customer_slice(q.ownership, q.dp.clone())?;
    let cards = crate::app::scorecards::month(&app, &actor, &month, q.branch_id.map(BranchId), &customers).await?;
    let zones = files::branch_zones(&app).await?;
    let body = files::scorecards_csv(&cards, &zones)?;
    Ok(download("text/csv; charset=utf-8", &format!("scorecards-{month}.csv"), stream::once(async move { Ok(body) })))
}

// --- The download centre (bearer token) ---------------------------------------------------------

use crate::app::downloads::{self, ExportFilter};
use crate::domain::export::{Export, ExportKind, ExportStatus};
use crate::domain::ids::ExportId;

/// An export as the API shows it: with the path of its file once it is ready.
#[derive(serde::Serialize)]
pub struct ExportView {
    #[serde(flatten)]
    pub export: Export,
    pub file_name: String,
    pub download_path: Option<String>,
}

impl ExportView {
    pub fn of(export: Export) -> ExportView {
        let download_path = (export.status == ExportStatus::Ready).then(|| format!("/v1/exports/{}/file", export.id));
        ExportView { file_name: export.file_name(), download_path, export }
    }
}

/// `POST /v1/exports`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportInput {
    /// The client's id for the export: a retried request with the same id makes no second one.
    pub id: Option<uuid::Uuid>,
    pub kind: ExportKind,
    /// The parameters of the matching `GET /v1/exports/<kind>` (and list), as JSON values.
    #[serde(default)]
    pub filter: serde_json::Map<String, serde_json::Value>,
}

/// The filter keys each kind takes: those of its list's query, but the page's.
const VISIT_FILTER_KEYS: [&str; 8] =
    ["status", "review_status", "rep_id", "branch_id", "customer_id", "date_from", "date_to", "finding_code"];
const TASK_FILTER_KEYS: [&str; 16] = [
    "assignee",
    "branch_id",
    "status",
    "due_from",
    "due_to",
    "customer_id",
    "needs_confirmation",
    "task_type",
    "class",
    "previous_class",
    "review_status",
    "q",
    "task_id",
    "customer_type",
    "customer_created_from",
    "customer_created_to",
];

/// Reads a request's filter for its kind: an unknown key is refused, not ignored (a typo would
/// export everything).
pub fn export_filter(
    kind: ExportKind,
    actor: &crate::domain::role::Actor,
    filter: serde_json::Map<String, serde_json::Value>,
) -> Result<ExportFilter, ApiError> {
    let keys: &[&str] = if kind.of_visits() { &VISIT_FILTER_KEYS } else { &TASK_FILTER_KEYS };
    if let Some(unknown) = filter.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(
            "invalid_field",
            format!("filter.{unknown} is not a filter of {} (one of: {})", kind.as_str(), keys.join(", ")),
        ));
    }
    let bad = |e: serde_json::Error| ApiError::unprocessable("invalid_field", format!("filter: {e}"));
    let value = serde_json::Value::Object(filter);
    Ok(if kind.of_visits() {
        ExportFilter::Visits(serde_json::from_value::<VisitListQuery>(value).map_err(bad)?.filter()?)
    } else {
        ExportFilter::Tasks(serde_json::from_value::<TaskListQuery>(value).map_err(bad)?.filter(actor)?)
    })
}

pub async fn api_request(
    app: web::Data<App>,
    Authed(actor): Authed,
    body: super::json::Json<ExportInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let filter = export_filter(input.kind, &actor, input.filter)?;
    let (export, created) = downloads::request(&app, &actor, input.id.map(ExportId), input.kind, filter).await?;
    Ok(if created { HttpResponse::Accepted() } else { HttpResponse::Ok() }.json(ExportView::of(export)))
}

#[derive(Debug, serde::Deserialize)]
pub struct ExportListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// `GET /v1/exports`: the caller's exports, newest first.
pub async fn api_list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<ExportListQuery>) -> Result<HttpResponse, ApiError> {
    let page = super::requests::page(q.limit, q.cursor.as_deref())?;
    let paged = downloads::list(&app, &actor, page).await?;
    Ok(HttpResponse::Ok().json(super::responses::List::from_paged(paged, ExportView::of)))
}

/// `GET /v1/exports/{export_id}`.
pub async fn api_get(app: web::Data<App>, Authed(actor): Authed, id: web::Path<uuid::Uuid>) -> Result<HttpResponse, ApiError> {
    let export = downloads::get(&app, &actor, ExportId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(ExportView::of(export)))
}

/// `GET /v1/exports/{export_id}/file`: a ready export's file.
pub async fn api_file(app: web::Data<App>, Authed(actor): Authed, id: web::Path<uuid::Uuid>) -> Result<HttpResponse, ApiError> {
    let (export, body) = downloads::file(&app, &actor, ExportId(id.into_inner())).await?;
    Ok(stored_file(&export, body))
}

/// A prepared export's file as a download, with its length.
pub fn stored_file(export: &Export, body: downloads::ByteStream) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .content_type(export.kind.content_type())
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", export.file_name())))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    if let Some(n) = export.bytes.and_then(|n| u64::try_from(n).ok()) {
        response.no_chunking(n);
    }
    response.streaming(body.map(|chunk| chunk.map_err(|e| cut_short(AppError::from(e)))))
}
