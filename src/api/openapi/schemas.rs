//! The JSON shapes of the API, as the document describes them. These types are never built: they
//! only carry the schema. `openapi::finish` makes every field of the answers optional, because an
//! `X-Fields` mask can drop any of them; the types of the fields present are what the document
//! promises.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `{"message": ...}`: udata's error shape.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Message {
    pub message: String,
}

/// udata's validation errors: `{"errors": {field: [messages] | message}}`, with a `message` for
/// query strings (`"Input payload validation failed"`) and membership endpoints.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ValidationErrors {
    pub errors: HashMap<String, Value>,
    /// Absent from form validation errors.
    pub message: Option<String>,
}

/// The status of an upload that failed: `{"success": false, "error": ...}`.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadError {
    pub success: bool,
    pub error: String,
}

/// A user as datasets and organizations reference them.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UserRef {
    pub class: String,
    pub id: String,
    pub slug: String,
    pub first_name: String,
    pub last_name: String,
    pub avatar: Option<String>,
    pub avatar_thumbnail: Option<String>,
    pub deleted: Option<String>,
    pub uri: String,
    pub page: Option<String>,
}

/// A public profile; `/me/` adds `email`, `roles`, `organizations`...
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct User {
    pub id: String,
    pub slug: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub website: Option<String>,
    pub about: Option<String>,
    pub since: String,
    pub organizations: Vec<OrganizationRef>,
    pub metrics: HashMap<String, Value>,
    pub uri: String,
}

/// What `PUT /me/` changes (`roles` and `active` are ignored).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UserInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub website: Option<String>,
    pub about: Option<String>,
}

/// An organization's permissions for the caller.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrganizationPermissions {
    pub delete: bool,
    pub edit: bool,
    pub harvest: bool,
    pub members: bool,
    pub private: bool,
}

/// An organization as datasets and `/me/` reference it.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrganizationRef {
    pub class: String,
    pub id: String,
    pub name: String,
    pub acronym: Option<String>,
    pub slug: String,
    pub logo: Option<String>,
    pub logo_thumbnail: Option<String>,
    pub badges: Vec<Value>,
    pub permissions: OrganizationPermissions,
    pub uri: String,
    pub page: Option<String>,
}

/// A member of an organization (the e-mail masked unless a sysadmin asks).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Member {
    pub user: UserRef,
    pub role: String,
    pub label: String,
    pub since: String,
}

/// An organization.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub acronym: Option<String>,
    pub slug: String,
    pub description: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub logo: Option<String>,
    pub logo_thumbnail: Option<String>,
    pub business_number_id: Option<String>,
    pub members: Vec<Member>,
    pub teams: Vec<Value>,
    pub extras: HashMap<String, Value>,
    pub badges: Vec<Value>,
    pub permissions: OrganizationPermissions,
    pub metrics: HashMap<String, i64>,
    pub created_at: String,
    pub last_modified: String,
    pub deleted: Option<String>,
    pub uri: String,
}

/// What creates or changes an organization.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrganizationInput {
    pub name: String,
    pub acronym: Option<String>,
    pub description: String,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub business_number_id: Option<String>,
    pub extras: HashMap<String, Value>,
}

/// A file's checksum.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Checksum {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// `internal` of datasets and resources.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Internal {
    pub created_at_internal: String,
    pub last_modified_internal: String,
}

/// A resource: a remote URL or a stored file (`filetype`: `remote` or `file`).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Resource {
    pub checksum: Option<Checksum>,
    pub created_at: String,
    pub description: Option<String>,
    pub extras: HashMap<String, Value>,
    pub filesize: Option<i64>,
    pub filetype: String,
    pub format: Option<String>,
    pub id: String,
    pub internal: Internal,
    pub last_modified: String,
    /// The permalink, which redirects to the current file.
    pub latest: String,
    pub metrics: HashMap<String, Value>,
    pub mime: Option<String>,
    pub schema: Option<Value>,
    /// Only on upload answers.
    pub success: bool,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// What creates or changes a resource (a remote one: `filetype` `remote`, with its `url`).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ResourceInput {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub filetype: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: Option<String>,
    pub mime: Option<String>,
    pub filesize: Option<i64>,
    pub checksum: Option<Checksum>,
    pub schema: Option<Value>,
    pub extras: HashMap<String, Value>,
}

/// One entry of a resource reorder: a resource id, or `{"id": ...}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ResourceOrderEntry {
    Id(String),
    Object { id: String },
}

/// A dataset's temporal coverage.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TemporalCoverage {
    pub start: String,
    pub end: Option<String>,
}

