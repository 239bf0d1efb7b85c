//! Customer classes: shipment volumes, the sums classification compares, class changes and
//! their history, and the door visits visit plans count.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use super::customers::UpsertCounts;
use super::error::RepoError;
use crate::domain::classify::ClassChange;
use crate::domain::customer::Customer;
use crate::domain::ids::{BranchId, CustomerId};

/// A customer's volumes summed over the classification's three spans.
#[derive(Debug, Clone)]
pub struct VolumeSums {
    pub customer: Customer,
    /// The whole of last month.
    pub last_month: i64,
    /// Last month from its 1st to the same day of the month as yesterday.
    pub last_month_same_span: i64,
    /// This month from the 1st to yesterday.
    pub month_to_date: i64,
}

#[async_trait]
pub trait ClassRepo: Send + Sync {
    /// Inserts or updates daily volumes in one transaction (`updated` counts changed values).
    async fn upsert_volumes(&self, rows: &[(CustomerId, NaiveDate, i64)]) -> Result<UpsertCounts, RepoError>;
    /// The sum of a customer's volumes over [from, to].
    async fn volume_sum(&self, customer: CustomerId, from: NaiveDate, to: NaiveDate) -> Result<i64, RepoError>;
    /// Every customer of a branch with its volumes over the classification's spans.
    async fn volume_sums(
        &self,
        branch: BranchId,
        last_month: (NaiveDate, NaiveDate),
        same_span_end: NaiveDate,
        month_to_date: (NaiveDate, NaiveDate),
    ) -> Result<Vec<VolumeSums>, RepoError>;
    /// Sets a customer's class and previous level, keeping the change in its history.
    async fn change_class(&self, customer: CustomerId, change: &ClassChange) -> Result<(), RepoError>;
    /// [`Repo::change_class`] for many customers in one transaction.
    async fn change_classes(&self, changes: &[(CustomerId, ClassChange)]) -> Result<(), RepoError>;
    async fn class_history(&self, customer: CustomerId) -> Result<Vec<ClassChange>, RepoError>;
    /// Submitted door visits per customer of a branch dated within [from, to].
    async fn door_visits_by_customer(
        &self,
        branch: BranchId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<CustomerId, i64>, RepoError>;
}
