//! `/hq/exports`: the export form and the download centre. A download of a small filter
//! streams at once (the same writers as `/v1/exports/*`); a large one is prepared by a job and
//! listed below the form, with its status and expiry, until it expires. The list refreshes
//! itself (htmx) while an export is being made.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::session::check_csrf;
use super::session::{html, Chrome, ConsoleError, Signed};
use super::views::Choice;
use crate::app::downloads::{self, ExportFilter};
use crate::app::export_files as files;
use crate::app::exports::{TaskPages, VisitPages};
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::export::{Export, ExportKind, ExportStatus};
use crate::domain::ids::ExportId;
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Scope;
use crate::domain::time::local_date;
use crate::domain::visit::{ReviewStatus, VisitStatus};
use crate::http::exports as writers;
use actix_web::http::header;

/// The form's fields; every one may be empty.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// The form's CSRF token (a POST).
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    /// The id the job is made under (each button carries its own): a double click makes one.
    #[serde(default)]
    export_id: String,
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    rep_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    review_status: String,
    #[serde(default)]
    date_from: String,
    #[serde(default)]
    date_to: String,
    #[serde(default)]
    month: String,
    // The queue's and the task list's own filters, carried by their "export this filter" links.
    #[serde(default)]
    finding_code: String,
    #[serde(default)]
    needs_hq_help: String,
    #[serde(default)]
    ownership: String,
    #[serde(default)]
    dp: String,
    #[serde(default)]
    previous_volume_min: String,
    #[serde(default)]
    previous_volume_max: String,
    #[serde(default)]
    current_volume_min: String,
    #[serde(default)]
    current_volume_max: String,
    /// A customer's code (visits) or part of its name or code (tasks).
    #[serde(default)]
    customer: String,
    #[serde(default)]
    task_type: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    previous_class: String,
    #[serde(default)]
    task_status: String,
    #[serde(default)]
    due_from: String,
    #[serde(default)]
    due_to: String,
}

