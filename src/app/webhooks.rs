//! Webhooks: subscriptions (admin), the fan-out of an event to its subscribers, and the signed
//! delivery of each. Both run as jobs, so the API never waits on a subscriber and a dead endpoint
//! costs only its own retries: every attempt is bounded (5 s to connect, 10 s in all) and a failed
//! one is retried with the job system's backoff until `jobs.max_attempts`, then marked `failed`
//! in the delivery log.

use std::sync::LazyLock;
use std::time::Duration;

use rand::RngCore;
use serde_json::json;
use uuid::Uuid;

use super::events::EVENTS;
use super::{App, AppError};
use crate::db::NewJob;
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};
use crate::domain::webhook::{signature, Delivery, DeliveryStatus, Webhook};

/// The job kind that sends one delivery.
pub const DELIVERY_JOB: &str = "webhook_delivery";

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("FieldProof-Webhooks/1")
        .build()
        .expect("a TLS client builds")
});

/// A validated subscription request.
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub secret: Option<String>,
}

fn admin_only(actor: &Actor) -> Result<(), AppError> {
    super::access::require(actor.role == Role::Admin, "webhooks are managed by admins")
}

/// `POST /v1/webhooks`: the created subscription, with its secret (shown this once).
pub async fn create(app: &App, actor: &Actor, input: NewWebhook) -> Result<Webhook, AppError> {
    admin_only(actor)?;
    if input.url.chars().count() > crate::domain::webhook::MAX_URL_CHARS {
        let max = crate::domain::webhook::MAX_URL_CHARS;
        return Err(AppError::invalid("webhook_invalid_url", format!("url is longer than {max} characters")));
    }
    let url = reqwest::Url::parse(&input.url).map_err(|e| AppError::invalid("webhook_invalid_url", format!("url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AppError::invalid("webhook_invalid_url", "url must be an http or https URL with a host"));
    }
    let mut events = input.events;
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(AppError::invalid("webhook_unknown_event", format!("name at least one event of {}", EVENTS.join(", "))));
    }
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(AppError::invalid("webhook_unknown_event", format!("{bad:?} is not one of {}", EVENTS.join(", "))));
    }
    let secret = match input.secret {
        Some(s) if s.chars().count() < 16 || s.len() > 256 => {
            return Err(AppError::invalid("webhook_secret_invalid", "a secret has 16 to 256 characters"));
        }
        Some(s) => s,
        None => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            format!("whsec_{}", hex::encode(bytes))
        }
    };
    let webhook = Webhook {
        id: Uuid::new_v4(),
        url: url.to_string(),
        secret,
        events,
        active: true,
        created_by: Some(actor.id),
        created_at: app.now(),
    };
    let audit =
        app.audit(actor, "webhook.created", "webhook", webhook.id.to_string(), json!({ "url": webhook.url, "events": webhook.events }));
    app.repo.insert_webhook(&webhook).await?;
    app.repo.append_audit(&audit).await?;
    Ok(webhook)
}

pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Webhook>, AppError> {
    admin_only(actor)?;
    Ok(app.repo.list_webhooks().await?)
}

/// `DELETE /v1/webhooks/{id}`: stops the subscription; its delivery log stays readable.
pub async fn delete(app: &App, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    admin_only(actor)?;
    if !app.repo.deactivate_webhook(id).await? {
        return Err(AppError::not_found("webhook_not_found", format!("webhook {id} not found")));
    }
    app.repo.append_audit(&app.audit(actor, "webhook.deleted", "webhook", id.to_string(), json!({}))).await?;
    Ok(())
}

pub async fn deliveries(app: &App, actor: &Actor, id: Uuid, page: Page) -> Result<Paged<Delivery>, AppError> {
    admin_only(actor)?;
    if app.repo.get_webhook(id).await?.is_none() {
        return Err(AppError::not_found("webhook_not_found", format!("webhook {id} not found")));
    }
    Ok(app.repo.list_deliveries(id, page).await?)
}

