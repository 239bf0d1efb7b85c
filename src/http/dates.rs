//! Dates and instants of request bodies and queries, held to the years a real visit can have
//! ([`crate::domain::time::YEARS`]): year 0 or 9999 parse as dates, but no visit, task, holiday
//! or filter has them. Used as `#[serde(deserialize_with = "…")]`, so an out-of-range value is
//! the same 422 `invalid_field` (400 `invalid_query` in a query) as a malformed one.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{de::Error, Deserialize, Deserializer};

use crate::domain::time::YEARS;

fn in_range<E: Error>(date: NaiveDate) -> Result<(), E> {
    if crate::domain::time::plausible(date) {
        Ok(())
    } else {
        Err(E::custom(format!("{date} is outside the years {}–{}", YEARS.start(), YEARS.end())))
    }
}

pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let date = NaiveDate::deserialize(d)?;
    in_range(date).map(|()| date)
}

pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let date = Option::<NaiveDate>::deserialize(d)?;
    date.map(in_range).transpose().map(|_| date)
}

pub fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    let at = DateTime::<FixedOffset>::deserialize(d)?;
    in_range(at.date_naive()).map(|()| at)
}

pub fn opt_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    let at = Option::<DateTime<FixedOffset>>::deserialize(d)?;
    at.map(|a| in_range(a.date_naive())).transpose().map(|_| at)
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::opt_date")]
        on: Option<chrono::NaiveDate>,
        #[serde(deserialize_with = "super::instant")]
        at: chrono::DateTime<chrono::FixedOffset>,
    }

    #[test]
    fn years_no_visit_has_are_refused() {
        let ok: Body = serde_json::from_str(r#"{"at": "2026-11-18T10:00:00+07:00"}"#).unwrap();
        assert_eq!((ok.on, ok.at.to_rfc3339()), (None, "2026-11-18T10:00:00+07:00".to_string()));
        assert!(serde_json::from_str::<Body>(r#"{"on": "2099-12-31", "at": "2000-01-01T00:00:00Z"}"#).is_ok());
        for bad in [r#"{"on": "0000-01-01", "at": "2026-11-18T10:00:00Z"}"#, r#"{"at": "9999-12-31T23:59:59Z"}"#] {
            let e = serde_json::from_str::<Body>(bad).unwrap_err();
            assert!(e.to_string().contains("outside the years 2000–2099"), "{e}");
        }
    }
}
