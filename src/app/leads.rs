//! Leads (the CRM and leads SOPs): entered with the SOP's minimum data, rated hot / warm / cold,
//! checked for duplicates, distributed by the policy's rules, first contacted within the SLA,
//! moved through the pipeline, and every interaction kept in one timeline.
//!
//! A rep sees the leads assigned to them; branch marketing and the supervisor their branch's;
//! HQ and admin all. The periodic `lead_sla` job (every 5 minutes) marks each lead whose first
//! contact is late, once, and raises `lead.sla_breached` for the supervisor and branch
//! marketing, who find them at `GET /v1/leads?sla_breached=true`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::{App, AppError};
pub use crate::db::LeadFilter;
use crate::db::{LeadChange, NewJob};
use crate::domain::ids::{ActivityId, BranchId, CustomerId, LeadId, UserId};
use crate::domain::lead::{self, Activity, ActivityKind, DuplicateReason, Lead, Qualification, Stage};
use crate::domain::page::{Page, Paged};
use crate::domain::policy::LeadPolicy;
use crate::domain::role::{Actor, Role, Scope};
use crate::domain::time::local_date;

/// The job kind that finds late first contacts.
pub const SLA_JOB: &str = "lead_sla";
/// Duplicate candidates compared per new lead (the branch's most recent).
const DUPLICATE_SCAN: u32 = 5_000;
/// A clock a few minutes ahead on the phone is not a lie about the future.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// What a new lead says; the server adds the rest.
#[derive(Debug, Clone)]
pub struct LeadInput {
    pub branch_id: Option<BranchId>,
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub source: String,
    pub need: String,
    pub region: Option<String>,
    pub product: Option<String>,
    pub segment: Option<String>,
    pub qualification: Qualification,
    pub assignee_id: Option<UserId>,
    pub received_at: Option<DateTime<Utc>>,
    /// From an import: `received_at` may be years back (the lead's history), and the first
    /// contact is due counting from the import, when FieldProof received it.
    pub imported: bool,
}

/// Another lead that looks like the same person. A rep is told only that one exists and why
/// when it is not theirs to see (as with reused photos).
#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<LeadId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub reason: DuplicateReason,
}

/// A lead as its caller sees it, with the duplicates found when it was entered.
#[derive(Debug, Clone)]
pub struct LeadSaved {
    pub lead: Lead,
    pub duplicates: Vec<Duplicate>,
    /// `false` for a retry that found the lead stored.
    pub created: bool,
}

fn visible(actor: &Actor, l: &Lead) -> bool {
    match actor.scope() {
        Scope::Own(me) => l.assignee_id == Some(me) || (l.assignee_id.is_none() && l.created_by == me),
        Scope::Branch(b) => b == l.branch_id,
        Scope::All => true,
    }
}

/// A lead the actor may see, or 404 (another branch's lead is not told apart from none).
pub async fn get(app: &App, actor: &Actor, id: LeadId) -> Result<Lead, AppError> {
    match app.repo.get_lead(id).await? {
        Some(l) if visible(actor, &l) => Ok(l),
        _ => Err(AppError::not_found("lead_not_found", format!("lead {id} not found"))),
    }
}

pub async fn list(app: &App, actor: &Actor, mut filter: LeadFilter, page: Page) -> Result<Paged<Lead>, AppError> {
    filter.scope = actor.scope();
    Ok(app.repo.list_leads(&filter, page).await?)
}

/// A trimmed text (empty: absent), at most `max` characters as sent (the contract's `maxLength`).
fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(AppError::invalid("field_too_long", format!("{field}: at most {max} characters")));
    }
    match v.map(|s| s.trim().to_string()) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err(AppError::invalid("invalid_field", format!("{field}: no control characters")))
        }
        Some(s) => Ok(Some(s)),
    }
}

fn required(field: &str, v: String, max: usize) -> Result<String, AppError> {
    text(field, Some(v), max)?.ok_or_else(|| AppError::invalid("field_required", format!("{field} is required")))
}

