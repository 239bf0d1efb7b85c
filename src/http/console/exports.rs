//! `/hq/exports`: the download centre's filter form and the downloads it offers — the same
//! streamed writers as `/v1/exports/*`, signed in by the session instead of a token.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{html, Chrome, ConsoleError, Signed};
use super::views::Choice;
use crate::app::exports::{TaskPages, VisitPages};
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Scope;
use crate::domain::time::local_date;
use crate::domain::visit::{ReviewStatus, VisitStatus};
use crate::http::exports as writers;

/// The form's fields; every one may be empty.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
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
}

impl ExportQuery {
    fn visit_filter(&self, signed: &Signed) -> Result<VisitFilter, ConsoleError> {
        Ok(VisitFilter {
            scope: Scope::All,
            status: ConsoleError::field(signed.t, "status", &self.status, VisitStatus::parse)?,
            review_status: ConsoleError::field(signed.t, "review_status", &self.review_status, ReviewStatus::parse)?,
            rep_id: ConsoleError::field(signed.t, "rep_id", &self.rep_id, |s| Uuid::parse_str(s).ok().map(UserId))?,
            branch_id: ConsoleError::field(signed.t, "branch_id", &self.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?,
            customer_id: None,
            date_from: ConsoleError::field(signed.t, "date_from", &self.date_from, |s| s.parse::<NaiveDate>().ok())?,
            date_to: ConsoleError::field(signed.t, "date_to", &self.date_to, |s| s.parse::<NaiveDate>().ok())?,
            finding_code: None,
        })
    }
}

#[derive(Template)]
#[template(path = "console/exports.html")]
struct ExportsPage {
    chrome: Chrome,
    branches: Vec<Choice>,
    month: String,
}

/// `GET /hq/exports`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed) -> Result<HttpResponse, ConsoleError> {
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    crate::app::access::require(signed.is_marketing(), "exports are for marketing roles").map_err(fail)?;
    let actor = &signed.session.actor;
    let branches = app
        .repo
        .list_branches()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .filter(|b| actor.can_see_branch(b.id))
        .map(|b| Choice { value: b.id.to_string(), label: format!("{} — {}", b.code, b.name), selected: false })
        .collect();
    let month = local_date(app.now(), chrono_tz::Asia::Jakarta).format("%Y-%m").to_string();
    html(ExportsPage { chrome: signed.chrome(&req, "exports"), branches, month }.render())
}

/// `GET /hq/exports/{file}`: `visits.csv`, `visits.geojson`, `photos.zip`, `tasks.csv` or
/// `scorecards.csv`.
pub async fn download(
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    let zones = writers::branch_zones(&app).await.map_err(fail)?;
    let file = path.into_inner();
    match file.as_str() {
        "visits.csv" | "visits.geojson" | "photos.zip" => {
            let pages = VisitPages::start(&app, actor, q.visit_filter(&signed)?, &file).await.map_err(fail)?;
            Ok(match file.as_str() {
                "visits.csv" => writers::download("text/csv; charset=utf-8", "visits.csv", writers::visits_csv(pages, zones)),
                "visits.geojson" => writers::download("application/geo+json", "visits.geojson", writers::visits_geojson(pages, zones)),
                _ => writers::download("application/zip", "photos.zip", writers::photos_zip(app.get_ref().clone(), pages)),
            })
        }
        "tasks.csv" => {
            let visits = q.visit_filter(&signed)?;
            let filter = crate::app::tasks::TaskFilter {
                scope: Scope::All,
                assignee_id: visits.rep_id,
                status: None,
                due_from: visits.date_from,
                due_to: visits.date_to,
                customer_id: None,
                needs_confirmation: None,
                task_type: None,
                customer_class: None,
                customer_query: None,
                previous_class: None,
                review_status: None,
            };
            let pages = TaskPages::start(&app, actor, filter).await.map_err(fail)?;
            Ok(writers::download("text/csv; charset=utf-8", "tasks.csv", writers::tasks_csv(pages, zones)))
        }
        "scorecards.csv" => {
            crate::app::access::require(signed.is_marketing(), "exports are for marketing roles").map_err(fail)?;
            let branch = ConsoleError::field(signed.t, "branch_id", &q.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?;
            let month = match q.month.trim() {
                "" => local_date(app.now(), chrono_tz::Asia::Jakarta).format("%Y-%m").to_string(),
                m => m.to_string(),
            };
            let cards = crate::app::scorecards::month(&app, actor, &month, branch).await.map_err(fail)?;
            let body = writers::scorecards_csv(&cards, &zones).map_err(|_| fail(AppError::internal("writing the CSV")))?;
            Ok(writers::download(
                "text/csv; charset=utf-8",
                &format!("scorecards-{month}.csv"),
                futures_util::stream::once(async move { Ok(body) }),
            ))
        }
        _ => Err(fail(AppError::not_found("route_not_found", format!("no export {file:?}")))),
    }
}
