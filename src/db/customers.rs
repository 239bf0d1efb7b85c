//! Customers: written one at a time by the API and in batches by imports.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::RepoError;
use crate::domain::customer::PlaceProposal;
use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::ids::{BranchId, CustomerId, UserId};
use crate::domain::page::{Page, Paged};

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub branch_id: Option<BranchId>,
    pub assigned_rep_id: Option<UserId>,
    pub class: Option<CustomerClass>,
    /// Case-insensitive substring of the code or the name.
    pub q: Option<String>,
}

/// How many rows an import batch created, changed and found as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[async_trait]
pub trait CustomerRepo: Send + Sync {
    async fn insert_customer(&self, customer: &Customer) -> Result<(), RepoError>;
    /// Inserts or, when the code exists, updates everything but the id.
    async fn upsert_customer_by_code(&self, customer: &Customer) -> Result<(), RepoError>;
    async fn update_customer(&self, customer: &Customer) -> Result<(), RepoError>;
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>, RepoError>;
    async fn list_customers(&self, filter: &CustomerFilter, page: Page) -> Result<Paged<Customer>, RepoError>;
    /// Customers and users by id, one query each; the ones not found are left out.
    async fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Customer>, RepoError>;
    /// Inserts or updates customers by code in one transaction; a row equal to the stored one is
    /// left alone (so importing the same file twice changes nothing).
    async fn upsert_customers(&self, customers: &[Customer]) -> Result<UpsertCounts, RepoError>;
    async fn customer_ids_by_code(&self, codes: &[String]) -> Result<HashMap<String, CustomerId>, RepoError>;
    /// Stores a proposed place, unless the customer has coordinates or a pending proposal
    /// already (the first approved visit's stands); true when stored.
    async fn propose_place(&self, proposal: &PlaceProposal) -> Result<bool, RepoError>;
    async fn place_proposal(&self, customer: CustomerId) -> Result<Option<PlaceProposal>, RepoError>;
    /// Accepts the pending proposal in one transaction: the customer's coordinates become it
    /// (only if it still has none) and the proposal goes. `None` when there was none.
    async fn accept_place(&self, customer: CustomerId, at: DateTime<Utc>) -> Result<Option<PlaceProposal>, RepoError>;
    /// Drops the pending proposal; false when there was none.
    async fn reject_place(&self, customer: CustomerId) -> Result<bool, RepoError>;
}