/// The `webhook_event` job: one delivery (and its job) per active subscriber of the event.
/// Deliveries are keyed by (subscription, event), so running this twice adds nothing.
#[tracing::instrument(skip_all, fields(event = ?payload["event"].as_str()), err(level = "debug"))]
pub async fn fan_out(app: &App, payload: &serde_json::Value) -> Result<usize, String> {
    let event = payload["event"].as_str().ok_or("event job without an event name")?;
    let event_id: Uuid = payload["id"].as_str().and_then(|s| s.parse().ok()).ok_or("event job without an id")?;
    let now = app.now();
    let subscribers: Vec<Webhook> = app
        .repo
        .list_webhooks()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|w| w.active && w.events.iter().any(|e| e == event))
        .collect();
    let deliveries: Vec<(Delivery, NewJob)> = subscribers
        .iter()
        .map(|w| {
            let id = Delivery::id_for(w.id, event_id);
            let delivery = Delivery {
                id,
                webhook_id: w.id,
                event_id,
                event: event.to_string(),
                payload: payload.clone(),
                status: DeliveryStatus::Pending,
                attempts: 0,
                last_status: None,
                last_error: None,
                created_at: now,
                updated_at: now,
                delivered_at: None,
            };
            let job = NewJob {
                id: Uuid::new_v4(),
                kind: DELIVERY_JOB.into(),
                unique_key: Some(format!("delivery:{id}")),
                payload: json!({ "delivery_id": id }),
                run_at: now,
            };
            (delivery, job)
        })
        .collect();
    app.repo.create_deliveries(&deliveries, now).await.map_err(|e| e.to_string())?;
    Ok(deliveries.len())
}

/// The `webhook_delivery` job: one signed POST. A non-2xx answer or a transport error is an
/// error (the job is retried); the delivery row records every attempt, and the last allowed
/// attempt's failure marks it `failed`.
#[tracing::instrument(skip_all, fields(delivery_id = ?payload["delivery_id"].as_str(), attempt = attempt), err(level = "debug"))]
pub async fn deliver(app: &App, payload: &serde_json::Value, attempt: i64, max_attempts: u32) -> Result<(), String> {
    let id: Uuid = payload["delivery_id"].as_str().and_then(|s| s.parse().ok()).ok_or("delivery job without a delivery_id")?;
    let Some(mut delivery) = app.repo.get_delivery(id).await.map_err(|e| e.to_string())? else {
        return Ok(()); // Nothing to send.
    };
    if delivery.status != DeliveryStatus::Pending {
        return Ok(());
    }
    let webhook = app.repo.get_webhook(delivery.webhook_id).await.map_err(|e| e.to_string())?;
    let outcome = match webhook.filter(|w| w.active) {
        None => Err((None, "the subscription was deleted".to_string())),
        Some(w) => send(app, &w, &delivery).await,
    };
    let now = app.now();
    delivery.attempts = attempt;
    delivery.updated_at = now;
    let result = match outcome {
        Ok(status) => {
            delivery.status = DeliveryStatus::Delivered;
            delivery.last_status = Some(i64::from(status));
            delivery.last_error = None;
            delivery.delivered_at = Some(now);
            Ok(())
        }
        Err((status, error)) => {
            let last = attempt >= i64::from(max_attempts) || error == "the subscription was deleted";
            delivery.status = if last { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
            delivery.last_status = status.map(i64::from);
            delivery.last_error = Some(error.clone());
            if last && error == "the subscription was deleted" {
                Ok(())
            } else {
                Err(error)
            }
        }
    };
    app.repo.record_delivery_attempt(&delivery).await.map_err(|e| e.to_string())?;
    result
}

/// The outbound POST; the URL is the subscriber's own, logged without its query.
#[tracing::instrument(skip_all, fields(webhook_id = %w.id, host = ?reqwest::Url::parse(&w.url).ok().and_then(|u| u.host_str().map(str::to_string)), status))]
async fn send(app: &App, w: &Webhook, d: &Delivery) -> Result<u16, (Option<u16>, String)> {
    let body = serde_json::to_vec(&d.payload).map_err(|e| (None, e.to_string()))?;
    let timestamp = app.now().timestamp();
    let response = CLIENT
        .post(&w.url)
        .header("content-type", "application/json")
        .header("fieldproof-event", &d.event)
        .header("fieldproof-delivery", d.id.to_string())
        .header("fieldproof-timestamp", timestamp.to_string())
        .header("fieldproof-signature", signature(&w.secret, timestamp, &body))
        .body(body)
        .send()
        .await
        .map_err(|e| (None, format!("request failed: {}", e.without_url())))?;
    let status = response.status().as_u16();
    tracing::Span::current().record("status", status);
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("the endpoint answered {status}")))
    }
}
