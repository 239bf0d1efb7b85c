//! The policy's sections: photo, visit, summary and class values, each with the SOP's defaults.

use serde::{Deserialize, Serialize};

use crate::domain::finding::Severity;

/// Severity and penalty of one finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRule {
    pub severity: Severity,
    pub penalty: u32,
}

/// Limits and thresholds for photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoPolicy {
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    /// Largest accepted width or height, checked from the header before any decode.
    pub max_side_px: u32,
    /// Largest accepted width × height, checked from the header before any decode.
    pub max_pixels: u64,
    /// Below this many megapixels a photo is `photo_resolution_low` (SOP ch. 6: 1 MP).
    pub min_megapixels: f64,
    /// How long collecting one upload may take, in seconds.
    pub upload_timeout_secs: u64,
    /// EXIF, app and GPS clocks may disagree by this much (`photo_time_mismatch`).
    pub time_tolerance_minutes: u32,
    /// A ModifyDate this long after DateTimeOriginal is a sign of editing.
    pub edit_modify_tolerance_minutes: u32,
    /// The camera's and the app's GPS may be this far apart, plus the app's accuracy.
    pub gps_agreement_m: f64,
    /// Photos of one visit taken further apart than this in time are `photos_inconsistent`.
    pub visit_max_spread_minutes: u32,
    /// … or further apart than this in space.
    pub visit_max_spread_m: f64,
    /// A screenshot's short side is at most this many pixels (phone screens).
    pub screenshot_max_short_side_px: u32,
    /// A WhatsApp screenshot whose OCR read fewer confident words is `screenshot_unreadable`.
    pub screenshot_min_words: u32,
    /// Mean luma (0–255) below this is `photo_too_dark`.
    pub dark_max_brightness: f64,
    /// Backlit: the frame at least this bright (luma) …
    pub backlit_min_surround: f64,
    /// … and this many times brighter than the centre.
    pub backlit_min_ratio: f64,
    /// Laplacian variance (at the fixed working size) below this is `photo_blurry`.
    pub blurry_max_sharpness: f64,
    /// Two photos whose 256-bit dHashes differ in at most this many bits (and whose average
    /// hashes agree) show the same picture. At most 15: the index finds every pair within 15.
    pub reuse_max_dhash_distance: u32,
    /// … and whose 64-bit average hashes differ in at most this many bits.
    pub reuse_max_ahash_distance: u32,
    /// Faces a `with_customer` photo must show (the rep and the customer); 0 switches the check off.
    pub faces_required: u32,
    /// Smallest face counted, in pixels of the reduced-scale image (≈ 1/8 of the photo).
    pub faces_min_px: u32,
    /// Cropped copies: average hashes within this many bits …
    pub reuse_crop_max_ahash_distance: u32,
    /// … and dHashes within this many (far below the ~128 of unrelated pictures).
    pub reuse_crop_max_dhash_distance: u32,
}

impl Default for PhotoPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            max_side_px: 16_384,
            max_pixels: 120_000_000,
            min_megapixels: 1.0,
            upload_timeout_secs: 60,
            time_tolerance_minutes: 30,
            edit_modify_tolerance_minutes: 60,
            gps_agreement_m: 300.0,
            visit_max_spread_minutes: 180,
            visit_max_spread_m: 1_000.0,
            screenshot_max_short_side_px: 1_600,
            screenshot_min_words: 8,
            dark_max_brightness: 45.0,
            backlit_min_surround: 170.0,
            backlit_min_ratio: 1.8,
            blurry_max_sharpness: 250.0,
            reuse_max_dhash_distance: 15,
            reuse_max_ahash_distance: 10,
            faces_required: 2,
            faces_min_px: 20,
            reuse_crop_max_ahash_distance: 6,
            reuse_crop_max_dhash_distance: 44,
        }
    }
}

/// A local clock time, written `"HH:MM"` in the policy file; `"24:00"` is the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u16);

impl ClockTime {
    pub const fn hm(h: u16, m: u16) -> ClockTime {
        ClockTime(h * 60 + m)
    }

