//! Users: accounts that own datasets, belong to organizations and hold API tokens.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub slug: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub website: Option<String>,
    pub about: Option<String>,
    pub active: bool,
    pub sysadmin: bool,
    pub created_at: DateTime<Utc>,
    pub deleted: Option<DateTime<Utc>>,
}

/// A plausible e-mail address: one `@`, something before, a dotted domain after, no spaces.
pub fn parse_email(input: &str) -> Option<String> {
    let email = input.trim();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace);
    ok.then(|| email.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        assert!(super::parse_email("a@b.fr").is_some());
        assert!(super::parse_email("a@b").is_none());
        assert!(super::parse_email("nope").is_none());
    }
}
