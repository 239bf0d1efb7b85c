//! `/v1/visits`: the idempotent PUT, submit, reads and reviews.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{self, ReviewInput, VisitInput, VisitListQuery};
use super::responses::{List, ReviewResult, VisitView};
use crate::app::visits::Written;
use crate::app::{reviews, visits, App};
use crate::domain::ids::VisitId;
use crate::domain::visit::VisitContent;

pub async fn put(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<VisitInput>,
) -> Result<HttpResponse, ApiError> {
    let content = VisitContent::try_from(body.into_inner())?;
    let id = VisitId(id.into_inner());
    let (detail, written) = visits::put_visit(&app, &actor, id, content).await?;
    let mut response = if written == Written::Created { HttpResponse::Created() } else { HttpResponse::Ok() };
    if written == Written::Created {
        response.insert_header(("Location", format!("/v1/visits/{id}")));
    }
    Ok(response.json(VisitView::from(detail)))
}

pub async fn submit(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let detail = visits::submit(&app, &actor, VisitId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(VisitView::from(detail)))
}

pub async fn get(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let detail = visits::get(&app, &actor, VisitId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(VisitView::from(detail)))
}

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<VisitListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let paged = visits::list(&app, &actor, q.filter()?, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, VisitView::from)))
}

pub async fn review(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    let input = reviews::ReviewInput::try_from(body.into_inner())?;
    let (review, detail, created) = reviews::review(&app, &actor, VisitId(id.into_inner()), input).await?;
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(ReviewResult { review, visit: VisitView::from(detail) }))
}
