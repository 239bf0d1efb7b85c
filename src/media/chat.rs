//! What a WhatsApp screenshot shows, from the words OCR read and where they stand: the chat's
//! header (the contact's name or number), the dates on its day chips (`Hari ini` / `Today`,
//! `Kemarin` / `Yesterday`, weekday names, `12 November 2026`, `12/11/26`), the message times,
//! and which side each line of text is on — the customer's bubbles start at the screen's left
//! margin, the rep's own are pushed to the right. Pure: words in, a reading out.
//!
//! The layout is WhatsApp's on Android and iOS, light and dark: a status bar (the top ~3.5 % of
//! the screen), the header bar below it (to ~12 %), the chat, the input bar (the bottom ~8 %).

use chrono::NaiveDate;

/// One word OCR read, in the image's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    /// (block, paragraph, line) as the engine grouped it.
    pub line: (u32, u32, u32),
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    /// 0–100.
    pub conf: f64,
}

impl Word {
    /// The same word in an image `scale` times larger.
    pub fn scaled(self, scale: f64) -> Word {
        let s = |v: u32| (f64::from(v) * scale).round() as u32;
        Word { left: s(self.left), top: s(self.top), width: s(self.width), height: s(self.height), ..self }
    }
}

/// A date shown on the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatDate {
    Today,
    Yesterday,
    /// A weekday name (0 = Monday): a day of the past week.
    Weekday(u8),
    /// A day and month without a year (this year's).
    DayMonth(u32, u32),
    Date(NaiveDate),
}

/// Which side of the conversation a line is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Left: the other party (the customer).
    Customer,
    /// Right: the phone's owner (the rep).
    Rep,
}

/// A line of message text.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatLine {
    pub side: Side,
    pub text: String,
}

/// What the screenshot shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatReading {
    /// The header's first line: the contact's saved name or number.
    pub header: Option<String>,
    /// Each date chip, as shown and as read.
    pub dates: Vec<(String, ChatDate)>,
    /// Message times (`14:05`), in order.
    pub times: Vec<String>,
    pub lines: Vec<ChatLine>,
    /// Words read with a confidence of 50 or more.
    pub confident_words: usize,
    pub mean_confidence: f64,
    /// Every line read, top to bottom.
    pub text: String,
}

const MONTHS: [(&str, u32); 24] = [
    ("januari", 1),
    ("februari", 2),
    ("maret", 3),
    ("april", 4),
    ("mei", 5),
    ("juni", 6),
    ("juli", 7),
    ("agustus", 8),
    ("september", 9),
    ("oktober", 10),
    ("november", 11),
    ("desember", 12),
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("october", 10),
    ("december", 12),
    ("agu", 8),
    ("okt", 10),
    ("des", 12),
];

const WEEKDAYS: [(&str, u8); 14] = [
    ("senin", 0),
    ("selasa", 1),
    ("rabu", 2),
    ("kamis", 3),
    ("jumat", 4),
    ("sabtu", 5),
    ("minggu", 6),
    ("monday", 0),
    ("tuesday", 1),
    ("wednesday", 2),
    ("thursday", 3),
    ("friday", 4),
    ("saturday", 5),
    ("sunday", 6),
];

/// Words of the header's second line and of the input bar: never the contact, never a message.
const CHROME: [&str; 12] =
    ["online", "mengetik...", "typing...", "terakhir", "last", "seen", "ketik", "pesan", "message", "dilihat", "klik", "tap"];

fn month(word: &str) -> Option<u32> {
    let w = word.trim_matches(|c: char| !c.is_alphabetic()).to_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS.iter().find(|(name, _)| *name == w || (w.len() >= 3 && name.starts_with(&w) && w.len() >= name.len().min(3))).map(|m| m.1)
}

