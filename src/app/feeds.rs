//! Calendar feeds: a rep's tasks as iCalendar, so the phone's calendar shows the planned
//! visits (SOP ch. 9, JMS's calendar). A calendar app subscribes to a URL and sends no header,
//! so the URL carries the secret: a random 256-bit token, of which only the SHA-256 is stored;
//! making a new feed ends the old URL, and the token never reaches a log (the request log
//! writes the path without it).

use std::collections::HashMap;

use chrono::Days;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};

use super::auth::{new_token, token_hash};
use super::{App, AppError};
use crate::db::TaskFilter;
use crate::domain::ids::CustomerId;
use crate::domain::page::Page;
use crate::domain::role::{Actor, Scope};
use crate::domain::task::{Task, TaskStatus};
use crate::domain::time::local_date;

/// The days of tasks a feed holds: two weeks back (so a done or cancelled visit updates in the
/// calendar), three months ahead.
const DAYS_BACK: u64 = 14;
const DAYS_AHEAD: u64 = 92;
/// The most events a feed holds.
const MAX_EVENTS: u32 = 1000;

/// Makes the actor a new feed (ending the one they had); returns its secret token, shown once.
pub async fn create(app: &App, actor: &Actor) -> Result<String, AppError> {
    let token = new_token();
    app.repo.set_calendar_feed(actor.id, &token_hash(&token), app.now()).await?;
    app.repo.append_audit(&app.audit(actor, "calendar_feed.created", "user", actor.id.to_string(), serde_json::json!({}))).await?;
    Ok(token)
}

/// Ends the actor's feed.
pub async fn revoke(app: &App, actor: &Actor) -> Result<(), AppError> {
    if !app.repo.drop_calendar_feed(actor.id).await? {
        return Err(AppError::not_found("calendar_feed_not_found", "you have no calendar feed"));
    }
    app.repo.append_audit(&app.audit(actor, "calendar_feed.revoked", "user", actor.id.to_string(), serde_json::json!({}))).await?;
    Ok(())
}

/// The feed a token opens: the tasks assigned to its user, as an iCalendar text.
pub async fn ics(app: &App, token: &str) -> Result<String, AppError> {
    let not_found = || AppError::not_found("calendar_feed_not_found", "no calendar feed has this address");
    if token.is_empty() || token.len() > 256 {
        return Err(not_found());
    }
    let user_id = app.repo.calendar_feed_user(&token_hash(token)).await?.ok_or_else(not_found)?;
    let user = app.repo.users_by_id(&[user_id]).await?.pop().ok_or_else(not_found)?;
    let actor = Actor { id: user.id, name: user.name.clone(), role: user.role, branch_id: user.branch_id };
    let tz = app.branch_of(&actor).await?.map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone);
    let today = local_date(app.now(), tz);
    let filter = TaskFilter {
        scope: Scope::Own(user.id),
        due_from: today.checked_sub_days(Days::new(DAYS_BACK)),
        due_to: today.checked_add_days(Days::new(DAYS_AHEAD)),
        ..TaskFilter::any()
    };
    let tasks = app.repo.list_tasks(&filter, Page { before: None, limit: MAX_EVENTS }).await?.items;
    let mut ids: Vec<CustomerId> = tasks.iter().map(|t| t.customer_id).collect();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    let customers: HashMap<_, _> = app.repo.customers_by_id(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
    let mut calendar = Calendar::new();
    calendar.name(&format!("FieldProof — {}", user.name)).timezone(tz.name());
    for task in &tasks {
        calendar.push(event(task, customers.get(&task.customer_id)));
    }
    Ok(calendar.done().to_string())
}

/// One task as an all-day event on its due date.
fn event(task: &Task, customer: Option<&crate::domain::customer::Customer>) -> Event {
    let name = customer.map_or_else(|| task.customer_id.to_string(), |c| format!("{} ({})", c.name, c.code));
    let mut description = vec![
        format!("Jenis / type: {}", task.task_type.as_str()),
        format!("Metode / method: {}", task.required_method.as_str()),
        format!("Status: {}", task.status.as_str()),
    ];
    if let Some(c) = customer {
        let contact: Vec<&str> = [c.contact_name.as_deref(), c.contact_phone.as_deref()].into_iter().flatten().collect();
        if !contact.is_empty() {
            description.push(format!("Kontak / contact: {}", contact.join(" · ")));
        }
    }
    if let Some(note) = &task.note {
        description.push(format!("Catatan / note: {note}"));
    }
    if let Some(agreed) = &task.confirmation_note {
        description.push(format!("Konfirmasi H-1 / confirmed: {agreed}"));
    }
    let status = match (task.status, task.confirmed_at) {
        (TaskStatus::Cancelled, _) => EventStatus::Cancelled,
        (TaskStatus::Open, None) => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    };
    let mut e = Event::new();
    e.uid(&format!("{}@fieldproof", task.id))
        .summary(&format!("Kunjungan: {name}"))
        .description(&description.join("\n"))
        .all_day(task.due_date)
        .status(status)
        .timestamp(task.confirmed_at.unwrap_or(task.created_at));
    if let Some(at) = customer.and_then(|c| c.location) {
        e.add_property("GEO", format!("{:.6};{:.6}", at.latitude, at.longitude));
    }
    e.done()
}
