//! What a WhatsApp screenshot must show (SOP ch. 6.3, 7): the customer's contact, a real
//! two-way conversation, and a chat date that matches the visit. Judged on what OCR read
//! ([`ChatFacts`]); a server without OCR says the checks did not run (`screenshot_not_read`),
//! which is a finding HQ sees, never a pass.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::common::finding;
use super::summary::{band_keys, jaccard, shingles};
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::ids::PhotoId;
use crate::domain::policy::Policy;
use crate::domain::time::local_date;
use crate::domain::visit::{ChatDateFact, ChatFacts};

/// What a chat is judged against.
#[derive(Debug, Clone, Copy)]
pub struct ChatContext<'a> {
    pub photo_id: PhotoId,
    /// The visit's date in the branch's zone, once the record says it.
    pub visit_date: Option<NaiveDate>,
    pub received_at: DateTime<Utc>,
    pub branch_tz: Tz,
    /// The customer's contact's and the business's names, and its phone.
    pub customer_names: &'a [String],
    pub customer_phone: Option<&'a str>,
}

/// The MinHash bands of a chat's text (word 3-shingles, digits masked, as summaries have): a
/// copy of the chat — recompressed, resized, cropped — shares most of them.
pub fn chat_band_keys(text: &str) -> Vec<i64> {
    let s = shingles(text);
    if s.len() < 8 {
        return Vec::new(); // too little text to tell one chat from another
    }
    band_keys(&s)
}

/// How alike two chats are, when they are the same chat read twice: Jaccard ≥ 0.7 of their
/// texts' shingles with the same contact in the header, or ≥ 0.85 when neither shows one. A rep
/// who sends two customers the same offer has two headers and two answers.
pub fn same_chat(a_text: &str, a_header: Option<&str>, b_text: &str, b_header: Option<&str>) -> Option<f64> {
    let similarity = jaccard(&shingles(a_text), &shingles(b_text));
    // The same contact, as OCR reads a header twice (a stray mark from the back arrow, a letter).
    let same_contact = |a: &str, b: &str| header_names(a, &[b], None) || header_names(b, &[a], None);
    // A crop can leave the header where the status bar was (read, but not as the header): the
    // other's header among its words is the same contact too.
    let needed = match (a_header, b_header) {
        (Some(a), Some(b)) if same_contact(a, b) => 0.7,
        (Some(_), Some(_)) => return None,
        (Some(h), None) if header_names(b_text, &[h], None) => 0.7,
        (None, Some(h)) if header_names(a_text, &[h], None) => 0.7,
        _ => 0.85,
    };
    (similarity >= needed).then_some(similarity)
}

/// The date a chip shows, read on `received` (the day the screenshot reached the server, in
/// the branch's zone: "Hari ini" is that day).
pub fn resolve_chat_date(d: &ChatDateFact, received: NaiveDate) -> Option<NaiveDate> {
    match d.kind.as_str() {
        "today" => Some(received),
        "yesterday" => received.pred_opt(),
        "weekday" => {
            let target = u32::from(d.weekday?);
            (1..=7).map(|back| received - Duration::days(back)).find(|day| day.weekday().num_days_from_monday() == target)
        }
        "day_month" => {
            let (day, month) = d.day_month?;
            // This year's, unless that is still ahead: then last year's.
            NaiveDate::from_ymd_opt(received.year(), month, day)
                .filter(|date| *date <= received)
                .or_else(|| NaiveDate::from_ymd_opt(received.year() - 1, month, day))
        }
        _ => d.date,
    }
}

/// An Indonesian number's digits, the country code made a leading 0: `+62 812-3456-7890`,
/// `62812…` and `0812…` are all `0812…`.
pub fn normalise_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("62") {
        Some(rest) if digits.len() >= 10 => format!("0{rest}"),
        _ => digits,
    }
}

fn words(s: &str) -> Vec<String> {
    s.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2).map(String::from).collect()
}