/// The date a chip's text shows, if it is one.
pub fn parse_chat_date(text: &str) -> Option<ChatDate> {
    let lower = text.trim().to_lowercase();
    let clean: String = lower.chars().map(|c| if c.is_alphanumeric() || c == '/' || c == '.' || c == '-' { c } else { ' ' }).collect();
    let words: Vec<&str> = clean.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    if lower.contains("hari ini") || words == ["today"] {
        return Some(ChatDate::Today);
    }
    if words == ["kemarin"] || words == ["yesterday"] {
        return Some(ChatDate::Yesterday);
    }
    // 12/11/26, 12/11/2026, 12.11.2026, 12-11-2026: day first, as Indonesian phones write it;
    // month first when the day-first reading is no date.
    for w in &words {
        let parts: Vec<&str> = w.split(['/', '.', '-']).collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit())) {
            let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
            let year = if parts[2].len() == 2 { 2000 + n[2] as i32 } else { n[2] as i32 };
            if let Some(d) = NaiveDate::from_ymd_opt(year, n[1], n[0]).or_else(|| NaiveDate::from_ymd_opt(year, n[0], n[1])) {
                return Some(ChatDate::Date(d));
            }
        }
    }
    // 12 November 2026, Selasa, 12 November 2026, 12 Nov, November 12, 2026.
    let month_at = words.iter().position(|w| month(w).is_some());
    if let Some(i) = month_at {
        let m = month(words[i])?;
        let number = |w: &str| w.trim_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().ok();
        let day = i
            .checked_sub(1)
            .and_then(|j| number(words[j]))
            .filter(|d| (1..=31).contains(d))
            .or_else(|| words.get(i + 1).and_then(|w| number(w)).filter(|d| (1..=31).contains(d)))?;
        let year = words.iter().skip(i + 1).filter_map(|w| number(w)).find(|y| (1990..=2100).contains(y));
        return Some(match year {
            Some(y) => ChatDate::Date(NaiveDate::from_ymd_opt(y as i32, m, day)?),
            None => ChatDate::DayMonth(day, m),
        });
    }
    if words.len() == 1 {
        if let Some((_, d)) = WEEKDAYS.iter().find(|(name, _)| *name == words[0]) {
            return Some(ChatDate::Weekday(*d));
        }
    }
    None
}

/// `14:05` or `2:05 PM` — a message time.
fn is_time(word: &str) -> bool {
    let w = word.trim_end_matches(['✓', '√', 'v', 'V', '/']);
    let Some((h, m)) = w.split_once([':', '.']) else { return false };
    let m: String = m.chars().take_while(char::is_ascii_digit).collect();
    h.len() <= 2 && !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()) && m.len() == 2 && h.parse::<u32>().is_ok_and(|h| h < 24)
}

struct Line {
    text: String,
    left: u32,
    right: u32,
    top: u32,
    words: Vec<String>,
}

