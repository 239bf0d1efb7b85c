//! `/v1/webhooks` (admin).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests;
use super::responses::List;
use crate::app::webhooks::{self, NewWebhook};
use crate::app::App;
use crate::domain::webhook::Webhook;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: String,
    pub events: Vec<String>,
    pub secret: Option<String>,
}

/// The secret a client chose never prints.
impl std::fmt::Debug for WebhookInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookInput")
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Debug, Deserialize)]
pub struct DeliveryQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A subscription as created: the one time its secret is shown.
#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    webhook: Webhook,
    secret: String,
}

pub async fn create(app: web::Data<App>, Authed(actor): Authed, body: super::json::Json<WebhookInput>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let webhook = webhooks::create(&app, &actor, NewWebhook { url: b.url, events: b.events, secret: b.secret }).await?;
    let secret = webhook.secret.clone();
    Ok(HttpResponse::Created().insert_header(("location", format!("/v1/webhooks/{}", webhook.id))).json(Created { webhook, secret }))
}

pub async fn list(app: web::Data<App>, Authed(actor): Authed) -> Result<HttpResponse, ApiError> {
    let items = webhooks::list(&app, &actor).await?;
    Ok(HttpResponse::Ok().json(List { items, next_cursor: None }))
}

pub async fn delete(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&app, &actor, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn deliveries(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    q: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let paged = webhooks::deliveries(&app, &actor, id.into_inner(), page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, |d| d)))
}
