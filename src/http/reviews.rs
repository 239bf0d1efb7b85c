//! `/v1/review-queue` and `/v1/reviews/bulk`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{self, ReviewInput, VisitListQuery};
use super::responses::{List, VisitView};
use crate::app::visits::VisitFilter;
use crate::app::{reviews, App};
use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::ids::{BranchId, CustomerId, UserId, VisitId};
use crate::domain::visit::Review;

/// The customer as a reviewer needs it beside the visit.
#[derive(Serialize)]
struct QueueCustomer {
    id: CustomerId,
    code: String,
    name: String,
    class: CustomerClass,
    latitude: Option<f64>,
    longitude: Option<f64>,
    geofence_radius_m: Option<f64>,
}

#[derive(Serialize)]
struct QueueRep {
    id: UserId,
    name: Option<String>,
}

#[derive(Serialize)]
struct QueueEntryView {
    visit: VisitView,
    customer: Option<QueueCustomer>,
    rep: QueueRep,
    distance_m: Option<f64>,
}

pub async fn queue(app: web::Data<App>, Authed(actor): Authed, q: web::Query<VisitListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    // The review status is the queue's own choice of statuses, not a plain filter.
    let filter = VisitFilter { review_status: None, ..q.filter()? };
    let paged = reviews::queue(&app, &actor, filter, q.review_status, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, |e| {
        let rep = QueueRep { id: e.detail.visit.rep_id, name: e.rep_name };
        let customer = e.customer.map(|c: Customer| QueueCustomer {
            id: c.id,
            code: c.code,
            name: c.name,
            class: c.class,
            latitude: c.location.map(|p| p.latitude),
            longitude: c.location.map(|p| p.longitude),
            geofence_radius_m: c.geofence_radius_m,
        });
        QueueEntryView { visit: VisitView::from(e.detail), customer, rep, distance_m: e.distance_m }
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    pub visit_id: Uuid,
    pub id: Option<Uuid>,
    pub decision: crate::domain::visit::Decision,
    pub comment: Option<String>,
    #[serde(default)]
    pub deduct_points: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkInput {
    pub items: Vec<BulkItem>,
}

#[derive(Serialize)]
struct BulkResultItem {
    visit_id: VisitId,
    created: bool,
    review: Review,
}

/// At most this many decisions per call.
const MAX_BULK: usize = 200;

pub async fn bulk(app: web::Data<App>, Authed(actor): Authed, body: super::json::Json<BulkInput>) -> Result<HttpResponse, ApiError> {
    let items = body.into_inner().items;
    if items.is_empty() || items.len() > MAX_BULK {
        return Err(ApiError::unprocessable("invalid_field", format!("items must hold 1 to {MAX_BULK} decisions")));
    }
    let mut inputs = Vec::with_capacity(items.len());
    for item in items {
        let review = ReviewInput { id: item.id, decision: item.decision, comment: item.comment, deduct_points: item.deduct_points };
        inputs.push((VisitId(item.visit_id), crate::app::reviews::ReviewInput::try_from(review)?));
    }
    let outcomes = reviews::bulk(&app, &actor, inputs).await?;
    let created = outcomes.iter().any(|o| o.created);
    let items: Vec<BulkResultItem> =
        outcomes.into_iter().map(|o| BulkResultItem { visit_id: o.review.visit_id, created: o.created, review: o.review }).collect();
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(serde_json::json!({ "items": items })))
}

#[derive(Debug, Deserialize)]
pub struct ScorecardQuery {
    pub month: String,
    pub branch_id: Option<Uuid>,
    pub ownership: Option<crate::domain::customer::Ownership>,
    pub dp: Option<String>,
}

pub async fn scorecards(app: web::Data<App>, Authed(actor): Authed, q: web::Query<ScorecardQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let customers = super::requests::customer_slice(q.ownership, q.dp.clone())?;
    let cards = crate::app::scorecards::month(&app, &actor, &q.month, q.branch_id.map(BranchId), &customers).await?;
    Ok(HttpResponse::Ok().json(cards))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestQuery {
    pub branch_id: Option<Uuid>,
    pub date: Option<chrono::NaiveDate>,
}

/// `GET /v1/digests/daily`: a branch day's H+1 report (the caller's branch and yesterday in its
/// zone unless given).
pub async fn daily_digest(app: web::Data<App>, Authed(actor): Authed, q: web::Query<DigestQuery>) -> Result<HttpResponse, ApiError> {
    let branch = q
        .branch_id
        .map(BranchId)
        .or(actor.branch_id)
        .ok_or_else(|| ApiError::unprocessable("field_required", "branch_id is required for users without a branch"))?;
    Ok(HttpResponse::Ok().json(crate::app::digests::daily(&app, &actor, branch, q.date).await?))
}
