//! Webhook subscriptions and the log of their deliveries.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::page::{Page, Paged};
use crate::domain::webhook::{Delivery, Webhook};

#[async_trait]
pub trait WebhookRepo: Send + Sync {
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<(), RepoError>;
    async fn get_webhook(&self, id: Uuid) -> Result<Option<Webhook>, RepoError>;
    /// Every subscription, active or not, oldest first.
    async fn list_webhooks(&self) -> Result<Vec<Webhook>, RepoError>;
    /// Stops a subscription (its deliveries stay in the log); false when it does not exist.
    async fn deactivate_webhook(&self, id: Uuid) -> Result<bool, RepoError>;
    /// Writes deliveries that do not exist yet and their jobs, in one transaction.
    async fn create_deliveries(&self, deliveries: &[(Delivery, NewJob)], now: DateTime<Utc>) -> Result<(), RepoError>;
    async fn get_delivery(&self, id: Uuid) -> Result<Option<Delivery>, RepoError>;
    /// Records one attempt's outcome.
    async fn record_delivery_attempt(&self, delivery: &Delivery) -> Result<(), RepoError>;
    async fn list_deliveries(&self, webhook_id: Uuid, page: Page) -> Result<Paged<Delivery>, RepoError>;
}
