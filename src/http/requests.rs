//! Request bodies and queries, and their conversion into domain types (parse at the edge).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::ApiError;
use crate::domain::customer::{CustomerClass, GeoPoint};
use crate::domain::finding::FindingCode;
use crate::domain::ids::{CustomerId, TaskId};
use crate::domain::page::Page;
use crate::domain::task::{RequiredMethod, TaskStatus, TaskType};
use crate::domain::visit::{Decision, DetailValue, Method, ResultReason, ReviewStatus, VisitContent, VisitStatus};

const SHORT: usize = 200;
const LONG: usize = 10_000;

/// Trims a text field; empty becomes absent; too long is a 422 naming the field.
pub fn text(field: &'static str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    // The bound is the contract's `maxLength`: of the text as sent, spaces included.
    if value.chars().count() > max {
        let mut e = ApiError::unprocessable("field_too_long", format!("{field} is longer than {max} characters"));
        e.fields = vec![field.to_string()];
        return Err(e);
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

/// A text query parameter, trimmed (empty: absent); longer than `max` is `400 invalid_query`.
pub fn query_text(field: &'static str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    text(field, value, max).map_err(|_| ApiError::bad_request("invalid_query", format!("{field} is longer than {max} characters")))
}

/// The ownership and distribution-point filters of a query.
pub fn customer_slice(
    ownership: Option<crate::domain::customer::Ownership>,
    dp: Option<String>,
) -> Result<crate::domain::customer::CustomerSlice, ApiError> {
    Ok(crate::domain::customer::CustomerSlice { ownership, dp: query_text("dp", dp, 64)? })
}

/// A 422 `invalid_field` naming the field.
fn invalid_field(field: &'static str, detail: String) -> ApiError {
    let mut e = ApiError::unprocessable("invalid_field", detail);
    e.fields = vec![field.to_string()];
    e
}

fn required(field: &'static str, value: String, max: usize) -> Result<String, ApiError> {
    text(field, Some(value), max)?.ok_or_else(|| {
        let mut e = ApiError::unprocessable("field_required", format!("{field} must not be empty"));
        e.fields = vec![field.to_string()];
        e
    })
}

#[derive(Debug, Deserialize)]
pub struct ResultReasonInput {
    pub level1: String,
    pub level2: String,
}

#[derive(Debug, Deserialize)]
pub struct VisitInput {
    pub customer_id: Uuid,
    pub task_id: Option<Uuid>,
    pub method: Method,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_instant")]
    pub visited_at: Option<DateTime<FixedOffset>>,
    pub result_reason: Option<ResultReasonInput>,
    #[serde(default)]
    pub reason_details: BTreeMap<String, serde_json::Value>,
    pub details: Option<String>,
    pub next_steps: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_instant")]
    pub next_follow_up_at: Option<DateTime<FixedOffset>>,
    pub summary: Option<String>,
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    #[serde(default)]
    pub refused: bool,
    pub refusal_reason: Option<String>,
    pub attendance: Option<AttendanceInput>,
}

/// A visit's check-in and check-out, each with the phone's position when it had one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    #[serde(deserialize_with = "crate::http::dates::instant")]
    pub check_in_at: DateTime<FixedOffset>,
    #[serde(deserialize_with = "crate::http::dates::instant")]
    pub check_out_at: DateTime<FixedOffset>,
    pub check_in: Option<PointInput>,
    pub check_out: Option<PointInput>,
}

/// A position, checked for being one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    pub latitude: f64,
    pub longitude: f64,
}

impl AttendanceInput {
    fn parse(self) -> Result<crate::domain::visit::Attendance, ApiError> {
        let (check_in_at, check_out_at) = (self.check_in_at.with_timezone(&Utc), self.check_out_at.with_timezone(&Utc));
        let bad = |detail: &str| {
            let mut e = ApiError::unprocessable("invalid_field", detail.to_string());
            e.fields = vec!["attendance".into()];
            e
        };
        if check_out_at < check_in_at {
            return Err(bad("attendance.check_out_at is before check_in_at"));
        }
        if check_out_at - check_in_at > chrono::Duration::hours(24) {
            return Err(bad("a visit lasts less than 24 hours"));
        }
        Ok(crate::domain::visit::Attendance {
            check_in_at,
            check_out_at,
            check_in: self.check_in.map(|p| location(Some(p.latitude), Some(p.longitude))).transpose()?.flatten(),
            check_out: self.check_out.map(|p| location(Some(p.latitude), Some(p.longitude))).transpose()?.flatten(),
        })
    }
}

