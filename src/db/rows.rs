//! Row shapes as both backends return them, and their conversion into domain types. Text
//! columns holding enums are parsed here; an unknown value is `RepoError::Corrupt`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::error::RepoError;
use crate::domain::audit::AuditEntry;
use crate::domain::customer::{Customer, CustomerClass, GeoPoint};
use crate::domain::directory::{Branch, Credentials, Locale, User};
use crate::domain::finding::{Finding, FindingCode, Severity};
use crate::domain::role::Role;
use crate::domain::task::{RequiredMethod, Task, TaskStatus, TaskType};
use crate::domain::visit::{CaptureMeta, Decision, Photo, PhotoFacts, PhotoKind, Review, ReviewStatus, Visit, VisitContent, VisitStatus};

fn parse<T>(what: &str, value: &str, f: impl Fn(&str) -> Option<T>) -> Result<T, RepoError> {
    f(value).ok_or_else(|| RepoError::Corrupt(format!("unknown {what} {value:?}")))
}

fn to_u32(what: &str, v: i64) -> Result<u32, RepoError> {
    u32::try_from(v).map_err(|_| RepoError::Corrupt(format!("{what} out of range: {v}")))
}

#[derive(sqlx::FromRow)]
pub struct BranchRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub time_zone: String,
    pub working_days: String,
}

