//! Follow-up cadences as data: the steps a follow-up takes after a quotation (H+1 receipt,
//! H+3 technical, H+5 commercial) or a service, each due a number of working days after the
//! start or after the previous step was done, and what stops them. A new cadence is a policy
//! entry, not code.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{BranchId, CustomerId, FollowUpId, LeadId, QuotationId, ServiceCaseId, UserId};
use super::task::str_enum;
use super::time::Calendar;

/// What a step's due date counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The cadence's start (the quotation sent, the service done).
    Start,
    /// The day the previous step was done (or the start, for the first).
    Previous,
}

/// One step of a cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CadenceStep {
    /// A stable name (`receipt_confirmation`).
    pub name: String,
    /// Due this many working days after its anchor.
    pub offset_working_days: u32,
    pub anchor: Anchor,
    /// What the step is for, shown on the task.
    pub purpose: String,
}

/// A cadence: its steps and when it gives up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    pub steps: Vec<CadenceStep>,
    /// After this many attempts the lead did not answer (0: never), one closing-message step
    /// is due the next working day and the lead goes On-Hold …
    #[serde(default)]
    pub max_unanswered: u32,
    /// … with its next contact this many days later.
    #[serde(default)]
    pub on_hold_days: u32,
}

/// The quotation SOP's cadence. "Satu hari kerja setelah penawaran dikirim" (H+1); "dua hingga
/// tiga hari setelah konfirmasi" (H+3: two working days after the confirmation was done);
/// "dua hingga tiga hari setelah follow-up teknis" (H+5: two after the technical one). "Jika
/// klien tidak merespons setelah 3 kali upaya follow-up … kirimkan satu pesan penutup … lalu
/// ubah statusnya menjadi On-Hold."
pub fn quotation_default() -> Cadence {
    let step = |name: &str, days, anchor, purpose: &str| CadenceStep {
        name: name.into(),
        offset_working_days: days,
        anchor,
        purpose: purpose.into(),
    };
    Cadence {
        steps: vec![
            step(
                "receipt_confirmation",
                1,
                Anchor::Start,
                "Pastikan penawaran sudah diterima (bukan di folder spam); jangan langsung menanyakan keputusan.",
            ),
            step(
                "technical_clarification",
                2,
                Anchor::Previous,
                "Tanyakan spesifikasi atau lingkup kerja yang perlu dijelaskan lebih detail.",
            ),
            step(
                "commercial_follow_up",
                2,
                Anchor::Previous,
                "Bahas tanggapan atas harga dan termin pembayaran; negosiasi dalam batas wewenang.",
            ),
        ],
        max_unanswered: 3,
        on_hold_days: 30,
    }
}

/// The name of the step a cadence adds when the lead stopped answering.
pub const CLOSING_MESSAGE: &str = "closing_message";

/// When step `index` is due: from the start, or from the day the previous step was done.
pub fn due(cadence: &Cadence, index: usize, start: NaiveDate, previous_done: Option<NaiveDate>, cal: &Calendar) -> Option<NaiveDate> {
    let step = cadence.steps.get(index)?;
    let from = match step.anchor {
        Anchor::Start => start,
        Anchor::Previous => previous_done.unwrap_or(start),
    };
    Some(cal.add_working_days(from, step.offset_working_days))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    Open,
    Done,
    Missed,
    Cancelled,
}

str_enum!(FollowUpStatus { Open = "open", Done = "done", Missed = "missed", Cancelled = "cancelled" });

/// One follow-up task of a cadence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub branch_id: BranchId,
    pub assignee_id: UserId,
    /// The lead a quotation's cadence follows up.
    pub lead_id: Option<LeadId>,
    /// The quotation whose cadence this is.
    pub quotation_id: Option<QuotationId>,
    /// The customer and the service case an after-service cadence follows up.
    pub customer_id: Option<CustomerId>,
    pub service_case_id: Option<ServiceCaseId>,
    pub cadence: String,
    /// The step's index in the cadence (the closing message: one past the last).
    pub step: u32,
    pub step_name: String,
    pub purpose: String,
    pub due_date: NaiveDate,
    pub status: FollowUpStatus,
    /// Whether the lead answered the attempt.
    pub answered: Option<bool>,
    pub note: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<UserId>,
    /// What the step's checklist recorded (after-service: the customer's satisfaction, the
    /// complaint, the testimonial asked for and its link).
    pub outcome: Option<serde_json::Value>,
    /// A breach of the SOP the record shows (`testimonial_for_reward`).
    pub finding: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a new follow-up says; [`NewFollowUp::open`] makes it, open, not yet done, and the