impl TryFrom<VisitInput> for VisitContent {
    type Error = ApiError;
    fn try_from(v: VisitInput) -> Result<Self, ApiError> {
        if v.answers.len() > 50 {
            return Err(ApiError::unprocessable("field_too_long", "answers has more than 50 entries"));
        }
        let mut answers = BTreeMap::new();
        for (question, answer) in v.answers {
            if let Some(answer) = text("answers", Some(answer), LONG)? {
                answers.insert(question, answer);
            }
        }
        if v.reason_details.len() > 20 {
            return Err(ApiError::unprocessable("field_too_long", "reason_details has more than 20 entries"));
        }
        let mut reason_details = BTreeMap::new();
        for (question, value) in v.reason_details {
            let value = match value {
                serde_json::Value::Bool(b) => DetailValue::YesNo(b),
                serde_json::Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
                    Some(f) => DetailValue::Number(f),
                    None => return Err(invalid_field("reason_details", format!("reason_details.{question} is out of range"))),
                },
                serde_json::Value::String(t) => match text("reason_details", Some(t), LONG)? {
                    Some(t) => DetailValue::Text(t),
                    None => continue,
                },
                serde_json::Value::Null => continue,
                _ => {
                    return Err(invalid_field(
                        "reason_details",
                        format!("reason_details.{question} must be a text, true/false or a number"),
                    ))
                }
            };
            reason_details.insert(question, value);
        }
        Ok(VisitContent {
            customer_id: CustomerId(v.customer_id),
            task_id: v.task_id.map(TaskId),
            method: v.method,
            contact_name: text("contact_name", v.contact_name, SHORT)?,
            contact_position: text("contact_position", v.contact_position, SHORT)?,
            contact_phone: text("contact_phone", v.contact_phone, 50)?,
            visited_at: v.visited_at.map(|t| t.with_timezone(&Utc)),
            result_reason: v.result_reason.map(|r| ResultReason { level1: r.level1, level2: r.level2 }),
            reason_details,
            details: text("details", v.details, LONG)?,
            next_steps: text("next_steps", v.next_steps, LONG)?,
            next_follow_up_at: v.next_follow_up_at.map(|t| t.with_timezone(&Utc)),
            summary: text("summary", v.summary, LONG)?,
            answers,
            refused: v.refused,
            refusal_reason: text("refusal_reason", v.refusal_reason, LONG)?,
            attendance: v.attendance.map(AttendanceInput::parse).transpose()?,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct CustomerInput {
    pub code: String,
    pub name: String,
    pub customer_type: String,
    pub branch_id: Option<Uuid>,
    pub assigned_rep_id: Option<Uuid>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub created_on: Option<NaiveDate>,
    pub class: Option<CustomerClass>,
    pub previous_level: Option<CustomerClass>,
    pub ownership: Option<crate::domain::customer::Ownership>,
    pub dp: Option<String>,
}

/// Validated customer fields shared by create and update.
pub struct CustomerFields {
    pub code: String,
    pub name: String,
    pub customer_type: String,
    pub location: Option<GeoPoint>,
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
}

pub fn location(lat: Option<f64>, lon: Option<f64>) -> Result<Option<GeoPoint>, ApiError> {
    match (lat, lon) {
        (None, None) => Ok(None),
        (Some(lat), Some(lon)) => GeoPoint::parse(lat, lon).map(Some).map_err(|e| ApiError::unprocessable("invalid_coordinates", e)),
        _ => Err(ApiError::unprocessable("invalid_coordinates", "give both latitude and longitude, or neither")),
    }
}

/// A level A–F (a customer's `previous_level`); Lost, Lost Warning and New are classes, not levels.
pub fn level(l: Option<CustomerClass>) -> Result<Option<CustomerClass>, ApiError> {
    match l {
        Some(CustomerClass::Lost | CustomerClass::LostWarning | CustomerClass::New) => {
            Err(ApiError::unprocessable("invalid_previous_level", "previous_level must be a level A–F"))
        }
        l => Ok(l),
    }
}

pub fn radius(r: Option<f64>) -> Result<Option<f64>, ApiError> {
    match r {
        Some(r) if !(r.is_finite() && r > 0.0 && r <= 50_000.0) => {
            Err(ApiError::unprocessable("invalid_radius", "geofence_radius_m must be above 0 and at most 50000"))
        }
        other => Ok(other),
    }
}

impl CustomerInput {
    pub fn fields(&self) -> Result<CustomerFields, ApiError> {
        Ok(CustomerFields {
            code: required("code", self.code.clone(), 64)?,
            name: required("name", self.name.clone(), SHORT)?,
            customer_type: required("customer_type", self.customer_type.clone(), 64)?,
            location: location(self.latitude, self.longitude)?,
            geofence_radius_m: radius(self.geofence_radius_m)?,
            contact_name: text("contact_name", self.contact_name.clone(), SHORT)?,
            contact_position: text("contact_position", self.contact_position.clone(), SHORT)?,
            contact_phone: text("contact_phone", self.contact_phone.clone(), 50)?,
        })
    }
}

/// A partial update: absent fields keep their value.
#[derive(Debug, Deserialize)]
pub struct CustomerPatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub customer_type: Option<String>,
    pub assigned_rep_id: Option<Uuid>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub created_on: Option<NaiveDate>,
    pub class: Option<CustomerClass>,
    pub previous_level: Option<CustomerClass>,
    pub ownership: Option<crate::domain::customer::Ownership>,
    pub dp: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TaskInput {
    pub id: Option<Uuid>,
    pub customer_id: Uuid,
    pub assignee_id: Uuid,
    #[serde(default = "manual")]
    pub task_type: TaskType,
    #[serde(default = "door_visit")]
    pub required_method: RequiredMethod,
    #[serde(deserialize_with = "crate::http::dates::date")]
    pub due_date: NaiveDate,
    pub note: Option<String>,
}

fn manual() -> TaskType {
    TaskType::Manual
}
fn door_visit() -> RequiredMethod {
    RequiredMethod::DoorVisit
}

#[derive(Debug, Deserialize)]
pub struct ReviewInput {
    pub id: Option<Uuid>,
    pub decision: Decision,
    pub comment: Option<String>,
    #[serde(default)]
    pub deduct_points: u32,
}

impl TryFrom<ReviewInput> for crate::app::reviews::ReviewInput {
    type Error = ApiError;
    fn try_from(r: ReviewInput) -> Result<Self, ApiError> {
        if r.deduct_points > 100 {
            return Err(ApiError::unprocessable("invalid_deduction", "deduct_points must be between 0 and 100"));
        }
        Ok(Self {
            id: r.id.map(crate::domain::ids::ReviewId),
            decision: r.decision,
            comment: text("comment", r.comment, LONG)?,
            deduct_points: r.deduct_points,
        })
    }
}

/// The `limit` (1–200, default 50) and `cursor` every list takes. (Not a flattened struct:
/// serde_urlencoded cannot read numbers through `#[serde(flatten)]`.)
pub fn page(limit: Option<u32>, cursor: Option<&str>) -> Result<Page, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit must be between 1 and 200"));
    }
    let before = cursor.map(decode_cursor).transpose()?;
    Ok(Page { before, limit })
}

pub fn encode_cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("s{seq}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('s').and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not one this server issued"))
}

