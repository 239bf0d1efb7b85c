//! Reading a visit summary ("Keterangan", RULES.md §5): how many real sentences it has, which of
//! the three aspects it covers, whether it carries concrete data, whether a complaint names its
//! waybill and date, and its MinHash signature for finding near-copies of earlier summaries.
//!
//! Everything here is plain text processing with the policy's word lists; no model, no network,
//! the same answer for the same text on every machine and in every release (the band keys are
//! stored, so their hash is ours and fixed, not the standard library's).

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::domain::policy::SummaryPolicy;

/// Abbreviations whose full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "jl", "no", "pt", "cv", "tbk", "dll", "dsb", "dst", "tgl", "bpk", "bp", "ibu", "sdr", "kec", "kab", "mr", "mrs", "ms", "dr", "st",
    "rd", "vs", "etc", "approx", "a.n", "u.p",
];

/// Indonesian prefixes tried before a stem is compared (`kerusakan` → `rusakan` → `rusak…`).
const PREFIXES: &[&str] =
    &["di", "ter", "ber", "be", "me", "mem", "men", "meng", "meny", "pe", "pem", "pen", "peng", "peny", "per", "ke", "se"];

/// The sentences of a text. A full stop between digits (`14.00`, `50.000`) or after a known
/// abbreviation (`Jl.`) does not end one; `.`, `!`, `?`, `;`, line breaks and bullets do.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = match c {
            '!' | '?' | ';' | '\n' | '•' => true,
            '.' => {
                let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
                let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
                let word_before: String = current
                    .chars()
                    .rev()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '.')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let abbreviation = ABBREVIATIONS.contains(&word_before.to_lowercase().as_str());
                !(abbreviation || prev_digit && next_digit)
            }
            _ => false,
        };
        if boundary {
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
        } else {
            current.push(c);
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// The words of a text, lower-case: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Sentences that count: long enough, not one word said over and over, not a repeat of an
/// earlier sentence of the same summary.
pub fn substantive_sentences(policy: &SummaryPolicy, text: &str) -> usize {
    let mut seen = HashSet::new();
    sentences(text)
        .iter()
        .filter(|s| {
            let w = words(s);
            let distinct: HashSet<&String> = w.iter().collect();
            w.len() >= policy.min_sentence_words as usize
                && distinct.len() >= policy.min_sentence_distinct_words as usize
                && seen.insert(w.join(" "))
        })
        .count()
}

/// Whether a word matches a stem: the word starts with it, directly or after an Indonesian prefix.
fn word_matches(word: &str, stem: &str) -> bool {
    word.starts_with(stem) || PREFIXES.iter().any(|p| word.strip_prefix(p).is_some_and(|rest| rest.len() >= 3 && rest.starts_with(stem)))
}

/// The first lexicon entry found in the text's words (a multi-word entry matches as a phrase).
pub fn lexicon_hit<'a>(lexicon: &'a [String], text_words: &[String]) -> Option<&'a str> {
    let joined = format!(" {} ", text_words.join(" "));
    lexicon.iter().map(|e| e.trim()).filter(|e| !e.is_empty()).find(|entry| {
        let entry_words = words(entry);
        match entry_words.len() {
            0 => false,
            1 => text_words.iter().any(|w| word_matches(w, &entry_words[0])),
            _ => joined.contains(&format!(" {} ", entry_words.join(" "))),
        }
    })
}

/// The three aspects a summary covers (RULES.md §5): (a) business situation, (b) complaints or
/// problems, (c) opportunities or action items.
pub const ASPECTS: [&str; 3] = ["business_situation", "complaints", "opportunities"];

