//! `/hq/scorecards`: a month's cards per branch and per rep (the API's figures), the compliance
//! trend over the last six months as a server-drawn SVG chart, the most frequent findings and
//! the follow-up results of Lost customers. A rep's card links to their visits.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::session::{html, Chrome, ConsoleError, Signed};
use super::views::{self, Choice};
use crate::app::scorecards::{self, Card, TrendPoint};
use crate::app::{App, AppError};
use crate::domain::ids::BranchId;
use crate::domain::time::local_date;

#[derive(Debug, Default, Deserialize)]
pub struct ScorecardsQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    ownership: String,
    #[serde(default)]
    dp: String,
}

struct CardRow {
    name: String,
    link: Option<String>,
    tasks_due: i64,
    tasks_done: i64,
    tasks_missed: i64,
    door: i64,
    whatsapp: i64,
    phone: i64,
    average: String,
    record_visit: String,
    compliant: String,
    late: i64,
    deducted: i64,
    revisits: i64,
}

impl CardRow {
    fn new(name: String, link: Option<String>, c: &Card) -> CardRow {
        CardRow {
            name,
            link,
            tasks_due: c.tasks_due,
            tasks_done: c.tasks_done,
            tasks_missed: c.tasks_missed,
            door: c.door_visits,
            whatsapp: c.whatsapp_visits,
            phone: c.phone_visits,
            average: c.average_score.map_or_else(|| "–".into(), |s| format!("{s:.1}")),
            record_visit: c.record_visit_score.map_or_else(|| "–".into(), |s| format!("{s:.1}")),
            compliant: c.compliant_rate.map_or_else(|| "–".into(), |r| format!("{:.0} %", r * 100.0)),
            late: c.late_uploads,
            deducted: c.deducted_points,
            revisits: c.open_revisits,
        }
    }
}

#[derive(Template)]
#[template(path = "console/scorecards.html")]
struct ScorecardsPage {
    chrome: Chrome,
    month: String,
    branches: Vec<Choice>,
    ownerships: Vec<Choice>,
    dp: String,
    branch_rows: Vec<CardRow>,
    rep_rows: Vec<CardRow>,
    trend_svg: String,
    trend: Vec<TrendPoint>,
    findings: Vec<(String, i64)>,
    lost: Vec<(String, i64)>,
}

/// The trend as an SVG line chart: compliance 0–100 % per month, a point and a label each.
fn trend_svg(points: &[TrendPoint], title: &str) -> String {
    let (w, h, left, bottom, top) = (640.0, 200.0, 44.0, 28.0, 12.0);
    let step = if points.len() > 1 { (w - left - 40.0) / (points.len() - 1) as f64 } else { 0.0 };
    let y = |rate: f64| top + (1.0 - rate) * (h - top - bottom);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        askama::filters::escape(title, askama::filters::Html).map(|s| s.to_string()).unwrap_or_default()
    );
    for pct in [0.0, 0.5, 1.0] {
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y0:.1}\" y2=\"{y0:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{:.0} %</text>",
            w - 8.0,
            left - 6.0,
            y(pct) + 4.0,
            pct * 100.0,
            y0 = y(pct)
        ));
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.compliant_rate.map(|r| format!("{:.1},{:.1}", left + step * i as f64, y(r))))
        .collect();
    if line.len() > 1 {
        svg.push_str(&format!("<polyline points=\"{}\" class=\"line\"/>", line.join(" ")));
    }
    for (i, p) in points.iter().enumerate() {
        let x = left + step * i as f64;
        if let Some(r) = p.compliant_rate {
            svg.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"4\" class=\"point\"><title>{} · {:.0} %</title></circle>",
                y(r),
                p.month,
                r * 100.0
            ));
        }
        svg.push_str(&format!("<text x=\"{x:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"middle\">{}</text>", h - 8.0, p.month));
    }
    svg.push_str("</svg>");
    svg
}

/// `GET /hq/scorecards`.
pub async fn page(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    q: web::Query<ScorecardsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    let month = match q.month.trim() {
        "" => local_date(app.now(), chrono_tz::Asia::Jakarta).format("%Y-%m").to_string(),
        m if scorecards::month_span(m).is_some() => m.to_string(),
        _ => return Err(ConsoleError::bad_query(t, "month")),
    };
    let branch = match q.branch_id.trim() {
        "" => None,
        s => Some(BranchId(Uuid::parse_str(s).map_err(|_| ConsoleError::bad_query(t, "branch_id"))?)),
    };
    let (ownership, dp) = views::customer_slice(&q.ownership, &q.dp);
    let customers = crate::domain::customer::CustomerSlice { ownership, dp };
    let cards = scorecards::month(&app, actor, &month, branch, &customers).await.map_err(fail)?;
    let trend = scorecards::trend(&app, actor, &month, branch, &customers, 6).await.map_err(fail)?;
    let findings = scorecards::top_findings(&app, actor, &month, branch, &customers, 10).await.map_err(fail)?;
    let visible = app.repo.list_branches().await.map_err(|e| fail(e.into()))?;
    let visible: Vec<_> = visible.into_iter().filter(|b| actor.can_see_branch(b.id)).collect();
    let (from, to) = (cards.from, cards.to);
    let branch_rows = cards
        .branches
        .iter()
        .map(|b| CardRow::new(b.branch_code.clone().unwrap_or_else(|| b.branch_id.to_string()), None, &b.card))
        .collect();
    let rep_rows = cards
        .reps
        .iter()
        .map(|r| {
            let link = format!("/hq/tasks?rep_id={}&visit_from={from}&visit_to={to}", r.rep_id);
            CardRow::new(r.rep_name.clone().unwrap_or_else(|| r.rep_id.to_string()), Some(link), &r.card)
        })
        .collect();
    let mut lost: Vec<(String, i64)> = Vec::new();
    for b in &cards.branches {
        for r in &b.lost_reasons {
            let key = format!("{} › {}", r.level1, r.level2);
            match lost.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += r.count,
                None => lost.push((key, r.count)),
            }
        }
    }
    lost.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let branches = visible
        .iter()
        .map(|b| Choice { value: b.id.to_string(), label: format!("{} — {}", b.code, b.name), selected: Some(b.id) == branch })
        .collect();
    let trend_svg = trend_svg(&trend, t.trend);
    html(
        ScorecardsPage {
            chrome: signed.chrome(&req, "scorecards"),
            month,
            branches,
            ownerships: views::ownership_choices(t, &q.ownership),
            dp: q.dp.clone(),
            branch_rows,
            rep_rows,
            trend_svg,
            trend,
            findings,
            lost,
        }
        .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trend_draws_a_point_per_month_with_data() {
        let p = |m: &str, r: Option<f64>| TrendPoint { month: m.into(), visits: 3, compliant_rate: r };
        let svg = trend_svg(&[p("2026-10", Some(0.5)), p("2026-11", None), p("2026-12", Some(1.0))], "Tren <x>");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("Tren &#60;x&#62;") || svg.contains("Tren &lt;x&gt;"), "{svg}");
    }
}