/// A dataset's permissions for the caller.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DatasetPermissions {
    pub delete: bool,
    pub edit: bool,
    pub edit_resources: bool,
}

/// A dataset (API v1): its metadata and every resource.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Dataset {
    pub access_audiences: Vec<Value>,
    pub access_type: String,
    pub access_type_reason: Option<String>,
    pub access_type_reason_category: Option<String>,
    pub acronym: Option<String>,
    pub archived: Option<String>,
    pub authorization_request_url: Option<String>,
    pub badges: Vec<Value>,
    pub contact_points: Vec<Value>,
    pub created_at: String,
    pub deleted: Option<String>,
    pub description: String,
    pub description_short: Option<String>,
    pub extras: HashMap<String, Value>,
    pub featured: bool,
    pub frequency: String,
    pub frequency_date: Option<String>,
    pub id: String,
    pub internal: Internal,
    pub last_modified: String,
    pub last_update: String,
    pub license: String,
    pub metrics: HashMap<String, i64>,
    pub organization: Option<OrganizationRef>,
    pub owner: Option<UserRef>,
    pub permissions: DatasetPermissions,
    pub private: bool,
    pub quality: HashMap<String, Value>,
    pub resources: Vec<Resource>,
    pub slug: String,
    pub spatial: Option<Value>,
    pub tags: Vec<String>,
    pub temporal_coverage: Option<TemporalCoverage>,
    pub title: String,
    pub uri: String,
}

/// What creates or changes a dataset (`PUT` changes the fields given; `resources`, when given,
/// replaces the list).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DatasetInput {
    pub title: String,
    pub acronym: Option<String>,
    pub description: String,
    pub description_short: Option<String>,
    pub private: bool,
    pub tags: Vec<String>,
    pub license: String,
    pub frequency: String,
    pub frequency_date: Option<String>,
    /// An organization id, or `{"id": ...}`.
    pub organization: Option<Value>,
    pub temporal_coverage: Option<TemporalCoverage>,
    pub spatial: Option<Value>,
    pub extras: HashMap<String, Value>,
    pub resources: Vec<ResourceInput>,
    /// `PUT` on a deleted dataset with `deleted: null` restores it.
    pub deleted: Option<String>,
    pub archived: Option<String>,
}

/// `{rel, href, type, total}`: where API v2 lists what a dataset holds, and how many.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Link {
    pub rel: String,
    pub href: String,
    #[serde(rename = "type")]
    pub method: String,
    pub total: i64,
}

/// A dataset (API v2): v1's fields but `schema`, with `resources` as a link to their paginated list.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DatasetV2 {
    pub id: String,
    pub title: String,
    pub acronym: Option<String>,
    pub slug: String,
    pub description: String,
    pub description_short: Option<String>,
    pub created_at: String,
    pub last_modified: String,
    pub deleted: Option<String>,
    pub private: bool,
    pub tags: Vec<String>,
    pub badges: Vec<Value>,
    pub resources: Link,
    pub community_resources: Link,
    pub frequency: String,
    pub frequency_date: Option<String>,
    pub extras: HashMap<String, Value>,
    pub metrics: HashMap<String, i64>,
    pub organization: Option<OrganizationRef>,
    pub owner: Option<UserRef>,
    pub temporal_coverage: Option<TemporalCoverage>,
    pub spatial: Option<Value>,
    pub license: String,
    pub access_type: String,
    pub uri: String,
    pub last_update: String,
    pub archived: Option<String>,
    pub quality: HashMap<String, Value>,
    pub internal: Internal,
    pub featured: bool,
    pub permissions: DatasetPermissions,
}

/// A resource in API v2, with the dataset it belongs to.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ResourceV2 {
    pub resource: Resource,
    pub dataset_id: Option<String>,
}

macro_rules! page {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            pub data: Vec<$item>,
            pub next_page: Option<String>,
            pub page: i64,
            pub page_size: i64,
            pub previous_page: Option<String>,
            pub total: i64,
        }
    };
}

page!(DatasetPage, Dataset, "A page of datasets.");
page!(OrganizationPage, Organization, "A page of organizations.");
page!(ActivityPage, Activity, "A page of the activity log.");

