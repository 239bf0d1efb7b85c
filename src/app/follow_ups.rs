//! Quotations and their follow-up cadence (the quotation SOP), on the branch calendar and the
//! day close.
//!
//! Sending a quotation moves its lead to Quotation Sent and starts the policy's `quotation`
//! cadence: each step is a follow-up task for the lead's rep, due a number of working days
//! after the sending or after the previous step was done (H+1 receipt, H+3 technical, H+5
//! commercial by default). Doing a step creates the next; after `max_unanswered` attempts the
//! lead did not answer, a closing-message step is due the next working day and the lead goes
//! On-Hold. Won, Lost or On-Hold stop the cadence (its open steps are cancelled), as does a new
//! revision (which starts its own). A discount beyond `policy.max_discount_pct` waits for the
//! supervisor's approval before it is sent. At the branch's midnight the day close (in
//! `calendar`) marks the open steps due that day or before missed and escalates them
//! (`follow_up.missed`).

use chrono::{Days, NaiveDate};
use serde_json::json;

use super::leads::{self as leads_app};
use super::{App, AppError};
pub use crate::db::FollowUpFilter;
use crate::db::{FollowUpDone, LeadChange, QuotationWrite};
use crate::domain::audit::AuditEntry;
use crate::domain::cadence::{self, Cadence, FollowUp, FollowUpStatus, CLOSING_MESSAGE};
use crate::domain::ids::{ActivityId, FollowUpId, LeadId, QuotationId};
use crate::domain::lead::{Activity, ActivityKind, Lead, Quotation, QuotationStatus, Stage};
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};
use crate::domain::time::local_date;

/// The cadence quotations follow.
const QUOTATION_CADENCE: &str = "quotation";

/// What a quotation says.
#[derive(Debug, Clone)]
pub struct QuotationInput {
    pub number: String,
    pub amount: i64,
    pub discount_pct: f64,
    pub note: Option<String>,
}

fn system_entry(l: &Lead, actor: &Actor, at: chrono::DateTime<chrono::Utc>, summary: String) -> Activity {
    Activity {
        id: ActivityId::new_random(),
        lead_id: l.id,
        kind: ActivityKind::System,
        occurred_at: at,
        summary,
        answered: None,
        actor_id: Some(actor.id),
        logged_at: at,
    }
}

async fn cadence_of(app: &App) -> Result<Cadence, AppError> {
    let policy = super::policies::policy_now(app).await?;
    policy.cadences.get(QUOTATION_CADENCE).cloned().ok_or_else(|| AppError::internal("the policy has no quotation cadence"))
}

/// Step `index` of the quotation's cadence as a follow-up, due from `previous_done` (or the
/// sending).
fn step_task(c: &Cadence, index: usize, q: &Quotation, l: &Lead, due_date: NaiveDate, now: chrono::DateTime<chrono::Utc>) -> FollowUp {
    let (name, purpose) = match c.steps.get(index) {
        Some(s) => (s.name.clone(), s.purpose.clone()),
        None => (
            CLOSING_MESSAGE.to_string(),
            "Kirim satu pesan penutup yang sopan: tetap siap membantu bila dibutuhkan di kemudian hari.".to_string(),
        ),
    };
    FollowUp {
        // One id per quotation and step: a retry that raced this one names the same task.
        id: FollowUpId(uuid::Uuid::new_v5(&q.id.0, format!("step:{index}").as_bytes())),
        branch_id: l.branch_id,
        assignee_id: l.assignee_id.unwrap_or(q.created_by),
        lead_id: l.id,
        quotation_id: Some(q.id),
        cadence: QUOTATION_CADENCE.to_string(),
        step: index as u32,
        step_name: name,
        purpose,
        due_date,
        status: FollowUpStatus::Open,
        answered: None,
        note: None,
        done_at: None,
        done_by: None,
        created_at: now,
    }
}