/// caller names what it follows up (a lead and its quotation, a customer and its case).
pub struct NewFollowUp<'a> {
    /// Derived from the quotation's or the case's id and the step, so a retry that raced the
    /// first names the same task.
    pub id: FollowUpId,
    pub branch_id: BranchId,
    pub assignee_id: UserId,
    pub cadence: &'a str,
    pub step: u32,
    pub step_name: &'a str,
    pub purpose: &'a str,
    pub due_date: NaiveDate,
}

impl NewFollowUp<'_> {
    pub fn open(self, created_at: DateTime<Utc>) -> FollowUp {
        FollowUp {
            id: self.id,
            branch_id: self.branch_id,
            assignee_id: self.assignee_id,
            lead_id: None,
            quotation_id: None,
            customer_id: None,
            service_case_id: None,
            cadence: self.cadence.to_string(),
            step: self.step,
            step_name: self.step_name.to_string(),
            purpose: self.purpose.to_string(),
            due_date: self.due_date,
            status: FollowUpStatus::Open,
            answered: None,
            note: None,
            done_at: None,
            done_by: None,
            outcome: None,
            finding: None,
            created_at,
        }
    }
}

/// The id of step `index` of the cadence run `run` (a quotation's or a case's id).
pub fn step_id(run: uuid::Uuid, index: u32) -> FollowUpId {
    FollowUpId(uuid::Uuid::new_v5(&run, format!("step:{index}").as_bytes()))
}

/// The after-service SOP's cadence: "Follow-up dilakukan maksimal H+2" after the job is done,
/// one contact; a customer who did not answer is tried again the next working day, twice.
pub fn after_service_default() -> Cadence {
    Cadence {
        steps: vec![CadenceStep {
            name: "after_service_contact".into(),
            offset_working_days: 2,
            anchor: Anchor::Start,
            purpose: "Tanyakan kondisi setelah layanan, catat masukan atau keluhan; bila puas, minta testimoni dengan tautan review \
                      (tanpa imbalan)."
                .into(),
        }],
        max_unanswered: 3,
        on_hold_days: 0,
    }
}

/// What was done to close the customer's matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    ComplaintResolved,
    ClaimPaid,
    PickupFixed,
    OnboardingCompleted,
    ServiceDelivered,
}

str_enum!(ServiceKind {
    ComplaintResolved = "complaint_resolved",
    ClaimPaid = "claim_paid",
    PickupFixed = "pickup_fixed",
    OnboardingCompleted = "onboarding_completed",
    ServiceDelivered = "service_delivered",
});

/// A complaint resolved or a service delivered, followed up after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCase {
    pub id: ServiceCaseId,
    pub branch_id: BranchId,
    pub customer_id: CustomerId,
    pub kind: ServiceKind,
    pub summary: String,
    /// The branch's day the job was done (the cadence's start).
    pub completed_on: NaiveDate,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// The customer's answer to "how is it since?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    Neutral,
    Dissatisfied,
}

/// "Jangan menawarkan imbalan langsung untuk review positif": a note that ties the testimonial
/// to a reward (a gift, a voucher, a discount, cash back …) is the finding `testimonial_for_reward`.
pub fn offers_reward(note: &str) -> bool {
    const REWARDS: [&str; 14] = [
        "hadiah",
        "imbalan",
        "voucher",
        "vocer",
        "diskon",
        "potongan harga",
        "cashback",
        "cash back",
        "bonus",
        "gratis",
        "reward",
        "gift",
        "discount",
        "free",
    ];
    let text = note.to_lowercase();
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    REWARDS.iter().any(|r| match r.split_once(' ') {
        Some((a, b)) => words.windows(2).any(|w| w[0] == a && w[1] == b),
        None => words.contains(r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quotation_cadence_counts_working_days_from_its_anchor() {
        let c = quotation_default();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Friday 20 November 2026, the Monday a holiday.
        let cal = Calendar::new(crate::domain::directory::MONDAY_TO_FRIDAY, [d("2026-11-23")]);
        assert_eq!(due(&c, 0, d("2026-11-20"), None, &cal), Some(d("2026-11-24")), "H+1 skips the weekend and the holiday");
        assert_eq!(due(&c, 1, d("2026-11-20"), Some(d("2026-11-25")), &cal), Some(d("2026-11-27")), "two after it was done");
        assert_eq!(due(&c, 3, d("2026-11-20"), None, &cal), None);
        let a = after_service_default();
        assert_eq!(due(&a, 0, d("2026-11-20"), None, &cal), Some(d("2026-11-25")), "H+2 in working days");
    }

    #[test]
    fn a_reward_for_a_testimonial_is_seen_in_the_note() {
        assert!(offers_reward("Minta review Google, nanti dapat voucher 50rb"));
        assert!(offers_reward("kasih potongan harga kalau kasih bintang 5"));
        assert!(!offers_reward("Pelanggan puas, link Google Review dikirim via WhatsApp"));
        assert!(!offers_reward("potongannya rapi"), "a word inside another is not it");
    }
}
