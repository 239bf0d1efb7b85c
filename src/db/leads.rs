//! Leads and their activity timeline.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::error::RepoError;
use super::jobs::NewJob;
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{BranchId, LeadId, UserId};
use crate::domain::lead::{Activity, Lead, Rating, Stage};
use crate::domain::page::{Page, Paged};
use crate::domain::pipeline::LeadFacts;
use crate::domain::role::Scope;

/// Which leads a list reads.
#[derive(Debug, Clone)]
pub struct LeadFilter {
    /// A rep's own (assigned to them), a branch's, or all.
    pub scope: Scope,
    pub branch_id: Option<BranchId>,
    pub assignee_id: Option<UserId>,
    pub stage: Option<Stage>,
    pub rating: Option<Rating>,
    /// Only leads whose first contact was late (`true`) or not (`false`).
    pub sla_breached: Option<bool>,
    /// Name, company, phone or e-mail containing this (any case).
    pub q: Option<String>,
}

/// A lead's stage change, as one write with its timeline entry and audit record.
pub struct LeadChange<'a> {
    pub lead: &'a Lead,
    pub activity: &'a Activity,
    pub audit: &'a AuditEntry,
    /// The move stops the follow-up cadence: its open follow-ups are cancelled.
    pub stops_cadence: bool,
    /// The stage the change was decided from: when the stored lead is at another (a write
    /// that raced this one), nothing is written and the answer is a conflict on `leads.stage`.
    pub expected_stage: crate::domain::lead::Stage,
    /// The lead's `updated_at` when it was read: any write since (a contact, a contract
    /// corrected, a merge) makes this one a conflict on `leads.stage` too, so nothing read
    /// earlier is written back over it.
    pub read_at: DateTime<Utc>,
    /// A follow-up the move starts (a past client's reactivation).
    pub follow_up: Option<&'a crate::domain::cadence::FollowUp>,
    /// The customer a won deal became, made with it (and its audit entry).
    pub customer: Option<(&'a crate::domain::customer::Customer, &'a AuditEntry)>,
}

/// A merge of two records of one person.
pub struct LeadMerge<'a> {
    pub source: &'a Lead,
    pub target: &'a Lead,
    pub source_entry: &'a Activity,
    pub target_entry: &'a Activity,
    pub audit: &'a AuditEntry,
}

#[async_trait]
pub trait LeadRepo: Send + Sync {
    /// Stores a new lead with its audit entry (the assignment); `false` when a lead of that id
    /// exists already (a retry), which is left as it is.
    async fn insert_lead(&self, lead: &Lead, rule: Option<usize>, audit: &AuditEntry) -> Result<bool, RepoError>;
    async fn get_lead(&self, id: LeadId) -> Result<Option<Lead>, RepoError>;
    async fn list_leads(&self, f: &LeadFilter, page: Page) -> Result<Paged<Lead>, RepoError>;
    /// The branch's leads (not merged away) that share the phone or the e-mail, or whose
    /// company name is given at all (the caller compares the names): at most `limit`.
    async fn duplicate_candidates(
        &self,
        branch: BranchId,
        phone: Option<&str>,
        email: Option<&str>,
        with_company: bool,
        limit: u32,
    ) -> Result<Vec<Lead>, RepoError>;
    /// When each of `assignees` last got a lead from distribution rule `rule` (by insertion
    /// order: the larger, the more recent); those never given one are missing.
    async fn last_distributed(&self, rule: usize, assignees: &[UserId]) -> Result<Vec<(UserId, i64)>, RepoError>;
    /// Saves a lead's new state with its timeline entry and audit record, in one transaction.
    async fn change_lead(&self, change: LeadChange<'_>) -> Result<(), RepoError>;
    /// Appends an activity (`false`: one of that id exists, a retry). A contact is the lead's
    /// first contact when it has none yet.
    async fn add_activity(&self, a: &Activity) -> Result<bool, RepoError>;
    async fn get_activity(&self, id: crate::domain::ids::ActivityId) -> Result<Option<Activity>, RepoError>;
    /// The lead's timeline, oldest first.
    async fn list_activities(&self, lead: LeadId) -> Result<Vec<Activity>, RepoError>;
    /// The branch's won deals whose contract ended on `date` or before: at most `limit`.
    async fn ended_contracts(&self, branch: BranchId, date: chrono::NaiveDate, limit: u32) -> Result<Vec<Lead>, RepoError>;
    /// Merges `source` into `target` (the same person twice): `source` points at `target`, as
    /// do the leads merged into it before, its open follow-ups are cancelled, and `target`
    /// takes the contact details it lacked; each gets its timeline entry, with one audit
    /// record. A conflict on `leads.stage` when either moved meanwhile.
    async fn merge_leads(&self, m: LeadMerge<'_>) -> Result<(), RepoError>;
    /// The open leads (not merged) in the scope, most recent first: at most `limit`, for the
    /// duplicate report.
    async fn open_leads(&self, scope: Scope, branch: Option<BranchId>, limit: u32) -> Result<Vec<Lead>, RepoError>;
    /// The leads received, or decided, between `from` and `to` in the scope (of one branch, if
    /// given), with what the pipeline report counts of them: at most `limit`.
    async fn pipeline_leads(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<LeadFacts>, RepoError>;
    /// Marks the leads still without a first contact whose deadline is before `now` as breached,
    /// with the event `event` makes of each, in one transaction; returns them.
    async fn breach_first_contacts(
        &self,
        now: DateTime<Utc>,
        event: &(dyn for<'a> Fn(&'a Lead) -> NewJob + Send + Sync),
    ) -> Result<Vec<Lead>, RepoError>;
}