/// What sending starts: the lead at Quotation Sent (when the pipeline allows it) and the first
/// step of the cadence.
async fn sending(app: &App, actor: &Actor, mut lead: Lead, q: &Quotation) -> Result<(Lead, FollowUp, Activity, AuditEntry), AppError> {
    let branch = app.branch(lead.branch_id).await?;
    let sent_on = q.sent_on.ok_or_else(|| AppError::internal("a quotation sent without a date"))?;
    let cal = super::calendar::calendar(app, &branch, sent_on).await?;
    let c = cadence_of(app).await?;
    let due = cadence::due(&c, 0, sent_on, None, &cal).ok_or_else(|| AppError::internal("a cadence without steps"))?;
    let first = step_task(&c, 0, q, &lead, due, q.updated_at);
    let from = lead.stage;
    if lead.stage != Stage::QuotationSent && lead.stage.next().contains(&Stage::QuotationSent) {
        lead.stage = Stage::QuotationSent;
        lead.next_contact_on = None;
    }
    lead.updated_at = q.updated_at;
    let entry = system_entry(
        &lead,
        actor,
        q.updated_at,
        format!("quotation {} sent (stage {} → {})", q.label(), from.as_str(), lead.stage.as_str()),
    );
    let audit = app.audit(
        actor,
        "lead.quotation_sent",
        "lead",
        lead.id.to_string(),
        json!({ "quotation_id": q.id, "label": q.label(), "amount": q.amount, "discount_pct": q.discount_pct, "approved_by": q.approved_by }),
    );
    Ok((lead, first, entry, audit))
}

/// `PUT /v1/leads/{id}/quotations/{quotation_id}`: a quotation (or its next revision) for the
/// lead. Sent at once, or — a discount beyond the policy by anyone but the supervisor — kept
/// until the supervisor approves. The same PUT again returns the stored quotation.
pub async fn put_quotation(
    app: &App,
    actor: &Actor,
    lead_id: LeadId,
    id: QuotationId,
    input: QuotationInput,
) -> Result<(Quotation, bool), AppError> {
    let lead = leads_app::workable_lead(app, actor, lead_id).await?;
    if let Some(stored) = app.repo.get_quotation(id).await? {
        if stored.lead_id != lead_id || stored.number != input.number.trim() || stored.amount != input.amount {
            return Err(AppError::conflict("quotation_exists", format!("quotation {id} exists with other data")));
        }
        return Ok((stored, false));
    }
    let number = input.number.trim().to_string();
    if number.is_empty() || number.chars().count() > 64 {
        return Err(AppError::invalid("invalid_field", "number: 1 to 64 characters"));
    }
    if !(0..=1_000_000_000_000_000).contains(&input.amount) {
        return Err(AppError::invalid("invalid_field", "amount: a whole number of rupiah, 0 to 10^18"));
    }
    if !(input.discount_pct.is_finite() && (0.0..=100.0).contains(&input.discount_pct)) {
        return Err(AppError::invalid("invalid_field", "discount_pct: 0 to 100"));
    }
    if matches!(lead.stage, Stage::Won | Stage::PastClient) {
        return Err(AppError::conflict("stage_not_allowed", format!("a {} lead gets no quotation", lead.stage.as_str())));
    }
    let policy = super::policies::policy_now(app).await?;
    let branch = app.branch(lead.branch_id).await?;
    let now = app.now();
    let today = local_date(now, branch.time_zone);
    let needs_approval = input.discount_pct > policy.max_discount_pct && actor.role != Role::Supervisor;
    let revision = app.repo.list_quotations(lead_id).await?.len() as u32;
    let q = Quotation {
        id,
        lead_id,
        branch_id: lead.branch_id,
        number,
        revision,
        amount: input.amount,
        discount_pct: input.discount_pct,
        note: input.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        status: if needs_approval { QuotationStatus::AwaitingApproval } else { QuotationStatus::Sent },
        sent_on: (!needs_approval).then_some(today),
        approved_by: (!needs_approval && input.discount_pct > policy.max_discount_pct).then_some(actor.id),
        created_by: actor.id,
        created_at: now,
        updated_at: now,
    };
    if q.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::invalid("field_too_long", "note: at most 2000 characters"));
    }
    let inserted = if needs_approval {
        let entry = system_entry(
            &lead,
            actor,
            now,
            format!("quotation {} awaits the supervisor's approval ({}% discount)", q.label(), q.discount_pct),
        );
        let audit = app.audit(actor, "lead.quotation_awaiting_approval", "lead", lead.id.to_string(), json!({ "quotation_id": q.id }));
        let mut same = lead.clone();
        same.updated_at = now;
        app.repo
            .insert_quotation(QuotationWrite {
                quotation: &q,
                first_follow_up: None,
                lead: Some(LeadChange { lead: &same, activity: &entry, audit: &audit, stops_cadence: false }),
            })
            .await?
    } else {
        let (moved, first, entry, audit) = sending(app, actor, lead, &q).await?;
        app.repo
            .insert_quotation(QuotationWrite {
                quotation: &q,
                first_follow_up: Some(&first),
                lead: Some(LeadChange { lead: &moved, activity: &entry, audit: &audit, stops_cadence: false }),
            })
            .await?
    };
    if !inserted {
        // A retry raced this one, or another revision took this number: read what is stored.
        let stored = app
            .repo
            .get_quotation(id)
            .await?
            .ok_or_else(|| AppError::conflict("quotation_exists", "another revision was sent at the same time; send again"))?;
        return Ok((stored, false));
    }
    Ok((q, true))
}