    /// Minutes since local midnight.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            let valid = (h < 24 && m < 60) || (h, m) == (24, 0);
            (valid && text.len() == 5).then(|| ClockTime::hm(h, m))
        });
        parsed.ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a time of day written HH:MM")))
    }
}

/// How a visit is conducted and recorded (RULES.md §2, §3, §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VisitPolicy {
    /// The customer's business hours, local time of the branch (SOP ch. 3: 09.00–17.00);
    /// `00:00`–`24:00` switches the check off.
    pub business_hours_start: ClockTime,
    pub business_hours_end: ClockTime,
    /// The lunch break to avoid (SOP ch. 3: 12.00–13.00); equal times switch it off.
    pub lunch_start: ClockTime,
    pub lunch_end: ClockTime,
    /// A refused visit creates a WhatsApp follow-up due this many working days later.
    pub refusal_follow_up_due_working_days: u32,
    /// A planned door visit is confirmed with the customer at least this many days before its
    /// day (SOP ch. 3 item 1: "minimal H-1"); 0 accepts a confirmation on the day itself.
    pub confirm_days_before: u32,
    /// A door visit with a check-in and a check-out lasts at least this long …
    pub min_duration_minutes: u32,
    /// … and at most this long (SOP ch. 3 item 4: 20–45 minutes).
    pub max_duration_minutes: u32,
    /// The record is submitted at most this long after check-out (filled in on site).
    pub record_after_checkout_max_minutes: u32,
    /// The severity and penalty of leaving one question unanswered, by question code; a question
    /// not named here takes `findings.questions_unanswered`. `questions_unanswered` takes the
    /// gravest of its unanswered questions. The SOP's weight (ch. 5): the 8 standard questions
    /// are a framework whose wording may vary (minor); the 5 for a Lost customer are the visit's
    /// purpose, its root cause and recovery (major).
    pub question_rules: std::collections::BTreeMap<String, FindingRule>,
    /// A flagged visit (major findings, not blocking) is decided by HQ or branch marketing within
    /// this many working days of its submit; the day close after the deadline escalates it and
    /// gives it a re-visit task, as a rejection would.
    pub flagged_review_due_working_days: u32,
    /// The same per branch, by branch code, for branches whose reviewers need more or less time.
    pub branch_flagged_review_due_working_days: std::collections::BTreeMap<String, u32>,
    /// A door visit creates a thank-you WhatsApp task for its rep (SOP ch. 3.1: "kirim pesan
    /// terima kasih via WA ke customer") …
    pub thank_you_task: bool,
    /// … due this many working days after the visit (the SOP puts it on the visit's day; one
    /// day's grace keeps a late-afternoon visit from being escalated at midnight).
    pub thank_you_due_working_days: u32,
    /// The detail question whose "yes" sends the visit to HQ's queue for help (SOP ch. 9,
    /// "Apakah perlu bantuan dari HQ?").
    pub hq_help_question: String,
    /// An answer to a standard question needs at least this many words …
    pub min_answer_words: u32,
    /// … and is not one of these (compared lower-case, without punctuation).
    pub filler_answers: Vec<String>,
}