/// Who gets a new lead, and by which rule: the one named (by marketing), else the first matching
/// distribution rule (round-robin among its assignees), else the rep who entered it.
async fn assignee(
    app: &App,
    actor: &Actor,
    policy: &LeadPolicy,
    branch_code: &str,
    l: &Lead,
    named: Option<UserId>,
) -> Result<(Option<UserId>, Option<usize>), AppError> {
    if let Some(rep) = named {
        super::access::require(actor.role.is_marketing(), "leads are assigned by marketing roles")?;
        check_rep(app, rep, l.branch_id).await?;
        return Ok((Some(rep), None));
    }
    if let Some(i) = lead::distribution_rule(policy, branch_code, l) {
        // Only the rule's sales reps of the lead's branch take turns (a rule may name others).
        let mut team: Vec<UserId> = Vec::new();
        for rep in policy.distribution[i].assignees.iter().copied().map(UserId) {
            if check_rep(app, rep, l.branch_id).await.is_ok() {
                team.push(rep);
            }
        }
        let last = app.repo.last_distributed(i, &team).await?;
        // Round-robin: whoever got a lead from this rule least recently (never first, in order).
        let next = team.iter().min_by_key(|u| last.iter().find(|(a, _)| a == *u).map_or(i64::MIN, |(_, seq)| *seq));
        if let Some(rep) = next {
            return Ok((Some(*rep), Some(i)));
        }
    }
    Ok((if actor.role == Role::Sales { Some(actor.id) } else { None }, None))
}

async fn check_rep(app: &App, rep: UserId, branch: BranchId) -> Result<(), AppError> {
    match app.repo.get_user(rep).await? {
        Some(u) if u.role == Role::Sales && u.branch_id == Some(branch) => Ok(()),
        _ => Err(AppError::invalid("rep_not_found", format!("no sales rep {rep} in the lead's branch"))),
    }
}

/// `PUT /v1/leads/{id}`: enters a lead. The same request again returns the stored lead; another
/// lead's data under a stored id is `409 lead_exists`.
pub async fn create(app: &App, actor: &Actor, id: LeadId, input: LeadInput) -> Result<LeadSaved, AppError> {
    let now = app.now();
    let branch_id = input
        .branch_id
        .or(actor.branch_id)
        .ok_or_else(|| AppError::invalid("field_required", "branch_id is required for users without a branch"))?;
    let branch = match app.repo.get_branch(branch_id).await? {
        Some(b) if actor.can_see_branch(branch_id) => b,
        _ => return Err(AppError::invalid("branch_not_found", format!("branch {branch_id} not found"))),
    };
    let policy = super::policies::policy_now(app).await?;
    let policy = &policy.leads;
    let phone = match text("phone", input.phone, 40)? {
        Some(p) => {
            Some(lead::normalise_phone(&p).ok_or_else(|| AppError::invalid("invalid_phone", format!("{p:?} is not a phone number")))?)
        }
        None => None,
    };
    let email = match text("email", input.email, 254)? {
        Some(e) => {
            Some(lead::normalise_email(&e).ok_or_else(|| AppError::invalid("invalid_email", format!("{e:?} is not an e-mail address")))?)
        }
        None => None,
    };
    if phone.is_none() && email.is_none() {
        return Err(AppError::invalid("lead_contact_required", "a lead needs a phone number or an e-mail address"));
    }
    let received_at = input.received_at.unwrap_or(now);
    let oldest = if input.imported {
        DateTime::<Utc>::from_naive_utc_and_offset(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default().into(), Utc)
    } else {
        now - Duration::days(366)
    };
    if received_at > now + CLOCK_SKEW || received_at < oldest {
        return Err(AppError::invalid(
            "invalid_field",
            "received_at must be within the last year (an import: since 2000) and not in the future",
        ));
    }
    let today = local_date(now, branch.time_zone);
    if let Some(d) = input.qualification.expected_purchase_on {
        if !(2000..=2100).contains(&chrono::Datelike::year(&d)) {
            return Err(AppError::invalid("invalid_field", "expected_purchase_on must be a date between 2000 and 2100"));
        }
    }
    let mut l = Lead {
        id,
        branch_id,
        name: required("name", input.name, 200)?,
        company: text("company", input.company, 200)?,
        phone,
        email,
        source: required("source", input.source, 100)?,
        need: required("need", input.need, 2000)?,
        region: text("region", input.region, 100)?,
        product: text("product", input.product, 100)?,
        segment: text("segment", input.segment, 100)?,
        qualification: input.qualification,
        rating: input.qualification.rating(policy, today),
        stage: Stage::Lead,
        lost_reason: None,
        next_contact_on: None,
        assignee_id: None,
        customer_id: None,
        merged_into: None,
        received_at,
        first_contact_due_at: lead::first_contact_due(if input.imported { received_at.max(now) } else { received_at }, policy),
        first_contacted_at: None,
        sla_breached_at: None,
        closed_at: None,
        contract: None,
        created_by: actor.id,
        created_at: now,
        updated_at: now,
    };
    if let Some(stored) = app.repo.get_lead(id).await? {
        return retried(app, actor, policy, stored, &l).await;
    }
    let (rep, rule) = assignee(app, actor, policy, &branch.code, &l, input.assignee_id).await?;
    l.assignee_id = rep;
    let audit = app.audit(actor, "lead.created", "lead", id.to_string(), json!({ "assignee_id": rep, "distribution_rule": rule }));
    if !app.repo.insert_lead(&l, rule, &audit).await? {
        // A retry that raced this one stored it first.
        let stored = app.repo.get_lead(id).await?.ok_or_else(|| AppError::internal("a lead vanished"))?;
        return retried(app, actor, policy, stored, &l).await;
    }
    let duplicates = duplicates(app, actor, policy, &l).await?;
    Ok(LeadSaved { lead: l, duplicates, created: true })
}

