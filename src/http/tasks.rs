//! `/v1/tasks`.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{self, text, ConfirmInput, TaskInput, TaskListQuery};
use super::responses::List;
use crate::app::{tasks, App};
use crate::domain::ids::{CustomerId, TaskId, UserId};

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<TaskListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let filter = q.filter(&actor)?;
    let paged = tasks::list(&app, &actor, filter, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, |t| t)))
}

pub async fn confirm(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ConfirmInput>,
) -> Result<HttpResponse, ApiError> {
    let note = text("note", body.into_inner().note, 2_000)?;
    Ok(HttpResponse::Ok().json(tasks::confirm(&app, &actor, TaskId(id.into_inner()), note).await?))
}

/// `POST /v1/tasks/{id}/done`: a thank-you task done (the message sent).
pub async fn done(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ConfirmInput>,
) -> Result<HttpResponse, ApiError> {
    let note = text("note", body.into_inner().note, 2_000)?;
    Ok(HttpResponse::Ok().json(tasks::mark_done(&app, &actor, TaskId(id.into_inner()), note).await?))
}

pub async fn get(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tasks::get(&app, &actor, TaskId(id.into_inner())).await?))
}

pub async fn create(app: web::Data<App>, Authed(actor): Authed, body: super::json::Json<TaskInput>) -> Result<HttpResponse, ApiError> {
    let t = body.into_inner();
    let request = tasks::TaskRequest {
        id: t.id.map(TaskId),
        customer_id: CustomerId(t.customer_id),
        assignee_id: UserId(t.assignee_id),
        task_type: t.task_type,
        required_method: t.required_method,
        due_date: t.due_date,
        note: text("note", t.note, 2_000)?,
    };
    let (stored, created) = tasks::create(&app, &actor, request).await?;
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(stored))
}

/// `POST /v1/tasks/{task_id}/assign`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    pub assignee_id: Uuid,
}

pub async fn assign(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<AssignInput>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::reassign(&app, &actor, TaskId(id.into_inner()), UserId(body.assignee_id)).await?;
    Ok(HttpResponse::Ok().json(task))
}

/// `DELETE /v1/tasks/{task_id}`: a task made by hand that no visit followed up.
pub async fn delete(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    tasks::delete_manual(&app, &actor, TaskId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