/// For each aspect, the lexicon entry that showed it, or `None`.
pub fn aspects<'a>(policy: &'a SummaryPolicy, text: &str) -> [Option<&'a str>; 3] {
    let w = words(text);
    [lexicon_hit(&policy.aspect_business, &w), lexicon_hit(&policy.aspect_complaints, &w), lexicon_hit(&policy.aspect_opportunities, &w)]
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2}/\d{1,2}(/\d{2,4})?|\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|(tanggal|tgl\.?)\s*\d{1,2})\b")
        .expect("valid date pattern")
});
static WAYBILL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[A-Za-z]{0,4}\d{8,20}\b").expect("valid waybill pattern"));
static AWB_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(resi|awb|waybill|no\.?\s*resi|tracking)\b[\s:#.]*([A-Za-z]{0,4}\d{5,20})\b").expect("valid awb pattern")
});

/// A waybill number named in the text: a number after "resi"/"AWB"/"waybill", or a run of 8–20
/// digits with an optional letter prefix (`JP0012345678`) that is not an Indonesian phone number.
pub fn waybill(text: &str) -> Option<String> {
    if let Some(c) = AWB_WORD.captures(text) {
        return Some(c[2].to_string());
    }
    WAYBILL.find_iter(text).map(|m| m.as_str()).find(|m| !is_phone_number(m)).map(String::from)
}

fn is_phone_number(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_digit()) && (10..=14).contains(&token.len()) && (token.starts_with("08") || token.starts_with("62"))
}

/// A date named in the text: `12/11`, `12-11-2026`, `2026-11-12`, `tanggal 12`, or a month or
/// weekday name. Times (`14.00`) and ranges (`1-2 jam`) are not dates.
pub fn date_mention(policy: &SummaryPolicy, text: &str) -> Option<String> {
    if let Some(m) = DATE.find(text) {
        return Some(m.as_str().to_string());
    }
    let w = words(text);
    policy.date_words.iter().find(|d| w.iter().any(|x| x == &d.to_lowercase())).cloned()
}

/// Concrete data in the text: a number, a date word, or a place word followed by a name or a
/// number (`area Cibinong`, `Jl. Merdeka`). Returns what it found.
pub fn concrete_data(policy: &SummaryPolicy, text: &str) -> Option<String> {
    if let Some(number) = text.split(|c: char| !c.is_alphanumeric()).find(|w| w.chars().any(|c| c.is_ascii_digit())) {
        return Some(number.to_string());
    }
    if let Some(date) = date_mention(policy, text) {
        return Some(date);
    }
    let raw: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    raw.windows(2)
        .find(|pair| {
            policy.place_words.iter().any(|p| pair[0].eq_ignore_ascii_case(p))
                && pair[1].chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        })
        .map(|pair| format!("{} {}", pair[0], pair[1]))
}

// --- near-copies: word 3-shingles, MinHash, LSH bands -------------------------------------------

/// Hashes in a signature; bands × rows.
pub const MINHASH_BANDS: usize = 20;
pub const MINHASH_ROWS: usize = 3;

/// The word 3-shingles of a summary, digits masked (`#`), so that a template with new numbers
/// and dates is still the same template.
pub fn shingles(text: &str) -> HashSet<u64> {
    let w: Vec<String> = words(text).into_iter().map(|w| w.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect()).collect();
    if w.len() < 3 {
        return w.iter().map(|x| fnv1a(x.as_bytes())).collect();
    }
    w.windows(3).map(|s| fnv1a(s.join(" ").as_bytes())).collect()
}

/// Jaccard similarity of two shingle sets.
pub fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.intersection(b).count();
    common as f64 / (a.len() + b.len() - common) as f64
}

/// The LSH band keys of a shingle set: two summaries share a band key with probability
/// 1 − (1 − J³)²⁰ — 0.99 at J = 0.6, 0.15 at J = 0.2 — so a lookup by band key finds the
/// near-copies and few others, whatever the size of the history.
pub fn band_keys(shingles: &HashSet<u64>) -> Vec<i64> {
    if shingles.is_empty() {
        return Vec::new();
    }
    let mut signature = [u64::MAX; MINHASH_BANDS * MINHASH_ROWS];
    for &s in shingles {
        for (i, slot) in signature.iter_mut().enumerate() {
            let h = splitmix64(s ^ SEEDS[i]);
            if h < *slot {
                *slot = h;
            }
        }
    }
    signature
        .chunks(MINHASH_ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut bytes = Vec::with_capacity(8 * (MINHASH_ROWS + 1));
            bytes.extend_from_slice(&(band as u64).to_le_bytes());
            for r in rows {
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            fnv1a(&bytes) as i64
        })
        .collect()
}