/// An entry of the activity log (udata's shape; `api_token` is rudata's).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Activity {
    pub id: String,
    /// `dataset:created`, `dataset:resource:updated`, `organization:member:added`...
    pub key: String,
    pub label: String,
    pub icon: String,
    /// Who wrote (none: a job, or the CLI without `--actor`).
    pub actor: Option<UserRef>,
    /// The API token the actor wrote with (shown to the actor and sysadmins only).
    pub api_token: Option<String>,
    /// The organization of the object, when recorded.
    pub organization: Option<OrganizationRef>,
    pub created_at: String,
    /// The object's name.
    pub related_to: String,
    pub related_to_id: String,
    /// `Dataset`, `Organization` or `User`.
    pub related_to_kind: String,
    pub related_to_url: String,
    /// The fields the write changed.
    pub changes: Vec<String>,
    /// What else identifies the change (`resource_id`, `resource_title`, `user_id`, `role`...).
    pub extras: HashMap<String, Value>,
}
page!(
    ResourcePage,
    Resource,
    "A page of a dataset's resources (API v2)."
);

/// A page of search results (API v2), with the facets asked for.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DatasetSearchPage {
    pub data: Vec<DatasetV2>,
    pub next_page: Option<String>,
    pub page: i64,
    pub page_size: i64,
    pub previous_page: Option<String>,
    pub total: i64,
    /// Facet name → `[[value, count], ...]`.
    pub facets: HashMap<String, Value>,
}

/// A page of organizations found (API v2).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OrganizationSearchPage {
    pub data: Vec<Value>,
    pub next_page: Option<String>,
    pub page: i64,
    pub page_size: i64,
    pub previous_page: Option<String>,
    pub total: i64,
    pub facets: HashMap<String, Value>,
}

/// An API token. The token itself (`token`) is in the creation's answer only; afterwards only its
/// prefix is shown.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ApiToken {
    pub id: String,
    pub name: Option<String>,
    pub token_prefix: String,
    /// `admin` (everything the user may do), `read` (reads only), `organization:<id>` or
    /// `dataset:<id>` (writes only there).
    #[schema(inline)]
    pub scopes: Vec<TokenScope>,
    pub kind: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub user_agents: Vec<String>,
    pub revoked_at: Option<String>,
    pub expires_at: Option<String>,
    /// The plain token: in the creation's answer only.
    pub token: String,
}

/// A token's scope: `admin`, `read`, `organization:<id>` or `dataset:<id>`.
#[derive(Deserialize, ToSchema)]
#[schema(pattern = "^(admin|read|organization:[^\\s]+|dataset:[^\\s]+)$")]
#[allow(dead_code)]
pub struct TokenScope(String);

/// What creates an API token.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ApiTokenInput {
    pub name: Option<String>,
    /// Default `["admin"]`.
    pub scopes: Vec<TokenScope>,
    /// A future date-time (ISO 8601); none: the token does not expire.
    pub expires_at: Option<String>,
}

/// An invitation to join an organization.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Invitation {
    pub id: String,
    pub role: String,
    pub status: String,
    pub created: String,
    pub comment: Option<String>,
    pub organization: Value,
    pub user: Option<Value>,
    pub email: Option<String>,
}

/// An invitation request: a user (`user`: id) or an e-mail address, with a role.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct InvitationInput {
    pub user: Option<String>,
    pub email: Option<String>,
    /// `admin`, `editor` or `partial_editor`.
    pub role: String,
    pub comment: Option<String>,
}

/// A member's new role.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MemberInput {
    /// `admin`, `editor` or `partial_editor`.
    pub role: String,
}

/// An entry of a reference list (licenses, frequencies, resource types, roles).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// A suggestion (datasets, organizations, users, tags, formats, MIME types).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Suggestion {
    pub id: Option<String>,
    pub text: Option<String>,
    pub slug: Option<String>,
    pub title: Option<String>,
    pub name: Option<String>,
}

/// The parts of a chunked upload received so far.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadStatus {
    pub uuid: String,
    pub parts: Vec<UploadPart>,
    pub received_bytes: i64,
}

/// A part of a chunked upload.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadPart {
    pub index: i64,
    pub size: i64,
    pub sha1: String,
}

/// An upload's multipart form: a single file (`file`), or one part of udata's chunked protocol
/// (`file` with `uuid`, `partindex`, `partbyteoffset`, `totalparts`, `chunksize`), or the final
/// request of a chunked upload (the same fields without `file`).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(format = Binary, value_type = String)]
    pub file: Option<Vec<u8>>,
    pub filename: Option<String>,
    pub uuid: Option<String>,
    pub partindex: Option<i64>,
    pub partbyteoffset: Option<i64>,
    pub totalparts: Option<i64>,
    pub chunksize: Option<i64>,
    pub totalfilesize: Option<i64>,
}

/// A health check's answer.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct Health {
    pub status: String,
}
