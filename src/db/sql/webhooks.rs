//! WebhookRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::jobs::NewJob;
use crate::db::pool::SqlRepo;
use crate::db::webhooks::WebhookRepo;
use crate::domain::ids::UserId;
use crate::domain::page::{Page, Paged};
use crate::domain::webhook::{Delivery, DeliveryStatus, Webhook};

type WebhookRow = (Uuid, String, String, Json<Vec<String>>, bool, Option<Uuid>, DateTime<Utc>);
const WEBHOOK_COLUMNS: &str = "id, url, secret, events, active, created_by, created_at";

fn webhook_from(r: WebhookRow) -> Webhook {
    Webhook { id: r.0, url: r.1, secret: r.2, events: r.3 .0, active: r.4, created_by: r.5.map(UserId), created_at: r.6 }
}

type DeliveryRow = (
    i64,
    Uuid,
    Uuid,
    Uuid,
    String,
    Json<serde_json::Value>,
    String,
    i64,
    Option<i64>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);
const DELIVERY_COLUMNS: &str =
    "seq, id, webhook_id, event_id, event, payload, status, attempts, last_status, last_error, created_at, updated_at, delivered_at";

fn delivery_from(r: DeliveryRow) -> Result<Delivery, RepoError> {
    Ok(Delivery {
        id: r.1,
        webhook_id: r.2,
        event_id: r.3,
        event: r.4,
        payload: r.5 .0,
        status: DeliveryStatus::parse(&r.6).ok_or_else(|| RepoError::Corrupt(format!("delivery status {:?}", r.6)))?,
        attempts: r.7,
        last_status: r.8,
        last_error: r.9,
        created_at: r.10,
        updated_at: r.11,
        delivered_at: r.12,
    })
}

#[async_trait]
impl WebhookRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(webhook_id = %w.id))]
    async fn insert_webhook(&self, w: &Webhook) -> Result<(), RepoError> {
        sqlx::query(&format!("INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
            .bind(w.id)
            .bind(&w.url)
            .bind(&w.secret)
            .bind(Json(&w.events))
            .bind(w.active)
            .bind(w.created_by.map(|u| u.0))
            .bind(w.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(webhook_id = %id))]
    async fn get_webhook(&self, id: Uuid) -> Result<Option<Webhook>, RepoError> {
        let row: Option<WebhookRow> =
            sqlx::query_as(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(webhook_from))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_webhooks(&self) -> Result<Vec<Webhook>, RepoError> {
        let rows: Vec<WebhookRow> =
            sqlx::query_as(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY seq")).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(webhook_from).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(webhook_id = %id))]
    async fn deactivate_webhook(&self, id: Uuid) -> Result<bool, RepoError> {
        let n =
            sqlx::query("UPDATE webhooks SET active = $2 WHERE id = $1").bind(id).bind(false).execute(&self.pool).await?.rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = deliveries.len()))]
    async fn create_deliveries(&self, deliveries: &[(Delivery, NewJob)], now: DateTime<Utc>) -> Result<(), RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for (d, job) in deliveries {
            let inserted = sqlx::query(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, payload, status, attempts, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) ON CONFLICT DO NOTHING",
            )
            .bind(d.id)
            .bind(d.webhook_id)
            .bind(d.event_id)
            .bind(&d.event)
            .bind(Json(&d.payload))
            .bind(d.status.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                enqueue_job_in(&mut *tx, job, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(delivery_id = %id))]
    async fn get_delivery(&self, id: Uuid) -> Result<Option<Delivery>, RepoError> {
        let row: Option<DeliveryRow> = sqlx::query_as(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(delivery_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(delivery_id = %d.id))]
    async fn record_delivery_attempt(&self, d: &Delivery) -> Result<(), RepoError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = $3, last_status = $4, last_error = $5, updated_at = $6, \
             delivered_at = $7 WHERE id = $1",
        )
        .bind(d.id)
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.last_status)
        .bind(&d.last_error)
        .bind(d.updated_at)
        .bind(d.delivered_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(webhook_id = %webhook_id))]
    async fn list_deliveries(&self, webhook_id: Uuid, page: Page) -> Result<Paged<Delivery>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = "));
        qb.push_bind(webhook_id);
        push_page(&mut qb, page, "seq");
        let rows: Vec<DeliveryRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.0, delivery_from)
    }
}
