//! The body of a complete visit record, as the phone app sends it: one definition for the HTTP
//! tests, the multi-process tests and the load bench (which includes this file by path).
//!
//! The record meets the SOP: three substantive sentences covering the business, a complaint and
//! an opportunity with concrete numbers; a service complaint with its waybill and date; all eight
//! standard questions answered. Each body's summary names its own (made-up) people and places,
//! so the visits of one test are not near-copies of each other (`summary_templated`), as real
//! reps' summaries are not.

use serde_json::{json, Value};

/// A made-up proper name, different for each call (`Bakoli`, `Temura`, …).
fn name() -> String {
    const SYLLABLES: [&str; 16] = ["ba", "ko", "li", "te", "mu", "ra", "si", "no", "pa", "de", "gu", "ha", "ja", "we", "yo", "zu"];
    let bits = uuid::Uuid::new_v4().as_u128();
    let word: String = (0..3).map(|i| SYLLABLES[((bits >> (4 * i)) & 0xF) as usize]).collect();
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A summary that meets the SOP, with its own names in it.
pub fn good_summary() -> String {
    let n: Vec<String> = (0..8).map(|_| name()).collect();
    format!(
        "Usaha Toko {} di Pasar {} sedang ramai menjelang akhir tahun, kiriman naik ke 120 paket per hari dari gudang {}. \
         Bu {} mengeluhkan pick-up kurir {} yang terlambat dua kali minggu ini di area {}. \
         Ada peluang menambah layanan COD untuk cabang {} mulai bulan depan, Pak {} setuju uji coba.",
        n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]
    )
}

/// Substantive answers to the eight standard questions (RULES.md §3).
pub fn standard_answers() -> Value {
    json!({
        "experience_this_month": "Pengiriman lancar kecuali pick-up Senin",
        "open_complaints": "Pick-up terlambat dua kali",
        "cs_responsiveness": "CS cepat membalas via WhatsApp",
        "unmet_needs": "Butuh jadwal pick-up tetap jam 14.00",
        "competitors": "Sebagian paket lewat kurir lain karena COD cair lebih cepat",
        "volume_plan": "Naik 20% bulan depan",
        "price_value": "Harga sesuai dengan layanan",
        "suggestions": "Tambah kurir di area pasar"
    })
}

/// A complete visit of `customer` by `method`, visited at `visited_at`.
pub fn visit_json(customer: impl serde::Serialize, method: &str, visited_at: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "customer_id": customer,
        "method": method,
        "contact_name": "Bu Sari",
        "contact_position": "Pemilik",
        "contact_phone": "+62 812 1111 2222",
        "visited_at": visited_at.to_rfc3339(),
        "result_reason": { "level1": "service", "level2": "pickup_late" },
        "reason_details": {
            "cause": "Kurir pick-up area pasar kekurangan armada minggu ini",
            "solution": "Jadwal pick-up tetap jam 10 dengan kurir cadangan",
            "needs_hq_help": false,
            "waybill": "JX1234567890"
        },
        "details": "Pick-up AWB JX1234567890 terlambat dua hari pada 18 November.",
        "next_steps": "Eskalasi ke tim pick-up cabang.",
        "summary": good_summary(),
        "answers": standard_answers()
    })
}