/// Reads the chat from OCR's words on a `width` × `height` screenshot.
pub fn read_chat(words: &[Word], width: u32, height: u32) -> ChatReading {
    let mut reading = ChatReading::default();
    if words.is_empty() || width == 0 || height == 0 {
        return reading;
    }
    reading.confident_words = words.iter().filter(|w| w.conf >= 50.0).count();
    reading.mean_confidence = words.iter().map(|w| w.conf).sum::<f64>() / words.len() as f64;

    // Lines, as the engine grouped the words, top to bottom.
    let mut lines: Vec<Line> = Vec::new();
    let mut current: Option<(u32, u32, u32)> = None;
    for w in words.iter().filter(|w| w.conf >= 30.0) {
        if current != Some(w.line) || lines.is_empty() {
            lines.push(Line { text: String::new(), left: w.left, right: w.left + w.width, top: w.top, words: Vec::new() });
            current = Some(w.line);
        }
        let line = lines.last_mut().expect("pushed above");
        if !line.text.is_empty() {
            line.text.push(' ');
        }
        line.text.push_str(&w.text);
        line.words.push(w.text.clone());
        line.left = line.left.min(w.left);
        line.right = line.right.max(w.left + w.width);
        line.top = line.top.min(w.top);
    }
    lines.sort_by_key(|l| l.top);
    reading.text = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");

    let (w, h) = (f64::from(width), f64::from(height));
    for line in &lines {
        let top = f64::from(line.top) / h;
        let (left, right) = (f64::from(line.left) / w, f64::from(line.right) / w);
        let lower: Vec<String> = line.words.iter().map(|w| w.to_lowercase()).collect();
        if !(0.035..=0.92).contains(&top) {
            continue; // status bar, input bar
        }
        // A day chip is centred (and may sit high on a tall screen, level with where a shorter
        // one has its header: so it is looked for first).
        if let Some(date) = parse_chat_date(&line.text) {
            let centre = (left + right) / 2.0;
            if (0.3..=0.7).contains(&centre) && left > 0.15 {
                reading.dates.push((line.text.clone(), date));
                continue;
            }
        }
        if top < 0.12 {
            // The header: its first line right of the avatar is the contact.
            if reading.header.is_none() && left > 0.08 && !lower.iter().all(|w| CHROME.contains(&w.as_str())) {
                let name: String = line.text.trim_start_matches(['←', '<', '-']).trim().to_string();
                if !name.is_empty() {
                    reading.header = Some(name);
                }
            }
            continue;
        }
        let times: Vec<&String> = line.words.iter().filter(|w| is_time(w)).collect();
        reading.times.extend(times.iter().map(|t| t.trim_end_matches(['✓', '√', 'v', 'V', '/']).to_string()));
        let text_words = line.words.iter().filter(|w| !is_time(w) && w.chars().any(char::is_alphanumeric)).count();
        if text_words == 0 {
            continue; // a time (and ticks) alone
        }
        let side = if left < 0.12 { Side::Customer } else { Side::Rep };
        reading.lines.push(ChatLine { side, text: line.text.clone() });
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_dates_in_both_languages() {
        let d = |y, m, d| Some(ChatDate::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap()));
        assert_eq!(parse_chat_date("Hari ini"), Some(ChatDate::Today));
        assert_eq!(parse_chat_date("TODAY"), Some(ChatDate::Today));
        assert_eq!(parse_chat_date("Kemarin"), Some(ChatDate::Yesterday));
        assert_eq!(parse_chat_date("12 November 2026"), d(2026, 11, 12));
        assert_eq!(parse_chat_date("Selasa, 3 Desember 2026"), d(2026, 12, 3));
        assert_eq!(parse_chat_date("November 12, 2026"), d(2026, 11, 12));
        assert_eq!(parse_chat_date("12/11/26"), d(2026, 11, 12));
        assert_eq!(parse_chat_date("12/11/2026"), d(2026, 11, 12));
        assert_eq!(parse_chat_date("11/25/26"), d(2026, 11, 25), "month first when day first is no date");
        assert_eq!(parse_chat_date("12 Agu"), Some(ChatDate::DayMonth(12, 8)));
        assert_eq!(parse_chat_date("Jumat"), Some(ChatDate::Weekday(4)));
        for no in ["Terima kasih atas waktunya", "14:05", "Rp 2.500/kg", "", "Maret"] {
            assert_eq!(parse_chat_date(no), None, "{no:?}");
        }
    }

    fn word(text: &str, line: u32, left: u32, top: u32) -> Word {
        Word { text: text.into(), line: (line, 1, 1), left, top, width: 40 * text.len() as u32 / 2, height: 30, conf: 95.0 }
    }

    #[test]
    fn header_dates_times_and_sides() {
        // 1080 × 2340, as the renderer draws it.
        let words = [
            word("14:20", 1, 46, 16),
            word("Budi", 2, 249, 112),
            word("Santoso", 2, 340, 112),
            word("online", 3, 246, 170),
            word("12/11/26", 4, 460, 305),
            word("Selamat", 5, 280, 400),
            word("siang", 5, 420, 400),
            word("14:02", 6, 870, 470),
            word("Siang", 7, 56, 636),
            word("Mas", 7, 170, 636),
            word("14:03", 8, 707, 758),
            word("Ketik", 9, 76, 2229),
        ];
        let r = read_chat(&words, 1080, 2340);
        assert_eq!(r.header.as_deref(), Some("Budi Santoso"));
        assert_eq!(r.dates, vec![("12/11/26".to_string(), ChatDate::Date(NaiveDate::from_ymd_opt(2026, 11, 12).unwrap()))]);
        assert_eq!(r.times, vec!["14:02", "14:03"]);
        assert_eq!(r.lines.iter().map(|l| l.side).collect::<Vec<_>>(), vec![Side::Rep, Side::Customer]);
        assert!(r.text.starts_with("14:20\nBudi Santoso"));
    }
}
