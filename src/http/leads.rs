//! `/v1/leads`: the CRM's leads, their pipeline stage and their activity timeline.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{self, query_text};
use super::responses::List;
use crate::app::leads::LeadFilter;
use crate::app::leads::{self, ActivityInput, Duplicate, LeadInput, StageInput};
use crate::app::App;
use crate::domain::ids::{ActivityId, BranchId, CustomerId, LeadId, UserId};
use crate::domain::lead::{Activity, ActivityKind, Lead, Qualification, Rating, Stage};
use crate::domain::role::Scope;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadBody {
    pub branch_id: Option<Uuid>,
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: String,
    pub need: String,
    pub region: Option<String>,
    pub product: Option<String>,
    pub segment: Option<String>,
    #[serde(default)]
    pub need_confirmed: bool,
    #[serde(default)]
    pub budget_confirmed: bool,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub expected_purchase_on: Option<NaiveDate>,
    pub assignee_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_instant")]
    pub received_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Deserialize)]
pub struct LeadListQuery {
    pub branch_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub stage: Option<Stage>,
    pub rating: Option<Rating>,
    pub sla_breached: Option<bool>,
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    /// The client's id for the entry, so that a retry is not a second entry.
    pub id: Option<Uuid>,
    pub kind: ActivityKind,
    #[serde(default, deserialize_with = "crate::http::dates::opt_instant")]
    pub occurred_at: Option<DateTime<FixedOffset>>,
    pub summary: String,
    pub answered: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageBody {
    pub stage: Stage,
    pub lost_reason: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub next_contact_on: Option<NaiveDate>,
    pub customer_id: Option<Uuid>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The lead kept: this one is merged into it.
    pub into: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractBody {
    pub value: i64,
    pub product: String,
    #[serde(deserialize_with = "crate::http::dates::date")]
    pub ends_on: NaiveDate,
}

#[derive(Debug, Deserialize)]
pub struct DuplicatesQuery {
    pub branch_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
pub struct PipelineQuery {
    pub week: Option<String>,
    pub month: Option<String>,
    pub branch_id: Option<Uuid>,
}

/// Where the lead's first contact stands.
#[derive(Serialize)]
pub struct FirstContactView {
    pub due_at: DateTime<Utc>,
    pub contacted_at: Option<DateTime<Utc>>,
    /// `pending` (not yet, not late), `met`, or `late` (found by the periodic check, or made after
    /// the deadline).
    pub status: &'static str,
    pub breached_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
pub struct LeadView {
    pub id: LeadId,
    pub branch_id: BranchId,
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
    pub rating: Rating,
    pub stage: Stage,
    pub lost_reason: Option<String>,
    pub next_contact_on: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
    pub customer_id: Option<CustomerId>,
    pub merged_into: Option<LeadId>,
    pub received_at: DateTime<Utc>,
    pub first_contact: FirstContactView,
    /// When the deal was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    pub contract: Option<crate::domain::lead::Contract>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Lead> for LeadView {
    fn from(l: Lead) -> Self {
        // Once found late it stays late, whatever contact is logged (or back-dated) after.
        let status = match (l.first_contacted_at, l.sla_breached_at) {
            (_, Some(_)) => "late",
            (Some(at), None) if at <= l.first_contact_due_at => "met",
            (Some(_), None) => "late",
            (None, None) => "pending",
        };
        LeadView {
            id: l.id,
            branch_id: l.branch_id,
            name: l.name,
            company: l.company,
            phone: l.phone,
            email: l.email,
            source: l.source,
            need: l.need,
            region: l.region,
            product: l.product,
            segment: l.segment,
            need_confirmed: l.qualification.need_confirmed,
            budget_confirmed: l.qualification.budget_confirmed,
            expected_purchase_on: l.qualification.expected_purchase_on,
            rating: l.rating,
            stage: l.stage,
            lost_reason: l.lost_reason,
            next_contact_on: l.next_contact_on,
            assignee_id: l.assignee_id,
            customer_id: l.customer_id,
            merged_into: l.merged_into,
            received_at: l.received_at,
            first_contact: FirstContactView {
                due_at: l.first_contact_due_at,
                contacted_at: l.first_contacted_at,
                status,
                breached_at: l.sla_breached_at,
            },
            closed_at: l.closed_at,
            contract: l.contract,
            created_by: l.created_by,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Serialize)]
struct SavedView {
    #[serde(flatten)]
    lead: LeadView,
    duplicates: Vec<Duplicate>,
}

pub async fn put(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<LeadBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = LeadInput {
        branch_id: b.branch_id.map(BranchId),
        name: b.name,
        company: b.company,
        phone: b.phone,
        email: b.email,
        source: b.source,
        need: b.need,
        region: b.region,
        product: b.product,
        segment: b.segment,
        qualification: Qualification {
            need_confirmed: b.need_confirmed,
            budget_confirmed: b.budget_confirmed,
            expected_purchase_on: b.expected_purchase_on,
        },
        assignee_id: b.assignee_id.map(UserId),
        received_at: b.received_at.map(|t| t.with_timezone(&Utc)),
        imported: false,
    };
    let saved = leads::create(&app, &actor, LeadId(id.into_inner()), input).await?;
    let view = SavedView { lead: saved.lead.into(), duplicates: saved.duplicates };
    Ok(if saved.created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

pub async fn get(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let lead = leads::get(&app, &actor, LeadId(id.into_inner())).await?;
    let policy = crate::app::policies::policy_now(&app).await?;
    let duplicates = leads::duplicates(&app, &actor, &policy.leads, &lead).await?;
    Ok(HttpResponse::Ok().json(SavedView { lead: lead.into(), duplicates }))
}

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<LeadListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let filter = LeadFilter {
        scope: Scope::nothing(),
        branch_id: q.branch_id.map(BranchId),
        assignee_id: q.assignee_id.map(UserId),
        stage: q.stage,
        rating: q.rating,
        sla_breached: q.sla_breached,
        q: query_text("q", q.q, 100)?,
    };
    let paged = leads::list(&app, &actor, filter, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, LeadView::from)))
}

pub async fn add_activity(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ActivityBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = ActivityInput {
        id: b.id.map_or_else(ActivityId::new_random, ActivityId),
        kind: b.kind,
        occurred_at: b.occurred_at.map(|t| t.with_timezone(&Utc)),
        summary: b.summary,
        answered: b.answered,
    };
    let (activity, created) = leads::log_activity(&app, &actor, LeadId(id.into_inner()), input).await?;
    Ok(if created { HttpResponse::Created().json(activity) } else { HttpResponse::Ok().json(activity) })
}

pub async fn activities(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let items: Vec<Activity> = leads::timeline(&app, &actor, LeadId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn stage(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<StageBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = StageInput {
        stage: b.stage,
        lost_reason: b.lost_reason,
        next_contact_on: b.next_contact_on,
        customer_id: b.customer_id.map(CustomerId),
        note: b.note,
    };
    let lead = leads::change_stage(&app, &actor, LeadId(id.into_inner()), input).await?;
    Ok(HttpResponse::Ok().json(LeadView::from(lead)))
}

/// `POST /v1/leads/{id}/merge`.
pub async fn merge(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<MergeBody>,
) -> Result<HttpResponse, ApiError> {
    let kept = crate::app::lead_merges::merge(&app, &actor, LeadId(id.into_inner()), LeadId(body.into_inner().into)).await?;
    Ok(HttpResponse::Ok().json(LeadView::from(kept)))
}

/// `GET /v1/reports/lead-duplicates`.
pub async fn duplicates(app: web::Data<App>, Authed(actor): Authed, q: web::Query<DuplicatesQuery>) -> Result<HttpResponse, ApiError> {
    let items = crate::app::lead_merges::report(&app, &actor, q.branch_id.map(BranchId)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// `PUT /v1/leads/{id}/contract`.
pub async fn contract(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ContractBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = leads::ContractInput { value: b.value, product: b.product, ends_on: b.ends_on };
    let lead = leads::put_contract(&app, &actor, LeadId(id.into_inner()), input).await?;
    Ok(HttpResponse::Ok().json(LeadView::from(lead)))
}

/// `GET /v1/reports/pipeline?week=YYYY-Www|month=YYYY-MM`.
pub async fn pipeline(app: web::Data<App>, Authed(actor): Authed, q: web::Query<PipelineQuery>) -> Result<HttpResponse, ApiError> {
    let r = crate::app::pipeline::report(&app, &actor, q.week.as_deref(), q.month.as_deref(), q.branch_id.map(BranchId)).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// `GET /v1/exports/pipeline.csv?week=YYYY-Www|month=YYYY-MM`.
pub async fn pipeline_csv(app: web::Data<App>, Authed(actor): Authed, q: web::Query<PipelineQuery>) -> Result<HttpResponse, ApiError> {
    let r = crate::app::pipeline::report(&app, &actor, q.week.as_deref(), q.month.as_deref(), q.branch_id.map(BranchId)).await?;
    let body = crate::app::pipeline::csv(&r)?;
    let name = format!("pipeline-{}.csv", r.period);
    Ok(super::exports::download("text/csv; charset=utf-8", &name, futures_util::stream::once(async move { Ok(body) })))
}
