//! `/v1/holidays/{year}`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::Authed;
use super::error::ApiError;
use crate::app::{calendar, App};
use crate::domain::holiday::{Holiday, HolidaySource};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayInput {
    #[serde(deserialize_with = "crate::http::dates::date")]
    pub date: chrono::NaiveDate,
    pub name: String,
    #[serde(default = "holiday")]
    pub kind: String,
}

fn holiday() -> String {
    "holiday".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaysInput {
    pub holidays: Vec<HolidayInput>,
}

pub async fn get(app: web::Data<App>, Authed(_actor): Authed, year: web::Path<i32>) -> Result<HttpResponse, ApiError> {
    let year = year.into_inner();
    let list = calendar::holidays(&app, year).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "year": year, "holidays": list })))
}

pub async fn put(
    app: web::Data<App>,
    Authed(actor): Authed,
    year: web::Path<i32>,
    body: super::json::Json<HolidaysInput>,
) -> Result<HttpResponse, ApiError> {
    let year = year.into_inner();
    let list: Vec<Holiday> =
        body.into_inner().holidays.into_iter().map(|h| Holiday { date: h.date, name: h.name.trim().to_string(), kind: h.kind }).collect();
    if list.len() > 366 {
        return Err(ApiError::unprocessable("invalid_field", "at most 366 days a year"));
    }
    let stored = calendar::set_holidays(&app, Some(&actor), year, list, HolidaySource::Operator).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "year": year, "holidays": stored })))
}
