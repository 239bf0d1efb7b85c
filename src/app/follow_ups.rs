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
use crate::domain::cadence::{
    self, Cadence, FollowUp, FollowUpStatus, NewFollowUp, Satisfaction, ServiceCase, ServiceKind, CLOSING_MESSAGE,
};
use crate::domain::ids::{ActivityId, CustomerId, FollowUpId, LeadId, QuotationId, ServiceCaseId, UserId};
use crate::domain::lead::{Activity, ActivityKind, Lead, Quotation, QuotationStatus, Stage};
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};
use crate::domain::time::local_date;

/// The cadence quotations follow.
const QUOTATION_CADENCE: &str = "quotation";
/// The cadence after a complaint resolved or a service delivered.
const AFTER_SERVICE_CADENCE: &str = "after_service";

/// What a quotation says.
#[derive(Debug, Clone)]
pub struct QuotationInput {
    pub number: String,
    pub amount: i64,
    pub discount_pct: f64,
    pub note: Option<String>,
    /// A revision: when the lead asked for it (the SOP sends it the same day).
    pub revision_requested_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The event of a revision sent late (none when it was sent the day it was asked for).
fn late_revision(q: &Quotation, assignee: Option<UserId>) -> Vec<crate::db::NewJob> {
    match q.finding.as_deref() {
        Some(crate::domain::lead::REVISION_NOT_SAME_DAY) => vec![super::events::revision_late(q, assignee)],
        _ => Vec::new(),
    }
}

/// A revision sent on a later branch day than it was asked for is a finding.
fn revision_finding(q: &Quotation, tz: chrono_tz::Tz) -> Option<String> {
    match (q.revision_requested_at, q.sent_on) {
        (Some(asked), Some(sent)) if local_date(asked, tz) < sent => Some(crate::domain::lead::REVISION_NOT_SAME_DAY.into()),
        _ => None,
    }
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

async fn cadence_of(app: &App, name: &str) -> Result<Cadence, AppError> {
    let policy = super::policies::policy_now(app).await?;
    policy.cadences.get(name).cloned().ok_or_else(|| AppError::internal(format!("the policy has no {name} cadence")))
}

/// Step `index` of the quotation's cadence as a follow-up of the lead's rep (one past the last:
/// the closing message).
fn step_task(c: &Cadence, index: usize, q: &Quotation, l: &Lead, due_date: NaiveDate, now: chrono::DateTime<chrono::Utc>) -> FollowUp {
    const CLOSING_PURPOSE: &str = "Kirim satu pesan penutup yang sopan: tetap siap membantu bila dibutuhkan di kemudian hari.";
    let (name, purpose) = c.steps.get(index).map_or((CLOSING_MESSAGE, CLOSING_PURPOSE), |s| (s.name.as_str(), s.purpose.as_str()));
    let mut f = NewFollowUp {
        id: cadence::step_id(q.id.0, index as u32),
        branch_id: l.branch_id,
        assignee_id: l.assignee_id.unwrap_or(q.created_by),
        cadence: QUOTATION_CADENCE,
        step: index as u32,
        step_name: name,
        purpose,
        due_date,
    }
    .open(now);
    f.lead_id = Some(l.id);
    f.quotation_id = Some(q.id);
    f
}

/// What sending starts: the lead at Quotation Sent (when the pipeline allows it) and the first
/// step of the cadence.
async fn sending(app: &App, actor: &Actor, mut lead: Lead, q: &Quotation) -> Result<(Lead, FollowUp, Activity, AuditEntry), AppError> {
    let branch = app.branch(lead.branch_id).await?;
    let sent_on = q.sent_on.ok_or_else(|| AppError::internal("a quotation sent without a date"))?;
    let cal = super::calendar::calendar(app, &branch, sent_on).await?;
    let c = cadence_of(app, QUOTATION_CADENCE).await?;
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
        match from == lead.stage {
            true => format!("quotation {} sent", q.label()),
            false => format!("quotation {} sent (stage {} → {})", q.label(), from.as_str(), lead.stage.as_str()),
        },
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
    if matches!(lead.stage, Stage::Won | Stage::Lost | Stage::PastClient) {
        return Err(AppError::conflict(
            "stage_not_allowed",
            format!("a {} lead gets no quotation (reopen a lost one first)", lead.stage.as_str()),
        ));
    }
    let policy = super::policies::policy_now(app).await?;
    let branch = app.branch(lead.branch_id).await?;
    let now = app.now();
    let today = local_date(now, branch.time_zone);
    let needs_approval = input.discount_pct > policy.max_discount_pct && actor.role != Role::Supervisor;
    let earlier = app.repo.list_quotations(lead_id).await?;
    let revision = earlier.len() as u32;
    // A revision of a quotation that was sent: when was it asked for?
    let revises_sent = earlier.iter().any(|e| e.sent_on.is_some());
    let revision_requested_at = match (revises_sent, input.revision_requested_at) {
        (true, None) => return Err(AppError::invalid("field_required", "revision_requested_at: when the lead asked for this revision")),
        (true, Some(at)) if at > now + chrono::Duration::minutes(5) || at < lead.received_at => {
            return Err(AppError::invalid("invalid_field", "revision_requested_at: after the lead was received, not in the future"))
        }
        (true, at) => at,
        (false, _) => None,
    };
    let mut q = Quotation {
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
        revision_requested_at,
        finding: None,
        document: None,
        created_by: actor.id,
        created_at: now,
        updated_at: now,
    };
    q.finding = revision_finding(&q, branch.time_zone);
    if q.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::invalid("field_too_long", "note: at most 2000 characters"));
    }
    let read_at = lead.updated_at;
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
                jobs: &[],
                first_follow_up: None,
                lead: Some(LeadChange {
                    lead: &same,
                    activity: &entry,
                    audit: &audit,
                    stops_cadence: false,
                    expected_stage: same.stage,
                    read_at,
                    follow_up: None,
                    customer: None,
                }),
            })
            .await
            .map_err(leads_app::changed)?
    } else {
        let from = lead.stage;
        let jobs = late_revision(&q, lead.assignee_id);
        let (moved, first, entry, audit) = sending(app, actor, lead, &q).await?;
        app.repo
            .insert_quotation(QuotationWrite {
                quotation: &q,
                jobs: &jobs,
                first_follow_up: Some(&first),
                lead: Some(LeadChange {
                    lead: &moved,
                    activity: &entry,
                    audit: &audit,
                    stops_cadence: false,
                    expected_stage: from,
                    read_at,
                    follow_up: None,
                    customer: None,
                }),
            })
            .await
            .map_err(leads_app::changed)?
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
    if lead.merged_into.is_some() {
        return Err(AppError::conflict("lead_merged", format!("lead {} was merged into another", lead.id)));
    }
    if matches!(lead.stage, Stage::Won | Stage::Lost | Stage::PastClient) {
        return Err(AppError::conflict("stage_not_allowed", format!("the lead is {}: nothing to send", lead.stage.as_str())));
    }
    // Only the newest revision in play is sent: a later one sent or awaiting replaced this one.
    let later = app.repo.list_quotations(lead.id).await?;
    if later.iter().any(|o| o.revision > q.revision && matches!(o.status, QuotationStatus::Sent | QuotationStatus::AwaitingApproval)) {
        return Err(AppError::conflict("quotation_not_awaiting", format!("a later revision replaced quotation {id}")));
    }
    let read_at = lead.updated_at;
    let branch = app.branch(lead.branch_id).await?;
    let now = app.now();
    q.status = QuotationStatus::Sent;
    q.sent_on = Some(local_date(now, branch.time_zone));
    q.approved_by = Some(actor.id);
    q.updated_at = now;
    q.finding = revision_finding(&q, branch.time_zone);
    let from = lead.stage;
    let jobs = late_revision(&q, lead.assignee_id);
    let (moved, first, entry, audit) = sending(app, actor, lead, &q).await?;
    let sent = app
        .repo
        .send_approved_quotation(QuotationWrite {
            quotation: &q,
            jobs: &jobs,
            first_follow_up: Some(&first),
            lead: Some(LeadChange {
                lead: &moved,
                activity: &entry,
                audit: &audit,
                stops_cadence: false,
                expected_stage: from,
                read_at,
                follow_up: None,
                customer: None,
            }),
        })
        .await
        .map_err(leads_app::changed)?;
    if !sent {
        // Another answer came first: the same one is this one's retry; the other is a conflict.
        let stored = app.repo.get_quotation(id).await?.ok_or_else(|| AppError::internal("a quotation vanished"))?;
        return match (stored.status, stored.approved_by) {
            (QuotationStatus::Sent, Some(by)) if by == actor.id => Ok(stored),
            _ => Err(AppError::conflict("quotation_not_awaiting", format!("quotation {id} is not awaiting approval"))),
        };
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

/// How a follow-up was carried out, and (after a service) its checklist.
#[derive(Debug, Clone, Default)]
pub struct DoneInput {
    pub channel: Option<ActivityKind>,
    pub answered: bool,
    pub note: String,
    /// After-service: "Tanyakan kondisi … pasca servis" was asked.
    pub condition_asked: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
    /// What the customer complained of (escalated to the supervisor).
    pub complaint: Option<String>,
    /// "Ajukan permintaan testimoni jika pelanggan puas" and "Kirim tautan review".
    pub testimonial_requested: Option<bool>,
    pub review_link: Option<String>,
    /// The customer left the testimonial.
    pub testimonial_given: Option<bool>,
}

/// `POST /v1/follow-ups/{id}/done`: the attempt, logged on the lead's timeline; the next step
/// (or, after too many unanswered attempts, the closing message and On-Hold) follows. Done
/// again, it returns the stored follow-up.
pub async fn done(app: &App, actor: &Actor, id: FollowUpId, input: DoneInput) -> Result<FollowUp, AppError> {
    let not_found = || AppError::not_found("follow_up_not_found", format!("follow-up {id} not found"));
    let f = app.repo.get_follow_up(id).await?.ok_or_else(not_found)?;
    if !actor.can_see(f.assignee_id, f.branch_id) {
        return Err(not_found());
    }
    super::access::require(
        matches!(actor.role, Role::Sales | Role::BranchMarketing | Role::Supervisor),
        "follow-ups are done by their rep and their branch",
    )?;
    // A missed step may still be done, late (the day close escalated it already), and its
    // cadence goes on; a done one is a retry; a cancelled one is over.
    match f.status {
        FollowUpStatus::Open | FollowUpStatus::Missed => {}
        FollowUpStatus::Done => return Ok(f),
        FollowUpStatus::Cancelled => {
            return Err(AppError::conflict("follow_up_not_open", format!("follow-up {id} is cancelled: its cadence stopped")))
        }
    }
    let channel = input.channel.unwrap_or(ActivityKind::Call);
    if !channel.is_contact() {
        return Err(AppError::invalid("invalid_field", "channel: call, whatsapp, email, meeting or visit"));
    }
    let note = input.note.trim().to_string();
    if note.is_empty() {
        return Err(AppError::invalid("field_required", "note: what was said (the SOP asks for every result)"));
    }
    if input.note.chars().count() > 2000 {
        return Err(AppError::invalid("field_too_long", "note: at most 2000 characters"));
    }
    match (f.lead_id, f.service_case_id) {
        (Some(lead), _) => quotation_step_done(app, actor, f, lead, channel, note, input.answered).await,
        (None, Some(case)) => after_service_done(app, actor, f, case, channel, note, input).await,
        (None, None) => Err(AppError::internal("a follow-up of nothing")),
    }
}

async fn quotation_step_done(
    app: &App,
    actor: &Actor,
    mut f: FollowUp,
    lead_id: LeadId,
    channel: ActivityKind,
    note: String,
    answered: bool,
) -> Result<FollowUp, AppError> {
    let id = f.id;
    let not_found = || AppError::not_found("follow_up_not_found", format!("follow-up {id} not found"));
    let mut lead = leads_app::workable_lead(app, actor, lead_id).await?;
    let from = lead.stage;
    let read_at = lead.updated_at;
    let now = app.now();
    let branch = app.branch(f.branch_id).await?;
    let today = local_date(now, branch.time_zone);
    f.status = FollowUpStatus::Done;
    f.answered = Some(answered);
    f.note = Some(note.clone());
    f.done_at = Some(now);
    f.done_by = Some(actor.id);
    let mut summary = format!("{} ({}): {note}", f.step_name, if answered { "answered" } else { "no answer" });
    let mut audit = app.audit(actor, "follow_up.done", "follow_up", f.id.to_string(), json!({ "answered": answered, "lead_id": lead.id }));
    let next = if f.cadence == super::deals::REACTIVATION {
        // A past client's reactivation: one contact; a new deal is entered as a lead of its own.
        None
    } else {
        let c = cadence_of(app, QUOTATION_CADENCE).await?;
        let q = match f.quotation_id {
            Some(qid) => app.repo.get_quotation(qid).await?.ok_or_else(|| AppError::internal("a follow-up without its quotation"))?,
            None => return Err(AppError::internal("a quotation follow-up without its quotation")),
        };
        let unanswered = app.repo.unanswered_attempts(Some(q.id), None).await? + u32::from(!answered);
        let cal = super::calendar::calendar(app, &branch, today).await?;
        let closing = f.step_name == CLOSING_MESSAGE;
        // Three attempts unanswered, or the last step unanswered: the cadence ends with the closing
        // message and On-Hold (a lead that answered the last step waits for the rep's outcome).
        let last = f.step as usize + 1 >= c.steps.len();
        let give_up = !closing && ((c.max_unanswered > 0 && unanswered >= c.max_unanswered) || (last && !answered));
        if give_up && lead.stage.next().contains(&Stage::OnHold) {
            let next_on = today.checked_add_days(Days::new(u64::from(c.on_hold_days.max(1)))).unwrap_or(today);
            lead.stage = Stage::OnHold;
            lead.next_contact_on = Some(next_on);
            summary.push_str(&format!(" — {unanswered} attempts unanswered: closing message, on hold until {next_on}"));
            audit.detail["on_hold_until"] = json!(next_on);
        }
        if closing {
            None
        } else if give_up {
            Some(step_task(&c, c.steps.len(), &q, &lead, cal.add_working_days(today, 1), now))
        } else {
            let index = f.step as usize + 1;
            cadence::due(&c, index, q.sent_on.unwrap_or(today), Some(today), &cal).map(|due| step_task(&c, index, &q, &lead, due, now))
        }
    };
    lead.updated_at = now;
    let entry = Activity {
        id: ActivityId(uuid::Uuid::new_v5(&f.id.0, b"done")),
        lead_id: lead.id,
        kind: channel,
        occurred_at: now,
        summary,
        answered: Some(answered),
        actor_id: Some(actor.id),
        logged_at: now,
    };
    let recorded = app
        .repo
        .complete_follow_up(FollowUpDone {
            follow_up: &f,
            next: next.as_ref(),
            lead: Some(LeadChange {
                lead: &lead,
                activity: &entry,
                audit: &audit,
                stops_cadence: false,
                expected_stage: from,
                read_at,
                follow_up: None,
                customer: None,
            }),
            audit: None,
            jobs: &[],
        })
        .await
        .map_err(leads_app::changed)?;
    if !recorded {
        return app.repo.get_follow_up(id).await?.ok_or_else(not_found);
    }
    Ok(f)
}

/// `POST /v1/quotations/{id}/reject`: the branch's supervisor does not approve the discount; the
/// quotation is never sent (the rep may send another revision). Rejected again, it is returned.
pub async fn reject(app: &App, actor: &Actor, id: QuotationId, reason: Option<String>) -> Result<Quotation, AppError> {
    let mut q = visible_quotation(app, actor, id).await?;
    super::access::require(actor.role == Role::Supervisor, "discounts are approved or rejected by the branch's supervisor")?;
    match q.status {
        QuotationStatus::AwaitingApproval => {}
        QuotationStatus::Rejected => return Ok(q),
        _ => return Err(AppError::conflict("quotation_not_awaiting", format!("quotation {id} is not awaiting approval"))),
    }
    let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::invalid("field_too_long", "reason: at most 2000 characters"));
    }
    let lead = app.repo.get_lead(q.lead_id).await?.ok_or_else(|| AppError::internal("a quotation without its lead"))?;
    let now = app.now();
    q.status = QuotationStatus::Rejected;
    q.updated_at = now;
    let mut summary = format!("quotation {} not approved ({}% discount)", q.label(), q.discount_pct);
    if let Some(r) = &reason {
        summary.push_str(&format!(": {r}"));
    }
    let entry = system_entry(&lead, actor, now, summary);
    let audit = app.audit(actor, "lead.quotation_rejected", "lead", lead.id.to_string(), json!({ "quotation_id": q.id, "reason": reason }));
    if !app.repo.reject_quotation(&q, &entry, &audit).await? {
        // Another answer came first: a rejection is this one's retry; an approval a conflict.
        let stored = app.repo.get_quotation(id).await?.ok_or_else(|| AppError::internal("a quotation vanished"))?;
        return match stored.status {
            QuotationStatus::Rejected => Ok(stored),
            _ => Err(AppError::conflict("quotation_not_awaiting", format!("quotation {id} is not awaiting approval"))),
        };
    }
    Ok(q)
}

