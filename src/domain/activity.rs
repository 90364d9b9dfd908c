//! The activity log's rules: who acted ([`Actor`]), what an entry says ([`NewActivity`]), udata's
//! activity keys (with rudata's own beside them), and which fields a write changed.
//!
//! An entry is about one object (`related_to`): a dataset (its resources' changes included, as in
//! udata, with the resource in `extras`), an organization (its members included), or a user (their
//! profile and tokens). Who may read it follows that object's visibility (see `store::activities`).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::dataset::Dataset;
use super::organization::Organization;
use super::permissions::Identity;
use super::resource::Resource;

/// Who made a write: a user (and the API token they used), or nobody (a job, or the CLI run
/// without `--actor`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<String>,
    pub token_id: Option<String>,
}

impl Actor {
    /// No one: a scheduled job, or an operator command run without an account.
    pub fn none() -> Actor {
        Actor::default()
    }

    /// A user acting without a token (the CLI run with `--actor`).
    pub fn user(user_id: &str) -> Actor {
        Actor {
            user_id: Some(user_id.to_string()),
            token_id: None,
        }
    }
}

impl Identity {
    /// This caller as the actor of their writes.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user.id.clone()),
            token_id: self.token_id.clone(),
        }
    }
}

/// What kind of object an entry is about (udata's `related_to_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelatedKind {
    Dataset,
    Organization,
    User,
}

impl RelatedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelatedKind::Dataset => "Dataset",
            RelatedKind::Organization => "Organization",
            RelatedKind::User => "User",
        }
    }

    pub fn parse(s: &str) -> Option<RelatedKind> {
        match s {
            "Dataset" => Some(RelatedKind::Dataset),
            "Organization" => Some(RelatedKind::Organization),
            "User" => Some(RelatedKind::User),
            _ => None,
        }
    }
}

/// Every activity key: udata's (`dataset:*`, `organization:created|updated`), then rudata's own,
/// with udata's label and icon.
pub const KEYS: &[(&str, &str, &str)] = &[
    ("dataset:created", "created a dataset", "fa fa-plus"),
    ("dataset:updated", "updated a dataset", "fa fa-pencil"),
    ("dataset:deleted", "deleted a dataset", "fa fa-remove"),
    (
        "dataset:resource:added",
        "added a resource to a dataset",
        "fa fa-plus",
    ),
    (
        "dataset:resource:updated",
        "updated a resource",
        "fa fa-pencil",
    ),
    (
        "dataset:resource:deleted",
        "removed a resource from a dataset",
        "fa fa-remove",
    ),
    (
        "organization:created",
        "created an organization",
        "fa fa-plus",
    ),
    (
        "organization:updated",
        "updated an organization",
        "fa fa-pencil",
    ),
    // rudata's own.
    ("dataset:purged", "purged a dataset", "fa fa-remove"),
    (
        "dataset:resource:unavailable",
        "found a resource unavailable",
        "fa fa-warning",
    ),
    (
        "dataset:resource:changed",
        "found a resource's content changed",
        "fa fa-refresh",
    ),
    (
        "organization:deleted",
        "deleted an organization",
        "fa fa-remove",
    ),
    (
        "organization:member:invited",
        "invited a member",
        "fa fa-envelope",
    ),
    (
        "organization:member:added",
        "added a member",
        "fa fa-user-plus",
    ),
    (
        "organization:member:updated",
        "changed a member's role",
        "fa fa-pencil",
    ),
    (
        "organization:member:removed",
        "removed a member",
        "fa fa-user-times",
    ),
    (
        "organization:invitation:refused",
        "refused an invitation",
        "fa fa-ban",
    ),
    (
        "organization:invitation:canceled",
        "canceled an invitation",
        "fa fa-ban",
    ),
    ("user:created", "created an account", "fa fa-plus"),
    ("user:updated", "updated a profile", "fa fa-pencil"),
    ("user:token:created", "created an API token", "fa fa-key"),
    ("user:token:revoked", "revoked an API token", "fa fa-key"),
];

/// The label and icon of `key` (`None`: not an activity key).
pub fn describe(key: &str) -> Option<(&'static str, &'static str)> {
    KEYS.iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, label, icon)| (*label, *icon))
}

