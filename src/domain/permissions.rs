//! Who may do what: the permission rules, as pure functions of the caller and the object.
//!
//! Every check of the API, the CLI and the jobs goes through [`may_on_dataset`] and [`may_on_org`];
//! the tests at the bottom spell the whole matrix out as a table.

use super::dataset::Dataset;
use super::organization::{Member, Role};
use super::user::User;

/// What a token allows. udata knows one scope, `admin`: everything its user may do. The hardening
/// work adds narrower ones; the rules below already ask for the scope each action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
        }
    }
}

/// An authenticated caller: the user, their memberships, and what their token allows.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    pub memberships: Vec<Member>,
    pub scopes: Vec<Scope>,
}

impl Identity {
    pub fn is_sysadmin(&self) -> bool {
        self.user.sysadmin
    }

    pub fn role_in(&self, org_id: &str) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org_id)
            .map(|m| m.role)
    }

    pub fn org_ids(&self) -> Vec<String> {
        self.memberships.iter().map(|m| m.org_id.clone()).collect()
    }

    /// Is this caller a partial editor anywhere (then their dataset assignments matter)?
    pub fn is_partial_editor(&self) -> bool {
        self.memberships
            .iter()
            .any(|m| m.role == Role::PartialEditor)
    }

    /// May the token write at all? Reads need no scope.
    fn may_write(&self) -> bool {
        self.scopes.contains(&Scope::Admin)
    }
}

/// Actions on a dataset (and so on its resources and files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetAction {
    /// See it while it is private or soft-deleted.
    ReadHidden,
    /// Change its metadata and resources.
    Edit,
    /// Soft-delete (and restore) it.
    Delete,
}

/// Actions on an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgAction {
    /// See its private and deleted datasets, its members' e-mails.
    ReadPrivate,
    /// Change its metadata, or delete it.
    Edit,
    /// Invite, change and remove members.
    ManageMembers,
}

/// May `who` do `action` on `ds`? `assigned`: `who` is a partial editor assigned to this dataset.
///
/// Hidden datasets are readable by their owner, any member of their organization and sysadmins.
/// Editing and deleting belong to the owner, the organization's admins and editors, partial editors
/// assigned to the dataset, and sysadmins, through a token that allows writing.
pub fn may_on_dataset(
    who: Option<&Identity>,
    ds: &Dataset,
    assigned: bool,
    action: DatasetAction,
) -> bool {
    let Some(who) = who else { return false };
    if action != DatasetAction::ReadHidden && !who.may_write() {
        return false;
    }
    if who.is_sysadmin() || ds.owner_id.as_deref() == Some(who.user.id.as_str()) {
        return true;
    }
    let role = ds.organization_id.as_deref().and_then(|o| who.role_in(o));
    match (action, role) {
        (_, None) => false,
        (DatasetAction::ReadHidden, Some(_)) => true,
        (_, Some(Role::Admin | Role::Editor)) => true,
        (_, Some(Role::PartialEditor)) => assigned,
    }
}

/// May `who` do `action` on organization `org_id`? Members read its private side; its admins and
/// sysadmins edit it and manage its members.
pub fn may_on_org(who: Option<&Identity>, org_id: &str, action: OrgAction) -> bool {
    let Some(who) = who else { return false };
    if action != OrgAction::ReadPrivate && !who.may_write() {
        return false;
    }
    if who.is_sysadmin() {
        return true;
    }
    match (action, who.role_in(org_id)) {
        (_, None) => false,
        (OrgAction::ReadPrivate, Some(_)) => true,
        (OrgAction::Edit | OrgAction::ManageMembers, Some(role)) => role == Role::Admin,
    }
}

