//! `/v1/me/calendar-feed` and the feed itself, `/v1/calendar-feeds/{feed_token}`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::auth::Authed;
use super::error::ApiError;
use crate::app::{feeds, App};

/// The path of a feed; the token is its secret.
pub const FEED_PREFIX: &str = "/v1/calendar-feeds/";

#[derive(serde::Serialize)]
struct FeedView {
    /// The secret token, shown only now.
    token: String,
    /// The feed's path (prefix it with the server's address for a calendar app).
    path: String,
}

/// `POST /v1/me/calendar-feed`: a new feed of the caller's tasks (the old address stops working).
pub async fn create(app: web::Data<App>, Authed(actor): Authed) -> Result<HttpResponse, ApiError> {
    let token = feeds::create(&app, &actor).await?;
    let path = format!("{FEED_PREFIX}{token}");
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(FeedView { token, path }))
}

/// `DELETE /v1/me/calendar-feed`.
pub async fn revoke(app: web::Data<App>, Authed(actor): Authed) -> Result<HttpResponse, ApiError> {
    feeds::revoke(&app, &actor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/calendar-feeds/{feed_token}`: the iCalendar text (no bearer token: the path is the
/// secret).
pub async fn get(app: web::Data<App>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let body = feeds::ics(&app, &token).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .insert_header((header::CONTENT_DISPOSITION, "inline; filename=\"fieldproof-tasks.ics\""))
        .body(body))
}

/// A request's path as logs may show it: a feed's token is replaced by `***`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix(FEED_PREFIX) {
        Some(rest) if !rest.is_empty() => format!("{FEED_PREFIX}***").into(),
        _ => path.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_feed_token_never_reaches_a_log() {
        assert_eq!(super::loggable_path("/v1/calendar-feeds/fp_secret"), "/v1/calendar-feeds/***");
        assert_eq!(super::loggable_path("/v1/tasks"), "/v1/tasks");
    }
}
