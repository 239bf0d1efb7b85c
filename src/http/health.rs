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

/// Ready when the database answers and the object store accepts a write. The OCR engine is a
/// detail, not a condition: without it the server serves, and screenshots say they were not read.
pub async fn readyz(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    let backend = app.readiness().await?;
    let ocr = match &app.ocr {
        Ok(engine) => json!({ "status": "ok", "engine": engine.version, "languages": engine.languages }),
        Err(why) => json!({ "status": "unavailable", "detail": why }),
    };
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": backend, "object_store": "ok", "ocr": ocr })))
}

/// Prometheus metrics (text exposition format 0.0.4). Unauthenticated, like the health checks:
/// it carries counts and timings by route template, nothing about visits or people.
pub async fn metrics(app: web::Data<App>) -> Result<HttpResponse, ApiError> {
    let text = app.metrics_text().await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub at: Option<chrono::NaiveDate>,
}

/// The policy in force on a date (today in WIB without one): a stored version, else the
/// defaults with the operator's file merged over them; for any signed-in user: reps see the
/// rules they are judged by. The version's id and start are headers, the body the policy.
pub async fn policy(app: web::Data<App>, Authed(_actor): Authed, q: web::Query<PolicyQuery>) -> Result<HttpResponse, ApiError> {
    let day = q.at.unwrap_or_else(|| crate::domain::time::local_date(app.now(), chrono_tz::Asia::Jakarta));
    let (version, policy) = crate::app::policies::policy_at(&app, day).await?;
    let versions = crate::app::policies::list(&app).await?;
    let from = version.and_then(|id| versions.iter().find(|v| v.id == id)).map(|v| v.effective_from);
    let mut r = HttpResponse::Ok();
    r.insert_header(("FieldProof-Policy-Version", version.map_or_else(|| "configured".to_string(), |v| v.to_string())));
    if let Some(from) = from {
        r.insert_header(("FieldProof-Policy-Effective-From", from.to_string()));
    }
    Ok(r.json(policy.as_ref()))
}

/// `GET /v1/policy/versions`: every stored version, oldest first, with its file.
pub async fn policy_versions(app: web::Data<App>, Authed(_actor): Authed) -> Result<HttpResponse, ApiError> {
    let items = crate::app::policies::list(&app).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyVersionInput {
    #[serde(deserialize_with = "crate::http::dates::date")]
    pub effective_from: chrono::NaiveDate,
    /// The policy file's text (TOML).
    pub policy: String,
}

/// `POST /v1/policy/versions` (admins): a new version, validated, in force from its date.
pub async fn add_policy_version(
    app: web::Data<App>,
    Authed(actor): Authed,
    body: super::json::Json<PolicyVersionInput>,
) -> Result<HttpResponse, ApiError> {
    let v = crate::app::policies::add(&app, &actor, body.effective_from, &body.policy).await?;
    Ok(HttpResponse::Created().json(v))
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