/// The most a quotation's document may be.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// `PUT /v1/quotations/{id}/document`: the quotation's PDF, kept in the object store. A
/// quotation has one document: the same bytes again are a retry; others are
/// `409 document_exists` (a changed quotation is a new revision).
pub async fn put_document(app: &App, actor: &Actor, id: QuotationId, bytes: bytes::Bytes) -> Result<(Quotation, bool), AppError> {
    use sha2::Digest;
    let q = may_attach(app, actor, id).await?;
    if !bytes.starts_with(b"%PDF-") {
        return Err(AppError::invalid("document_not_pdf", "the document must be a PDF (it starts with %PDF-)"));
    }
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    if let Some(d) = &q.document {
        return match d.sha256 == sha256 {
            true => Ok((q, false)),
            false => Err(AppError::conflict("document_exists", format!("quotation {id} has another document; send a revision"))),
        };
    }
    // Named by the quotation and the content: a retry writes the same object, nothing else is
    // overwritten.
    let doc = crate::domain::lead::QuotationDocument {
        key: format!("quotations/{}/{}.pdf", id.0.simple(), &sha256[..32]),
        bytes: bytes.len() as i64,
        sha256,
    };
    app.store.put(&doc.key, bytes).await?;
    let audit =
        app.audit(actor, "quotation.document_attached", "quotation", id.to_string(), json!({ "bytes": doc.bytes, "sha256": doc.sha256 }));
    let set = app.repo.set_quotation_document(id, &doc, &audit).await?;
    let stored = app.repo.get_quotation(id).await?.ok_or_else(|| AppError::internal("a quotation vanished"))?;
    if !set && stored.document.as_ref().is_some_and(|d| d.sha256 != doc.sha256) {
        return Err(AppError::conflict("document_exists", format!("quotation {id} has another document; send a revision")));
    }
    Ok((stored, set))
}

