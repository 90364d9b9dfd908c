//! Who may do what: the permission rules, as pure functions of the caller and the object.
//!
//! Every check of the API, the CLI and the jobs goes through [`may_on_dataset`] and [`may_on_org`];
//! the tests at the bottom spell the whole matrix out as a table.

use super::dataset::Dataset;
use super::organization::{Member, Role};
use super::user::User;

/// What a token allows. udata knows one scope, `admin`: everything its user may do. rudata adds
/// narrower ones (beyond udata); a token holds one or more, and allows their union:
///
/// - `admin`: everything the user may do;
/// - `read`: every read the user may do (private and deleted objects they may see included), no write;
/// - `organization:<id>`: the user's reads, and writes only on that organization (its metadata,
///   extras, members and invitations) and on its datasets (create, edit, delete, restore, resources,
///   files, extras);
/// - `dataset:<id>`: the user's reads, and writes only on that dataset (metadata, delete, restore,
///   resources, files, extras).
///
/// Writes on the account itself (profile, tokens, answering invitations, creating an organization or
/// a dataset outside an organization) need `admin`: a narrower token must not mint a wider one.
/// A scope never adds a right the user lacks: the rules below ask for the user's role *and* the scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Admin,
    Read,
    Organization(String),
    Dataset(String),
}

impl Scope {
    /// `admin`, `read`, `organization:<id>` or `dataset:<id>` (ids: 24 hex digits); `None` otherwise.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "admin" => Some(Scope::Admin),
            "read" => Some(Scope::Read),
            _ => {
                let (kind, id) = s.split_once(':')?;
                if !super::ids::is_object_id(id) {
                    return None;
                }
                match kind {
                    "organization" => Some(Scope::Organization(id.to_string())),
                    "dataset" => Some(Scope::Dataset(id.to_string())),
                    _ => None,
                }
            }
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Admin => f.write_str("admin"),
            Scope::Read => f.write_str("read"),
            Scope::Organization(id) => write!(f, "organization:{id}"),
            Scope::Dataset(id) => write!(f, "dataset:{id}"),
        }
    }
}

