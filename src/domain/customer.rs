//! Customers, their class and their place on the map.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{BranchId, CustomerId, UserId};

/// A point on the earth in WGS84 degrees; cannot hold an impossible coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    /// Accepts finite latitudes in [-90, 90] and longitudes in [-180, 180].
    pub fn parse(latitude: f64, longitude: f64) -> Result<GeoPoint, &'static str> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err("latitude must be a number between -90 and 90");
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err("longitude must be a number between -180 and 180");
        }
        Ok(GeoPoint { latitude, longitude })
    }

    /// Great-circle distance in metres (haversine on the mean earth radius, via `geo`).
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        use geo::{Distance, Haversine, Point};
        Haversine.distance(Point::new(self.longitude, self.latitude), Point::new(other.longitude, other.latitude))
    }
}

/// The customer's class (RULES.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerClass {
    A,
    B,
    C,
    D,
    E,
    F,
    #[serde(rename = "lost")]
    Lost,
    #[serde(rename = "lost_warning")]
    LostWarning,
    #[serde(rename = "new")]
    New,
}

impl CustomerClass {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerClass::A => "A",
            CustomerClass::B => "B",
            CustomerClass::C => "C",
            CustomerClass::D => "D",
            CustomerClass::E => "E",
            CustomerClass::F => "F",
            CustomerClass::Lost => "lost",
            CustomerClass::LostWarning => "lost_warning",
            CustomerClass::New => "new",
        }
    }

    pub fn parse(s: &str) -> Option<CustomerClass> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub code: String,
    pub name: String,
    pub customer_type: String,
    pub branch_id: BranchId,
    pub assigned_rep_id: Option<UserId>,
    pub location: Option<GeoPoint>,
    /// Own geofence radius in metres; `None` uses the policy default.
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    pub created_on: NaiveDate,
    pub class: CustomerClass,
    /// The level (A–F) the customer had before becoming Lost or Lost Warning: decides whether a
    /// Lost Warning contact must be a door visit (SOP ch. 2).
    pub previous_level: Option<CustomerClass>,
    /// Whose customer it is (the JMS's "Kepemilikan Agent Klien").
    pub ownership: Ownership,
    /// The distribution point it belongs to ("DP Kepemilikan"), when it has one.
    pub dp: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who owns a customer: J&T's own (HQ) or an agent's (a distribution point's Sales DP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    Hq,
    Agent,
}
crate::domain::task::str_enum!(Ownership { Hq = "hq", Agent = "agent" });

/// Customers by ownership and distribution point: the JMS's "Kepemilikan Agent Klien" and "DP
/// Kepemilikan" filters, on the task list, the queue and the scorecards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerSlice {
    pub ownership: Option<Ownership>,
    pub dp: Option<String>,
}

impl CustomerSlice {
    /// Every customer.
    pub fn is_all(&self) -> bool {
        self.ownership.is_none() && self.dp.is_none()
    }
}

/// A place for a customer who has none, read from the photo of an approved door visit: it waits
/// for branch marketing to accept it (the customer's coordinates) or reject it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceProposal {
    pub customer_id: CustomerId,
    pub latitude: f64,
    pub longitude: f64,
    /// The fix's stated accuracy (the app's), when known.
    pub accuracy_m: Option<f64>,
    /// `exif` (the camera's GPS) or `app` (the phone's fix).
    pub source: String,
    pub visit_id: crate::domain::ids::VisitId,
    pub photo_id: crate::domain::ids::PhotoId,
    pub proposed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_validated() {
        let cases = [
            (0.0, 0.0, true),
            (-6.2, 106.8, true),
            (90.0, 180.0, true),
            (90.1, 0.0, false),
            (0.0, -180.5, false),
            (f64::NAN, 0.0, false),
            (0.0, f64::INFINITY, false),
        ];
        for (lat, lon, ok) in cases {
            assert_eq!(GeoPoint::parse(lat, lon).is_ok(), ok, "{lat},{lon}");
        }
    }

    #[test]
    fn haversine_distance_is_in_metres() {
        // Monas to Bundaran HI, Jakarta: about 2.3 km.
        let monas = GeoPoint::parse(-6.1754, 106.8272).unwrap();
        let hi = GeoPoint::parse(-6.1950, 106.8230).unwrap();
        let d = monas.distance_m(hi);
        assert!((2_100.0..2_400.0).contains(&d), "{d}");
        assert_eq!(monas.distance_m(monas), 0.0);
    }

    #[test]
    fn classes_round_trip() {
        for s in ["A", "B", "C", "D", "E", "F", "lost", "lost_warning", "new"] {
            assert_eq!(CustomerClass::parse(s).map(CustomerClass::as_str), Some(s));
        }
        assert_eq!(CustomerClass::parse("G"), None);
    }
}
