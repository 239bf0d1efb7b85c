//! Leads and their pipeline (the CRM and leads SOPs): who asked, for what, how warm, who follows
//! them up, where they stand, and everything said to them in order.
//!
//! Pure rules only: phone and e-mail normalisation, the hot / warm / cold rating, the stage
//! transitions, the near-same company name, the first-contact deadline.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ActivityId, BranchId, CustomerId, LeadId, QuotationId, UserId};
use super::policy::LeadPolicy;
use super::task::str_enum;

/// The SOP's pipeline: "Prospek Baru (Lead) → Penawaran Terkirim (Quotation Sent) → Negosiasi
/// (Negotiation) → Deal / Menang (Won) → Batal / Kalah (Lost)", the quotation SOP's On-Hold,
/// and "Mantan Klien (Past Client)" once the contract is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Lead,
    QuotationSent,
    Negotiation,
    Won,
    Lost,
    OnHold,
    PastClient,
}

str_enum!(Stage {
    Lead = "lead",
    QuotationSent = "quotation_sent",
    Negotiation = "negotiation",
    Won = "won",
    Lost = "lost",
    OnHold = "on_hold",
    PastClient = "past_client",
});

impl Stage {
    /// The stages a lead may move to from this one. Lost and On-Hold may be reopened (the
    /// customer comes back); a won deal only becomes a past client; a past client is reactivated
    /// as a new lead of its own, not by moving this one.
    pub fn next(self) -> &'static [Stage] {
        use Stage::*;
        match self {
            Lead => &[QuotationSent, Negotiation, Won, Lost, OnHold],
            QuotationSent => &[Negotiation, Won, Lost, OnHold],
            Negotiation => &[QuotationSent, Won, Lost, OnHold],
            OnHold => &[Lead, QuotationSent, Negotiation, Won, Lost],
            Lost => &[Lead],
            Won => &[PastClient],
            PastClient => &[],
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Stage::Lead | Stage::QuotationSent | Stage::Negotiation | Stage::OnHold)
    }
}

/// The leads SOP's qualification: "hot, warm, atau cold" from "kebutuhan, anggaran, dan waktu
/// pembelian".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Hot,
    Warm,
    Cold,
}

str_enum!(Rating { Hot = "hot", Warm = "warm", Cold = "cold" });

/// What the qualification asks: is the need stated, is there a budget, when will they buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Qualification {
    pub need_confirmed: bool,
    pub budget_confirmed: bool,
    /// When the lead expects to buy, if they said.
    pub expected_purchase_on: Option<NaiveDate>,
}

impl Qualification {
    /// Hot: all three criteria met (a need, a budget, buying within the policy's window);
    /// warm: two; cold: fewer.
    pub fn rating(&self, policy: &LeadPolicy, today: NaiveDate) -> Rating {
        let soon = self.expected_purchase_on.is_some_and(|d| d >= today && (d - today).num_days() <= i64::from(policy.hot_within_days));
        match [self.need_confirmed, self.budget_confirmed, soon].iter().filter(|c| **c).count() {
            3 => Rating::Hot,
            2 => Rating::Warm,
            _ => Rating::Cold,
        }
    }
}

/// A lead as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    pub id: LeadId,
    pub branch_id: BranchId,
    pub name: String,
    pub company: Option<String>,
    /// E.164, `+62…` ([`normalise_phone`]).
    pub phone: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    /// Where it came from ("Iklan Google", "referral", "website" …).
    pub source: String,
    /// "Ringkasan Kebutuhan Awal".
    pub need: String,
    pub region: Option<String>,
    pub product: Option<String>,
    pub segment: Option<String>,
    pub qualification: Qualification,
    pub rating: Rating,
    pub stage: Stage,
    pub lost_reason: Option<String>,
    /// On-Hold: when to follow up again.
    pub next_contact_on: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
    /// The customer a won deal became (or was linked to).
    pub customer_id: Option<CustomerId>,
    /// Another record of the same person this one was merged into.
    pub merged_into: Option<LeadId>,
    /// When the company received it (the first-contact deadline counts from here).
    pub received_at: DateTime<Utc>,
    pub first_contact_due_at: DateTime<Utc>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    /// When the periodic check found the first contact late (`lead.sla_breached`).
    pub sla_breached_at: Option<DateTime<Utc>>,
    /// When the deal was decided (Won or Lost; cleared when a lost lead is reopened).
    pub closed_at: Option<DateTime<Utc>>,
    /// A won deal's contract: when it ends, the lead becomes a past client.
    pub contract: Option<Contract>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A won deal's contract (the CRM SOP's "nilai kontrak, produk, tanggal berakhir").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    /// In rupiah.
    pub value: i64,
    pub product: String,
    pub ends_on: NaiveDate,
}