impl Default for VisitPolicy {
    fn default() -> Self {
        Self {
            business_hours_start: ClockTime::hm(9, 0),
            business_hours_end: ClockTime::hm(17, 0),
            lunch_start: ClockTime::hm(12, 0),
            lunch_end: ClockTime::hm(13, 0),
            refusal_follow_up_due_working_days: 1,
            confirm_days_before: 1,
            min_duration_minutes: 20,
            max_duration_minutes: 45,
            record_after_checkout_max_minutes: 30,
            question_rules: ["lost_what_happened", "lost_trigger", "lost_current_courier", "lost_improvements", "lost_offer"]
                .map(|q| (q.to_string(), FindingRule { severity: Severity::Major, penalty: 10 }))
                .into(),
            flagged_review_due_working_days: 3,
            branch_flagged_review_due_working_days: std::collections::BTreeMap::new(),
            thank_you_task: true,
            thank_you_due_working_days: 1,
            hq_help_question: "needs_hq_help".into(),
            min_answer_words: 2,
            filler_answers: [
                "-",
                "ok",
                "oke",
                "ya",
                "tidak",
                "ada",
                "n/a",
                "na",
                "idem",
                "sama",
                "aman",
                "baik",
                "good",
                "fine",
                "yes",
                "no",
                "none",
                "nothing",
                "tidak tahu",
                "belum tahu",
                "sama seperti sebelumnya",
                "same as before",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// The summary ("Keterangan") rules (RULES.md §5). The lexicons are word stems, matched at the
/// start of a word or after a common Indonesian prefix (di-, ter-, ber-, me(N)-, pe(N)-, ke-, se-),
/// so `rusak` also finds `kerusakan` and `kirim` finds `dikirim`; multi-word entries match as
/// phrases. Indonesian and English entries sit in one list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummaryPolicy {
    /// Fewer substantive sentences than this is `summary_too_short` (SOP ch. 9: 3).
    pub min_sentences: u32,
    /// A sentence counts when it has at least this many words …
    pub min_sentence_words: u32,
    /// … at least this many of them different, and does not repeat an earlier sentence.
    pub min_sentence_distinct_words: u32,
    /// (a) the customer's business situation.
    pub aspect_business: Vec<String>,
    /// (b) complaints or problems raised.
    pub aspect_complaints: Vec<String>,
    /// (c) opportunities or action items.
    pub aspect_opportunities: Vec<String>,
    /// Words that make a date concrete without digits (months, weekdays). `minggu` is left out:
    /// it is Sunday and also "week" ("minggu ini").
    pub date_words: Vec<String>,
    /// Words that introduce a place (street, district, warehouse, …).
    pub place_words: Vec<String>,
    /// A summary whose word 3-shingles overlap an earlier summary's by at least this Jaccard
    /// similarity is `summary_templated`. Digits are masked first, so a template with new
    /// numbers is still a template.
    pub templated_min_similarity: f64,
    /// Summaries shorter than this many words are not compared (too short to be a template).
    pub templated_min_words: u32,
    /// `complaint_without_details` asks for `all` of waybill and date (SOP ch. 9), or `any`.
    pub complaint_details_required: DetailsRequired,
}

/// How many of a complaint's details are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailsRequired {
    All,
    Any,
}

fn words(list: &str) -> Vec<String> {
    list.split(',').map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect()
}

impl Default for SummaryPolicy {
    fn default() -> Self {
        Self {
            min_sentences: 3,
            min_sentence_words: 4,
            min_sentence_distinct_words: 3,
            aspect_business: words(
                "usaha, bisnis, jualan, jual, penjualan, omzet, omset, pesanan, order, kirim, pengirim, paket, volume, \
                 pelanggan, stok, musim, permintaan, ramai, sepi, produksi, toko, gudang, marketplace, transaksi, \
                 business, sales, revenue, turnover, orders, shipments, shipping, parcels, customers, stock, season, \
                 demand, busy, quiet, production, store, shop, warehouse",
            ),
            aspect_complaints: words(
                "keluhan, keluh, mengeluh, komplain, masalah, kendala, terlambat, telat, lambat, rusak, hilang, salah, retur, \
                 kecewa, gagal, pecah, tidak puas, belum sampai, \
                 complain, complaint, problem, issue, late, delay, damaged, broken, lost, missing, slow, wrong, \
                 return, error, dissatisfied, unhappy, no complaints, tidak ada keluhan",
            ),
            aspect_opportunities: words(
                "peluang, potensi, rencana, tawar, penawaran, usul, tindak lanjut, follow up, sepakat, setuju, promo, \
                 diskon, target, jadwal, minggu depan, bulan depan, akan, tambah, naikkan, coba, uji coba, \
                 opportunity, potential, plan, offer, propose, agree, discount, increase, target, schedule, \
                 next week, next month, will, trial, action",
            ),
            date_words: words(
                "januari, februari, maret, april, mei, juni, juli, agustus, september, oktober, november, desember, \
                 senin, selasa, rabu, kamis, jumat, sabtu, \
                 january, february, march, may, june, july, august, october, december, \
                 monday, tuesday, wednesday, thursday, friday, saturday, sunday",
            ),
            place_words: words("jl, jalan, gang, kecamatan, kelurahan, kabupaten, kota, area, daerah, wilayah, street, road, district"),
            templated_min_similarity: 0.6,
            templated_min_words: 12,
            complaint_details_required: DetailsRequired::All,
        }
    }
}

/// Customer classes and what each requires (RULES.md §1). Read by the classifier and the visit
/// planner; the method rule of a visit reads `lost_warning_door_levels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassPolicy {
    /// Average daily AWB strictly above which a customer is level A, B, C, D, E; the rest is F.
    pub level_a_min_daily_awb: f64,
    pub level_b_min_daily_awb: f64,
    pub level_c_min_daily_awb: f64,
    pub level_d_min_daily_awb: f64,
    pub level_e_min_daily_awb: f64,
    /// Door visits required per calendar month, A to F.
    pub visits_per_month: [u32; 6],
    /// New: visits in the first month, then per month, for this many months.
    pub new_first_month_visits: u32,
    pub new_later_visits: u32,
    pub new_customer_months: u32,
    /// Lost Warning: volume down by at least this share against the same span of last month.
    pub lost_warning_drop: f64,
    /// No one is called Lost or Lost Warning before the month has run this many days.
    pub min_days_into_month: u32,
    /// Lost: one door visit within this many working days of detection.
    pub lost_due_working_days: u32,
    /// Lost Warning: one contact within this many working days.
    pub lost_warning_due_working_days: u32,
    /// A Lost Warning customer whose previous level is one of these needs a door visit; for the
    /// others WhatsApp is allowed (SOP ch. 2: A–D door, E WhatsApp).
    pub lost_warning_door_levels: Vec<String>,
}

impl Default for ClassPolicy {
    fn default() -> Self {
        Self {
            level_a_min_daily_awb: 500.0,
            level_b_min_daily_awb: 300.0,
            level_c_min_daily_awb: 100.0,
            level_d_min_daily_awb: 50.0,
            level_e_min_daily_awb: 1.0,
            visits_per_month: [2, 2, 1, 1, 1, 0],
            new_first_month_visits: 2,
            new_later_visits: 1,
            new_customer_months: 3,
            lost_warning_drop: 0.5,
            min_days_into_month: 5,
            lost_due_working_days: 7,
            lost_warning_due_working_days: 5,
            lost_warning_door_levels: words("A, B, C, D"),
        }
    }
}

/// Leads and the pipeline (the CRM and leads SOPs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeadPolicy {
    /// "Maksimal 1x24 jam sejak diterima": the first contact is due this many clock hours after
    /// a lead is received (the SOP counts hours, not working days).
    pub first_contact_hours: u32,
    /// A lead buying within this many days meets the timing criterion of the rating (with a
    /// stated need and a budget: hot; two of the three: warm; fewer: cold).
    pub hot_within_days: u32,
    /// Two company names at least this Jaro-Winkler-similar (once legal forms and punctuation
    /// are dropped) are offered as duplicates.
    pub duplicate_company_similarity: f64,
    /// The reasons a lost deal may give ("analisis data Kalah"); `other` asks for a note.
    pub lost_reasons: Vec<String>,
    /// Who gets a new lead: the first rule whose every given criterion matches; one assignee is
    /// a direct assignment, several a round-robin among them (the one who got a lead from the
    /// rule least recently). No matching rule: the rep who entered it, else unassigned.
    pub distribution: Vec<DistributionRule>,
    /// A past client is due a reactivation contact this many months after its contract ended
    /// (the CRM SOP: "setelah 1–2 tahun"; 12 to 24).
    pub reactivation_after_months: u32,
}

/// One distribution rule: criteria left out match anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionRule {
    /// A branch code (`JKT`).
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub segment: Option<String>,
    /// Sales reps' user ids.
    pub assignees: Vec<uuid::Uuid>,
}

impl Default for LeadPolicy {
    fn default() -> Self {
        Self {
            first_contact_hours: 24,
            hot_within_days: 30,
            duplicate_company_similarity: 0.93,
            lost_reasons: words("price, competitor, timing, no_budget, no_response, requirements, other"),
            distribution: Vec::new(),
            reactivation_after_months: 12,
        }
    }
}