async fn retried(app: &App, actor: &Actor, policy: &LeadPolicy, stored: Lead, sent: &Lead) -> Result<LeadSaved, AppError> {
    let same = (stored.branch_id, &stored.name, &stored.company, &stored.phone, &stored.email, &stored.source, &stored.need)
        == (sent.branch_id, &sent.name, &sent.company, &sent.phone, &sent.email, &sent.source, &sent.need);
    if !visible(actor, &stored) {
        // Entered already (perhaps by this caller, then given to another rep): not told more.
        return Err(AppError::conflict("lead_exists", format!("lead {} exists", sent.id)));
    }
    if !same {
        return Err(AppError::conflict("lead_exists", format!("lead {} exists with other data", sent.id)));
    }
    let duplicates = duplicates(app, actor, policy, &stored).await?;
    Ok(LeadSaved { lead: stored, duplicates, created: false })
}

/// The branch's other leads that look like this one, as the actor may see them.
pub async fn duplicates(app: &App, actor: &Actor, policy: &LeadPolicy, l: &Lead) -> Result<Vec<Duplicate>, AppError> {
    let candidates =
        app.repo.duplicate_candidates(l.branch_id, l.phone.as_deref(), l.email.as_deref(), l.company.is_some(), DUPLICATE_SCAN).await?;
    Ok(candidates
        .iter()
        .filter_map(|other| lead::duplicate_reason(l, other, policy).map(|reason| (other, reason)))
        .map(|(other, reason)| match visible(actor, other) {
            true => Duplicate { lead_id: Some(other.id), name: Some(other.name.clone()), company: other.company.clone(), reason },
            false => Duplicate { lead_id: None, name: None, company: None, reason },
        })
        .take(20)
        .collect())
}

/// What a logged interaction says.
#[derive(Debug, Clone)]
pub struct ActivityInput {
    pub id: ActivityId,
    pub kind: ActivityKind,
    pub occurred_at: Option<DateTime<Utc>>,
    pub summary: String,
    pub answered: Option<bool>,
}