/// `POST /v1/quotations/{id}/approve`: the branch's supervisor approves the discount; the
/// quotation is sent that day and its cadence starts.
pub async fn approve(app: &App, actor: &Actor, id: QuotationId) -> Result<Quotation, AppError> {
    let mut q = visible_quotation(app, actor, id).await?;
    super::access::require(actor.role == Role::Supervisor, "discounts are approved by the branch's supervisor")?;
    if q.status != QuotationStatus::AwaitingApproval {
        return match (q.status, q.approved_by) {
            (QuotationStatus::Sent, Some(by)) if by == actor.id => Ok(q),
            _ => Err(AppError::conflict("quotation_not_awaiting", format!("quotation {id} is not awaiting approval"))),
        };
    }
    let lead = app.repo.get_lead(q.lead_id).await?.ok_or_else(|| AppError::internal("a quotation without its lead"))?;
    let branch = app.branch(lead.branch_id).await?;
    let now = app.now();
    q.status = QuotationStatus::Sent;
    q.sent_on = Some(local_date(now, branch.time_zone));
    q.approved_by = Some(actor.id);
    q.updated_at = now;
    let (moved, first, entry, audit) = sending(app, actor, lead, &q).await?;
    let sent = app
        .repo
        .send_approved_quotation(QuotationWrite {
            quotation: &q,
            first_follow_up: Some(&first),
            lead: Some(LeadChange { lead: &moved, activity: &entry, audit: &audit, stops_cadence: false }),
        })
        .await?;
    if !sent {
        return app.repo.get_quotation(id).await?.ok_or_else(|| AppError::internal("a quotation vanished"));
    }
    Ok(q)
}

async fn visible_quotation(app: &App, actor: &Actor, id: QuotationId) -> Result<Quotation, AppError> {
    let not_found = || AppError::not_found("quotation_not_found", format!("quotation {id} not found"));
    let q = app.repo.get_quotation(id).await?.ok_or_else(not_found)?;
    leads_app::get(app, actor, q.lead_id).await.map_err(|_| not_found())?;
    Ok(q)
}

pub async fn quotations(app: &App, actor: &Actor, lead: LeadId) -> Result<Vec<Quotation>, AppError> {
    let l = leads_app::get(app, actor, lead).await?;
    Ok(app.repo.list_quotations(l.id).await?)
}

pub async fn list(app: &App, actor: &Actor, mut filter: FollowUpFilter, page: Page) -> Result<Paged<FollowUp>, AppError> {
    filter.scope = actor.scope();
    Ok(app.repo.list_follow_ups(&filter, page).await?)
}

/// How a follow-up was carried out.
#[derive(Debug, Clone)]
pub struct DoneInput {
    pub channel: ActivityKind,
    pub answered: bool,
    pub note: String,
}