/// When a past client is due a reactivation contact: `months` after the contract ended (the
/// CRM SOP's "1–2 tahun"), on the branch's next working day from there.
pub fn reactivation_date(ends_on: NaiveDate, months: u32) -> NaiveDate {
    ends_on.checked_add_months(chrono::Months::new(months)).unwrap_or(ends_on)
}

/// "Menghubungi leads sesuai SLA … maksimal 1x24 jam sejak diterima": clock hours from receipt
/// (the SOP counts "jam", not working days), the number a policy value.
pub fn first_contact_due(received_at: DateTime<Utc>, policy: &LeadPolicy) -> DateTime<Utc> {
    received_at + Duration::hours(i64::from(policy.first_contact_hours))
}

/// One entry of a lead's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Call,
    Whatsapp,
    Email,
    Meeting,
    Visit,
    Note,
    /// Written by the server: a stage change, an assignment, a merge.
    System,
}

str_enum!(ActivityKind {
    Call = "call",
    Whatsapp = "whatsapp",
    Email = "email",
    Meeting = "meeting",
    Visit = "visit",
    Note = "note",
    System = "system",
});

impl ActivityKind {
    /// A call, message, e-mail, meeting or visit reaches the lead; a note or the server's own
    /// entry does not, so it is not a first contact.
    pub fn is_contact(self) -> bool {
        !matches!(self, ActivityKind::Note | ActivityKind::System)
    }
}

/// An interaction with a lead, append-only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    pub id: ActivityId,
    pub lead_id: LeadId,
    pub kind: ActivityKind,
    /// When it happened (the rep's account; not after it was logged).
    pub occurred_at: DateTime<Utc>,
    pub summary: String,
    /// Whether the lead answered (a call picked up, a reply to the message).
    pub answered: Option<bool>,
    pub actor_id: Option<UserId>,
    pub logged_at: DateTime<Utc>,
}

/// An Indonesian phone number in E.164: `0812-3456-789`, `62 812 3456 789` and `+628123456789`
/// are all `+628123456789`. Spaces, dashes, dots and brackets are ignored; a number of another
/// country keeps its `+` and code. `None` when it is no phone number (too short or long, letters).
pub fn normalise_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let plus = trimmed.starts_with('+');
    let mut digits = String::new();
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    let national = if plus {
        if !digits.starts_with("62") {
            // Another country: E.164 allows 8 to 15 digits with the country code.
            return (8..=15).contains(&digits.len()).then(|| format!("+{digits}"));
        }
        digits[2..].to_string()
    } else if let Some(rest) = digits.strip_prefix("62") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest.to_string()
    } else {
        return None;
    };
    let national = national.trim_start_matches('0');
    // Indonesian numbers: 7 to 12 digits after the country code (fixed lines are shorter).
    (7..=12).contains(&national.len()).then(|| format!("+62{national}"))
}

/// A lower-cased e-mail address, or `None` when it is not one.
pub fn normalise_email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(e)
}

/// A company name for comparison: lower-case letters and digits, legal forms ("PT", "CV",
/// "Tbk", "UD", "Persero") and punctuation dropped.
pub fn company_key(name: &str) -> String {
    const FORMS: [&str; 9] = ["pt", "cv", "tbk", "ud", "persero", "pd", "fa", "koperasi", "ltd"];
    name.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty() && !FORMS.contains(w)).collect::<Vec<_>>().join(" ")
}

/// Near-same company names: equal once normalised, or Jaro-Winkler similarity at least
/// `threshold` (0.93 by default: "Sinar Jaya Abadi" and "Sinar Jaya Abadl" match, "Sinar Jaya"
/// and "Sinar Mas" do not).
pub fn same_company(a: &str, b: &str, threshold: f64) -> bool {
    let (a, b) = (company_key(a), company_key(b));
    !a.is_empty() && !b.is_empty() && (a == b || strsim::jaro_winkler(&a, &b) >= threshold)
}

/// Why two leads look like the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    SamePhone,
    SameEmail,
    SimilarCompany,
}

/// Why `other` looks like a duplicate of `lead`, if it does.
pub fn duplicate_reason(lead: &Lead, other: &Lead, policy: &LeadPolicy) -> Option<DuplicateReason> {
    if lead.id == other.id || other.merged_into.is_some() {
        return None;
    }
    if lead.phone.is_some() && lead.phone == other.phone {
        return Some(DuplicateReason::SamePhone);
    }
    if lead.email.is_some() && lead.email == other.email {
        return Some(DuplicateReason::SameEmail);
    }
    match (&lead.company, &other.company) {
        (Some(a), Some(b)) if same_company(a, b, policy.duplicate_company_similarity) => Some(DuplicateReason::SimilarCompany),
        _ => None,
    }
}