/// The assigned rep, and the branch's marketing and supervisor, work a lead; HQ and admin read it.
pub(crate) async fn workable_lead(app: &App, actor: &Actor, id: LeadId) -> Result<Lead, AppError> {
    let l = get(app, actor, id).await?;
    super::access::require(
        matches!(actor.role, Role::Sales | Role::BranchMarketing | Role::Supervisor),
        "leads are worked by their rep and their branch",
    )?;
    if l.merged_into.is_some() {
        return Err(AppError::conflict("lead_merged", format!("lead {id} was merged into another")));
    }
    Ok(l)
}

/// `POST /v1/leads/{id}/activities`: appends an interaction to the timeline (the same id again
/// is the stored entry). The first call, message, e-mail, meeting or visit is the first contact.
pub async fn log_activity(app: &App, actor: &Actor, lead_id: LeadId, input: ActivityInput) -> Result<(Activity, bool), AppError> {
    let l = workable_lead(app, actor, lead_id).await?;
    if let Some(stored) = app.repo.get_activity(input.id).await? {
        if stored.lead_id != lead_id {
            return Err(AppError::conflict("activity_exists", format!("activity {} belongs to another lead", input.id)));
        }
        return Ok((stored, false));
    }
    if input.kind == ActivityKind::System {
        return Err(AppError::invalid("invalid_field", "kind system is written by the server"));
    }
    let now = app.now();
    let occurred_at = input.occurred_at.unwrap_or(now);
    if occurred_at > now + CLOCK_SKEW || occurred_at < l.received_at {
        return Err(AppError::invalid("invalid_field", "occurred_at must be after the lead was received and not in the future"));
    }
    let a = Activity {
        id: input.id,
        lead_id,
        kind: input.kind,
        occurred_at,
        summary: required("summary", input.summary, 2000)?,
        answered: input.answered,
        actor_id: Some(actor.id),
        logged_at: now,
    };
    let inserted = app.repo.add_activity(&a).await?;
    let stored =
        if inserted { a } else { app.repo.get_activity(input.id).await?.ok_or_else(|| AppError::internal("an activity vanished"))? };
    Ok((stored, inserted))
}

/// Visits of a won deal's customer shown in its lead's timeline (the most recent).
const TIMELINE_VISITS: u32 = 200;

/// `GET /v1/leads/{id}/activities`: the lead's timeline (with those of the records merged into
/// it) and, once the deal is a customer, FieldProof's own submitted visits to that customer, all
/// in the order they happened.
pub async fn timeline(app: &App, actor: &Actor, id: LeadId) -> Result<Vec<Activity>, AppError> {
    let l = get(app, actor, id).await?;
    let mut items = app.repo.list_activities(l.id).await?;
    if let Some(customer) = l.customer_id {
        let mut filter = crate::db::VisitFilter::any();
        filter.customer_id = Some(customer);
        let visits = app.repo.list_visits(&filter, Page { before: None, limit: TIMELINE_VISITS }).await?;
        for v in visits.items {
            let Some(submitted_at) = v.submitted_at else { continue };
            let score = v.score.map(|s| format!(", score {s}")).unwrap_or_default();
            items.push(Activity {
                id: ActivityId(v.id.0),
                lead_id: l.id,
                kind: ActivityKind::Visit,
                occurred_at: v.content.visited_at.unwrap_or(submitted_at),
                summary: format!("record visit {} ({}): {}{score}", v.id, v.content.method.as_str(), v.status.as_str()),
                answered: None,
                actor_id: Some(v.rep_id),
                logged_at: submitted_at,
            });
        }
        // Stable: entries at the same instant keep the order they were logged in.
        items.sort_by_key(|a| a.occurred_at);
    }
    Ok(items)
}

/// A move through the pipeline.
#[derive(Debug, Clone)]
pub struct StageInput {
    pub stage: Stage,
    pub lost_reason: Option<String>,
    pub next_contact_on: Option<NaiveDate>,
    pub customer_id: Option<CustomerId>,
    pub note: Option<String>,
}

