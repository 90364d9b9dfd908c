//! The authorization matrix: every write endpoint of the API × every kind of caller, with the status
//! udata's rules and DESIGN's promises give, and proof that a refused write changed nothing.
//!
//! The expected status comes from two tables: which permission each endpoint needs (`Class`), and
//! which permissions each actor holds (`allowed`). A refused write is 401 without a usable key, 400 for
//! publishing in an organization one does not belong to (udata's form error), 403 otherwise.
//! One catalog is set up per run (per backend: SQLite, or PostgreSQL with `TEST_DATABASE_URL`); an
//! endpoint that destroys its target (a delete, a revocation, an invitation answered) gets a fresh
//! one for each cell.

use axum::http::{Method, StatusCode};
use rudata::domain::permissions::Scope;
use serde_json::{Value, json};

use crate::helpers::{Part, TestApp, TestResponse, TestUser, id_of};

/// The permission an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    /// Write on the organization's dataset (edit, delete, restore, resources, files, extras).
    OrgDataset,
    /// Write on a user's own dataset.
    OwnDataset,
    /// Edit the organization or manage its members.
    Organization,
    /// Create a dataset in the organization.
    Publish,
    /// Write on the caller's own account (profile, tokens, invitations, new organization, personal
    /// dataset).
    Account,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Actor {
    Anonymous,
    Stranger,
    PartialNotAssigned,
    PartialAssigned,
    Editor,
    OrgAdmin,
    Owner,
    Sysadmin,
    /// The organization's admin, through a `read` token.
    ReadToken,
    /// The organization's admin, through a `dataset:<another dataset>` token.
    OutOfScopeToken,
    /// The organization's admin, through a `dataset:<the target dataset>` token.
    DatasetToken,
    /// The organization's admin, through an `organization:<the target organization>` token.
    OrgToken,
    Revoked,
    Expired,
}

const ACTORS: [Actor; 14] = [
    Actor::Anonymous,
    Actor::Stranger,
    Actor::PartialNotAssigned,
    Actor::PartialAssigned,
    Actor::Editor,
    Actor::OrgAdmin,
    Actor::Owner,
    Actor::Sysadmin,
    Actor::ReadToken,
    Actor::OutOfScopeToken,
    Actor::DatasetToken,
    Actor::OrgToken,
    Actor::Revoked,
    Actor::Expired,
];

/// What each actor may do: (organization's dataset, own dataset, organization, publish, account).
fn allowed(actor: Actor, class: Class) -> bool {
    use Actor::*;
    let row: [bool; 5] = match actor {
        Anonymous | Revoked | Expired => [false; 5],
        Stranger => [false, false, false, false, true],
        PartialNotAssigned => [false, false, false, true, true],
        PartialAssigned | Editor => [true, false, false, true, true],
        OrgAdmin => [true, false, true, true, true],
        Owner => [false, true, false, false, true],
        Sysadmin => [true; 5],
        ReadToken | OutOfScopeToken => [false; 5],
        DatasetToken => [true, false, false, false, false],
        OrgToken => [true, false, true, true, false],
    };
    row[match class {
        Class::OrgDataset => 0,
        Class::OwnDataset => 1,
        Class::Organization => 2,
        Class::Publish => 3,
        Class::Account => 4,
    }]
}

fn refusal(actor: Actor, class: Class) -> StatusCode {
    match (actor, class) {
        (Actor::Anonymous | Actor::Revoked | Actor::Expired, _) => StatusCode::UNAUTHORIZED,
        // Not a member of the organization named in the form: udata's form error.
        (Actor::Stranger | Actor::Owner, Class::Publish) => StatusCode::BAD_REQUEST,
        _ => StatusCode::FORBIDDEN,
    }
}

/// Which dataset a dataset endpoint acts on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum On {
    Org,
    Own,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Endpoint {
    CreateDatasetInOrg,
    CreatePersonalDataset,
    UpdateDataset(On),
    DeleteDataset(On),
    RestoreDataset(On),
    CreateResource(On),
    UploadResource(On),
    ChunkedUploadPart(On),
    UpdateResource(On),
    ReplaceFile(On),
    DeleteResource(On),
    ReorderResources(On),
    DatasetExtras(On),
    ResourceExtras(On),
    CreateOrganization,
    UpdateOrganization,
    DeleteOrganization,
    OrganizationExtras,
    InviteMember,
    CancelInvitation,
    UpdateMember,
    RemoveMember,
    UpdateMe,
    CreateToken,
    RevokeToken,
    AcceptInvitation,
    RefuseInvitation,
}

