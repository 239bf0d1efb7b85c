//! `/hq/customers`: search the customers of the user's scope; `/hq/customers/{id}`: one
//! customer — contact, place, class now and its history with the reasons, the monthly volume
//! chart (server-drawn SVG, the last 12 months), its tasks and its visits.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::session::{html, Chrome, ConsoleError, Signed};
use super::views;
use crate::app::customers::CustomerFilter;
use crate::app::tasks::TaskFilter;
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::customer::CustomerClass;
use crate::domain::ids::CustomerId;
use crate::domain::page::Page;
use crate::domain::time::local_date;

#[derive(Debug, Default, Deserialize)]
pub struct CustomersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    class: String,
}

struct Row {
    id: String,
    code: String,
    name: String,
    class: &'static str,
    kind: String,
    rep: String,
}

#[derive(Template)]
#[template(path = "console/customers.html")]
struct CustomersPage {
    chrome: Chrome,
    q: String,
    class: String,
    classes: Vec<&'static str>,
    rows: Vec<Row>,
}

const CLASSES: [&str; 9] = ["A", "B", "C", "D", "E", "F", "lost", "lost_warning", "new"];

/// `GET /hq/customers`.
pub async fn list(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    q: web::Query<CustomersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let class = match q.class.trim() {
        "" => None,
        c => Some(CustomerClass::parse(c).ok_or_else(|| ConsoleError::bad_query(t, "class"))?),
    };
    let text = Some(q.q.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 100);
    let filter = CustomerFilter { branch_id: None, assigned_rep_id: None, class, q: text };
    let customers =
        crate::app::customers::list(&app, &signed.session.actor, filter, Page { before: None, limit: 100 }).await.map_err(fail)?.items;
    let mut reps: Vec<_> = customers.iter().filter_map(|c| c.assigned_rep_id).collect();
    reps.sort_by_key(|r| r.0);
    reps.dedup();
    let names: HashMap<_, _> = app.repo.users_by_id(&reps).await.map_err(|e| fail(e.into()))?.into_iter().map(|u| (u.id, u.name)).collect();
    let rows = customers
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            code: c.code.clone(),
            name: c.name.clone(),
            class: c.class.as_str(),
            kind: c.customer_type.clone(),
            rep: c.assigned_rep_id.and_then(|r| names.get(&r).cloned()).unwrap_or_default(),
        })
        .collect();
    let q = q.into_inner();
    html(CustomersPage { chrome: signed.chrome(&req, "customers"), q: q.q, class: q.class, classes: CLASSES.to_vec(), rows }.render())
}

struct Fact {
    label: &'static str,
    value: String,
}

struct ChangeRow {
    at: String,
    from: &'static str,
    to: &'static str,
    why: String,
}

struct TaskRow {
    kind: &'static str,
    due: String,
    status: &'static str,
}

struct VisitRow {
    id: String,
    date: String,
    status: &'static str,
    status_class: &'static str,
    review: &'static str,
    score: String,
}

#[derive(Template)]
#[template(path = "console/customer.html")]
struct CustomerPage {
    chrome: Chrome,
    name: String,
    code: String,
    class: &'static str,
    facts: Vec<Fact>,
    history: Vec<ChangeRow>,
    chart_svg: String,
    tasks: Vec<TaskRow>,
    visits: Vec<VisitRow>,
    /// The place an approved door visit proposed, for marketing to accept or reject.
    proposal: Option<ProposalView>,
    id: String,
    notice: Option<&'static str>,
}

struct ProposalView {
    position: String,
    source: &'static str,
    visit_id: String,
    at: String,
}

/// `POST /hq/customers/{id}/place`'s form.
#[derive(Debug, Deserialize)]
pub struct PlaceForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    /// `accept` or `reject`.
    #[serde(default)]
    decision: String,
}