/// `POST /v1/leads/{id}/stage`: Lost needs a reason from the policy's list, On-Hold the date of
/// the next contact, Won may link the customer it became. The same move again changes nothing.
pub async fn change_stage(app: &App, actor: &Actor, id: LeadId, input: StageInput) -> Result<Lead, AppError> {
    let mut l = workable_lead(app, actor, id).await?;
    let policy = super::policies::policy_now(app).await?;
    let note = text("note", input.note, 2000)?;
    let lost_reason = text("lost_reason", input.lost_reason, 64)?;
    let unchanged = l.stage == input.stage
        && l.lost_reason == lost_reason
        && l.next_contact_on == input.next_contact_on
        && (input.customer_id.is_none() || l.customer_id == input.customer_id);
    if unchanged {
        return Ok(l);
    }
    if !l.stage.next().contains(&input.stage) {
        return Err(AppError::conflict(
            "stage_not_allowed",
            format!("a {} lead cannot move to {}", l.stage.as_str(), input.stage.as_str()),
        ));
    }
    let branch = app.branch(l.branch_id).await?;
    let today = local_date(app.now(), branch.time_zone);
    match input.stage {
        Stage::Lost => match &lost_reason {
            Some(r) if policy.leads.lost_reasons.iter().any(|x| x == r) => {
                if r == "other" && note.is_none() {
                    return Err(AppError::invalid("field_required", "a lead lost for another reason needs a note"));
                }
            }
            Some(r) => {
                return Err(AppError::invalid(
                    "invalid_lost_reason",
                    format!("{r:?} is not one of the policy's reasons: {}", policy.leads.lost_reasons.join(", ")),
                ))
            }
            None => return Err(AppError::invalid("field_required", "lost_reason is required for a lost lead")),
        },
        Stage::OnHold => match input.next_contact_on {
            Some(d) if d > today && (d - today).num_days() <= 366 => {}
            Some(_) => return Err(AppError::invalid("invalid_field", "next_contact_on must be after today and within a year")),
            None => return Err(AppError::invalid("field_required", "next_contact_on is required for an on-hold lead")),
        },
        _ => {}
    }
    if let Some(c) = input.customer_id {
        if input.stage != Stage::Won {
            return Err(AppError::invalid("invalid_field", "customer_id links a won deal"));
        }
        match app.repo.get_customer(c).await? {
            Some(cust) if cust.branch_id == l.branch_id => {}
            _ => return Err(AppError::invalid("customer_not_found", format!("no customer {c} in the lead's branch"))),
        }
        l.customer_id = Some(c);
    }
    let from = l.stage;
    let read_at = l.updated_at;
    let now = app.now();
    let mut follow_up = None;
    let mut customer = None;
    let mut activity_id = ActivityId::new_random();
    match input.stage {
        Stage::Won => {
            // A won deal becomes a customer (or links the one named), so its visits and
            // classes follow.
            if l.customer_id.is_none() {
                let (c, audit) = super::deals::won_customer(app, actor.id, &l).await?;
                l.customer_id = Some(c.id);
                customer = Some((c, audit));
            }
            l.closed_at = Some(now);
        }
        Stage::Lost => l.closed_at = Some(now),
        Stage::PastClient => {
            // "Mantan Klien" once the contract is done: the contract must be there and over.
            match &l.contract {
                // "ends_on" is the contract's last day: a past client from the day after.
                Some(c) if c.ends_on < today => {}
                Some(c) => return Err(AppError::conflict("contract_running", format!("the contract runs until {}", c.ends_on))),
                None => return Err(AppError::conflict("contract_required", "a past client's contract is recorded first")),
            }
            let (moved, entry, f) = super::deals::to_past_client(app, &branch, l.clone(), &policy.leads, Some(actor.id)).await?;
            l = moved;
            activity_id = entry.id;
            follow_up = Some(f);
        }
        _ => l.closed_at = None,
    }
    l.stage = input.stage;
    l.lost_reason = if input.stage == Stage::Lost { lost_reason.clone() } else { None };
    l.next_contact_on = if input.stage == Stage::OnHold { input.next_contact_on } else { None };
    l.updated_at = now;
    let mut summary = format!("stage {} → {}", from.as_str(), l.stage.as_str());
    if let Some(r) = &l.lost_reason {
        summary.push_str(&format!(" ({r})"));
    }
    if let Some(d) = l.next_contact_on {
        summary.push_str(&format!(", next contact {d}"));
    }
    if let Some(f) = &follow_up {
        summary.push_str(&format!(", reactivation contact due {}", f.due_date));
    }
    if let Some(n) = &note {
        summary.push_str(&format!(": {n}"));
    }
    let activity = Activity {
        id: activity_id,
        lead_id: l.id,
        kind: ActivityKind::System,
        occurred_at: l.updated_at,
        summary,
        answered: None,
        actor_id: Some(actor.id),
        logged_at: l.updated_at,
    };
    let audit = app.audit(
        actor,
        "lead.stage_changed",
        "lead",
        l.id.to_string(),
        json!({ "from": from.as_str(), "to": l.stage.as_str(), "lost_reason": l.lost_reason, "next_contact_on": l.next_contact_on,
                "customer_id": l.customer_id }),
    );
    // Deal, Lost or On-Hold stop the follow-up cadence (quotation SOP step 5).
    let stops_cadence = matches!(l.stage, Stage::Won | Stage::Lost | Stage::OnHold);
    app.repo
        .change_lead(LeadChange {
            lead: &l,
            activity: &activity,
            audit: &audit,
            stops_cadence,
            expected_stage: from,
            read_at,
            follow_up: follow_up.as_ref(),
            customer: customer.as_ref().map(|(c, a)| (c, a)),
        })
        .await
        .map_err(changed)?;
    Ok(l)
}