impl TryFrom<BranchRow> for Branch {
    type Error = RepoError;
    fn try_from(r: BranchRow) -> Result<Self, RepoError> {
        Ok(Branch {
            id: r.id.into(),
            code: r.code,
            name: r.name,
            time_zone: parse("time zone", &r.time_zone, |s| s.parse().ok())?,
            working_days: parse("working days", &r.working_days, |s| crate::domain::time::Calendar::parse_weekdays(s).ok())?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub branch_id: Option<Uuid>,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;
    fn try_from(r: UserRow) -> Result<Self, RepoError> {
        Ok(User { id: r.id.into(), name: r.name, role: parse("role", &r.role, Role::parse)?, branch_id: r.branch_id.map(Into::into) })
    }
}

/// `users` as signing in reads it.
#[derive(sqlx::FromRow)]
pub struct CredentialsRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub branch_id: Option<Uuid>,
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub password_must_change: bool,
    pub locale: String,
}

impl TryFrom<CredentialsRow> for Credentials {
    type Error = RepoError;
    fn try_from(r: CredentialsRow) -> Result<Self, RepoError> {
        Ok(Credentials {
            user: UserRow { id: r.id, name: r.name, role: r.role, branch_id: r.branch_id }.try_into()?,
            login: r.login.unwrap_or_default(),
            password_hash: r.password_hash,
            must_change: r.password_must_change,
            locale: parse("locale", &r.locale, Locale::parse)?,
        })
    }
}

/// A console session joined with its user.
#[derive(sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    pub user: CredentialsRow,
}

impl TryFrom<SessionRow> for crate::db::sessions::SessionRecord {
    type Error = RepoError;
    fn try_from(r: SessionRow) -> Result<Self, RepoError> {
        Ok(crate::db::sessions::SessionRecord {
            id_hash: r.id_hash,
            credentials: r.user.try_into()?,
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            ended_at: r.ended_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct CustomerRow {
    pub seq: i64,
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub customer_type: String,
    pub branch_id: Uuid,
    pub assigned_rep_id: Option<Uuid>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    pub created_on: NaiveDate,
    pub class: String,
    pub previous_level: Option<String>,
    pub ownership: String,
    pub dp: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = RepoError;
    fn try_from(r: CustomerRow) -> Result<Self, RepoError> {
        let location = match (r.latitude, r.longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint::parse(lat, lon).map_err(|e| RepoError::Corrupt(e.into()))?),
            _ => None,
        };
        Ok(Customer {
            id: r.id.into(),
            code: r.code,
            name: r.name,
            customer_type: r.customer_type,
            branch_id: r.branch_id.into(),
            assigned_rep_id: r.assigned_rep_id.map(Into::into),
            location,
            geofence_radius_m: r.geofence_radius_m,
            contact_name: r.contact_name,
            contact_position: r.contact_position,
            contact_phone: r.contact_phone,
            created_on: r.created_on,
            class: parse("class", &r.class, CustomerClass::parse)?,
            previous_level: r.previous_level.as_deref().map(|l| parse("previous_level", l, CustomerClass::parse)).transpose()?,
            ownership: parse("ownership", &r.ownership, crate::domain::customer::Ownership::parse)?,
            dp: r.dp,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct TaskRow {
    pub seq: i64,
    pub id: Uuid,
    pub customer_id: Uuid,
    pub branch_id: Uuid,
    pub assignee_id: Uuid,
    pub task_type: String,
    pub required_method: String,
    pub due_date: NaiveDate,
    pub status: String,
    pub origin_visit_id: Option<Uuid>,
    pub origin: String,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<Uuid>,
    pub confirmation_note: Option<String>,
}

impl TryFrom<TaskRow> for Task {
    type Error = RepoError;
    fn try_from(r: TaskRow) -> Result<Self, RepoError> {
        Ok(Task {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            branch_id: r.branch_id.into(),
            assignee_id: r.assignee_id.into(),
            task_type: parse("task type", &r.task_type, TaskType::parse)?,
            required_method: parse("required method", &r.required_method, RequiredMethod::parse)?,
            due_date: r.due_date,
            status: parse("task status", &r.status, TaskStatus::parse)?,
            origin_visit_id: r.origin_visit_id.map(Into::into),
            origin: r.origin,
            note: r.note,
            created_by: r.created_by.map(Into::into),
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
            confirmed_by: r.confirmed_by.map(Into::into),
            confirmation_note: r.confirmation_note,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct VisitRow {
    pub seq: i64,
    pub id: Uuid,
    pub rep_id: Uuid,
    pub branch_id: Uuid,
    pub content: Json<VisitContent>,
    pub content_hash: String,
    pub visit_date: Option<NaiveDate>,
    pub status: String,
    pub review_status: String,
    pub score: Option<i64>,
    pub deducted_points: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub revisit_task_id: Option<Uuid>,
    pub needs_hq_help: bool,
    pub review_due_date: Option<NaiveDate>,
    pub review_escalated_at: Option<DateTime<Utc>>,
    pub policy_version: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<VisitRow> for Visit {
    type Error = RepoError;
    fn try_from(r: VisitRow) -> Result<Self, RepoError> {
        Ok(Visit {
            id: r.id.into(),
            rep_id: r.rep_id.into(),
            branch_id: r.branch_id.into(),
            content: r.content.0,
            visit_date: r.visit_date,
            status: parse("visit status", &r.status, VisitStatus::parse)?,
            review_status: parse("review status", &r.review_status, ReviewStatus::parse)?,
            score: r.score.map(|s| to_u32("score", s)).transpose()?,
            deducted_points: to_u32("deducted points", r.deducted_points)?,
            submitted_at: r.submitted_at,
            revisit_task_id: r.revisit_task_id.map(Into::into),
            needs_hq_help: r.needs_hq_help,
            review_due_date: r.review_due_date,
            review_escalated_at: r.review_escalated_at,
            policy_version: r.policy_version,
            content_hash: r.content_hash,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct PhotoRow {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub kind: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub storage_key: String,
    pub capture: Json<CaptureMeta>,
    pub facts: Json<PhotoFacts>,
    pub findings: Json<Vec<Finding>>,
    pub received_at: DateTime<Utc>,
}

impl TryFrom<PhotoRow> for Photo {
    type Error = RepoError;
    fn try_from(r: PhotoRow) -> Result<Self, RepoError> {
        Ok(Photo {
            id: r.id.into(),
            visit_id: r.visit_id.into(),
            kind: parse("photo kind", &r.kind, PhotoKind::parse)?,
            sha256: r.sha256,
            size_bytes: u64::try_from(r.size_bytes).map_err(|_| RepoError::Corrupt("negative size".into()))?,
            content_type: r.content_type,
            storage_key: r.storage_key,
            capture: r.capture.0,
            facts: r.facts.0,
            findings: r.findings.0,
            received_at: r.received_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct FindingRow {
    pub photo_id: Option<Uuid>,
    pub code: String,
    pub severity: String,
    pub penalty: i64,
    pub evidence: Json<serde_json::Value>,
    pub message_id: String,
    pub message_en: String,
}

impl TryFrom<FindingRow> for Finding {
    type Error = RepoError;
    fn try_from(r: FindingRow) -> Result<Self, RepoError> {
        Ok(Finding {
            code: parse("finding code", &r.code, FindingCode::parse)?,
            severity: parse("severity", &r.severity, |s| serde_json::from_value::<Severity>(s.into()).ok())?,
            penalty: to_u32("penalty", r.penalty)?,
            photo_id: r.photo_id.map(Into::into),
            evidence: r.evidence.0,
            message_id: r.message_id,
            message_en: r.message_en,
        })
    }
}

pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Minor => "minor",
        Severity::Major => "major",
        Severity::Blocking => "blocking",
    }
}

/// A finding with the visit it belongs to (the batched read of the review queue).
#[derive(sqlx::FromRow)]
pub struct VisitFindingRow {
    pub visit_id: Uuid,
    #[sqlx(flatten)]
    pub finding: FindingRow,
}

#[derive(sqlx::FromRow)]
pub struct ReviewRow {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub reviewer_id: Uuid,
    pub decision: String,
    pub comment: Option<String>,
    pub deduct_points: i64,
    pub revisit_task_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ReviewRow> for Review {
    type Error = RepoError;
    fn try_from(r: ReviewRow) -> Result<Self, RepoError> {
        Ok(Review {
            id: r.id.into(),
            visit_id: r.visit_id.into(),
            reviewer_id: r.reviewer_id.into(),
            decision: parse("decision", &r.decision, Decision::parse)?,
            comment: r.comment,
            deduct_points: to_u32("deduct points", r.deduct_points)?,
            revisit_task_id: r.revisit_task_id.map(Into::into),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub detail: Json<serde_json::Value>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            at: r.at,
            actor_id: r.actor_id.map(Into::into),
            action: r.action,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            detail: r.detail.0,
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct LeadRow {
    pub seq: i64,
    pub id: Uuid,
    pub branch_id: Uuid,
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: String,
    pub need: String,
    pub region: Option<String>,
    pub product: Option<String>,
    pub segment: Option<String>,
    pub need_confirmed: bool,
    pub budget_confirmed: bool,
    pub expected_purchase_on: Option<NaiveDate>,
    pub rating: String,
    pub stage: String,
    pub lost_reason: Option<String>,
    pub next_contact_on: Option<NaiveDate>,
    pub assignee_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub merged_into: Option<Uuid>,
    pub received_at: DateTime<Utc>,
    pub first_contact_due_at: DateTime<Utc>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub contract_value: Option<i64>,
    pub contract_product: Option<String>,
    pub contract_ends_on: Option<NaiveDate>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<LeadRow> for crate::domain::lead::Lead {
    type Error = RepoError;
    fn try_from(r: LeadRow) -> Result<Self, RepoError> {
        use crate::domain::lead::{Qualification, Rating, Stage};
        Ok(Self {
            id: r.id.into(),
            branch_id: r.branch_id.into(),
            name: r.name,
            company: r.company,
            phone: r.phone,
            email: r.email,
            source: r.source,
            need: r.need,
            region: r.region,
            product: r.product,
            segment: r.segment,
            qualification: Qualification {
                need_confirmed: r.need_confirmed,
                budget_confirmed: r.budget_confirmed,
                expected_purchase_on: r.expected_purchase_on,
            },
            rating: parse("rating", &r.rating, Rating::parse)?,
            stage: parse("stage", &r.stage, Stage::parse)?,
            lost_reason: r.lost_reason,
            next_contact_on: r.next_contact_on,
            assignee_id: r.assignee_id.map(Into::into),
            customer_id: r.customer_id.map(Into::into),
            merged_into: r.merged_into.map(Into::into),
            received_at: r.received_at,
            first_contact_due_at: r.first_contact_due_at,
            first_contacted_at: r.first_contacted_at,
            sla_breached_at: r.sla_breached_at,
            closed_at: r.closed_at,
            contract: match (r.contract_value, r.contract_product, r.contract_ends_on) {
                (Some(value), Some(product), Some(ends_on)) => Some(crate::domain::lead::Contract { value, product, ends_on }),
                _ => None,
            },
            created_by: r.created_by.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct PipelineLeadRow {
    #[sqlx(flatten)]
    pub lead: LeadRow,
    pub quoted: bool,
    pub quoted_amount: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub struct ActivityRow {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub summary: String,
    pub answered: Option<bool>,
    pub actor_id: Option<Uuid>,
    pub logged_at: DateTime<Utc>,
}

impl TryFrom<ActivityRow> for crate::domain::lead::Activity {
    type Error = RepoError;
    fn try_from(r: ActivityRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: r.id.into(),
            lead_id: r.lead_id.into(),
            kind: parse("activity kind", &r.kind, crate::domain::lead::ActivityKind::parse)?,
            occurred_at: r.occurred_at,
            summary: r.summary,
            answered: r.answered,
            actor_id: r.actor_id.map(Into::into),
            logged_at: r.logged_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct QuotationRow {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub branch_id: Uuid,
    pub number: String,
    pub revision: i64,
    pub amount: i64,
    pub discount_pct: f64,
    pub note: Option<String>,
    pub status: String,
    pub sent_on: Option<NaiveDate>,
    pub approved_by: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revision_requested_at: Option<DateTime<Utc>>,
    pub finding: Option<String>,
    pub document_key: Option<String>,
    pub document_bytes: Option<i64>,
    pub document_sha256: Option<String>,
}

impl TryFrom<QuotationRow> for crate::domain::lead::Quotation {
    type Error = RepoError;
    fn try_from(r: QuotationRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: r.id.into(),
            lead_id: r.lead_id.into(),
            branch_id: r.branch_id.into(),
            number: r.number,
            revision: to_u32("revision", r.revision)?,
            amount: r.amount,
            discount_pct: r.discount_pct,
            note: r.note,
            status: parse("quotation status", &r.status, crate::domain::lead::QuotationStatus::parse)?,
            sent_on: r.sent_on,
            approved_by: r.approved_by.map(Into::into),
            revision_requested_at: r.revision_requested_at,
            finding: r.finding,
            document: match (r.document_key, r.document_bytes, r.document_sha256) {
                (Some(key), Some(bytes), Some(sha256)) => Some(crate::domain::lead::QuotationDocument { key, bytes, sha256 }),
                _ => None,
            },
            created_by: r.created_by.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SentQuotationRow {
    #[sqlx(flatten)]
    pub quotation: QuotationRow,
    pub rep_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
pub struct FollowUpRow {
    pub seq: i64,
    pub id: Uuid,
    pub branch_id: Uuid,
    pub assignee_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub quotation_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub service_case_id: Option<Uuid>,
    pub cadence: String,
    pub step: i64,
    pub step_name: String,
    pub purpose: String,
    pub due_date: NaiveDate,
    pub status: String,
    pub answered: Option<bool>,
    pub note: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub outcome: Option<Json<serde_json::Value>>,
    pub finding: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<FollowUpRow> for crate::domain::cadence::FollowUp {
    type Error = RepoError;
    fn try_from(r: FollowUpRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: r.id.into(),
            branch_id: r.branch_id.into(),
            assignee_id: r.assignee_id.into(),
            lead_id: r.lead_id.map(Into::into),
            quotation_id: r.quotation_id.map(Into::into),
            customer_id: r.customer_id.map(Into::into),
            service_case_id: r.service_case_id.map(Into::into),
            cadence: r.cadence,
            step: to_u32("step", r.step)?,
            step_name: r.step_name,
            purpose: r.purpose,
            due_date: r.due_date,
            status: parse("follow-up status", &r.status, crate::domain::cadence::FollowUpStatus::parse)?,
            answered: r.answered,
            note: r.note,
            done_at: r.done_at,
            done_by: r.done_by.map(Into::into),
            outcome: r.outcome.map(|j| j.0),
            finding: r.finding,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ServiceCaseRow {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub customer_id: Uuid,
    pub kind: String,
    pub summary: String,
    pub completed_on: NaiveDate,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ServiceCaseRow> for crate::domain::cadence::ServiceCase {
    type Error = RepoError;
    fn try_from(r: ServiceCaseRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: r.id.into(),
            branch_id: r.branch_id.into(),
            customer_id: r.customer_id.into(),
            kind: parse("service kind", &r.kind, crate::domain::cadence::ServiceKind::parse)?,
            summary: r.summary,
            completed_on: r.completed_on,
            created_by: r.created_by.into(),
            created_at: r.created_at,
        })
    }
}