impl Endpoint {
    fn all() -> Vec<Endpoint> {
        use Endpoint::*;
        let mut all = vec![CreateDatasetInOrg, CreatePersonalDataset];
        for on in [On::Org, On::Own] {
            all.extend([
                UpdateDataset(on),
                DeleteDataset(on),
                RestoreDataset(on),
                CreateResource(on),
                UploadResource(on),
                ChunkedUploadPart(on),
                UpdateResource(on),
                ReplaceFile(on),
                DeleteResource(on),
                ReorderResources(on),
                DatasetExtras(on),
                ResourceExtras(on),
            ]);
        }
        all.extend([
            CreateOrganization,
            UpdateOrganization,
            DeleteOrganization,
            OrganizationExtras,
            InviteMember,
            CancelInvitation,
            UpdateMember,
            RemoveMember,
            UpdateMe,
            CreateToken,
            RevokeToken,
            AcceptInvitation,
            RefuseInvitation,
        ]);
        all
    }

    fn class(self) -> Class {
        use Endpoint::*;
        match self {
            CreateDatasetInOrg => Class::Publish,
            CreatePersonalDataset
            | CreateOrganization
            | UpdateMe
            | CreateToken
            | RevokeToken
            | AcceptInvitation
            | RefuseInvitation => Class::Account,
            UpdateDataset(on)
            | DeleteDataset(on)
            | RestoreDataset(on)
            | CreateResource(on)
            | UploadResource(on)
            | ChunkedUploadPart(on)
            | UpdateResource(on)
            | ReplaceFile(on)
            | DeleteResource(on)
            | ReorderResources(on)
            | DatasetExtras(on)
            | ResourceExtras(on) => match on {
                On::Org => Class::OrgDataset,
                On::Own => Class::OwnDataset,
            },
            UpdateOrganization | DeleteOrganization | OrganizationExtras | InviteMember
            | CancelInvitation | UpdateMember | RemoveMember => Class::Organization,
        }
    }

    fn success(self) -> StatusCode {
        use Endpoint::*;
        match self {
            CreateDatasetInOrg
            | CreatePersonalDataset
            | CreateResource(_)
            | UploadResource(_)
            | CreateOrganization
            | InviteMember
            | CreateToken => StatusCode::CREATED,
            DeleteDataset(_) | DeleteResource(_) | DeleteOrganization | RemoveMember
            | RevokeToken => StatusCode::NO_CONTENT,
            _ => StatusCode::OK,
        }
    }
}

/// The catalog every cell works on.
struct Catalog {
    admin_id: String,
    org_admin: TestUser,
    editor: TestUser,
    partial_assigned: TestUser,
    partial_not_assigned: TestUser,
    owner: TestUser,
    stranger: TestUser,
    /// A member whose role the member endpoints change.
    bystander: TestUser,
    /// The admin of `other_org`.
    host: TestUser,
    org: String,
    /// Another user's organization, where actors are invited (their answers change nothing
    /// else).
    other_org: String,
    org_dataset: String,
    org_resource: String,
    own_dataset: String,
    own_resource: String,
    read_token: String,
    out_of_scope_token: String,
    revoked_token: String,
    expired_token: String,
}

/// What a cell's request names.
struct Targets {
    org: String,
    dataset: String,
    resource: String,
    /// An invitation of `org` (cancel), or one to the actor (accept, refuse).
    invitation: String,
    /// A token of the actor's user (revoke).
    token: String,
    /// A member of `org` (role change, removal).
    member: String,
    /// A chunked upload's uuid.
    upload: String,
}

async fn token(app: &TestApp, user: &str, scopes: Vec<Scope>) -> String {
    let (_, plain) = rudata::ops::tokens::issue_scoped_api_token(
        &app.state,
        &rudata::domain::activity::Actor::none(),
        user,
        None,
        scopes,
        None,
    )
    .await
    .unwrap();
    plain.expose().to_string()
}

async fn created(r: TestResponse) -> String {
    assert!(r.status.is_success(), "{} {}", r.status, r.text());
    id_of(&r.json())
}