/// Edit distance within 1 (one letter misread, dropped or added).
fn within_one(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

/// Forms of address and business forms a saved contact may carry or drop ("Ibu Sari Dewi" is
/// saved as "Sari Dewi"; "CV Sinar Abadi" as "Sinar Abadi").
const HONORIFICS: [&str; 14] = ["ibu", "bu", "pak", "bapak", "mas", "mbak", "kak", "bang", "om", "tante", "cv", "pt", "ud", "tb"];

/// A name's words but its forms of address (all of them when it has nothing else).
fn essential(name: &str) -> Vec<String> {
    let all = words(name);
    let kept: Vec<String> = all.iter().filter(|w| !HONORIFICS.contains(&w.as_str())).cloned().collect();
    if kept.is_empty() {
        all
    } else {
        kept
    }
}

/// Whether the chat's header names the customer: every word of one of its names but forms of
/// address (each read within one letter when it has four or more), or its phone number.
pub fn header_names(header: &str, names: &[&str], phone: Option<&str>) -> bool {
    let shown = words(header);
    let name_matches = names
        .iter()
        .map(|n| essential(n))
        .filter(|n| !n.is_empty())
        .any(|name| name.iter().all(|w| shown.iter().any(|s| s == w || (w.chars().count() >= 4 && within_one(s, w)))));
    let phone_matches = phone.map(normalise_phone).filter(|p| p.len() >= 9).is_some_and(|p| {
        let seen = normalise_phone(header);
        seen.len() >= 9 && (seen == p || seen.ends_with(&p[p.len() - 9..]))
    });
    name_matches || phone_matches
}

/// The screenshot's findings (for `whatsapp_screenshot` photos).
pub fn chat_findings(policy: &Policy, ctx: &ChatContext, chat: Option<&ChatFacts>) -> Vec<Finding> {
    let id = Some(ctx.photo_id);
    let mut out = Vec::new();
    let chat = match chat {
        Some(c) if c.status == "read" => c,
        other => {
            let (status, error) = other.map_or(("not_installed", None), |c| (c.status.as_str(), c.error.clone()));
            out.push(finding(
                policy,
                FindingCode::ScreenshotNotRead,
                id,
                json!({ "status": status, "error": error }),
                "Isi chat tidak terbaca otomatis (OCR tidak tersedia atau gagal): tanggal, kontak dan balasan customer belum diperiksa.".into(),
                "The chat was not read automatically (OCR unavailable or failed): its date, contact and the customer's answer are unchecked.".into(),
            ));
            return out;
        }
    };
    let min_words = policy.photo.screenshot_min_words;
    if chat.confident_words < min_words {
        out.push(finding(
            policy,
            FindingCode::ScreenshotUnreadable,
            id,
            json!({ "confident_words": chat.confident_words, "mean_confidence": chat.mean_confidence,
                    "policy": { "photo.screenshot_min_words": min_words } }),
            format!("Teks chat terlalu sedikit terbaca ({} kata, minimal {min_words}).", chat.confident_words),
            format!("Too little of the chat could be read ({} words, at least {min_words}).", chat.confident_words),
        ));
        return out;
    }
    let received = local_date(ctx.received_at, ctx.branch_tz);
    let resolved: Vec<NaiveDate> = chat.dates.iter().filter_map(|d| resolve_chat_date(d, received)).collect();
    if let Some(visit_date) = ctx.visit_date {
        if !resolved.contains(&visit_date) {
            let shown: Vec<&str> = chat.dates.iter().map(|d| d.shown.as_str()).collect();
            let (id_text, en_text) = if shown.is_empty() {
                ("Screenshot tidak menampilkan tanggal chat".to_string(), "The screenshot shows no chat date".to_string())
            } else {
                (
                    format!("Tanggal chat ({}) bukan tanggal kunjungan", shown.join(", ")),
                    format!("The chat's date ({}) is not the visit date", shown.join(", ")),
                )
            };
            out.push(finding(
                policy,
                FindingCode::ScreenshotDateMismatch,
                id,
                json!({ "dates_shown": shown, "dates": resolved, "visit_date": visit_date, "read_on": received }),
                format!("{id_text} ({visit_date})."),
                format!("{en_text} ({visit_date})."),
            ));
        }
    }
    let names: Vec<&str> = ctx.customer_names.iter().map(String::as_str).collect();
    let named = chat.header.as_deref().is_some_and(|h| header_names(h, &names, ctx.customer_phone));
    if !named && (!names.is_empty() || ctx.customer_phone.is_some()) {
        out.push(finding(
            policy,
            FindingCode::ScreenshotContactMissing,
            id,
            json!({ "header": chat.header, "expected_names": names, "expected_phone": ctx.customer_phone.map(normalise_phone) }),
            format!("Kepala chat ({}) bukan kontak customer.", chat.header.as_deref().unwrap_or("tidak terbaca")),
            format!("The chat's header ({}) is not the customer's contact.", chat.header.as_deref().unwrap_or("unreadable")),
        ));
    }
    if chat.customer_lines == 0 {
        out.push(finding(
            policy,
            FindingCode::ScreenshotOneSided,
            id,
            json!({ "customer_lines": chat.customer_lines, "rep_lines": chat.rep_lines }),
            "Chat hanya berisi pesan sales; tidak ada balasan customer.".into(),
            "The chat has only the rep's messages; the customer never answered.".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_names_as_headers_show_them() {
        assert_eq!(normalise_phone("+62 812-3456-7890"), "081234567890");
        assert_eq!(normalise_phone("62 812 3456 7890"), "081234567890");
        assert_eq!(normalise_phone("0812-3456-7890"), "081234567890");
        let names = ["Toko Maju Jaya", "Budi Santoso"];
        assert!(header_names("Budi Santoso", &names, None));
        assert!(header_names("Budi Santos0", &names, None), "one letter misread");
        assert!(header_names("Toko Maju Jaya 🛒", &names, None));
        assert!(!header_names("Rina Kusuma", &names, None));
        assert!(!header_names("Budi", &names, None), "half a name is not the contact");
        assert!(header_names("Sari Dewi", &["Ibu Sari Dewi"], None), "a form of address may be dropped");
        assert!(!header_names("Ibu Ani", &["Ibu Sari Dewi"], None));
        assert!(header_names("+62 812-3456-7890", &names, Some("081234567890")));
        assert!(!header_names("+62 812-3456-7891", &names, Some("081234567890")));
    }

    #[test]
    fn chat_dates_are_read_on_the_day_received() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 12).unwrap(); // a Thursday
        let d = |kind: &str| ChatDateFact { kind: kind.into(), ..Default::default() };
        assert_eq!(resolve_chat_date(&d("today"), on), Some(on));
        assert_eq!(resolve_chat_date(&d("yesterday"), on), NaiveDate::from_ymd_opt(2026, 11, 11));
        let monday = ChatDateFact { weekday: Some(0), ..d("weekday") };
        assert_eq!(resolve_chat_date(&monday, on), NaiveDate::from_ymd_opt(2026, 11, 9));
        let december = ChatDateFact { day_month: Some((3, 12)), ..d("day_month") };
        assert_eq!(resolve_chat_date(&december, on), NaiveDate::from_ymd_opt(2025, 12, 3), "not ahead of the day");
    }
}