/// `POST /v1/follow-ups/{id}/done`: the attempt, logged on the lead's timeline; the next step
/// (or, after too many unanswered attempts, the closing message and On-Hold) follows. Done
/// again, it returns the stored follow-up.
pub async fn done(app: &App, actor: &Actor, id: FollowUpId, input: DoneInput) -> Result<FollowUp, AppError> {
    let not_found = || AppError::not_found("follow_up_not_found", format!("follow-up {id} not found"));
    let mut f = app.repo.get_follow_up(id).await?.ok_or_else(not_found)?;
    if !actor.can_see(f.assignee_id, f.branch_id) {
        return Err(not_found());
    }
    let mut lead = leads_app::workable_lead(app, actor, f.lead_id).await?;
    if f.status != FollowUpStatus::Open {
        return match f.status {
            FollowUpStatus::Done => Ok(f),
            _ => Err(AppError::conflict("follow_up_not_open", format!("follow-up {id} is {}", f.status.as_str()))),
        };
    }
    if !input.channel.is_contact() {
        return Err(AppError::invalid("invalid_field", "channel: call, whatsapp, email, meeting or visit"));
    }
    let note = input.note.trim().to_string();
    if note.is_empty() {
        return Err(AppError::invalid("field_required", "note: what was said (the SOP asks for every result)"));
    }
    if input.note.chars().count() > 2000 {
        return Err(AppError::invalid("field_too_long", "note: at most 2000 characters"));
    }
    let now = app.now();
    let branch = app.branch(f.branch_id).await?;
    let today = local_date(now, branch.time_zone);
    f.status = FollowUpStatus::Done;
    f.answered = Some(input.answered);
    f.note = Some(note.clone());
    f.done_at = Some(now);
    f.done_by = Some(actor.id);
    let c = cadence_of(app).await?;
    let q = match f.quotation_id {
        Some(qid) => app.repo.get_quotation(qid).await?.ok_or_else(|| AppError::internal("a follow-up without its quotation"))?,
        None => return Err(AppError::internal("a quotation follow-up without its quotation")),
    };
    let unanswered = app.repo.unanswered_attempts(q.id).await? + u32::from(!input.answered);
    let cal = super::calendar::calendar(app, &branch, today).await?;
    let closing = f.step_name == CLOSING_MESSAGE;
    let give_up = !closing && c.max_unanswered > 0 && unanswered >= c.max_unanswered;
    let next = if closing {
        None
    } else if give_up {
        Some(step_task(&c, c.steps.len(), &q, &lead, cal.add_working_days(today, 1), now))
    } else {
        let index = f.step as usize + 1;
        cadence::due(&c, index, q.sent_on.unwrap_or(today), Some(today), &cal).map(|due| step_task(&c, index, &q, &lead, due, now))
    };
    let mut summary = format!("{} ({}): {note}", f.step_name, if input.answered { "answered" } else { "no answer" });
    let mut audit =
        app.audit(actor, "follow_up.done", "follow_up", f.id.to_string(), json!({ "answered": input.answered, "lead_id": lead.id }));
    if give_up && lead.stage.next().contains(&Stage::OnHold) {
        let next_on = today.checked_add_days(Days::new(u64::from(c.on_hold_days.max(1)))).unwrap_or(today);
        lead.stage = Stage::OnHold;
        lead.next_contact_on = Some(next_on);
        summary.push_str(&format!(" — {unanswered} attempts unanswered: closing message, on hold until {next_on}"));
        audit.detail["on_hold_until"] = json!(next_on);
    }
    lead.updated_at = now;
    let entry = Activity {
        id: ActivityId(uuid::Uuid::new_v5(&f.id.0, b"done")),
        lead_id: lead.id,
        kind: input.channel,
        occurred_at: now,
        summary,
        answered: Some(input.answered),
        actor_id: Some(actor.id),
        logged_at: now,
    };
    let recorded = app
        .repo
        .complete_follow_up(FollowUpDone {
            follow_up: &f,
            next: next.as_ref(),
            lead: LeadChange { lead: &lead, activity: &entry, audit: &audit, stops_cadence: false },
        })
        .await?;
    if !recorded {
        return app.repo.get_follow_up(id).await?.ok_or_else(not_found);
    }
    Ok(f)
}
