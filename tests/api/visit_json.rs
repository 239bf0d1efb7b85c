//! The body of a complete visit record, as the phone app sends it: one definition for the HTTP
//! tests, the multi-process tests and the load bench (which includes this file by path).

use serde_json::{json, Value};

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
        "details": "Pick-up AWB JX1234567890 terlambat dua hari pada 18 November.",
        "next_steps": "Eskalasi ke tim pick-up cabang.",
        "summary": "Usaha toko sedang ramai menjelang akhir tahun. Pelanggan mengeluhkan pick-up yang terlambat. Ada peluang menambah layanan COD.",
        "answers": { "experience_this_month": "Cukup baik", "volume_plan": "Naik 20% bulan depan" }
    })
}
