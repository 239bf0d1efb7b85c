//! Liveness, readiness, metrics, the caller's own identity and the policy in force.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::auth::Authed;
use super::error::ApiError;
use crate::app::App;
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Role;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the object store accepts a write.
pub async fn readyz(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    let backend = app.readiness().await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": backend, "object_store": "ok" })))
}

/// Prometheus metrics (text exposition format 0.0.4). Unauthenticated, like the health checks:
/// it carries counts and timings by route template, nothing about visits or people.
pub async fn metrics(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    let text = app.metrics_text().await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

/// The policy in force (the defaults with the operator's file merged over them), for any
/// signed-in user: reps see the rules they are judged by.
pub async fn policy(app: web::Data<App>, Authed(_actor): Authed) -> HttpResponse {
    HttpResponse::Ok().json(app.policy.as_ref())
}

/// `GET /v1/result-reasons`: the follow-up results, each with its detail questions, and the
/// standard questions — what the phone's record form is built from.
pub async fn result_reasons(app: web::Data<App>, Authed(_actor): Authed) -> HttpResponse {
    HttpResponse::Ok().json(app.taxonomy.as_ref())
}

#[derive(Serialize)]
struct BranchView {
    id: BranchId,
    code: String,
    name: String,
    time_zone: String,
}

#[derive(Serialize)]
struct MeView {
    id: UserId,
    name: String,
    role: Role,
    branch: Option<BranchView>,
}

pub async fn me(app: web::Data<App>, Authed(actor): Authed) -> Result<HttpResponse, ApiError> {
    let branch = app.branch_of(&actor).await?;
    Ok(HttpResponse::Ok().json(MeView {
        id: actor.id,
        name: actor.name,
        role: actor.role,
        branch: branch.map(|b| BranchView { id: b.id, code: b.code, name: b.name, time_zone: b.time_zone.name().to_string() }),
    }))
}