const SEEDS: [u64; MINHASH_BANDS * MINHASH_ROWS] = {
    let mut seeds = [0u64; MINHASH_BANDS * MINHASH_ROWS];
    let mut i = 0;
    while i < seeds.len() {
        seeds[i] = splitmix64((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        i += 1;
    }
    seeds
};

/// FNV-1a, 64-bit: fixed for ever, because band keys are stored.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> SummaryPolicy {
        SummaryPolicy::default()
    }

    /// The SOP's own good example (ch. 9).
    const SOP_GOOD: &str = "Customer menyatakan SLA pickup di area Cibinong masih sering terlambat 1-2 jam dari jadwal, \
        terutama di hari Senin dan Jumat. Mengusulkan dedicated pickup slot pukul 14.00.";

    #[test]
    fn sentences_are_counted_as_people_read_them() {
        let cases: [(&str, usize); 9] = [
            ("Toko sedang ramai menjelang Natal. Pengiriman naik 20% bulan ini. Pak Budi minta jadwal pickup jam 14.00.", 3),
            ("Pengiriman naik ke 50.000 paket per bulan. Alamat di Jl. Merdeka No. 5 Bogor sudah benar. Owner ingin tambah armada.", 3),
            // Fragments and filler are not sentences.
            ("Ok. Baik. Aman. Lanjut.", 0),
            ("Customer baik. Customer baik. Customer baik.", 0),
            ("Semua berjalan lancar seperti biasa. Semua berjalan lancar seperti biasa. Semua berjalan lancar seperti biasa.", 1),
            ("baik baik baik baik baik baik", 0),
            ("Visited the shop today and met the owner\nThey ship about forty parcels a day now\nThey asked for a discount on COD fees", 3),
            ("- pickup sering telat di hari senin\n- minta jadwal pickup tetap jam dua\n- volume stabil di tiga ratus paket", 3),
            ("", 0),
        ];
        for (text, n) in cases {
            assert_eq!(substantive_sentences(&p(), text), n, "{text:?}: {:?}", sentences(text));
        }
    }

    #[test]
    fn aspects_are_found_in_indonesian_and_english() {
        let cases: [(&str, [bool; 3]); 8] = [
            (
                "Penjualan toko naik menjelang akhir tahun. Ada keluhan paket rusak minggu lalu. Kami tawarkan packing kayu.",
                [true, true, true],
            ),
            (
                "Sales are growing before the holidays. They complained about late pickups. We will propose a fixed slot.",
                [true, true, true],
            ),
            // Complaints found through the Indonesian prefix: kerusakan → rusak, dikirim → kirim.
            ("Terjadi kerusakan pada barang yang dikirim.", [true, true, false]),
            ("Omzet turun karena musim hujan.", [true, false, false]),
            ("Tidak ada keluhan dari pelanggan.", [true, true, false]),
            ("Rencana kunjungan ulang bulan depan.", [false, false, true]),
            ("Customer puas dengan layanan.", [false, false, false]),
            ("Makanan enak, cuaca cerah.", [false, false, false]),
        ];
        for (text, expected) in cases {
            let got = aspects(&p(), text).map(|a| a.is_some());
            assert_eq!(got, expected, "{text:?}: {:?}", aspects(&p(), text));
        }
    }

    #[test]
    fn concrete_data_and_complaint_details() {
        assert!(concrete_data(&p(), SOP_GOOD).is_some());
        assert_eq!(concrete_data(&p(), "Customer puas dengan layanan."), None, "the SOP's bad example");
        assert_eq!(concrete_data(&p(), "Gudang baru di area Cibinong."), Some("area Cibinong".into()));
        assert_eq!(concrete_data(&p(), "Pickup terlambat hari Senin."), Some("senin".into()));
        assert_eq!(concrete_data(&p(), "pickup terlambat di area sana"), None);

        assert_eq!(waybill("Resi JP0012345678 rusak"), Some("JP0012345678".into()));
        assert_eq!(waybill("no resi: 77123"), Some("77123".into()));
        assert_eq!(waybill("AWB 004512345678 hilang"), Some("004512345678".into()));
        assert_eq!(waybill("telepon 081234567890 tidak aktif"), None, "a phone number is no waybill");
        assert_eq!(waybill("paket rusak 3 kali"), None);
        assert_eq!(date_mention(&p(), "kejadian 12/11 pagi"), Some("12/11".into()));
        assert_eq!(date_mention(&p(), "on 2026-11-12"), Some("2026-11-12".into()));
        assert_eq!(date_mention(&p(), "tanggal 3 November"), Some("tanggal 3".into()));
        assert_eq!(date_mention(&p(), "hari Senin pagi"), Some("senin".into()));
        assert_eq!(date_mention(&p(), "tanggal 3 kemarin"), Some("tanggal 3".into()));
        assert_eq!(date_mention(&p(), "pukul 14.00, terlambat 1-2 jam"), None, "times and ranges are no dates");
        assert_eq!(date_mention(&p(), "kemarin sore"), None);
    }

    #[test]
    fn near_copies_share_bands_and_strangers_do_not() {
        let template = "Kunjungan rutin ke customer. Customer dalam kondisi baik dan pengiriman berjalan normal seperti biasa. \
            Tidak ada keluhan yang disampaikan. Akan dikunjungi kembali bulan depan sesuai jadwal.";
        let copy = template.replace("normal", "lancar").replace("Kunjungan rutin", "Visit rutin");
        let numbers_changed =
            "Kunjungan rutin ke customer 12 paket. Customer dalam kondisi baik dan pengiriman berjalan normal seperti biasa. \
            Tidak ada keluhan yang disampaikan. Akan dikunjungi kembali bulan depan sesuai jadwal.";
        let other =
            "Owner mengeluhkan paket COD yang dananya cair lebih lambat dari kompetitor. Volume turun dari 300 ke 180 paket per hari. \
            Kami sepakat uji coba pencairan COD harian selama dua minggu mulai Senin.";
        let (t, c, n, o) = (shingles(template), shingles(&copy), shingles(numbers_changed), shingles(other));
        assert!(jaccard(&t, &c) >= 0.6, "{}", jaccard(&t, &c));
        assert!(jaccard(&t, &n) >= 0.75, "{}", jaccard(&t, &n));
        assert!(jaccard(&t, &o) < 0.05, "{}", jaccard(&t, &o));
        let shared = |a: &HashSet<u64>, b: &HashSet<u64>| band_keys(a).iter().zip(band_keys(b)).filter(|(x, y)| **x == *y).count();
        assert!(shared(&t, &c) >= 1 && shared(&t, &n) >= 5, "copies share bands");
        assert_eq!(shared(&t, &o), 0, "strangers share none");
        assert_eq!(band_keys(&t), band_keys(&shingles(template)), "deterministic");
        assert_eq!(band_keys(&t).len(), MINHASH_BANDS);
    }

    #[test]
    fn band_keys_are_stable_across_releases() {
        // Stored keys must never change: pin one.
        let keys = band_keys(&shingles("pickup sering terlambat di hari senin"));
        assert_eq!(keys.len(), 20);
        assert_eq!((keys[0], keys[19]), (-8_803_246_928_717_017_870, 2_038_810_709_503_623_483), "stored band keys changed");
        assert_eq!(keys[0], band_keys(&shingles("Pickup sering TERLAMBAT di hari Senin!"))[0], "case and punctuation do not matter");
    }
}