#[derive(Debug, Deserialize)]
pub struct CustomerListQuery {
    pub branch_id: Option<Uuid>,
    pub assigned_rep_id: Option<Uuid>,
    pub class: Option<CustomerClass>,
    pub q: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TaskListQuery {
    /// `me` or a user id.
    pub assignee: Option<String>,
    pub branch_id: Option<Uuid>,
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub due_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub due_to: Option<NaiveDate>,
    pub customer_id: Option<Uuid>,
    /// H-1: tomorrow's open tasks (in each branch's time zone) not yet confirmed.
    pub needs_confirmation: Option<bool>,
    pub task_type: Option<TaskType>,
    /// The customer's class now.
    pub class: Option<CustomerClass>,
    /// The customer's class before its latest change.
    pub previous_class: Option<CustomerClass>,
    /// The review status of the visit that followed the task up.
    pub review_status: Option<ReviewStatus>,
    /// Part of the customer's name or code (any case).
    pub q: Option<String>,
    pub task_id: Option<Uuid>,
    pub customer_type: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub customer_created_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub customer_created_to: Option<NaiveDate>,
    pub ownership: Option<crate::domain::customer::Ownership>,
    pub dp: Option<String>,
    pub previous_volume_min: Option<i64>,
    pub previous_volume_max: Option<i64>,
    pub current_volume_min: Option<i64>,
    pub current_volume_max: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl TaskListQuery {
    /// The filter these parameters ask for (narrowed to the caller's scope by the use case).
    pub fn filter(&self, actor: &crate::domain::role::Actor) -> Result<crate::app::tasks::TaskFilter, ApiError> {
        let assignee_id = match self.assignee.as_deref() {
            None => None,
            Some("me") => Some(actor.id),
            Some(other) => Some(crate::domain::ids::UserId(
                other.parse().map_err(|_| ApiError::bad_request("invalid_query", "assignee must be `me` or a user id"))?,
            )),
        };
        let customer_query = match self.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) if q.chars().count() > 100 => return Err(ApiError::bad_request("invalid_query", "q is at most 100 characters")),
            Some(q) => Some(q.to_string()),
        };
        Ok(crate::app::tasks::TaskFilter {
            scope: crate::domain::role::Scope::All,
            assignee_id,
            branch_id: self.branch_id.map(crate::domain::ids::BranchId),
            status: self.status,
            due_from: self.due_from,
            due_to: self.due_to,
            customer_id: self.customer_id.map(CustomerId),
            // H-1's dates come from the branches' clocks, in the use case.
            needs_confirmation: self.needs_confirmation.unwrap_or(false).then(Vec::new),
            task_type: self.task_type,
            customer_class: self.class,
            customer_query,
            previous_class: self.previous_class,
            review_status: self.review_status,
            task_id: self.task_id.map(TaskId),
            customer_type: query_text("customer_type", self.customer_type.clone(), 64)?,
            customer_created_from: self.customer_created_from,
            customer_created_to: self.customer_created_to,
            ownership: self.ownership,
            dp: query_text("dp", self.dp.clone(), 64)?,
            previous_volume_min: volume("previous_volume_min", self.previous_volume_min)?,
            previous_volume_max: volume("previous_volume_max", self.previous_volume_max)?,
            current_volume_min: volume("current_volume_min", self.current_volume_min)?,
            current_volume_max: volume("current_volume_max", self.current_volume_max)?,
            volume_month: None,
        })
    }
}

