//! `/hq/map`: one branch's visits (every branch's, for HQ until it picks one) of a day or a
//! range on the embedded basemap, coloured by
//! status, each at the position its photos were taken (the customer's place when none has
//! one), with the customers' registered places; a click opens the visit.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::session::{html, Chrome, ConsoleError, Signed};
use super::views::Choice;
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::ids::BranchId;
use crate::domain::page::Page;
use crate::domain::role::Scope;
use crate::domain::time::local_date;

/// The most visits one map shows.
const MAP_LIMIT: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct MapQuery {
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    date_from: String,
    #[serde(default)]
    date_to: String,
}

#[derive(Serialize)]
struct Point {
    lat: f64,
    lon: f64,
    label: String,
}

#[derive(Serialize)]
struct VisitPoint {
    lat: f64,
    lon: f64,
    label: String,
    status: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Labels {
    customer: &'static str,
    photo: &'static str,
    geofence: &'static str,
}

#[derive(Serialize)]
struct MapData {
    places: Vec<Point>,
    visits: Vec<VisitPoint>,
    photos: Vec<Point>,
    labels: Labels,
}

#[derive(Template)]
#[template(path = "console/map.html")]
struct MapPage {
    chrome: Chrome,
    /// Whether "every branch" is a choice (HQ).
    all_branches: bool,
    branches: Vec<Choice>,
    date_from: String,
    date_to: String,
    shown: usize,
    unplaced: usize,
    map_json: String,
}

/// `GET /hq/map`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed, q: web::Query<MapQuery>) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    let branches: Vec<_> =
        app.repo.list_branches().await.map_err(|e| fail(e.into()))?.into_iter().filter(|b| actor.can_see_branch(b.id)).collect();
    // A branch's own people see their branch; HQ sees every branch until it picks one.
    let branch = match q.branch_id.trim() {
        "" => actor.branch_id.and_then(|id| branches.iter().find(|b| b.id == id)),
        s => {
            let id = BranchId(Uuid::parse_str(s).map_err(|_| ConsoleError::bad_query(t, "branch_id"))?);
            Some(branches.iter().find(|b| b.id == id).ok_or_else(|| fail(AppError::not_found("branch_not_found", "no such branch")))?)
        }
    };
    let date = |field: &str, v: &str| ConsoleError::field(t, field, v, |s| s.parse::<NaiveDate>().ok());
    let today = local_date(app.now(), branch.map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone));
    let from = date("date_from", &q.date_from)?.unwrap_or(today);
    let to = date("date_to", &q.date_to)?.unwrap_or(from);
    let filter = VisitFilter { branch_id: branch.map(|b| b.id), date_from: Some(from), date_to: Some(to), ..VisitFilter::any() };
    let visits = crate::app::visits::list(&app, actor, filter, Page { before: None, limit: MAP_LIMIT }).await.map_err(fail)?.items;
    let ids: Vec<_> = visits.iter().map(|v| v.id).collect();
    let evidence = app.repo.visits_evidence(&ids).await.map_err(|e| fail(e.into()))?;
    let mut first_position = HashMap::new();
    for p in evidence.photos.iter().filter(|p| !p.kind.is_screenshot()) {
        if let Some(g) = p.facts.exif_location.or(p.capture.location) {
            first_position.entry(p.visit_id).or_insert(g);
        }
    }
    let mut customer_ids: Vec<_> = visits.iter().map(|v| v.content.customer_id).collect();
    customer_ids.sort_by_key(|c| c.0);
    customer_ids.dedup();
    let customers: HashMap<_, _> =
        app.repo.customers_by_id(&customer_ids).await.map_err(|e| fail(e.into()))?.into_iter().map(|c| (c.id, c)).collect();
    let places = customers
        .values()
        .filter_map(|c| c.location.map(|g| Point { lat: g.latitude, lon: g.longitude, label: format!("{} {}", c.code, c.name) }))
        .collect();
    let mut points = Vec::new();
    let mut unplaced = 0;
    for v in &visits {
        let customer = customers.get(&v.content.customer_id);
        let Some(at) = first_position.get(&v.id).copied().or_else(|| customer.and_then(|c| c.location)) else {
            unplaced += 1;
            continue;
        };
        points.push(VisitPoint {
            lat: at.latitude,
            lon: at.longitude,
            label: format!(
                "{} · {} · {}",
                customer.map_or("?", |c| c.name.as_str()),
                v.visit_date.map(|d| d.to_string()).unwrap_or_default(),
                super::views::visit_status(t, v.status)
            ),
            status: v.status.as_str(),
            url: format!("/hq/visits/{}", v.id),
        });
    }
    let data = MapData {
        places,
        labels: Labels { customer: t.map_legend_customer, photo: t.map_legend_photo, geofence: t.map_legend_geofence },
        photos: Vec::new(),
        visits: points,
    };
    let shown = data.visits.len();
    let map_json = super::views::script_json(&data);
    let branches = branches
        .iter()
        .map(|b| Choice {
            value: b.id.to_string(),
            label: format!("{} — {}", b.code, b.name),
            selected: branch.is_some_and(|x| x.id == b.id),
        })
        .collect();
    html(
        MapPage {
            chrome: signed.chrome(&req, "map"),
            all_branches: matches!(actor.scope(), Scope::All),
            branches,
            date_from: from.to_string(),
            date_to: to.to_string(),
            shown,
            unplaced,
            map_json,
        }
        .render(),
    )
}
