//! Organizations and their members.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub acronym: Option<String>,
    pub description: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub business_number_id: Option<String>,
    #[serde(default)]
    pub extras: Map<String, Value>,
    #[serde(with = "super::time::api_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::time::api_format")]
    pub last_modified: DateTime<Utc>,
    #[serde(with = "super::time::api_format_opt", default)]
    pub deleted: Option<DateTime<Utc>>,
}

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Editor,
    PartialEditor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "partial_editor" => Some(Role::PartialEditor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::PartialEditor => "partial_editor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Editor => "Editor",
            Role::PartialEditor => "Partial editor",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub org_id: String,
    pub user_id: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// An invitation to join an organization. Only the newest pending invitation of a user (or an
/// address) can be accepted: a newer one, acceptance, cancellation and the member's removal all end
/// the older ones (see `ops::organizations`).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: String,
    pub org_id: String,
    /// The invitee; `None` for an invitation by e-mail to an address with no account (yet).
    pub user_id: Option<String>,
    /// The address an invitation by e-mail was made for (lowercased); `None` when made for a user.
    pub email: Option<String>,
    pub role: Role,
    pub comment: Option<String>,
    /// `pending`, `accepted`, `refused` or `canceled` (udata's statuses).
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Invitation statuses, as udata names them.
pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const REFUSED: &str = "refused";
pub const CANCELED: &str = "canceled";
