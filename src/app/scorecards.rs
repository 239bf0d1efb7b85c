//! Monthly scorecards per rep and per branch (the SOP's follow-up score and lost-customer
//! analysis): visits required by the month's tasks against visits done, by method; the average
//! score; the compliant rate; late uploads; reviewers' deductions; open re-visits; and, per
//! branch, the follow-up results of visits to Lost and Lost Warning customers.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{App, AppError};
use crate::domain::customer::CustomerSlice;
use crate::domain::ids::{BranchId, UserId};
use crate::domain::role::Actor;

/// Counts and rates of one rep or one branch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Card {
    /// Tasks due this month, and those of them that require a door visit.
    pub tasks_due: i64,
    pub door_visits_required: i64,
    pub tasks_done: i64,
    pub tasks_missed: i64,
    /// Submitted visits dated this month, by method.
    pub door_visits: i64,
    pub whatsapp_visits: i64,
    pub phone_visits: i64,
    pub average_score: Option<f64>,
    /// The Record Visit component of the rep's assessment: the average final score (each
    /// visit's score less the points HQ deducted from it, at least 0) — deductions count here
    /// (SOP ch. 9).
    pub record_visit_score: Option<f64>,
    /// Share of submitted visits that were compliant (0–1).
    pub compliant_rate: Option<f64>,
    pub non_compliant: i64,
    pub late_uploads: i64,
    pub deducted_points: i64,
    /// Re-visit tasks from this month's visits that are still open.
    pub open_revisits: i64,
    #[serde(skip)]
    score_sum: i64,
    #[serde(skip)]
    final_sum: i64,
    #[serde(skip)]
    scored: i64,
    #[serde(skip)]
    compliant: i64,
}

impl Card {
    fn finish(&mut self) {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        self.average_score = (self.scored > 0).then(|| round(self.score_sum as f64 / self.scored as f64));
        self.record_visit_score = (self.scored > 0).then(|| round(self.final_sum as f64 / self.scored as f64));
        let visits = self.door_visits + self.whatsapp_visits + self.phone_visits;
        self.compliant_rate = (visits > 0).then(|| round(self.compliant as f64 / visits as f64));
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RepCard {
    pub rep_id: UserId,
    pub rep_name: Option<String>,
    pub branch_id: BranchId,
    #[serde(flatten)]
    pub card: Card,
}

#[derive(Debug, Clone, Serialize)]
pub struct LostReason {
    pub level1: String,
    pub level2: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BranchCard {
    pub branch_id: BranchId,
    pub branch_code: Option<String>,
    #[serde(flatten)]
    pub card: Card,
    /// Follow-up results of this month's visits to Lost and Lost Warning customers (or for
    /// lost-recovery and lost-warning tasks), most frequent first.
    pub lost_reasons: Vec<LostReason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scorecards {
    pub month: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reps: Vec<RepCard>,
    pub branches: Vec<BranchCard>,
}

/// The first and last day of a `YYYY-MM` month.
pub fn month_span(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (y, m) = month.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let from = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
    let next = if from.month() == 12 {
        NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)?
    };
    Some((from, next.pred_opt()?))
}

/// A branch's lost-customer reasons, counted by (level 1, level 2).
type LostReasons = BTreeMap<(String, String), i64>;

/// `GET /v1/scorecards?month=YYYY-MM`, in the caller's scope: a rep sees only their own card,
/// branch marketing their branch's reps and branch, HQ and admins every branch.
pub async fn month(
    app: &App,
    actor: &Actor,
    month: &str,
    branch: Option<BranchId>,
    customers: &CustomerSlice,
) -> Result<Scorecards, AppError> {
    let (from, to) =
        month_span(month).ok_or_else(|| AppError::invalid("invalid_month", format!("{month:?} is not a month written YYYY-MM")))?;
    let scope = actor.scope();
    let visits = app.repo.score_visits(scope, customers, from, to).await?;
    let tasks = app.repo.score_tasks(scope, customers, from, to).await?;
    let revisits = app.repo.open_revisits(scope, customers, from, to).await?;
    let keep = |b: BranchId| branch.is_none_or(|want| want == b);

    let mut reps: BTreeMap<(BranchId, UserId), Card> = BTreeMap::new();
    let mut branches: BTreeMap<BranchId, (Card, LostReasons)> = BTreeMap::new();
    for t in tasks.iter().filter(|t| keep(t.branch_id)) {
        for card in [reps.entry((t.branch_id, t.assignee_id)).or_default(), &mut branches.entry(t.branch_id).or_default().0] {
            card.tasks_due += t.count;
            if t.required_method == "door_visit" {
                card.door_visits_required += t.count;
            }
            match t.status.as_str() {
                "done" => card.tasks_done += t.count,
                "missed" => card.tasks_missed += t.count,
                _ => {}
            }
        }
    }
    for v in visits.iter().filter(|v| keep(v.branch_id)) {
        let lost = matches!(v.customer_class.as_str(), "lost" | "lost_warning")
            || matches!(v.task_type.as_deref(), Some("lost_recovery" | "lost_warning"));
        let entry = branches.entry(v.branch_id).or_default();
        if let (true, Some(r)) = (lost, &v.result_reason) {
            *entry.1.entry((r.level1.clone(), r.level2.clone())).or_default() += 1;
        }
        for card in [reps.entry((v.branch_id, v.rep_id)).or_default(), &mut branches.entry(v.branch_id).or_default().0] {
            match v.method.as_str() {
                "door_visit" => card.door_visits += 1,
                "whatsapp" => card.whatsapp_visits += 1,
                _ => card.phone_visits += 1,
            }
            if let Some(s) = v.score {
                card.score_sum += s;
                card.final_sum += (s - v.deducted_points).max(0);
                card.scored += 1;
            }
            match v.status.as_str() {
                "compliant" => card.compliant += 1,
                "non_compliant" => card.non_compliant += 1,
                _ => {}
            }
            card.late_uploads += i64::from(v.late);
            card.deducted_points += v.deducted_points;
        }
    }
    for (rep, b, n) in revisits.into_iter().filter(|(_, b, _)| keep(*b)) {
        reps.entry((b, rep)).or_default().open_revisits += n;
        branches.entry(b).or_default().0.open_revisits += n;
    }

    let mut rep_cards = Vec::with_capacity(reps.len());
    for ((branch_id, rep_id), mut card) in reps {
        // A rep sees only their own card.
        if actor.role == crate::domain::role::Role::Sales && rep_id != actor.id {
            continue;
        }
        card.finish();
        let rep_name = app.repo.get_user(rep_id).await?.map(|u| u.name);
        rep_cards.push(RepCard { rep_id, rep_name, branch_id, card });
    }
    let mut branch_cards = Vec::with_capacity(branches.len());
    let is_rep = actor.role == crate::domain::role::Role::Sales;
    for (branch_id, (mut card, reasons)) in branches.into_iter().filter(|_| !is_rep) {
        card.finish();
        let branch_code = app.repo.get_branch(branch_id).await?.map(|b| b.code);
        let mut lost_reasons: Vec<LostReason> =
            reasons.into_iter().map(|((level1, level2), count)| LostReason { level1, level2, count }).collect();
        lost_reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.level1, &a.level2).cmp(&(&b.level1, &b.level2))));
        branch_cards.push(BranchCard { branch_id, branch_code, card, lost_reasons });
    }
    Ok(Scorecards { month: month.to_string(), from, to, reps: rep_cards, branches: branch_cards })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_strictly() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(month_span("2026-02"), Some((d("2026-02-01"), d("2026-02-28"))));
        assert_eq!(month_span("2028-02"), Some((d("2028-02-01"), d("2028-02-29"))));
        assert_eq!(month_span("2026-12"), Some((d("2026-12-01"), d("2026-12-31"))));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", "", "2026-00"] {
            assert_eq!(month_span(bad), None, "{bad}");
        }
    }
}

