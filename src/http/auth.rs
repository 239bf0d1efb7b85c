//! The `Authed` extractor: the bearer token's user, or 401.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::app::{auth, App, AppError};
use crate::domain::role::Actor;

pub struct Authed(pub Actor);

impl FromRequest for Authed {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let app = req.app_data::<web::Data<App>>().cloned();
        let address = req.peer_addr().map(|a| a.ip());
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let app = app.ok_or_else(|| ApiError::from(AppError::internal("app data missing")))?;
            let token = token.ok_or(ApiError::from(AppError::Unauthorized))?;
            Ok(Authed(auth::authenticate(&app, &token, address).await?))
        })
    }
}