impl Catalog {
    async fn new(app: &TestApp) -> Catalog {
        let admin_id = id_of(&app.get("/api/1/me/", Some(&app.admin_key)).await.json());
        let org_admin = app.user("org-admin@example.org").await;
        let editor = app.user("editor@example.org").await;
        let partial_assigned = app.user("partial-a@example.org").await;
        let partial_not_assigned = app.user("partial-n@example.org").await;
        let owner = app.user("owner@example.org").await;
        let stranger = app.user("stranger@example.org").await;
        let bystander = app.user("bystander@example.org").await;
        let org = app.organization(&org_admin.key, "Matrix").await;
        app.add_member(&org, &editor, "editor").await;
        app.add_member(&org, &partial_assigned, "partial_editor")
            .await;
        app.add_member(&org, &partial_not_assigned, "partial_editor")
            .await;
        app.add_member(&org, &bystander, "editor").await;
        let host = app.user("host@example.org").await;
        let other_org = app.organization(&host.key, "Elsewhere").await;
        let mut catalog = Catalog {
            admin_id,
            org_admin,
            editor,
            partial_assigned,
            partial_not_assigned,
            owner,
            stranger,
            bystander,
            host,
            org,
            other_org,
            org_dataset: String::new(),
            org_resource: String::new(),
            own_dataset: String::new(),
            own_resource: String::new(),
            read_token: String::new(),
            out_of_scope_token: String::new(),
            revoked_token: String::new(),
            expired_token: String::new(),
        };
        catalog.org_dataset = catalog.fresh_dataset(app, On::Org).await;
        catalog.org_resource = catalog.fresh_resource(app, &catalog.org_dataset).await;
        catalog.own_dataset = catalog.fresh_dataset(app, On::Own).await;
        catalog.own_resource = catalog.fresh_resource(app, &catalog.own_dataset).await;
        let other = catalog.fresh_dataset(app, On::Org).await;
        let admin = catalog.org_admin.id.clone();
        catalog.read_token = token(app, &admin, vec![Scope::Read]).await;
        catalog.out_of_scope_token = token(app, &admin, vec![Scope::Dataset(other)]).await;
        catalog.revoked_token = token(app, &admin, vec![Scope::Admin]).await;
        let (revoked, _) = app
            .state
            .store
            .list_api_tokens(&admin)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.token_prefix))
            .find(|(_, prefix)| catalog.revoked_token.starts_with(prefix.as_str()))
            .unwrap();
        rudata::ops::tokens::revoke_api_token(
            &app.state,
            &rudata::domain::activity::Actor::none(),
            &admin,
            &revoked,
        )
        .await
        .unwrap();
        let past = chrono::Utc::now() - chrono::Duration::minutes(1);
        let (_, expired) = rudata::ops::tokens::issue_api_token(
            &app.state,
            &rudata::domain::activity::Actor::none(),
            &admin,
            None,
            Some(past),
        )
        .await
        .unwrap();
        catalog.expired_token = expired.expose().to_string();
        catalog
    }

    /// A public dataset: in the organization (made by the assigned partial editor, so assigned to
    /// them), or the owner's.
    async fn fresh_dataset(&self, app: &TestApp, on: On) -> String {
        let (key, org) = match on {
            On::Org => (&self.partial_assigned.key, json!(self.org)),
            On::Own => (&self.owner.key, Value::Null),
        };
        let body = json!({"title": "Matrix", "description": "d", "organization": org});
        created(app.post("/api/1/datasets/", key, body).await).await
    }

    async fn fresh_resource(&self, app: &TestApp, dataset: &str) -> String {
        id_of(&app.remote(dataset, &app.admin_key, "Resource").await)
    }

    /// The user an actor acts as (the organization's admin for tokens and for nobody).
    fn user_of(&self, actor: Actor) -> &str {
        match actor {
            Actor::Stranger => &self.stranger.id,
            Actor::PartialNotAssigned => &self.partial_not_assigned.id,
            Actor::PartialAssigned => &self.partial_assigned.id,
            Actor::Editor => &self.editor.id,
            Actor::Owner => &self.owner.id,
            Actor::Sysadmin => &self.admin_id,
            _ => &self.org_admin.id,
        }
    }

    /// The cell's targets: the shared ones, or fresh ones when the endpoint destroys its target.
    async fn prepare(&self, app: &TestApp, endpoint: Endpoint, actor: Actor) -> Targets {
        use Endpoint::*;
        let mut t = Targets {
            org: self.org.clone(),
            dataset: self.org_dataset.clone(),
            resource: self.org_resource.clone(),
            invitation: String::new(),
            token: String::new(),
            member: self.bystander.id.clone(),
            upload: String::new(),
        };
        let on = match endpoint {
            UpdateDataset(on)
            | DeleteDataset(on)
            | RestoreDataset(on)
            | CreateResource(on)
            | UploadResource(on)
            | ChunkedUploadPart(on)
            | UpdateResource(on)
            | ReplaceFile(on)
            | DeleteResource(on)
            | ReorderResources(on)
            | DatasetExtras(on)
            | ResourceExtras(on) => Some(on),
            _ => None,
        };
        if on == Some(On::Own) {
            t.dataset = self.own_dataset.clone();
            t.resource = self.own_resource.clone();
        }
        let user = self.user_of(actor).to_string();
        match endpoint {
            DeleteDataset(on) => t.dataset = self.fresh_dataset(app, on).await,
            RestoreDataset(on) => {
                t.dataset = self.fresh_dataset(app, on).await;
                let r = app
                    .delete(&format!("/api/1/datasets/{}/", t.dataset), &app.admin_key)
                    .await;
                assert_eq!(r.status, StatusCode::NO_CONTENT);
            }
            DeleteResource(_) => t.resource = self.fresh_resource(app, &t.dataset).await,
            // A dataset of one resource: the whole order is that one id.
            ReorderResources(on) => {
                t.dataset = self.fresh_dataset(app, on).await;
                t.resource = self.fresh_resource(app, &t.dataset).await;
            }
            ChunkedUploadPart(_) => t.upload = rudata::domain::ids::new_object_id(),
            DeleteOrganization => {
                t.org = app.organization(&self.org_admin.key, "Doomed").await;
                app.add_member(&t.org, &self.editor, "editor").await;
                app.add_member(&t.org, &self.partial_assigned, "partial_editor")
                    .await;
                app.add_member(&t.org, &self.partial_not_assigned, "partial_editor")
                    .await;
            }
            CancelInvitation => {
                let body = json!({"email": "invited@example.org", "role": "editor"});
                let path = format!("/api/1/organizations/{}/member/", self.org);
                t.invitation = created(app.post(&path, &app.admin_key, body).await).await;
            }
            UpdateMember | RemoveMember => {
                app.add_member(&self.org, &self.bystander, "editor").await
            }
            RevokeToken => {
                let (token, _) = rudata::ops::tokens::issue_api_token(
                    &app.state,
                    &rudata::domain::activity::Actor::none(),
                    &user,
                    None,
                    None,
                )
                .await
                .unwrap();
                t.token = token.id;
            }
            AcceptInvitation | RefuseInvitation => {
                // An earlier cell may have made the actor a member.
                let _ = rudata::ops::organizations::remove_member(
                    &app.state,
                    &rudata::domain::activity::Actor::none(),
                    &self.other_org,
                    &user,
                )
                .await;
                let body = json!({"user": user, "role": "editor"});
                let path = format!("/api/1/organizations/{}/member/", self.other_org);
                t.invitation = created(app.post(&path, &self.host.key, body).await).await;
            }
            _ => {}
        }
        t
    }

    /// The actor's key for this cell (scoped tokens are made for the cell's targets).
    async fn key(&self, app: &TestApp, actor: Actor, t: &Targets) -> Option<String> {
        let admin = &self.org_admin.id;
        Some(match actor {
            Actor::Anonymous => return None,
            Actor::Stranger => self.stranger.key.clone(),
            Actor::PartialNotAssigned => self.partial_not_assigned.key.clone(),
            Actor::PartialAssigned => self.partial_assigned.key.clone(),
            Actor::Editor => self.editor.key.clone(),
            Actor::OrgAdmin => self.org_admin.key.clone(),
            Actor::Owner => self.owner.key.clone(),
            Actor::Sysadmin => app.admin_key.clone(),
            Actor::ReadToken => self.read_token.clone(),
            Actor::OutOfScopeToken => self.out_of_scope_token.clone(),
            Actor::DatasetToken => token(app, admin, vec![Scope::Dataset(t.dataset.clone())]).await,
            Actor::OrgToken => token(app, admin, vec![Scope::Organization(t.org.clone())]).await,
            Actor::Revoked => self.revoked_token.clone(),
            Actor::Expired => self.expired_token.clone(),
        })
    }

    /// Everything a refused write could have changed, read by the sysadmin.
    async fn snapshot(&self, app: &TestApp, t: &Targets, actor: Actor) -> Vec<String> {
        let user = self.user_of(actor);
        let mut paths = vec![
            format!("/api/1/datasets/{}/", t.dataset),
            format!("/api/1/datasets/{}/", self.org_dataset),
            format!("/api/1/datasets/{}/", self.own_dataset),
            format!("/api/2/datasets/{}/extras/", t.dataset),
            format!(
                "/api/2/datasets/{}/resources/{}/extras/",
                t.dataset, t.resource
            ),
            format!("/api/1/organizations/{}/", t.org),
            format!("/api/2/organizations/{}/extras/", t.org),
            format!("/api/1/organizations/{}/membership/", t.org),
            format!("/api/1/organizations/{}/membership/", self.other_org),
            format!("/api/1/users/{user}/"),
        ];
        paths.sort();
        paths.dedup();
        let mut shot = Vec::new();
        for path in paths {
            let r = app.get(&path, Some(&app.admin_key)).await;
            shot.push(format!("{path} {} {}", r.status, r.text()));
        }
        // Lists: their totals say whether anything was created or removed.
        for path in [
            format!("/api/1/organizations/{}/datasets/?page_size=1", t.org),
            "/api/1/organizations/?page_size=1".to_string(),
            "/api/1/datasets/?page_size=1".to_string(),
        ] {
            let r = app.get(&path, Some(&app.admin_key)).await;
            shot.push(format!("{path} {} {}", r.status, r.json()["total"]));
        }
        let tokens = app.state.store.list_api_tokens(user).await.unwrap();
        shot.push(format!(
            "tokens {:?}",
            tokens.iter().map(|t| &t.id).collect::<Vec<_>>()
        ));
        shot
    }
}

