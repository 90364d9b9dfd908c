//! Timestamps: stored and compared as fixed-width UTC text, emitted as udata emits them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Current time truncated to microseconds (what the store keeps).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Fixed-width form used in the database: sorts lexicographically in time order.
pub fn to_db(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// Parses what `to_db` wrote (or any RFC 3339 text).
pub fn from_db(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// udata's (Python `isoformat`) rendering: microseconds, omitted when zero, `+00:00` offset.
pub fn to_api(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, false)
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// A timestamp that serialises as udata emits it, written straight into the output (no temporary string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiTime(pub DateTime<Utc>);

impl std::fmt::Display for ApiTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.timestamp_subsec_micros() == 0 {
            write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S+00:00"))
        } else {
            write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
        }
    }
}

impl serde::Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a client-supplied datetime: RFC 3339, or a naive `YYYY-MM-DD[THH:MM:SS[.f]]` taken as UTC.
/// Years outside 1–9999 are refused: they could be stored but not written back in the fixed-width forms.
pub fn parse_client(s: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    parse_any(s).filter(|t| (1..=9999).contains(&t.year()))
}

fn parse_any(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Serde helpers so domain structs carry `DateTime<Utc>` and serialise in udata's format.
pub mod api_format {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_api(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse_client(&s).ok_or_else(|| serde::de::Error::custom("invalid datetime"))
    }
}

/// Same as [`api_format`] for optional values.
pub mod api_format_opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&to_api(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => parse_client(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("invalid datetime")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_format_drops_zero_fraction() {
        let t = DateTime::parse_from_rfc3339("2024-05-02T10:11:12Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(to_api(&t), "2024-05-02T10:11:12+00:00");
        let t = DateTime::parse_from_rfc3339("2024-05-02T10:11:12.345Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(to_api(&t), "2024-05-02T10:11:12.345000+00:00");
        assert_eq!(ApiTime(t).to_string(), to_api(&t));
    }

    #[test]
    fn db_format_round_trips_and_sorts() {
        let a = now();
        let s = to_db(&a);
        assert_eq!(from_db(&s), Some(a));
        assert!(to_db(&(a - chrono::Duration::days(400))) < s);
    }

    #[test]
    fn client_dates_accept_naive_forms() {
        assert!(parse_client("2024-01-01").is_some());
        assert!(parse_client("2024-01-01T10:00:00").is_some());
        assert!(parse_client("2030-01-01T10:00:00+02:00").is_some());
        assert!(parse_client("not-a-date").is_none());
        assert!(parse_client("+12345-01-01T00:00:00").is_none());
        assert!(parse_client("-0001-01-01T00:00:00Z").is_none());
    }
}