/// One entry of the log, as an operation records it (the store adds its id, date and actor).
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub key: &'static str,
    pub related_kind: RelatedKind,
    pub related_id: String,
    /// The object's name when recorded: what the entry shows once the object is gone.
    pub related_title: String,
    /// The organization the object belongs to (itself, for an organization), as udata records it.
    pub organization_id: Option<String>,
    pub changes: Vec<String>,
    pub extras: Map<String, Value>,
}

impl NewActivity {
    /// An entry about dataset `ds`.
    pub fn dataset(key: &'static str, ds: &Dataset) -> NewActivity {
        NewActivity {
            key,
            related_kind: RelatedKind::Dataset,
            related_id: ds.id.clone(),
            related_title: ds.title.clone(),
            organization_id: ds.organization_id.clone(),
            changes: Vec::new(),
            extras: Map::new(),
        }
    }

    /// An entry about resource `r` of dataset `ds` (udata's `resource_id`, `resource_title` extras).
    pub fn resource(key: &'static str, ds: &Dataset, r: &Resource) -> NewActivity {
        let mut a = NewActivity::dataset(key, ds);
        a.extras.insert("resource_id".into(), json!(r.id));
        a.extras.insert("resource_title".into(), json!(r.title));
        a
    }

    /// An entry about organization `org`.
    pub fn organization(key: &'static str, org: &Organization) -> NewActivity {
        NewActivity {
            key,
            related_kind: RelatedKind::Organization,
            related_id: org.id.clone(),
            related_title: org.name.clone(),
            organization_id: Some(org.id.clone()),
            changes: Vec::new(),
            extras: Map::new(),
        }
    }

    /// An entry about user `user_id` (named `name`).
    pub fn user(key: &'static str, user_id: &str, name: &str) -> NewActivity {
        NewActivity {
            key,
            related_kind: RelatedKind::User,
            related_id: user_id.to_string(),
            related_title: name.to_string(),
            organization_id: None,
            changes: Vec::new(),
            extras: Map::new(),
        }
    }

    pub fn with_changes(mut self, changes: Vec<String>) -> NewActivity {
        self.changes = changes;
        self
    }

    pub fn with_extra(mut self, key: &str, value: Value) -> NewActivity {
        self.extras.insert(key.to_string(), value);
        self
    }
}

/// Fields every write moves, or that follow from another (a dataset's slug from its title), which
/// say nothing of what was changed (udata leaves them out too).
const NOT_CHANGES: &[&str] = &["last_modified", "slug"];

/// The fields that differ between `before` and `after` (top-level keys of their JSON), under their
/// API names (`organization`, `owner`, `url` for a hosted file's key), as udata's `changed_fields`; dates every write sets left out.
pub fn changed_fields<T: Serialize>(before: &T, after: &T) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .collect();
    keys.retain(|k| !NOT_CHANGES.contains(&k.as_str()) && a.get(*k) != b.get(*k));
    let mut changes: Vec<String> = Vec::with_capacity(keys.len());
    for k in keys {
        let name = match k.as_str() {
            "organization_id" => "organization",
            "owner_id" => "owner",
            // A hosted file's URL is made from its key.
            "file_key" => "url",
            other => other,
        };
        if !changes.iter().any(|c| c == name) {
            changes.push(name.to_string());
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    #[test]
    fn changed_fields_name_what_moved_in_api_words() {
        let before = Dataset::blank("d".into(), now());
        let mut after = before.clone();
        after.title = "New".into();
        after.organization_id = Some("o".into());
        after.last_modified += chrono::Duration::seconds(5);
        let mut changes = changed_fields(&before, &after);
        changes.sort();
        assert_eq!(changes, ["organization", "title"]);
        assert!(changed_fields(&before, &before).is_empty());
    }

    #[test]
    fn every_key_is_described_once() {
        for (key, _, _) in KEYS {
            assert_eq!(KEYS.iter().filter(|(k, _, _)| k == key).count(), 1, "{key}");
            assert!(describe(key).is_some());
        }
        assert!(describe("dataset:nope").is_none());
    }
}