/// A lead write that lost a race with another (its stage moved meanwhile): `409 lead_changed`,
/// nothing written; the client reads the lead again and decides anew.
pub(crate) fn changed(e: crate::db::RepoError) -> AppError {
    if e.is_conflict_on("leads.stage") {
        AppError::conflict("lead_changed", "the lead's stage changed meanwhile; read it again and retry")
    } else {
        e.into()
    }
}

/// `lead.sla_breached`'s data.
pub fn lead_data(l: &Lead) -> serde_json::Value {
    json!({
        "lead_id": l.id, "branch_id": l.branch_id, "assignee_id": l.assignee_id, "name": l.name, "company": l.company,
        "rating": l.rating.as_str(), "stage": l.stage.as_str(), "received_at": l.received_at,
        "first_contact_due_at": l.first_contact_due_at, "first_contacted_at": l.first_contacted_at,
        "escalate_to": ["supervisor", "branch_marketing"],
    })
}

/// The periodic check: every lead whose first contact is late (none yet past its deadline, or
/// one made after it) is marked once and escalated.
pub async fn check_first_contacts(app: &App) -> Result<usize, String> {
    let now = app.now();
    let event = |l: &Lead| -> NewJob { super::events::event("lead.sla_breached", &l.id.to_string(), now, lead_data(l)) };
    let breached = app.repo.breach_first_contacts(now, &event).await.map_err(|e| e.to_string())?;
    if !breached.is_empty() {
        tracing::info!(count = breached.len(), "first contacts late");
    }
    Ok(breached.len())
}

/// A won deal's contract as sent.
#[derive(Debug, Clone)]
pub struct ContractInput {
    pub value: i64,
    pub product: String,
    pub ends_on: NaiveDate,
}

