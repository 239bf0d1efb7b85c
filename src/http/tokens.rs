//! `/v1/tokens`: the caller's API tokens (an admin's: anyone's).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use crate::app::{tokens, App};
use crate::domain::directory::TokenInfo;
use crate::domain::ids::UserId;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub label: String,
    pub expires_in_days: Option<u32>,
    /// An admin may issue a token for another user.
    pub user_id: Option<Uuid>,
}

#[derive(Serialize)]
struct IssuedView {
    /// The secret, shown this once.
    token: String,
    #[serde(flatten)]
    info: TokenInfo,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub user_id: Option<Uuid>,
}

pub async fn create(app: web::Data<App>, Authed(actor): Authed, body: super::json::Json<TokenInput>) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let user = input.user_id.map(UserId).unwrap_or(actor.id);
    if user != actor.id && actor.role != crate::domain::role::Role::Admin {
        return Err(crate::app::AppError::forbidden("role_forbidden", "only admins issue tokens for other users").into());
    }
    let issued = tokens::issue(&app, Some(&actor), user, &input.label, input.expires_in_days).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(IssuedView { token: issued.token, info: issued.info }))
}

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let items = tokens::list(&app, &actor, q.user_id.map(UserId)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn revoke(app: web::Data<App>, Authed(actor): Authed, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(tokens::revoke(&app, Some(&actor), &id).await?))
}