async fn send(app: &TestApp, endpoint: Endpoint, t: &Targets, key: Option<&str>) -> TestResponse {
    use Endpoint::*;
    let ds = format!("/api/1/datasets/{}", t.dataset);
    let res = format!("{ds}/resources/{}", t.resource);
    let org = format!("/api/1/organizations/{}", t.org);
    let json_request = |method: Method, path: String, body: Value| async move {
        app.request(method, &path, key, Some(&body)).await
    };
    let file = |name| Part::File {
        name,
        filename: "data.csv",
        bytes: b"a,b\n1,2\n",
    };
    match endpoint {
        CreateDatasetInOrg => {
            let body = json!({"title": "New", "description": "d", "organization": t.org});
            json_request(Method::POST, "/api/1/datasets/".into(), body).await
        }
        CreatePersonalDataset => {
            let body = json!({"title": "New", "description": "d"});
            json_request(Method::POST, "/api/1/datasets/".into(), body).await
        }
        UpdateDataset(_) => json_request(Method::PUT, ds, json!({"description": "changed"})).await,
        DeleteDataset(_) => app.request(Method::DELETE, &ds, key, None).await,
        RestoreDataset(_) => json_request(Method::PUT, ds, json!({"deleted": null})).await,
        CreateResource(_) => {
            let body =
                json!({"title": "new", "filetype": "remote", "url": "https://example.com/x.csv"});
            json_request(Method::POST, format!("{ds}/resources/"), body).await
        }
        UploadResource(_) => {
            app.multipart(&format!("{ds}/upload/"), key, &[file("file")])
                .await
        }
        ChunkedUploadPart(_) => {
            let fields = [
                ("uuid", t.upload.as_str()),
                ("filename", "data.csv"),
                ("partindex", "0"),
                ("totalparts", "2"),
                ("chunksize", "8"),
            ];
            let mut parts: Vec<Part> = fields
                .iter()
                .map(|(name, value)| Part::Field {
                    name,
                    value: value.to_string(),
                })
                .collect();
            parts.push(file("file"));
            app.multipart(&format!("{ds}/upload/"), key, &parts).await
        }
        UpdateResource(_) => json_request(Method::PUT, res, json!({"title": "changed"})).await,
        ReplaceFile(_) => {
            app.multipart(&format!("{res}/upload/"), key, &[file("file")])
                .await
        }
        DeleteResource(_) => app.request(Method::DELETE, &res, key, None).await,
        ReorderResources(_) => {
            json_request(Method::PUT, format!("{ds}/resources/"), json!([t.resource])).await
        }
        DatasetExtras(_) => {
            let path = format!("/api/2/datasets/{}/extras/", t.dataset);
            json_request(Method::PUT, path, json!({"matrix": "changed"})).await
        }
        ResourceExtras(_) => {
            let path = format!(
                "/api/2/datasets/{}/resources/{}/extras/",
                t.dataset, t.resource
            );
            json_request(Method::PUT, path, json!({"matrix": "changed"})).await
        }
        CreateOrganization => {
            let body = json!({"name": "New organization", "description": "d"});
            json_request(Method::POST, "/api/1/organizations/".into(), body).await
        }
        UpdateOrganization => {
            json_request(Method::PUT, org, json!({"description": "changed"})).await
        }
        DeleteOrganization => app.request(Method::DELETE, &org, key, None).await,
        OrganizationExtras => {
            let path = format!("/api/2/organizations/{}/extras/", t.org);
            json_request(Method::PUT, path, json!({"matrix": "changed"})).await
        }
        InviteMember => {
            let body = json!({"email": "new-member@example.org", "role": "editor"});
            json_request(Method::POST, format!("{org}/member/"), body).await
        }
        CancelInvitation => {
            let path = format!("{org}/membership/{}/cancel/", t.invitation);
            json_request(Method::POST, path, json!({})).await
        }
        UpdateMember => {
            let path = format!("{org}/member/{}/", t.member);
            json_request(Method::PUT, path, json!({"role": "admin"})).await
        }
        RemoveMember => {
            let path = format!("{org}/member/{}/", t.member);
            app.request(Method::DELETE, &path, key, None).await
        }
        UpdateMe => {
            json_request(
                Method::PUT,
                "/api/1/me/".into(),
                json!({"about": "changed"}),
            )
            .await
        }
        CreateToken => json_request(Method::POST, "/api/1/me/api_tokens/".into(), json!({})).await,
        RevokeToken => {
            let path = format!("/api/1/me/api_tokens/{}/", t.token);
            app.request(Method::DELETE, &path, key, None).await
        }
        AcceptInvitation | RefuseInvitation => {
            let verb = if endpoint == AcceptInvitation {
                "accept"
            } else {
                "refuse"
            };
            let path = format!("/api/1/me/org_invitations/{}/{verb}/", t.invitation);
            json_request(Method::POST, path, json!({})).await
        }
    }
}

