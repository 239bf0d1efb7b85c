//! Quotations (`/v1/leads/{id}/quotations`, `/v1/quotations/{id}/approve`) and the follow-up
//! tasks of their cadence (`/v1/follow-ups`).

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests;
use super::responses::List;
use crate::app::follow_ups::{self, DoneInput, FollowUpFilter, QuotationInput, ServiceCaseInput};
use crate::app::App;
use crate::domain::cadence::{FollowUpStatus, Satisfaction, ServiceKind};
use crate::domain::ids::{CustomerId, FollowUpId, LeadId, QuotationId, ServiceCaseId, UserId};
use crate::domain::lead::{ActivityKind, Quotation};
use crate::domain::role::Scope;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotationBody {
    pub number: String,
    pub amount: i64,
    #[serde(default)]
    pub discount_pct: f64,
    pub note: Option<String>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_instant")]
    pub revision_requested_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FollowUpListQuery {
    /// `me` or a user id.
    pub assignee: Option<String>,
    pub lead_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub cadence: Option<String>,
    pub status: Option<FollowUpStatus>,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub due_to: Option<NaiveDate>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneBody {
    pub channel: ActivityKind,
    pub answered: bool,
    pub note: String,
    pub condition_asked: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
    pub complaint: Option<String>,
    pub testimonial_requested: Option<bool>,
    pub review_link: Option<String>,
    pub testimonial_given: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCaseBody {
    pub customer_id: Uuid,
    pub kind: ServiceKind,
    pub summary: String,
    #[serde(default, deserialize_with = "crate::http::dates::opt_date")]
    pub completed_on: Option<NaiveDate>,
    pub assignee_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {}

fn view(q: &Quotation) -> serde_json::Value {
    let mut v = serde_json::to_value(q).unwrap_or_default();
    v["label"] = serde_json::json!(q.label());
    if let Some(d) = v.get_mut("document").filter(|d| d.is_object()) {
        d["path"] = serde_json::json!(format!("/v1/quotations/{}/document", q.id));
    }
    v
}

pub async fn put_quotation(
    app: web::Data<App>,
    Authed(actor): Authed,
    path: web::Path<(Uuid, Uuid)>,
    body: super::json::Json<QuotationBody>,
) -> Result<HttpResponse, ApiError> {
    let (lead, id) = path.into_inner();
    let b = body.into_inner();
    let note = requests::text("note", b.note, 2000)?;
    let input = QuotationInput {
        number: b.number,
        amount: b.amount,
        discount_pct: b.discount_pct,
        note,
        revision_requested_at: b.revision_requested_at.map(|t| t.with_timezone(&chrono::Utc)),
    };
    let (q, created) = follow_ups::put_quotation(&app, &actor, LeadId(lead), QuotationId(id), input).await?;
    Ok(if created { HttpResponse::Created().json(view(&q)) } else { HttpResponse::Ok().json(view(&q)) })
}

pub async fn list_quotations(app: web::Data<App>, Authed(actor): Authed, lead: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let items: Vec<serde_json::Value> = follow_ups::quotations(&app, &actor, LeadId(lead.into_inner())).await?.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn approve(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    _body: super::json::OptionalJson<ApproveBody>,
) -> Result<HttpResponse, ApiError> {
    let q = follow_ups::approve(&app, &actor, QuotationId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view(&q)))
}

/// `POST /v1/quotations/{id}/reject`.
pub async fn reject(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::OptionalJson<RejectBody>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.and_then(|b| b.reason);
    let q = follow_ups::reject(&app, &actor, QuotationId(id.into_inner()), reason).await?;
    Ok(HttpResponse::Ok().json(view(&q)))
}

/// `PUT /v1/quotations/{id}/document`: the PDF as the body (`application/pdf`), read up to
/// the limit at the upload's minimum pace.
pub async fn put_document(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    req: actix_web::HttpRequest,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use futures_util::StreamExt;
    let content_type = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.trim().to_ascii_lowercase().starts_with("application/pdf") {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the document as application/pdf",
        ));
    }
    let id = QuotationId(id.into_inner());
    // Who may attach it, before a byte is read.
    follow_ups::may_attach(&app, &actor, id).await?;
    let max = follow_ups::MAX_DOCUMENT_BYTES;
    // Read whole into memory: its place among the bodies in flight first, as a photo's (a
    // chunked body counted at the largest a document may be).
    let length = req.headers().get(actix_web::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let _slot = app.uploads.take(actor.id, length.unwrap_or(max as u64).min(max as u64))?;
    let mut bytes = bytes::BytesMut::new();
    let mut pace = super::multipart::Pace::new(app.uploads.min_bytes_per_sec());
    while let Some(chunk) = pace.read(body.next()).await? {
        let chunk = chunk.map_err(|e| ApiError::bad_request("malformed_request", format!("the upload broke off: {e}")))?;
        pace.add(chunk.len());
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("a quotation's document is at most {} MiB", max / (1024 * 1024)),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let (q, created) = follow_ups::put_document(&app, &actor, id, bytes.freeze()).await?;
    Ok(if created { HttpResponse::Created().json(view(&q)) } else { HttpResponse::Ok().json(view(&q)) })
}

/// `GET /v1/quotations/{id}/document`.
pub async fn document(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    use futures_util::StreamExt;
    let (q, stream) = follow_ups::document(&app, &actor, QuotationId(id.into_inner())).await?;
    let d = q.document.clone().unwrap_or_else(|| crate::domain::lead::QuotationDocument {
        key: String::new(),
        bytes: 0,
        sha256: String::new(),
    });
    // A store failing mid-body can only cut the connection: the status is already sent.
    let body = stream.map(|chunk| {
        chunk.map_err(|e| {
            tracing::warn!(error = %e, "quotation document cut short by the object store");
            actix_web::error::ErrorInternalServerError("object store")
        })
    });
    let name: String = q.label().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.pdf\"")))
        .insert_header((actix_web::http::header::CONTENT_TYPE, "application/pdf"))
        .insert_header((actix_web::http::header::ETAG, format!("\"{}\"", d.sha256)))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .no_chunking(d.bytes.max(0) as u64)
        .streaming(body))
}

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<FollowUpListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let assignee_id = match q.assignee.as_deref() {
        None | Some("") => None,
        Some("me") => Some(actor.id),
        Some(s) => Some(UserId(s.parse().map_err(|_| ApiError::bad_request("invalid_query", "assignee is `me` or a user id"))?)),
    };
    let filter = FollowUpFilter {
        scope: Scope::nothing(),
        assignee_id,
        lead_id: q.lead_id.map(LeadId),
        customer_id: q.customer_id.map(CustomerId),
        cadence: requests::query_text("cadence", q.cadence, 64)?,
        status: q.status,
        due_to: q.due_to,
    };
    let paged = follow_ups::list(&app, &actor, filter, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, |f| f)))
}

pub async fn done(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<DoneBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = DoneInput {
        channel: Some(b.channel),
        answered: b.answered,
        note: b.note,
        condition_asked: b.condition_asked,
        satisfaction: b.satisfaction,
        complaint: b.complaint,
        testimonial_requested: b.testimonial_requested,
        review_link: b.review_link,
        testimonial_given: b.testimonial_given,
    };
    let f = follow_ups::done(&app, &actor, FollowUpId(id.into_inner()), input).await?;
    Ok(HttpResponse::Ok().json(f))
}

pub async fn put_service_case(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<ServiceCaseBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = ServiceCaseInput {
        customer_id: CustomerId(b.customer_id),
        kind: b.kind,
        summary: b.summary,
        completed_on: b.completed_on,
        assignee_id: b.assignee_id.map(UserId),
    };
    let (case, first, created) = follow_ups::put_service_case(&app, &actor, ServiceCaseId(id.into_inner()), input).await?;
    let view = serde_json::json!({ "service_case": case, "follow_ups": [first] });
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

pub async fn get_service_case(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let (case, steps) = follow_ups::service_case(&app, &actor, ServiceCaseId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "service_case": case, "follow_ups": steps })))
}
