//! `/v1/customers`.

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use super::auth::Authed;
use super::error::ApiError;
use super::requests::{self, level, location, radius, text, CustomerInput, CustomerListQuery, CustomerPatch};
use super::responses::{CustomerView, List};
use crate::app::customers::CustomerFilter;
use crate::app::{customers, App};
use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::ids::{BranchId, CustomerId, UserId};

pub async fn list(app: web::Data<App>, Authed(actor): Authed, q: web::Query<CustomerListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = requests::page(q.limit, q.cursor.as_deref())?;
    let filter = CustomerFilter {
        branch_id: q.branch_id.map(BranchId),
        assigned_rep_id: q.assigned_rep_id.map(UserId),
        class: q.class,
        q: text("q", q.q, 100)?,
    };
    let paged = customers::list(&app, &actor, filter, page).await?;
    Ok(HttpResponse::Ok().json(List::from_paged(paged, CustomerView::from)))
}

pub async fn get(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let customer = customers::get(&app, &actor, CustomerId(id.into_inner())).await?;
    let story = customers::class_view(&app, &customer).await?;
    let mut view = serde_json::to_value(CustomerView::from(customer)).map_err(|e| crate::app::AppError::internal(e.to_string()))?;
    view["class_history"] = serde_json::to_value(&story.class_history).unwrap_or_default();
    view["volumes"] = story.volumes;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn create(app: web::Data<App>, Authed(actor): Authed, body: super::json::Json<CustomerInput>) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let fields = input.fields()?;
    let branch_id = input
        .branch_id
        .map(BranchId)
        .or(actor.branch_id)
        .ok_or_else(|| ApiError::unprocessable("field_required", "branch_id is required for users without a branch"))?;
    let now = app.now();
    // "Created on" is the branch's day, not UTC's (00:30 WIB is already tomorrow there).
    let created_on = match input.created_on {
        Some(d) => d,
        None => app
            .repo
            .get_branch(branch_id)
            .await
            .map_err(crate::app::AppError::from)?
            .map_or_else(|| now.date_naive(), |b| crate::domain::time::local_date(now, b.time_zone)),
    };
    let customer = Customer {
        id: CustomerId::new_random(),
        code: fields.code,
        name: fields.name,
        customer_type: fields.customer_type,
        branch_id,
        assigned_rep_id: input.assigned_rep_id.map(UserId),
        location: fields.location,
        geofence_radius_m: fields.geofence_radius_m,
        contact_name: fields.contact_name,
        contact_position: fields.contact_position,
        contact_phone: fields.contact_phone,
        created_on,
        class: input.class.unwrap_or(CustomerClass::New),
        previous_level: level(input.previous_level)?,
        ownership: input.ownership.unwrap_or(crate::domain::customer::Ownership::Hq),
        dp: text("dp", input.dp.clone(), 64)?,
        created_at: now,
        updated_at: now,
    };
    let stored = customers::create(&app, &actor, customer).await?;
    Ok(HttpResponse::Created().json(CustomerView::from(stored)))
}

pub async fn update(
    app: web::Data<App>,
    Authed(actor): Authed,
    id: web::Path<Uuid>,
    body: super::json::Json<CustomerPatch>,
) -> Result<HttpResponse, ApiError> {
    let p = body.into_inner();
    let not_empty = |field: &'static str, v: Option<String>, max| -> Result<Option<String>, ApiError> {
        match (v.is_some(), text(field, v, max)?) {
            (true, None) => Err(ApiError::unprocessable("field_required", format!("{field} must not be empty"))),
            (_, t) => Ok(t),
        }
    };
    let code = not_empty("code", p.code, 64)?;
    let name = not_empty("name", p.name, 200)?;
    let customer_type = not_empty("customer_type", p.customer_type, 64)?;
    let new_location = if p.latitude.is_some() || p.longitude.is_some() { Some(location(p.latitude, p.longitude)?) } else { None };
    let new_radius = radius(p.geofence_radius_m)?;
    let contact_name = text("contact_name", p.contact_name, 200)?;
    let contact_position = text("contact_position", p.contact_position, 200)?;
    let contact_phone = text("contact_phone", p.contact_phone, 50)?;
    let previous_level = level(p.previous_level)?;
    let dp = text("dp", p.dp, 64)?;
    let updated = customers::update(&app, &actor, CustomerId(id.into_inner()), |c| {
        if let Some(v) = code {
            c.code = v;
        }
        if let Some(v) = name {
            c.name = v;
        }
        if let Some(v) = customer_type {
            c.customer_type = v;
        }
        if let Some(v) = p.assigned_rep_id {
            c.assigned_rep_id = Some(UserId(v));
        }
        if let Some(v) = new_location {
            c.location = v;
        }
        if new_radius.is_some() {
            c.geofence_radius_m = new_radius;
        }
        if contact_name.is_some() {
            c.contact_name = contact_name;
        }
        if contact_position.is_some() {
            c.contact_position = contact_position;
        }
        if contact_phone.is_some() {
            c.contact_phone = contact_phone;
        }
        if let Some(v) = p.created_on {
            c.created_on = v;
        }
        if let Some(v) = p.ownership {
            c.ownership = v;
        }
        if dp.is_some() {
            c.dp = dp;
        }
        if let Some(v) = p.class {
            c.class = v;
        }
        if previous_level.is_some() {
            c.previous_level = previous_level;
        }
    })
    .await
    .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(updated)))
}

/// `GET /v1/customers/{customer_id}/place-proposal`.
pub async fn place_proposal(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(customers::place_proposal(&app, &actor, CustomerId(id.into_inner())).await?))
}

/// `POST /v1/customers/{customer_id}/place-proposal/accept`: the customer, placed.
pub async fn accept_place(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let customer = customers::accept_place(&app, &actor, CustomerId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(CustomerView::from(customer)))
}

/// `POST /v1/customers/{customer_id}/place-proposal/reject`.
pub async fn reject_place(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    customers::reject_place(&app, &actor, CustomerId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/customers/{customer_id}/research`: what to read before the visit.
pub async fn research(app: web::Data<App>, Authed(actor): Authed, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(customers::research(&app, &actor, CustomerId(id.into_inner())).await?))
}