/// The quotation a document may be attached to by the actor (checked before its body is read).
pub async fn may_attach(app: &App, actor: &Actor, id: QuotationId) -> Result<Quotation, AppError> {
    let q = visible_quotation(app, actor, id).await?;
    super::access::require(
        matches!(actor.role, Role::Sales | Role::BranchMarketing | Role::Supervisor),
        "a quotation's document is attached by its rep and their branch",
    )?;
    Ok(q)
}

/// `GET /v1/quotations/{id}/document`: the PDF's bytes.
pub async fn document(app: &App, actor: &Actor, id: QuotationId) -> Result<(Quotation, crate::storage::ByteStream), AppError> {
    let q = visible_quotation(app, actor, id).await?;
    let d = q.document.clone().ok_or_else(|| AppError::not_found("document_not_found", format!("quotation {id} has no document")))?;
    let stream = app.store.get_stream(&d.key).await?;
    Ok((q, stream))
}

/// What a service case says.
#[derive(Debug, Clone)]
pub struct ServiceCaseInput {
    pub customer_id: CustomerId,
    pub kind: ServiceKind,
    pub summary: String,
    pub completed_on: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
}

fn case_step(
    c: &Cadence,
    index: u32,
    case: &ServiceCase,
    assignee: UserId,
    due_date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> FollowUp {
    // A retry of an unanswered contact is the same step again.
    let step = &c.steps[(index as usize).min(c.steps.len() - 1)];
    let mut f = NewFollowUp {
        id: cadence::step_id(case.id.0, index),
        branch_id: case.branch_id,
        assignee_id: assignee,
        cadence: AFTER_SERVICE_CADENCE,
        step: index,
        step_name: &step.name,
        purpose: &step.purpose,
        due_date,
    }
    .open(now);
    f.customer_id = Some(case.customer_id);
    f.service_case_id = Some(case.id);
    f
}

/// `PUT /v1/service-cases/{id}`: a complaint resolved or a service delivered; its after-service
/// follow-up is due `policy.cadences.after_service` working days later (H+2), for the named rep,
/// else the customer's, else the rep who records it. The same PUT again returns it.
pub async fn put_service_case(
    app: &App,
    actor: &Actor,
    id: ServiceCaseId,
    input: ServiceCaseInput,
) -> Result<(ServiceCase, FollowUp, bool), AppError> {
    let customer = super::access::visible_customer(app, actor, input.customer_id)
        .await
        .map_err(|_| AppError::invalid("customer_not_found", format!("customer {} not found", input.customer_id)))?;
    if let Some(stored) = app.repo.get_service_case(id).await? {
        if stored.customer_id != input.customer_id || stored.kind != input.kind || stored.summary != input.summary.trim() {
            return Err(AppError::conflict("service_case_exists", format!("service case {id} exists with other data")));
        }
        let first = case_first_follow_up(app, &stored).await?;
        return Ok((stored, first, false));
    }
    let summary = input.summary.trim().to_string();
    if summary.is_empty() {
        return Err(AppError::invalid("field_required", "summary: what was resolved or delivered"));
    }
    if input.summary.chars().count() > 2000 {
        return Err(AppError::invalid("field_too_long", "summary: at most 2000 characters"));
    }
    let branch = app.branch(customer.branch_id).await?;
    let now = app.now();
    let today = local_date(now, branch.time_zone);
    let completed_on = input.completed_on.unwrap_or(today);
    if completed_on > today || (today - completed_on).num_days() > 30 {
        return Err(AppError::invalid("invalid_field", "completed_on: within the last 30 days, not in the future"));
    }
    let assignee = match (input.assignee_id, customer.assigned_rep_id) {
        (Some(rep), _) => {
            super::access::require(actor.role.is_marketing(), "follow-ups are assigned by marketing roles")?;
            match app.repo.get_user(rep).await? {
                Some(u) if u.role == Role::Sales && u.branch_id == Some(customer.branch_id) => rep,
                _ => return Err(AppError::invalid("rep_not_found", format!("no sales rep {rep} in the customer's branch"))),
            }
        }
        (None, Some(rep)) => rep,
        (None, None) if actor.role == Role::Sales => actor.id,
        (None, None) => return Err(AppError::invalid("rep_not_found", "the customer has no rep: name one in assignee_id")),
    };
    let case = ServiceCase {
        id,
        branch_id: customer.branch_id,
        customer_id: customer.id,
        kind: input.kind,
        summary,
        completed_on,
        created_by: actor.id,
        created_at: now,
    };
    let c = cadence_of(app, AFTER_SERVICE_CADENCE).await?;
    let cal = super::calendar::calendar(app, &branch, completed_on).await?;
    let due = cadence::due(&c, 0, completed_on, None, &cal).ok_or_else(|| AppError::internal("a cadence without steps"))?;
    let first = case_step(&c, 0, &case, assignee, due, now);
    let audit = app.audit(
        actor,
        "service_case.created",
        "service_case",
        id.to_string(),
        json!({ "customer_id": customer.id, "assignee_id": assignee }),
    );
    if !app.repo.insert_service_case(&case, &first, &audit).await? {
        let stored = app.repo.get_service_case(id).await?.ok_or_else(|| AppError::internal("a service case vanished"))?;
        let first = case_first_follow_up(app, &stored).await?;
        return Ok((stored, first, false));
    }
    Ok((case, first, true))
}

async fn case_first_follow_up(app: &App, case: &ServiceCase) -> Result<FollowUp, AppError> {
    app.repo.get_follow_up(cadence::step_id(case.id.0, 0)).await?.ok_or_else(|| AppError::internal("a service case without its follow-up"))
}

/// `GET /v1/service-cases/{id}`: the case and its follow-ups, first to last.
pub async fn service_case(app: &App, actor: &Actor, id: ServiceCaseId) -> Result<(ServiceCase, Vec<FollowUp>), AppError> {
    let not_found = || AppError::not_found("service_case_not_found", format!("service case {id} not found"));
    let case = app.repo.get_service_case(id).await?.ok_or_else(not_found)?;
    if !actor.can_see_branch(case.branch_id) {
        return Err(not_found());
    }
    let filter = FollowUpFilter {
        scope: actor.scope(),
        assignee_id: None,
        lead_id: None,
        customer_id: Some(case.customer_id),
        cadence: Some(AFTER_SERVICE_CADENCE.into()),
        status: None,
        due_to: None,
    };
    let mut steps: Vec<FollowUp> = app
        .repo
        .list_follow_ups(&filter, Page { before: None, limit: 200 })
        .await?
        .items
        .into_iter()
        .filter(|f| f.service_case_id == Some(id))
        .collect();
    if steps.is_empty() && actor.role == Role::Sales {
        // A rep sees a case only through a follow-up of theirs.
        return Err(not_found());
    }
    steps.reverse();
    Ok((case, steps))
}

/// An http or https link with a host, parsed as the webhooks' URLs are.
fn url_ok(link: &str) -> bool {
    link.len() <= 2048 && reqwest::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// An after-service contact with its checklist (SOP §9): the condition asked about, the
/// feedback recorded, a complaint escalated to the supervisor, and from a satisfied customer a
/// testimonial asked for with the review link — never for a reward (`testimonial_for_reward`).
/// Unanswered, it is tried again the next working day, up to the cadence's `max_unanswered`.
async fn after_service_done(
    app: &App,
    actor: &Actor,
    mut f: FollowUp,
    case_id: ServiceCaseId,
    channel: ActivityKind,
    note: String,
    input: DoneInput,
) -> Result<FollowUp, AppError> {
    let case = app.repo.get_service_case(case_id).await?.ok_or_else(|| AppError::internal("a follow-up without its case"))?;
    let checklist = |what: &str| AppError::invalid("checklist_incomplete", what.to_string());
    let complaint = match input.complaint.as_deref().map(str::trim) {
        Some(c) if c.chars().count() > 2000 => return Err(AppError::invalid("field_too_long", "complaint: at most 2000 characters")),
        Some("") | None => None,
        Some(c) => Some(c.to_string()),
    };
    let review_link = input.review_link.as_deref().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    if review_link.as_deref().is_some_and(|l| !url_ok(l)) {
        return Err(AppError::invalid("invalid_field", "review_link: an http or https link"));
    }
    if input.answered {
        if input.condition_asked != Some(true) {
            return Err(checklist("ask how things are since the service (condition_asked)"));
        }
        match input.satisfaction {
            None => return Err(AppError::invalid("field_required", "satisfaction: satisfied, neutral or dissatisfied")),
            Some(Satisfaction::Dissatisfied) if complaint.is_none() => {
                return Err(checklist("a dissatisfied customer's complaint is recorded (complaint)"))
            }
            Some(Satisfaction::Satisfied) if input.testimonial_requested != Some(true) || review_link.is_none() => {
                return Err(checklist(
                    "a satisfied customer is asked for a testimonial with the review link (testimonial_requested, review_link)",
                ))
            }
            _ => {}
        }
    }
    let now = app.now();
    let branch = app.branch(f.branch_id).await?;
    let today = local_date(now, branch.time_zone);
    let c = cadence_of(app, AFTER_SERVICE_CADENCE).await?;
    let reward = cadence::offers_reward(&note) && input.testimonial_requested == Some(true);
    f.status = FollowUpStatus::Done;
    f.answered = Some(input.answered);
    f.note = Some(note);
    f.done_at = Some(now);
    f.done_by = Some(actor.id);
    f.finding = reward.then(|| "testimonial_for_reward".to_string());
    f.outcome = Some(json!({
        "channel": channel.as_str(), "condition_asked": input.condition_asked, "satisfaction": input.satisfaction,
        "complaint": complaint, "testimonial_requested": input.testimonial_requested, "review_link": review_link,
        "testimonial_given": input.testimonial_given,
    }));
    let unanswered = app.repo.unanswered_attempts(None, Some(case_id)).await? + u32::from(!input.answered);
    let next = (!input.answered && unanswered < c.max_unanswered.max(1)).then(|| {
        let cal_due = today.checked_add_days(Days::new(1)).unwrap_or(today);
        (f.step + 1, cal_due)
    });
    let next = match next {
        Some((index, from)) => {
            let cal = super::calendar::calendar(app, &branch, today).await?;
            Some(case_step(&c, index, &case, f.assignee_id, cal.add_working_days(from, 0), now))
        }
        None => None,
    };
    let mut jobs = Vec::new();
    if let Some(text) = &complaint {
        let data = json!({
            "follow_up_id": f.id, "service_case_id": case.id, "customer_id": case.customer_id, "branch_id": case.branch_id,
            "assignee_id": f.assignee_id, "complaint": text, "satisfaction": input.satisfaction, "escalate_to": ["supervisor"],
        });
        jobs.push(super::events::event("after_service.complaint", &f.id.to_string(), now, data));
    }
    let audit = app.audit(
        actor,
        "follow_up.done",
        "follow_up",
        f.id.to_string(),
        json!({ "service_case_id": case.id, "answered": input.answered, "finding": f.finding, "complaint_escalated": complaint.is_some() }),
    );
    let recorded = app
        .repo
        .complete_follow_up(FollowUpDone { follow_up: &f, next: next.as_ref(), lead: None, audit: Some(&audit), jobs: &jobs })
        .await?;
    if !recorded {
        return app.repo.get_follow_up(f.id).await?.ok_or_else(|| AppError::internal("a follow-up vanished"));
    }
    Ok(f)
}