/// A monthly AWB bound: 0 or more.
fn volume(field: &str, v: Option<i64>) -> Result<Option<i64>, ApiError> {
    match v {
        Some(n) if n < 0 => Err(ApiError::bad_request("invalid_query", format!("{field} is 0 or more"))),
        v => Ok(v),
    }
}

/// `POST /v1/tasks/{id}/confirm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmInput {
    /// What was agreed with the customer (time, who will be there).
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VisitListQuery {
    pub status: Option<VisitStatus>,
    pub review_status: Option<ReviewStatus>,
    pub rep_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub date_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub date_to: Option<NaiveDate>,
    pub finding_code: Option<FindingCode>,
    pub needs_hq_help: Option<bool>,
    pub ownership: Option<crate::domain::customer::Ownership>,
    pub dp: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl VisitListQuery {
    /// The filter these parameters ask for; the use case narrows it to the caller's scope. A
    /// `dp` longer than 64 characters is `400 invalid_query`.
    pub fn filter(&self) -> Result<crate::app::visits::VisitFilter, ApiError> {
        use crate::domain::ids::{BranchId, CustomerId, UserId};
        Ok(crate::app::visits::VisitFilter {
            scope: crate::domain::role::Scope::All,
            status: self.status,
            review_status: self.review_status,
            rep_id: self.rep_id.map(UserId),
            branch_id: self.branch_id.map(BranchId),
            customer_id: self.customer_id.map(CustomerId),
            date_from: self.date_from,
            date_to: self.date_to,
            finding_code: self.finding_code,
            needs_hq_help: self.needs_hq_help,
            ownership: self.ownership,
            dp: query_text("dp", self.dp.clone(), 64)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        for bad in ["", "!!!", "eDQy"] {
            assert_eq!(decode_cursor(bad).unwrap_err().code, "invalid_cursor", "{bad}");
        }
    }

    #[test]
    fn text_fields_are_trimmed_and_bounded() {
        assert_eq!(text("x", Some("  a ".into()), 5).unwrap(), Some("a".into()));
        assert_eq!(text("x", Some("   ".into()), 5).unwrap(), None);
        assert_eq!(text("x", Some("abcdef".into()), 5).unwrap_err().code, "field_too_long");
    }
}