#[tokio::test]
async fn every_write_endpoint_answers_every_actor_as_the_rules_say() {
    let app = TestApp::new().await;
    let catalog = Catalog::new(&app).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for endpoint in Endpoint::all() {
        for actor in ACTORS {
            let targets = catalog.prepare(&app, endpoint, actor).await;
            let key = catalog.key(&app, actor, &targets).await;
            let class = endpoint.class();
            let expected = if allowed(actor, class) {
                endpoint.success()
            } else {
                refusal(actor, class)
            };
            let before = if expected.is_success() {
                None
            } else {
                Some(catalog.snapshot(&app, &targets, actor).await)
            };
            let r = send(&app, endpoint, &targets, key.as_deref()).await;
            cells += 1;
            if r.status != expected {
                failures.push(format!(
                    "{endpoint:?} by {actor:?}: {} (expected {expected}) {}",
                    r.status,
                    r.text()
                ));
                continue;
            }
            if !r.status.is_success() {
                assert!(
                    r.json()["message"].is_string() || r.json()["errors"].is_object(),
                    "{endpoint:?} by {actor:?}: {}",
                    r.text()
                );
            }
            if let Some(before) = before {
                let after = catalog.snapshot(&app, &targets, actor).await;
                if before != after {
                    let changed: Vec<_> = before
                        .iter()
                        .zip(&after)
                        .filter(|(b, a)| b != a)
                        .map(|(b, a)| format!("\n  before {b}\n  after  {a}"))
                        .collect();
                    failures.push(format!(
                        "{endpoint:?} by {actor:?} was refused but changed:{}",
                        changed.concat()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
