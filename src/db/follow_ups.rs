//! Quotations and the follow-up tasks of cadences.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use super::leads::LeadChange;
use crate::domain::audit::AuditEntry;
use crate::domain::cadence::{FollowUp, FollowUpStatus, ServiceCase};
use crate::domain::ids::{BranchId, CustomerId, FollowUpId, LeadId, QuotationId, ServiceCaseId, UserId};
use crate::domain::lead::{Activity, Quotation, QuotationDocument};
use crate::domain::page::{Page, Paged};
use crate::domain::role::Scope;

/// A quotation written with what it starts: its cadence's first follow-up (when it is sent) and
/// the lead's move to Quotation Sent, in one transaction.
pub struct QuotationWrite<'a> {
    pub quotation: &'a Quotation,
    pub first_follow_up: Option<&'a FollowUp>,
    pub lead: Option<LeadChange<'a>>,
    /// The events it raises (a revision not sent the day it was asked for).
    pub jobs: &'a [NewJob],
}

/// A follow-up done, with what follows it: the next step (or the closing message), and for a
/// lead its timeline entry and its move to On-Hold when it stopped answering; for a service
/// case its audit entry and the events it raises (a complaint escalated).
pub struct FollowUpDone<'a> {
    pub follow_up: &'a FollowUp,
    pub next: Option<&'a FollowUp>,
    pub lead: Option<LeadChange<'a>>,
    pub audit: Option<&'a AuditEntry>,
    pub jobs: &'a [NewJob],
}

/// Which follow-ups a list reads.
#[derive(Debug, Clone)]
pub struct FollowUpFilter {
    pub scope: Scope,
    pub assignee_id: Option<UserId>,
    pub lead_id: Option<LeadId>,
    pub customer_id: Option<CustomerId>,
    pub cadence: Option<String>,
    pub status: Option<FollowUpStatus>,
    pub due_to: Option<NaiveDate>,
}

#[async_trait]
pub trait FollowUpRepo: Send + Sync {
    /// Stores a new quotation (`false`: one of that id exists, and nothing is written); the
    /// lead's earlier quotations are superseded and their open follow-ups cancelled once it is sent
    /// (an awaiting one replaces nothing until it is approved).
    async fn insert_quotation(&self, w: QuotationWrite<'_>) -> Result<bool, RepoError>;
    /// Marks an awaiting quotation sent, with what sending starts (`false`: it was not awaiting).
    async fn send_approved_quotation(&self, w: QuotationWrite<'_>) -> Result<bool, RepoError>;
    async fn get_quotation(&self, id: QuotationId) -> Result<Option<Quotation>, RepoError>;
    /// The lead's quotations, first to last.
    async fn list_quotations(&self, lead: LeadId) -> Result<Vec<Quotation>, RepoError>;
    async fn get_follow_up(&self, id: FollowUpId) -> Result<Option<FollowUp>, RepoError>;
    async fn list_follow_ups(&self, f: &FollowUpFilter, page: Page) -> Result<Paged<FollowUp>, RepoError>;
    /// How many attempts of a quotation's (or a service case's) cadence were not answered.
    async fn unanswered_attempts(&self, quotation: Option<QuotationId>, case: Option<ServiceCaseId>) -> Result<u32, RepoError>;
    /// Stores a service case with its first follow-up and audit entry (`false`: one of that id
    /// exists, and nothing is written).
    async fn insert_service_case(&self, case: &ServiceCase, first: &FollowUp, audit: &AuditEntry) -> Result<bool, RepoError>;
    async fn get_service_case(&self, id: ServiceCaseId) -> Result<Option<ServiceCase>, RepoError>;
    /// Records a follow-up done — open, or missed and done late — with what follows it
    /// (`false`: it was done or cancelled meanwhile).
    async fn complete_follow_up(&self, d: FollowUpDone<'_>) -> Result<bool, RepoError>;
    /// The follow-ups due from `from` to `to` (not cancelled) in the scope, for the pipeline
    /// report: at most `limit`.
    async fn due_follow_ups(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<FollowUp>, RepoError>;
    /// The quotations sent from `from` to `to` in the scope (by their lead's rep), each with
    /// that rep.
    async fn sent_quotations(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: NaiveDate,
        to: NaiveDate,
        limit: u32,
    ) -> Result<Vec<(Quotation, Option<UserId>)>, RepoError>;
    /// Records a quotation's document (`false`: it has one already, left as it is).
    async fn set_quotation_document(&self, id: QuotationId, doc: &QuotationDocument, audit: &AuditEntry) -> Result<bool, RepoError>;
    /// The supervisor's no to an awaiting quotation, with the lead's timeline entry (`false`:
    /// it was not awaiting).
    async fn reject_quotation(&self, q: &Quotation, entry: &Activity, audit: &AuditEntry) -> Result<bool, RepoError>;
    /// The day close: the branch's open follow-ups due on or before `date` become missed, each
    /// with the event `event` makes of it; returns them.
    async fn miss_follow_ups(
        &self,
        branch: BranchId,
        date: NaiveDate,
        now: DateTime<Utc>,
        event: &(dyn for<'a> Fn(&'a FollowUp) -> NewJob + Send + Sync),
    ) -> Result<Vec<FollowUp>, RepoError>;
}