/// May `who` put a new dataset in organization `org_id`? Any member may (a partial editor then gets
/// the dataset assigned), as may sysadmins.
pub fn may_publish_in(who: &Identity, org_id: &str) -> bool {
    who.may_write() && (who.is_sysadmin() || who.role_in(org_id).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    const ORG: &str = "org";
    const OTHER_ORG: &str = "other-org";

    fn identity(id: &str, sysadmin: bool, role: Option<Role>, scopes: &[Scope]) -> Identity {
        Identity {
            user: User {
                id: id.into(),
                slug: id.into(),
                email: format!("{id}@example.org"),
                first_name: id.into(),
                last_name: id.into(),
                website: None,
                about: None,
                active: true,
                sysadmin,
                created_at: now(),
                deleted: None,
            },
            memberships: role
                .map(|role| Member {
                    org_id: ORG.into(),
                    user_id: id.into(),
                    role,
                    since: now(),
                })
                .into_iter()
                .collect(),
            scopes: scopes.to_vec(),
        }
    }

    /// The actors of the matrix, by name.
    fn actor(name: &str) -> Option<Identity> {
        let all = &[Scope::Admin];
        match name {
            "anonymous" => None,
            "sysadmin" => Some(identity("root", true, None, all)),
            "owner" => Some(identity("owner", false, None, all)),
            "org admin" => Some(identity("admin", false, Some(Role::Admin), all)),
            "editor" => Some(identity("editor", false, Some(Role::Editor), all)),
            "partial (assigned)" | "partial (not assigned)" => {
                Some(identity("partial", false, Some(Role::PartialEditor), all))
            }
            "stranger" => Some(identity("stranger", false, None, all)),
            "editor, no scope" => Some(identity("editor", false, Some(Role::Editor), &[])),
            other => panic!("unknown actor {other}"),
        }
    }

    fn dataset(owner: Option<&str>, org: Option<&str>) -> Dataset {
        let mut ds = Dataset::blank("ds".into(), now());
        ds.owner_id = owner.map(str::to_string);
        ds.organization_id = org.map(str::to_string);
        ds
    }

    #[test]
    fn dataset_matrix() {
        use DatasetAction::*;
        // actor, (read hidden, edit, delete) on an organization's dataset, then on `owner`'s own.
        let table: &[(&str, [bool; 3], [bool; 3])] = &[
            ("sysadmin", [true; 3], [true; 3]),
            ("owner", [false; 3], [true; 3]),
            ("org admin", [true; 3], [false; 3]),
            ("editor", [true; 3], [false; 3]),
            ("partial (assigned)", [true; 3], [false; 3]),
            ("partial (not assigned)", [true, false, false], [false; 3]),
            ("stranger", [false; 3], [false; 3]),
            ("anonymous", [false; 3], [false; 3]),
            ("editor, no scope", [true, false, false], [false; 3]),
        ];
        let org_ds = dataset(None, Some(ORG));
        let own_ds = dataset(Some("owner"), None);
        for (name, on_org, on_own) in table {
            let who = actor(name);
            let assigned = *name == "partial (assigned)";
            for (i, action) in [ReadHidden, Edit, Delete].into_iter().enumerate() {
                assert_eq!(
                    may_on_dataset(who.as_ref(), &org_ds, assigned, action),
                    on_org[i],
                    "{name} {action:?} on an organization's dataset"
                );
                assert_eq!(
                    may_on_dataset(who.as_ref(), &own_ds, assigned, action),
                    on_own[i],
                    "{name} {action:?} on a user's dataset"
                );
            }
        }
    }

    #[test]
    fn a_role_in_another_organization_gives_nothing() {
        let ds = dataset(None, Some(OTHER_ORG));
        for name in ["org admin", "editor", "partial (assigned)"] {
            let who = actor(name);
            for action in [
                DatasetAction::ReadHidden,
                DatasetAction::Edit,
                DatasetAction::Delete,
            ] {
                assert!(!may_on_dataset(who.as_ref(), &ds, true, action), "{name}");
            }
        }
    }

    #[test]
    fn organization_matrix() {
        use OrgAction::*;
        // actor, (read private, edit, manage members) on ORG.
        let table: &[(&str, [bool; 3])] = &[
            ("sysadmin", [true; 3]),
            ("org admin", [true; 3]),
            ("editor", [true, false, false]),
            ("partial (assigned)", [true, false, false]),
            ("stranger", [false; 3]),
            ("owner", [false; 3]),
            ("anonymous", [false; 3]),
            ("editor, no scope", [true, false, false]),
        ];
        for (name, expected) in table {
            let who = actor(name);
            for (i, action) in [ReadPrivate, Edit, ManageMembers].into_iter().enumerate() {
                assert_eq!(
                    may_on_org(who.as_ref(), ORG, action),
                    expected[i],
                    "{name} {action:?}"
                );
                assert!(!may_on_org(who.as_ref(), OTHER_ORG, action) || *name == "sysadmin");
            }
        }
    }

    #[test]
    fn publishing_in_an_organization_needs_a_membership() {
        for (name, expected) in [
            ("sysadmin", true),
            ("org admin", true),
            ("editor", true),
            ("partial (assigned)", true),
            ("stranger", false),
            ("editor, no scope", false),
        ] {
            let who = actor(name).expect("an identity");
            assert_eq!(may_publish_in(&who, ORG), expected, "{name}");
        }
    }
}
