//! Webhook subscriptions, deliveries and their signature.
//!
//! A receiver checks a delivery by computing `HMAC-SHA256(secret, "{timestamp}.{body}")` over the
//! raw body and the `FieldProof-Timestamp` header, comparing it in constant time with the `v1`
//! value of `FieldProof-Signature: t={timestamp},v1={hex}`, and refusing timestamps far from its
//! own clock (replays).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;

use super::ids::UserId;
use super::task::str_enum;

/// The longest receiver URL a subscription may have (browsers' and proxies' common limit).
pub const MAX_URL_CHARS: usize = 2048;

/// A subscription. Its secret never prints (`Debug` shows `***`) nor serialises.
#[derive(Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"***")
            .field("events", &self.events)
            .field("active", &self.active)
            .field("created_by", &self.created_by)
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}
str_enum!(DeliveryStatus { Pending = "pending", Delivered = "delivered", Failed = "failed" });

/// One event sent (or to be sent) to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event: String,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// The delivery of `event_id` to `webhook_id`: the same pair always has the same id.
    pub fn id_for(webhook_id: Uuid, event_id: Uuid) -> Uuid {
        Uuid::new_v5(&webhook_id, event_id.as_bytes())
    }
}

/// The `FieldProof-Signature` header value for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_webhooks_secret_never_prints() {
        let w = super::Webhook {
            id: uuid::Uuid::nil(),
            url: "https://example.test/hook".into(),
            secret: "whsec_do_not_print".into(),
            events: vec![],
            active: true,
            created_by: None,
            created_at: chrono::Utc::now(),
        };
        let printed = format!("{w:?} {}", serde_json::to_string(&w).unwrap());
        assert!(!printed.contains("whsec_do_not_print"), "{printed}");
    }

    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_hmac_sha256_of_timestamp_dot_body() {
        // The signed text is "{timestamp}.{body}".
        let direct = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
            mac.update(b"1700000000.{\"a\":1}");
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(signature("Jefe", 1_700_000_000, br#"{"a":1}"#), format!("t=1700000000,v1={direct}"));
        // And the primitive itself is HMAC-SHA256 (RFC 4231, test case 2).
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac.finalize().into_bytes()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_ne!(signature("other", 1_700_000_000, br#"{"a":1}"#), signature("Jefe", 1_700_000_000, br#"{"a":1}"#));
    }

    #[test]
    fn delivery_ids_are_stable_per_pair() {
        let (w, e) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(Delivery::id_for(w, e), Delivery::id_for(w, e));
        assert_ne!(Delivery::id_for(w, e), Delivery::id_for(e, w));
    }
}