/// An authenticated caller: the user, their memberships, and what their token allows.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    pub memberships: Vec<Member>,
    pub scopes: Vec<Scope>,
    /// The API token the caller authenticated with (`None`: the CLI), recorded in the activity log.
    pub token_id: Option<String>,
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

    /// May the token write on the account itself (profile, tokens, invitations, new organizations,
    /// datasets outside an organization)? Reads need no scope.
    pub fn may_write_account(&self) -> bool {
        self.scopes.contains(&Scope::Admin)
    }

    /// May the token write anywhere at all (any scope but `read`)?
    pub fn may_write_anything(&self) -> bool {
        self.scopes.iter().any(|s| *s != Scope::Read)
    }

    /// May the token write on organization `org_id` (and publish in it)?
    pub fn may_write_org(&self, org_id: &str) -> bool {
        self.scopes.iter().any(|s| match s {
            Scope::Admin => true,
            Scope::Organization(id) => id == org_id,
            Scope::Read | Scope::Dataset(_) => false,
        })
    }

    /// May the token write on dataset `ds` (its resources and files included)?
    pub fn may_write_dataset(&self, ds: &Dataset) -> bool {
        self.scopes.iter().any(|s| match s {
            Scope::Admin => true,
            Scope::Organization(id) => ds.organization_id.as_deref() == Some(id.as_str()),
            Scope::Dataset(id) => *id == ds.id,
            Scope::Read => false,
        })
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
/// assigned to the dataset, and sysadmins, through a token whose scope covers the dataset.
pub fn may_on_dataset(
    who: Option<&Identity>,
    ds: &Dataset,
    assigned: bool,
    action: DatasetAction,
) -> bool {
    let Some(who) = who else { return false };
    if action != DatasetAction::ReadHidden && !who.may_write_dataset(ds) {
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
    if action != OrgAction::ReadPrivate && !who.may_write_org(org_id) {
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
    who.may_write_org(org_id) && (who.is_sysadmin() || who.role_in(org_id).is_some())
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
            token_id: None,
        }
    }

    /// The actors of the matrix, by name.
    fn actor(name: &str) -> Option<Identity> {
        let all = &[Scope::Admin];
        let read = &[Scope::Read];
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
            "editor, read" => Some(identity("editor", false, Some(Role::Editor), read)),
            "org admin, read" => Some(identity("admin", false, Some(Role::Admin), read)),
            "sysadmin, read" => Some(identity("root", true, None, read)),
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
            ("editor, read", [true, false, false], [false; 3]),
            ("sysadmin, read", [true, false, false], [true, false, false]),
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
            ("org admin, read", [true, false, false]),
            ("sysadmin, read", [true, false, false]),
        ];
        for (name, expected) in table {
            let who = actor(name);
            for (i, action) in [ReadPrivate, Edit, ManageMembers].into_iter().enumerate() {
                assert_eq!(
                    may_on_org(who.as_ref(), ORG, action),
                    expected[i],
                    "{name} {action:?}"
                );
                assert!(
                    !may_on_org(who.as_ref(), OTHER_ORG, action) || name.starts_with("sysadmin")
                );
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
            ("editor, read", false),
            ("sysadmin, read", false),
        ] {
            let who = actor(name).expect("an identity");
            assert_eq!(may_publish_in(&who, ORG), expected, "{name}");
        }
    }

    #[test]
    fn scopes_parse_and_print() {
        let id = "5f1e2d3c4b5a697887960504";
        for text in [
            "admin".to_string(),
            "read".to_string(),
            format!("organization:{id}"),
            format!("dataset:{id}"),
        ] {
            let scope = Scope::parse(&text).expect(&text);
            assert_eq!(scope.to_string(), text);
        }
        for bad in [
            "",
            "ADMIN",
            "write",
            "dataset:",
            "dataset:budget",
            "organization:5f1e2d3c4b5a69788796050",
            "user:5f1e2d3c4b5a697887960504",
            "dataset:5f1e2d3c4b5a697887960504:x",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn narrow_scopes_allow_writes_only_where_they_point() {
        use DatasetAction::*;
        let org_ds = dataset(None, Some(ORG));
        let other_ds = {
            let mut ds = dataset(None, Some(ORG));
            ds.id = "other-ds".into();
            ds
        };
        let mut other_org_ds = dataset(None, Some(OTHER_ORG));
        other_org_ds.id = "third-ds".into();
        // scopes of an org admin of ORG (also admin of OTHER_ORG) → (read hidden, edit, delete) on
        // ORG's dataset `ds`, edit on ORG's `other-ds`, edit on OTHER_ORG's `third-ds`, (edit, manage
        // members, publish) in ORG, the same in OTHER_ORG, account writes.
        type Row = (
            Vec<Scope>,
            [bool; 3],
            bool,
            bool,
            [bool; 3],
            [bool; 3],
            bool,
        );
        let org = |o: &str| Scope::Organization(o.into());
        let table: Vec<Row> = vec![
            (
                vec![Scope::Admin],
                [true; 3],
                true,
                true,
                [true; 3],
                [true; 3],
                true,
            ),
            (
                vec![Scope::Read],
                [true, false, false],
                false,
                false,
                [false; 3],
                [false; 3],
                false,
            ),
            (
                vec![org(ORG)],
                [true; 3],
                true,
                false,
                [true; 3],
                [false; 3],
                false,
            ),
            (
                vec![org(OTHER_ORG)],
                [true, false, false],
                false,
                true,
                [false; 3],
                [true; 3],
                false,
            ),
            (
                vec![Scope::Dataset("ds".into())],
                [true; 3],
                false,
                false,
                [false; 3],
                [false; 3],
                false,
            ),
            (
                vec![Scope::Read, org(ORG)],
                [true; 3],
                true,
                false,
                [true; 3],
                [false; 3],
                false,
            ),
            (
                vec![],
                [true, false, false],
                false,
                false,
                [false; 3],
                [false; 3],
                false,
            ),
        ];
        for (scopes, on_ds, on_other_ds, on_other_org_ds, in_org, in_other_org, account) in table {
            let mut who = identity("admin", false, Some(Role::Admin), &scopes);
            who.memberships.push(Member {
                org_id: OTHER_ORG.into(),
                user_id: "admin".into(),
                role: Role::Admin,
                since: now(),
            });
            let identity = &who;
            let who = Some(identity);
            for (i, action) in [ReadHidden, Edit, Delete].into_iter().enumerate() {
                assert_eq!(
                    may_on_dataset(who, &org_ds, false, action),
                    on_ds[i],
                    "{scopes:?} {action:?}"
                );
            }
            assert_eq!(
                may_on_dataset(who, &other_ds, false, Edit),
                on_other_ds,
                "{scopes:?}"
            );
            assert_eq!(
                may_on_dataset(who, &other_org_ds, false, Edit),
                on_other_org_ds,
                "{scopes:?}"
            );
            for (org_id, expected) in [(ORG, in_org), (OTHER_ORG, in_other_org)] {
                let got = [
                    may_on_org(who, org_id, OrgAction::Edit),
                    may_on_org(who, org_id, OrgAction::ManageMembers),
                    may_publish_in(identity, org_id),
                ];
                assert_eq!(got, expected, "{scopes:?} in {org_id}");
                assert!(
                    may_on_org(who, org_id, OrgAction::ReadPrivate),
                    "{scopes:?}"
                );
            }
            assert_eq!(identity.may_write_account(), account, "{scopes:?}");
        }
    }

    #[test]
    fn a_scope_adds_no_right_the_user_lacks() {
        let ds = dataset(None, Some(ORG));
        let who = identity(
            "stranger",
            false,
            None,
            &[Scope::Dataset("ds".into()), Scope::Organization(ORG.into())],
        );
        assert!(!may_on_dataset(Some(&who), &ds, false, DatasetAction::Edit));
        assert!(!may_on_org(Some(&who), ORG, OrgAction::Edit));
        assert!(!may_publish_in(&who, ORG));
    }
}