/// `POST /hq/customers/{customer_id}/place`: accepts or rejects the proposed place; back to
/// the customer's page.
pub async fn decide_place(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<Uuid>,
    form: web::Form<PlaceForm>,
) -> Result<HttpResponse, ConsoleError> {
    super::session::check_csrf(&req, &signed, form.csrf.as_deref())?;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let id = CustomerId(path.into_inner());
    let actor = &signed.session.actor;
    let done = match form.decision.as_str() {
        "accept" => crate::app::customers::accept_place(&app, actor, id).await.map(|_| "placed"),
        "reject" => crate::app::customers::reject_place(&app, actor, id).await.map(|()| "place_rejected"),
        _ => Err(AppError::invalid("invalid_field", "decision must be accept or reject")),
    }
    .map_err(fail)?;
    Ok(HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, format!("/hq/customers/{id}?done={done}"))).finish())
}

/// The customer page's query: what the last action did.
#[derive(Debug, Default, Deserialize)]
pub struct CustomerPageQuery {
    #[serde(default)]
    done: String,
}

/// The first days of the `n` months ending with the one of `today`, oldest first.
fn last_months(today: NaiveDate, n: u32) -> Vec<NaiveDate> {
    let first = today.with_day(1).unwrap_or(today);
    (0..n)
        .rev()
        .filter_map(|back| {
            let total = first.year() * 12 + first.month0() as i32 - back as i32;
            NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        })
        .collect()
}

