//! Liveness, readiness and the caller's own identity.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::auth::Authed;
use super::error::ApiError;
use crate::app::{App, AppError};
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Role;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when the database answers and the object store accepts a write.
pub async fn readyz(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    if let Err(e) = app.repo.ping().await {
        tracing::warn!(error = %e, "readiness: database");
        return Err(AppError::Unavailable { code: "database_unavailable", detail: "the database is not reachable".into() }.into());
    }
    if let Err(e) = app.store.ping().await {
        tracing::warn!(error = %e, "readiness: object store");
        return Err(AppError::Unavailable { code: "storage_unavailable", detail: "the object store is not reachable".into() }.into());
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": app.repo.backend(), "object_store": "ok" })))
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
    let branch = match actor.branch_id {
        Some(id) => app.repo.get_branch(id).await.map_err(AppError::from)?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(MeView {
        id: actor.id,
        name: actor.name,
        role: actor.role,
        branch: branch.map(|b| BranchView { id: b.id, code: b.code, name: b.name, time_zone: b.time_zone.name().to_string() }),
    }))
}