/// `PUT /v1/leads/{id}/contract`: records (or corrects) a won deal's contract. When it ends the
/// day close makes the lead a past client, with its reactivation task. The same contract again
/// changes nothing.
pub async fn put_contract(app: &App, actor: &Actor, id: LeadId, input: ContractInput) -> Result<Lead, AppError> {
    let mut l = workable_lead(app, actor, id).await?;
    let contract = lead::Contract { value: input.value, product: required("product", input.product, 200)?, ends_on: input.ends_on };
    if !(0..=1_000_000_000_000_000).contains(&contract.value) {
        return Err(AppError::invalid("invalid_field", "value: a whole number of rupiah, 0 to 10^18"));
    }
    if l.contract.as_ref() == Some(&contract) {
        return Ok(l);
    }
    if l.stage != Stage::Won {
        return Err(AppError::conflict("stage_not_allowed", format!("a {} lead has no contract (only a won deal)", l.stage.as_str())));
    }
    let branch = app.branch(l.branch_id).await?;
    let now = app.now();
    let won_on = local_date(l.closed_at.unwrap_or(l.updated_at), branch.time_zone);
    if contract.ends_on < won_on || (contract.ends_on - won_on).num_days() > 366 * 10 {
        return Err(AppError::invalid("invalid_field", "ends_on: on or after the day the deal was won, within 10 years"));
    }
    let read_at = l.updated_at;
    l.contract = Some(contract.clone());
    l.updated_at = now;
    let activity = Activity {
        id: ActivityId::new_random(),
        lead_id: l.id,
        kind: ActivityKind::System,
        occurred_at: now,
        summary: format!("contract {} Rp{} until {}", contract.product, contract.value, contract.ends_on),
        answered: None,
        actor_id: Some(actor.id),
        logged_at: now,
    };
    let audit = app.audit(actor, "lead.contract_recorded", "lead", l.id.to_string(), json!({ "contract": contract }));
    app.repo
        .change_lead(LeadChange {
            lead: &l,
            activity: &activity,
            audit: &audit,
            stops_cadence: false,
            expected_stage: Stage::Won,
            read_at,
            follow_up: None,
            customer: None,
        })
        .await
        .map_err(changed)?;
    Ok(l)
}

/// The day close job's part for the pipeline (after the rest of the close, and again on a retry).
pub async fn run_end_contracts(app: &App, payload: &serde_json::Value) -> Result<(), String> {
    let (branch, date) = super::calendar::day_close_of(payload)?;
    let branch = app.branch(branch).await.map_err(|e| e.to_string())?;
    let moved = end_contracts(app, &branch, date).await.map_err(|e| e.to_string())?;
    if moved > 0 {
        tracing::info!(branch = %branch.code, %date, count = moved, "contracts ended: past clients");
    }
    Ok(())
}

/// The day close's part: the branch's won deals whose contract ended on `date` or before become
/// past clients, each with its reactivation task. A lead moved meanwhile is left to that move.
pub async fn end_contracts(app: &App, branch: &crate::domain::directory::Branch, date: NaiveDate) -> Result<usize, AppError> {
    let policy = super::policies::policy_now(app).await?;
    let mut moved = 0;
    for l in app.repo.ended_contracts(branch.id, date, 500).await? {
        let read_at = l.updated_at;
        let (past, entry, follow_up) = super::deals::to_past_client(app, branch, l, &policy.leads, None).await?;
        let audit = crate::domain::audit::AuditEntry {
            at: past.updated_at,
            actor_id: None,
            action: "lead.stage_changed".into(),
            subject_type: "lead".into(),
            subject_id: past.id.to_string(),
            detail: json!({ "from": "won", "to": "past_client", "closed_by": "day_close", "reactivation_due": follow_up.due_date }),
        };
        let change = LeadChange {
            lead: &past,
            activity: &entry,
            audit: &audit,
            stops_cadence: false,
            expected_stage: Stage::Won,
            read_at,
            follow_up: Some(&follow_up),
            customer: None,
        };
        match app.repo.change_lead(change).await {
            Ok(()) => moved += 1,
            Err(e) if e.is_conflict_on("leads.stage") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(moved)
}