/// The month `n` months before a `YYYY-MM` month, written the same way.
pub fn months_back(month: &str, n: u32) -> Option<String> {
    let (from, _) = month_span(month)?;
    let total = from.year() * 12 + from.month0() as i32 - n as i32;
    Some(format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1))
}

/// One month of the compliance trend.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub month: String,
    pub visits: i64,
    pub compliant_rate: Option<f64>,
}

/// The compliance rate of the caller's scope (one branch when given) over the `months` months
/// ending with `month`, oldest first.
pub async fn trend(
    app: &App,
    actor: &Actor,
    month: &str,
    branch: Option<BranchId>,
    customers: &CustomerSlice,
    months: u32,
) -> Result<Vec<TrendPoint>, AppError> {
    let mut points = Vec::new();
    for back in (0..months).rev() {
        let m = months_back(month, back)
            .ok_or_else(|| AppError::invalid("invalid_month", format!("{month:?} is not a month written YYYY-MM")))?;
        let cards = self::month(app, actor, &m, branch, customers).await?;
        let (mut visits, mut compliant) = (0i64, 0f64);
        for b in &cards.branches {
            let n = b.card.door_visits + b.card.whatsapp_visits + b.card.phone_visits;
            visits += n;
            compliant += b.card.compliant_rate.unwrap_or(0.0) * n as f64;
        }
        let rate = (visits > 0).then(|| (compliant / visits as f64 * 1000.0).round() / 1000.0);
        points.push(TrendPoint { month: m, visits, compliant_rate: rate });
    }
    Ok(points)
}

/// The most frequent findings of a month in the caller's scope (one branch when given).
pub async fn top_findings(
    app: &App,
    actor: &Actor,
    month: &str,
    branch: Option<BranchId>,
    customers: &CustomerSlice,
    limit: usize,
) -> Result<Vec<(String, i64)>, AppError> {
    let (from, to) =
        month_span(month).ok_or_else(|| AppError::invalid("invalid_month", format!("{month:?} is not a month written YYYY-MM")))?;
    let mut counts = app.repo.finding_counts(actor.scope(), branch, customers, from, to).await?;
    counts.truncate(limit);
    Ok(counts)
}

#[cfg(test)]
mod trend_tests {
    #[test]
    fn months_go_back_across_years() {
        assert_eq!(super::months_back("2026-03", 5).as_deref(), Some("2025-10"));
        assert_eq!(super::months_back("2026-12", 0).as_deref(), Some("2026-12"));
        assert_eq!(super::months_back("2026-13", 1), None);
    }
}
