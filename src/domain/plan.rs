//! The visits each class requires (RULES.md §1), as tasks with due dates in working days.
//!
//! A and B need two door visits per calendar month, C–E one, F none; a New customer two in its
//! first month and one a month after; a Lost customer one door visit within 7 working days of
//! detection; a Lost Warning customer one contact within 5 (a door visit if its previous level
//! was A–D, WhatsApp allowed for E). Each planned task has a key — customer, period, type and
//! which of the period's visits — so reruns and several instances never create one twice; the
//! month's visits already done at the door satisfy the routine ones first.

use chrono::{Datelike, NaiveDate};

use super::customer::CustomerClass;
use super::policy::ClassPolicy;
use super::task::{RequiredMethod, TaskType};
use super::time::Calendar;

/// One task the plan asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub task_type: TaskType,
    pub required_method: RequiredMethod,
    pub due_date: NaiveDate,
    /// `{YYYY-MM}:{type}:{n}`; the caller prefixes the customer.
    pub key: String,
}

/// The last working day on or before `date`, not before `floor` (else `floor`'s next working day).
fn working_on_or_before(cal: &Calendar, date: NaiveDate, floor: NaiveDate) -> NaiveDate {
    let mut d = date;
    while !cal.is_working_day(d) && d > floor {
        d = d.pred_opt().unwrap_or(d);
    }
    if cal.is_working_day(d) {
        d
    } else {
        cal.add_working_days(floor, 0)
    }
}

/// A checkpoint's due date: not before the next working day (a rep gets at least a day's notice
/// when a checkpoint has passed or is today), nor after the month's last working day.
fn due(cal: &Calendar, checkpoint: NaiveDate, today: NaiveDate, month_end: NaiveDate) -> NaiveDate {
    let last_working = working_on_or_before(cal, month_end, today);
    checkpoint.max(cal.add_working_days(today, 1)).min(last_working).max(today)
}

/// The tasks `class` requires in the month of `today`, given the door visits already done in it.
pub fn plan(
    p: &ClassPolicy,
    cal: &Calendar,
    today: NaiveDate,
    class: CustomerClass,
    previous_level: Option<CustomerClass>,
    created_on: NaiveDate,
    door_visits_done: i64,
) -> Vec<Planned> {
    let month = today.format("%Y-%m").to_string();
    let first = today.with_day(1).unwrap_or(today);
    let next_month = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    let last = next_month.pred_opt().unwrap_or(first);
    let routine = |n: u32| -> Vec<Planned> {
        // Checkpoints spread over the month: for two visits the 15th and the month's end.
        (1..=n)
            .filter(|k| i64::from(*k) > door_visits_done)
            .map(|k| {
                let day = (last.day() * k).div_ceil(n);
                let target = first.with_day(day).unwrap_or(last);
                Planned {
                    task_type: TaskType::Routine,
                    required_method: RequiredMethod::DoorVisit,
                    due_date: due(cal, working_on_or_before(cal, target, today), today, last),
                    key: format!("{month}:routine:{k}"),
                }
            })
            .collect()
    };
    use CustomerClass::*;
    match class {
        Lost => vec![Planned {
            task_type: TaskType::LostRecovery,
            required_method: RequiredMethod::DoorVisit,
            due_date: cal.add_working_days(today, p.lost_due_working_days),
            key: format!("{month}:lost_recovery:1"),
        }],
        LostWarning => {
            let door = previous_level.is_none_or(|l| p.lost_warning_door_levels.iter().any(|d| d == l.as_str()));
            vec![Planned {
                task_type: TaskType::LostWarning,
                required_method: if door { RequiredMethod::DoorVisit } else { RequiredMethod::DoorVisitOrWhatsapp },
                due_date: cal.add_working_days(today, p.lost_warning_due_working_days),
                key: format!("{month}:lost_warning:1"),
            }]
        }
        New => {
            let first_month = created_on.year() == today.year() && created_on.month() == today.month();
            let n = if first_month { p.new_first_month_visits } else { p.new_later_visits };
            routine(n)
                .into_iter()
                .map(|t| Planned { task_type: TaskType::Onboarding, key: t.key.replace(":routine:", ":onboarding:"), ..t })
                .collect()
        }
        A | B | C | D | E | F => {
            let i = ["A", "B", "C", "D", "E", "F"].iter().position(|l| *l == class.as_str()).unwrap_or(5);
            routine(p.visits_per_month[i])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn each_class_gets_what_the_sop_requires() {
        let p = ClassPolicy::default();
        let cal = Calendar::default();
        let old = d("2024-01-01");
        let today = d("2026-11-04"); // Wednesday
        let due = |c, done| {
            plan(&p, &cal, today, c, Some(CustomerClass::B), old, done)
                .iter()
                .map(|t| (t.task_type, t.due_date, t.key.clone()))
                .collect::<Vec<_>>()
        };
        use CustomerClass::*;
        assert_eq!(
            due(A, 0),
            [
                (TaskType::Routine, d("2026-11-13"), "2026-11:routine:1".into()),
                (TaskType::Routine, d("2026-11-30"), "2026-11:routine:2".into())
            ],
            "the 15th is a Sunday: the Friday before; the 30th a Monday"
        );
        assert_eq!(due(B, 1).len(), 1, "one door visit done: one more");
        assert_eq!(due(A, 2), [], "both done");
        assert_eq!(due(C, 0), [(TaskType::Routine, d("2026-11-30"), "2026-11:routine:1".into())]);
        assert_eq!(due(F, 0), []);
        assert_eq!(due(Lost, 0), [(TaskType::LostRecovery, d("2026-11-13"), "2026-11:lost_recovery:1".into())], "7 working days");
        assert_eq!(due(LostWarning, 0), [(TaskType::LostWarning, d("2026-11-11"), "2026-11:lost_warning:1".into())], "5 working days");
        let lw = |prev| plan(&p, &cal, today, LostWarning, Some(prev), old, 0)[0].required_method;
        assert_eq!((lw(B), lw(E)), (RequiredMethod::DoorVisit, RequiredMethod::DoorVisitOrWhatsapp));
        let new = |created: &str| plan(&p, &cal, today, New, None, d(created), 0).len();
        assert_eq!((new("2026-11-02"), new("2026-10-02")), (2, 1), "two in the first month, then one");
        // Late in the month a checkpoint already past is due the next working day, not in the
        // past; on the month's last working day, that day.
        let late = plan(&p, &cal, d("2026-11-20"), A, None, old, 0);
        assert_eq!(late[0].due_date, d("2026-11-23"));
        assert_eq!(plan(&p, &cal, d("2026-11-30"), C, None, old, 0)[0].due_date, d("2026-11-30"));
    }
}