/// The policy's distribution rule for a lead: the first whose every given criterion matches.
/// Returns the rule's index.
pub fn distribution_rule(policy: &LeadPolicy, branch_code: &str, lead: &Lead) -> Option<usize> {
    let eq = |want: &Option<String>, have: &Option<String>| match want {
        None => true,
        Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
    };
    policy.distribution.iter().position(|r| {
        r.branch.as_deref().is_none_or(|b| b.eq_ignore_ascii_case(branch_code))
            && eq(&r.region, &lead.region)
            && eq(&r.product, &lead.product)
            && eq(&r.segment, &lead.segment)
            && !r.assignees.is_empty()
    })
}

/// Where a quotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotationStatus {
    /// Its discount is beyond the policy: not sent until the supervisor approves.
    AwaitingApproval,
    Sent,
    /// A later revision replaced it.
    Superseded,
    /// The supervisor did not approve its discount: never sent.
    Rejected,
}

str_enum!(QuotationStatus { AwaitingApproval = "awaiting_approval", Sent = "sent", Superseded = "superseded", Rejected = "rejected" });

/// The finding of a revision not sent on the day it was asked for (the quotation SOP: "revisi
/// dikirim di hari yang sama").
pub const REVISION_NOT_SAME_DAY: &str = "revision_not_same_day";

/// A quotation's document (its PDF) in the object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotationDocument {
    #[serde(skip)]
    pub key: String,
    pub bytes: i64,
    pub sha256: String,
}

/// A quotation sent to a lead; each revision (Rev.01, Rev.02 …) is its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quotation {
    pub id: QuotationId,
    pub lead_id: LeadId,
    pub branch_id: BranchId,
    pub number: String,
    /// 0 for the first, 1 for Rev.01 …
    pub revision: u32,
    /// In rupiah.
    pub amount: i64,
    pub discount_pct: f64,
    pub note: Option<String>,
    pub status: QuotationStatus,
    /// The branch's day it was sent (the cadence's start).
    pub sent_on: Option<NaiveDate>,
    pub approved_by: Option<UserId>,
    /// A revision: when the lead asked for it.
    pub revision_requested_at: Option<DateTime<Utc>>,
    /// A breach of the SOP it shows ([`REVISION_NOT_SAME_DAY`]).
    pub finding: Option<String>,
    pub document: Option<QuotationDocument>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Quotation {
    /// `Q-112`, `Q-112 Rev.01` …
    pub fn label(&self) -> String {
        match self.revision {
            0 => self.number.clone(),
            r => format!("{} Rev.{r:02}", self.number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indonesian_numbers_are_one_number_however_written() {
        for raw in ["0812-3456-789", "62 812 3456 789", "+628123456789", "+62 (812) 3456.789", "+62 0812 3456 789"] {
            assert_eq!(normalise_phone(raw).as_deref(), Some("+628123456789"), "{raw}");
        }
        assert_eq!(normalise_phone("021 5551234").as_deref(), Some("+62215551234"));
        assert_eq!(normalise_phone("+65 6123 4567").as_deref(), Some("+6561234567"));
        for bad in ["", "0812", "8123456789", "0812-3456-789x", "++628123456789", "0812345678901234"] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(normalise_email(" Budi@Sinar.CO.ID ").as_deref(), Some("budi@sinar.co.id"));
        for bad in ["budi", "budi@", "@sinar.co.id", "budi@sinar", "bu di@sinar.co.id", "a@b@c.id"] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn company_names_match_without_their_legal_form_and_small_typos() {
        assert!(same_company("PT. Sinar Jaya Abadi", "Sinar Jaya Abadi Tbk", 0.93));
        assert!(same_company("CV Sinar Jaya Abadi", "sinar jaya abadl", 0.93));
        assert!(!same_company("PT Sinar Jaya", "PT Sinar Mas", 0.93));
        assert!(!same_company("PT", "CV", 0.93), "a legal form alone is no name");
    }

    #[test]
    fn the_rating_counts_need_budget_and_timing() {
        let p = LeadPolicy::default();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let soon = Some(today + chrono::Days::new(20));
        let q = |n, b, t| Qualification { need_confirmed: n, budget_confirmed: b, expected_purchase_on: t };
        assert_eq!(q(true, true, soon).rating(&p, today), Rating::Hot);
        assert_eq!(q(true, true, Some(today + chrono::Days::new(200))).rating(&p, today), Rating::Warm);
        assert_eq!(q(true, false, soon).rating(&p, today), Rating::Warm);
        assert_eq!(q(true, false, None).rating(&p, today), Rating::Cold);
        assert_eq!(q(true, true, Some(today - chrono::Days::new(1))).rating(&p, today), Rating::Warm, "a past date is not soon");
    }

    #[test]
    fn stages_follow_the_pipeline() {
        assert!(Stage::Lead.next().contains(&Stage::QuotationSent));
        assert!(Stage::Won.next() == [Stage::PastClient]);
        assert!(Stage::PastClient.next().is_empty());
        assert!(!Stage::Lost.next().contains(&Stage::Won), "a lost deal is reopened as a lead first");
    }
}