/// Bars of monthly volumes, labelled by month, in an SVG.
fn volume_svg(months: &[(NaiveDate, i64)], title: &str) -> String {
    let (w, h, left, bottom, top) = (640.0, 200.0, 44.0, 28.0, 14.0);
    let max = months.iter().map(|m| m.1).max().unwrap_or(0).max(1) as f64;
    let slot = (w - left - 8.0) / months.len().max(1) as f64;
    let title = askama::filters::escape(title, askama::filters::Html).map(|s| s.to_string()).unwrap_or_default();
    let mut svg =
        format!("<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{title}\" xmlns=\"http://www.w3.org/2000/svg\">");
    svg.push_str(&format!(
        "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{max:.0}</text>",
        w - 8.0,
        top,
        top,
        left - 6.0,
        top + 4.0
    ));
    for (i, (month, n)) in months.iter().enumerate() {
        let bar = (*n as f64 / max) * (h - top - bottom);
        let x = left + slot * i as f64 + slot * 0.15;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" class=\"bar\"><title>{} · {n}</title></rect>",
            h - bottom - bar,
            slot * 0.7,
            month.format("%Y-%m")
        ));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>",
            x + slot * 0.35,
            h - 8.0,
            month.format("%m/%y")
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// `GET /hq/customers/{customer_id}`.
pub async fn page(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<Uuid>,
    q: web::Query<CustomerPageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    let c = crate::app::customers::get(&app, actor, CustomerId(path.into_inner())).await.map_err(fail)?;
    let view = crate::app::customers::class_view(&app, &c).await.map_err(fail)?;
    let branch = app.repo.get_branch(c.branch_id).await.map_err(|e| fail(e.into()))?;
    let tz = branch.as_ref().map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone);
    let today = local_date(app.now(), tz);
    let mut months = Vec::new();
    for start in last_months(today, 12) {
        let end = crate::app::scorecards::month_span(&start.format("%Y-%m").to_string()).map_or(start, |s| s.1);
        months.push((start, app.repo.volume_sum(c.id, start, end).await.map_err(|e| fail(e.into()))?));
    }
    let rep = match c.assigned_rep_id {
        Some(r) => app.repo.get_user(r).await.map_err(|e| fail(e.into()))?.map(|u| u.name),
        None => None,
    };
    let facts = vec![
        Fact { label: t.branch, value: branch.as_ref().map(|b| format!("{} — {}", b.code, b.name)).unwrap_or_default() },
        Fact { label: t.kind, value: c.customer_type.clone() },
        Fact {
            label: t.ownership,
            value: match (c.ownership, &c.dp) {
                (crate::domain::customer::Ownership::Hq, None) => t.ownership_hq.to_string(),
                (crate::domain::customer::Ownership::Agent, None) => t.ownership_agent.to_string(),
                (o, Some(dp)) => format!(
                    "{} · {} {dp}",
                    if o == crate::domain::customer::Ownership::Hq { t.ownership_hq } else { t.ownership_agent },
                    t.dp
                ),
            },
        },
        Fact { label: t.rep, value: rep.unwrap_or_default() },
        Fact {
            label: t.contact,
            value: [c.contact_name.clone(), c.contact_position.clone(), c.contact_phone.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
        },
        Fact {
            label: t.location,
            value: c.location.map_or_else(
                || t.unknown.to_string(),
                |g| {
                    format!(
                        "{:.6}, {:.6} (± {:.0} m)",
                        g.latitude,
                        g.longitude,
                        c.geofence_radius_m.unwrap_or(app.policy.default_geofence_radius_m)
                    )
                },
            ),
        },
    ];
    let history = view
        .class_history
        .iter()
        .rev()
        .map(|h| ChangeRow {
            at: views::local_time(h.at, tz),
            from: h.from_class.as_str(),
            to: h.to_class.as_str(),
            why: views::evidence_text(&h.reason),
        })
        .collect();
    let task_filter = TaskFilter { customer_id: Some(c.id), ..TaskFilter::any() };
    let tasks = crate::app::tasks::list(&app, actor, task_filter, Page { before: None, limit: 50 }).await.map_err(fail)?.items;
    let visit_filter = VisitFilter { customer_id: Some(c.id), ..VisitFilter::any() };
    let visits = crate::app::visits::list(&app, actor, visit_filter, Page { before: None, limit: 50 }).await.map_err(fail)?.items;
    let page = CustomerPage {
        chrome: signed.chrome(&req, "customers"),
        name: c.name.clone(),
        code: c.code.clone(),
        class: c.class.as_str(),
        facts,
        history,
        chart_svg: volume_svg(&months, t.volumes_chart),
        tasks: tasks
            .iter()
            .map(|t| TaskRow { kind: t.task_type.as_str(), due: t.due_date.to_string(), status: t.status.as_str() })
            .collect(),
        visits: visits
            .iter()
            .map(|v| VisitRow {
                id: v.id.to_string(),
                date: v.visit_date.map(|d| d.to_string()).unwrap_or_default(),
                status: views::visit_status(t, v.status),
                status_class: v.status.as_str(),
                review: views::review_status(t, v.review_status),
                score: v.score.map_or_else(|| "–".into(), |s| s.to_string()),
            })
            .collect(),
        proposal: match (signed.is_marketing(), c.location) {
            (true, None) => app.repo.place_proposal(c.id).await.map_err(|e| fail(e.into()))?.map(|p| ProposalView {
                position: format!(
                    "{:.6}, {:.6}{}",
                    p.latitude,
                    p.longitude,
                    p.accuracy_m.map(|a| format!(" (± {a:.0} m)")).unwrap_or_default()
                ),
                source: if p.source == "exif" { t.source_exif } else { t.source_app },
                visit_id: p.visit_id.to_string(),
                at: views::local_time(p.proposed_at, tz),
            }),
            _ => None,
        },
        id: c.id.to_string(),
        notice: match q.done.as_str() {
            "placed" => Some(t.place_accepted),
            "place_rejected" => Some(t.place_rejected),
            _ => None,
        },
    };
    html(page.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_this_one() {
        let months = last_months(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(), 12);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], NaiveDate::from_ymd_opt(2025, 4, 1).unwrap());
        assert_eq!(months[11], NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
    }

    #[test]
    fn the_volume_chart_has_a_bar_a_month() {
        let d = |m| NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
        let svg = volume_svg(&[(d(1), 10), (d(2), 0), (d(3), 25)], "Volume");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("2026-03 · 25"));
    }
}