impl ExportQuery {
    async fn visit_filter(&self, app: &App, signed: &Signed) -> Result<VisitFilter, ConsoleError> {
        let t = signed.t;
        let customer_id =
            crate::app::customers::filter_id(app, &self.customer).await.map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
        Ok(VisitFilter {
            scope: Scope::All,
            status: ConsoleError::field(t, "status", &self.status, VisitStatus::parse)?,
            review_status: ConsoleError::field(t, "review_status", &self.review_status, ReviewStatus::parse)?,
            rep_id: ConsoleError::field(t, "rep_id", &self.rep_id, |s| Uuid::parse_str(s).ok().map(UserId))?,
            branch_id: ConsoleError::field(t, "branch_id", &self.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?,
            customer_id,
            date_from: ConsoleError::field(t, "date_from", &self.date_from, |s| s.parse::<NaiveDate>().ok())?,
            date_to: ConsoleError::field(t, "date_to", &self.date_to, |s| s.parse::<NaiveDate>().ok())?,
            finding_code: ConsoleError::field(t, "finding_code", &self.finding_code, crate::domain::finding::FindingCode::parse)?,
            needs_hq_help: (self.needs_hq_help == "1").then_some(true),
            ownership: super::views::customer_slice(&self.ownership, &self.dp).0,
            dp: super::views::customer_slice(&self.ownership, &self.dp).1,
        })
    }

    /// The task list's filter: its due range (else the form's date range), task type, status,
    /// classes, the review status of the visit that followed the task up, rep, branch and
    /// customer.
    fn task_filter(&self, signed: &Signed) -> Result<crate::app::tasks::TaskFilter, ConsoleError> {
        use crate::domain::customer::CustomerClass;
        let t = signed.t;
        let date = |field: &str, v: &str| ConsoleError::field(t, field, v, |s| s.parse::<NaiveDate>().ok());
        let customer = self.customer.trim();
        Ok(crate::app::tasks::TaskFilter {
            assignee_id: ConsoleError::field(t, "rep_id", &self.rep_id, |s| Uuid::parse_str(s).ok().map(UserId))?,
            branch_id: ConsoleError::field(t, "branch_id", &self.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?,
            status: ConsoleError::field(t, "task_status", &self.task_status, crate::domain::task::TaskStatus::parse)?,
            due_from: date("due_from", &self.due_from)?.or(date("date_from", &self.date_from)?),
            due_to: date("due_to", &self.due_to)?.or(date("date_to", &self.date_to)?),
            task_type: ConsoleError::field(t, "task_type", &self.task_type, crate::domain::task::TaskType::parse)?,
            customer_class: ConsoleError::field(t, "class", &self.class, CustomerClass::parse)?,
            previous_class: ConsoleError::field(t, "previous_class", &self.previous_class, CustomerClass::parse)?,
            review_status: ConsoleError::field(t, "review_status", &self.review_status, ReviewStatus::parse)?,
            customer_query: Some(customer.to_string()).filter(|c| !c.is_empty() && c.chars().count() <= 100),
            ownership: super::views::customer_slice(&self.ownership, &self.dp).0,
            dp: super::views::customer_slice(&self.ownership, &self.dp).1,
            previous_volume_min: super::views::volume(t, "previous_volume_min", &self.previous_volume_min)?,
            previous_volume_max: super::views::volume(t, "previous_volume_max", &self.previous_volume_max)?,
            current_volume_min: super::views::volume(t, "current_volume_min", &self.current_volume_min)?,
            current_volume_max: super::views::volume(t, "current_volume_max", &self.current_volume_max)?,
            ..crate::app::tasks::TaskFilter::any()
        })
    }

    async fn export_filter(&self, app: &App, signed: &Signed, kind: ExportKind) -> Result<ExportFilter, ConsoleError> {
        Ok(if kind.of_visits() {
            ExportFilter::Visits(self.visit_filter(app, signed).await?)
        } else {
            ExportFilter::Tasks(self.task_filter(signed)?)
        })
    }

    /// The filter's fields as a query string (`&key=value…`), to come back to the same form.
    fn as_query(&self) -> String {
        let carried = self.carried();
        let carried: Vec<(&str, &String)> = carried.iter().map(|(k, v)| (*k, v)).collect();
        let form = super::session::query_rest(&[
            ("branch_id", &self.branch_id),
            ("rep_id", &self.rep_id),
            ("status", &self.status),
            ("review_status", &self.review_status),
            ("date_from", &self.date_from),
            ("date_to", &self.date_to),
            ("month", &self.month),
        ]);
        form + &super::session::query_rest(&carried)
    }

    /// The list filters the form has no field for, kept as hidden inputs.
    fn carried(&self) -> Vec<(&'static str, String)> {
        [
            ("finding_code", &self.finding_code),
            ("needs_hq_help", &self.needs_hq_help),
            ("ownership", &self.ownership),
            ("dp", &self.dp),
            ("previous_volume_min", &self.previous_volume_min),
            ("previous_volume_max", &self.previous_volume_max),
            ("current_volume_min", &self.current_volume_min),
            ("current_volume_max", &self.current_volume_max),
            ("customer", &self.customer),
            ("task_type", &self.task_type),
            ("class", &self.class),
            ("previous_class", &self.previous_class),
            ("task_status", &self.task_status),
            ("due_from", &self.due_from),
            ("due_to", &self.due_to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// One prepared export in the download centre.
struct DownloadRow {
    id: String,
    file_name: String,
    status: &'static str,
    status_label: &'static str,
    rows: String,
    size: String,
    requested_at: String,
    expires_at: String,
    error: String,
    ready: bool,
}

#[derive(Template)]
#[template(path = "console/downloads.html")]
struct DownloadList {
    t: &'static super::i18n::Texts,
    downloads: Vec<DownloadRow>,
    /// An export is being made: the list asks again in a few seconds.
    pending: bool,
}

#[derive(Template)]
#[template(path = "console/exports.html")]
struct ExportsPage {
    chrome: Chrome,
    t: &'static super::i18n::Texts,
    branches: Vec<Choice>,
    statuses: Vec<Choice>,
    review_statuses: Vec<Choice>,
    month: String,
    q: ExportQuery,
    notice: Option<&'static str>,
    /// Each button's export id, made when the page is drawn.
    ids: Vec<(&'static str, String)>,
    downloads: Vec<DownloadRow>,
    pending: bool,
}

impl ExportsPage {
    fn id_of(&self, file: &str) -> &str {
        self.ids.iter().find(|(f, _)| *f == file).map_or("", |(_, id)| id.as_str())
    }
}

fn status_label(t: &super::i18n::Texts, s: ExportStatus) -> &'static str {
    match s {
        ExportStatus::Queued => t.export_queued_status,
        ExportStatus::Running => t.export_running_status,
        ExportStatus::Ready => t.export_ready_status,
        ExportStatus::Failed => t.export_failed_status,
        ExportStatus::Expired => t.export_expired_status,
    }
}

/// `12.3 MB`, `840 kB`, `512 B`.
fn human_bytes(n: i64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.0} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

/// The signed-in user's exports, newest first (the 30 latest), and whether one is pending.
async fn download_rows(app: &App, signed: &Signed, tz: chrono_tz::Tz) -> Result<(Vec<DownloadRow>, bool), AppError> {
    let t = signed.t;
    let exports = downloads::list(app, &signed.session.actor, crate::domain::page::Page { before: None, limit: 30 }).await?.items;
    let when = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let pending = exports.iter().any(|e| e.status.pending());
    let rows = exports
        .into_iter()
        .map(|e: Export| DownloadRow {
            id: e.id.to_string(),
            file_name: e.file_name(),
            status: e.status.as_str(),
            status_label: status_label(t, e.status),
            rows: e.rows.map(|n| n.to_string()).unwrap_or_default(),
            size: e.bytes.map(human_bytes).unwrap_or_default(),
            requested_at: when(e.created_at),
            expires_at: e.expires_at.map(when).unwrap_or_default(),
            error: e.error.unwrap_or_default(),
            ready: e.status == ExportStatus::Ready,
        })
        .collect();
    Ok((rows, pending))
}

async fn zone(app: &App, signed: &Signed) -> Result<chrono_tz::Tz, AppError> {
    Ok(app.branch_of(&signed.session.actor).await?.map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone))
}

/// `GET /hq/exports`: the form (filled in again when a download came back here) and the
/// download centre.
pub async fn page(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    q: web::Query<ExportPageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    crate::app::access::require(signed.is_marketing(), "exports are for marketing roles").map_err(fail)?;
    let q = q.into_inner();
    let actor = &signed.session.actor;
    let branches = app
        .repo
        .list_branches()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .filter(|b| actor.can_see_branch(b.id))
        .map(|b| Choice {
            selected: b.id.to_string() == q.filter.branch_id,
            value: b.id.to_string(),
            label: format!("{} — {}", b.code, b.name),
        })
        .collect();
    let tz = zone(&app, &signed).await.map_err(fail)?;
    let month = match q.filter.month.as_str() {
        "" => local_date(app.now(), tz).format("%Y-%m").to_string(),
        m => m.to_string(),
    };
    let (downloads, pending) = download_rows(&app, &signed, tz).await.map_err(fail)?;
    let notice = match q.done.as_str() {
        "queued" => Some(signed.t.export_queued),
        "too_large" => Some(signed.t.export_too_large),
        _ => None,
    };
    let t = signed.t;
    let any = || (String::new(), t.any.to_string());
    let statuses = super::views::choices(
        &q.filter.status,
        std::iter::once(any()).chain(
            [VisitStatus::NonCompliant, VisitStatus::Flagged, VisitStatus::Compliant]
                .map(|s| (s.as_str().to_string(), super::views::visit_status(t, s).to_string())),
        ),
    );
    let review_statuses = super::views::choices(
        &q.filter.review_status,
        std::iter::once(any()).chain(
            [ReviewStatus::Pending, ReviewStatus::Flagged, ReviewStatus::Approved, ReviewStatus::Rejected]
                .map(|s| (s.as_str().to_string(), super::views::review_status(t, s).to_string())),
        ),
    );
    let ids =
        ["visits.csv", "visits.geojson", "photos.zip", "tasks.csv", "scorecards.csv"].map(|f| (f, Uuid::new_v4().to_string())).to_vec();
    html(
        ExportsPage {
            chrome: signed.chrome(&req, "exports"),
            t: signed.t,
            branches,
            statuses,
            review_statuses,
            month,
            q: q.filter,
            notice,
            ids,
            downloads,
            pending,
        }
        .render(),
    )
}

/// The page's query: the form's fields and what the last action did.
#[derive(Debug, Default, Deserialize)]
pub struct ExportPageQuery {
    #[serde(flatten)]
    filter: ExportQuery,
    #[serde(default)]
    done: String,
}

/// `GET /hq/exports/list`: the download centre alone (what the page polls while an export is
/// being made).
pub async fn list(app: web::Data<App>, signed: Signed) -> Result<HttpResponse, ConsoleError> {
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let tz = zone(&app, &signed).await.map_err(fail)?;
    let (downloads, pending) = download_rows(&app, &signed, tz).await.map_err(fail)?;
    html(DownloadList { t: signed.t, downloads, pending }.render())
}

/// `GET /hq/exports/{file}`: a download of the filter, if it is small enough to stream at
/// once; else back to the form, which prepares it in the background (a GET changes nothing).
pub async fn download(
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let file = path.into_inner();
    match stream_or_size(&app, &signed, &file, &q).await? {
        Ok(response) => Ok(response),
        Err(_) => {
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/hq/exports?done=too_large{}", q.as_query()))).finish())
        }
    }
}

/// `POST /hq/exports/{file}` (the form's buttons): a small export downloads at once, a large
/// one is prepared by a job, and the page comes back with it in the download centre.
pub async fn request(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let file = path.into_inner();
    let kind = match stream_or_size(&app, &signed, &file, &form).await? {
        Ok(response) => return Ok(response),
        Err(kind) => kind,
    };
    let id = ConsoleError::field(signed.t, "export_id", &form.export_id, |s| Uuid::parse_str(s).ok().map(ExportId))?;
    let filter = form.export_filter(&app, &signed, kind).await?;
    downloads::request(&app, &signed.session.actor, id, kind, filter).await.map_err(fail)?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/hq/exports?done=queued#downloads")).finish())
}

/// `GET /hq/exports/files/{export_id}`: a prepared export's file.
pub async fn stored(app: web::Data<App>, signed: Signed, id: web::Path<Uuid>) -> Result<HttpResponse, ConsoleError> {
    let locale = signed.session.locale;
    let (export, body) =
        downloads::file(&app, &signed.session.actor, ExportId(id.into_inner())).await.map_err(|e| ConsoleError::from_app(e, locale))?;
    Ok(writers::stored_file(&export, body))
}

/// The download of a small filter (`Ok`), or the kind of a filter too large to stream (`Err`).
async fn stream_or_size(
    app: &web::Data<App>,
    signed: &Signed,
    file: &str,
    q: &ExportQuery,
) -> Result<Result<HttpResponse, ExportKind>, ConsoleError> {
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    if file == "scorecards.csv" {
        // A month of cards: small whatever the filter, written at once.
        crate::app::access::require(signed.is_marketing(), "exports are for marketing roles").map_err(fail)?;
        let branch = ConsoleError::field(signed.t, "branch_id", &q.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?;
        let month = match q.month.trim() {
            "" => local_date(app.now(), chrono_tz::Asia::Jakarta).format("%Y-%m").to_string(),
            m => m.to_string(),
        };
        let (ownership, dp) = super::views::customer_slice(&q.ownership, &q.dp);
        let customers = crate::domain::customer::CustomerSlice { ownership, dp };
        let cards = crate::app::scorecards::month(app, actor, &month, branch, &customers).await.map_err(fail)?;
        let zones = files::branch_zones(app).await.map_err(fail)?;
        let body = files::scorecards_csv(&cards, &zones).map_err(fail)?;
        return Ok(Ok(writers::download(
            "text/csv; charset=utf-8",
            &format!("scorecards-{month}.csv"),
            futures_util::stream::once(async move { Ok(body) }),
        )));
    }
    let kind = ExportKind::parse(file).ok_or_else(|| fail(AppError::not_found("route_not_found", format!("no export {file:?}"))))?;
    let filter = q.export_filter(app, signed, kind).await?;
    let (_, small) = downloads::size(app, actor, kind, &filter).await.map_err(fail)?;
    if !small {
        return Ok(Err(kind));
    }
    let zones = files::branch_zones(app).await.map_err(fail)?;
    Ok(Ok(match filter {
        ExportFilter::Visits(f) => {
            let pages = VisitPages::start(app, actor, f, file).await.map_err(fail)?;
            match kind {
                ExportKind::VisitsCsv => writers::download(kind.content_type(), file, files::visits_csv(pages, zones)),
                ExportKind::VisitsGeojson => writers::download(kind.content_type(), file, files::visits_geojson(pages, zones)),
                _ => writers::download(kind.content_type(), file, files::photos_zip(app.get_ref().clone(), pages)),
            }
        }
        ExportFilter::Tasks(f) => {
            let pages = TaskPages::start(app, actor, f).await.map_err(fail)?;
            writers::download(kind.content_type(), file, files::tasks_csv(pages, zones))
        }
    }))
}
