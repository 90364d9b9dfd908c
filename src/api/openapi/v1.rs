//! The operations of API v1, the files and the health checks, one per route of `app::router`
//! (`tests/api/openapi.rs` fails when a route is missing here). Each function only carries its
//! operation; the error answers every operation shares are added by `openapi::finish`.

#![allow(dead_code)]

use super::params::*;
use super::schemas::*;

#[utoipa::path(get, path = "/api/1/datasets/", tag = "datasets", params(DatasetListQuery),
    responses((status = 200, description = "A page of datasets", body = DatasetPage)))]
pub fn list_datasets() {}

#[utoipa::path(post, path = "/api/1/datasets/", tag = "datasets",
    request_body = DatasetInput, security(("apikey" = [])),
    responses((status = 201, description = "The dataset created", body = Dataset)))]
pub fn create_dataset() {}

#[utoipa::path(get, path = "/api/1/datasets/licenses/", tag = "datasets",
    responses((status = 200, description = "The licenses", body = Vec<Object>)))]
pub fn list_licenses() {}

#[utoipa::path(get, path = "/api/1/datasets/frequencies/", tag = "datasets",
    responses((status = 200, description = "The update frequencies", body = Vec<Choice>)))]
pub fn list_frequencies() {}

#[utoipa::path(get, path = "/api/1/datasets/resource_types/", tag = "datasets",
    responses((status = 200, description = "The resource types", body = Vec<Choice>)))]
pub fn list_resource_types() {}

#[utoipa::path(get, path = "/api/1/datasets/extensions/", tag = "datasets",
    responses((status = 200, description = "The file extensions accepted in uploads", body = Vec<String>)))]
pub fn list_extensions() {}

#[utoipa::path(get, path = "/api/1/datasets/suggest/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Datasets whose title starts with or holds `q`", body = Vec<Suggestion>)))]
pub fn suggest_datasets() {}

#[utoipa::path(get, path = "/api/1/datasets/suggest/formats/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Known formats", body = Vec<Suggestion>)))]
pub fn suggest_formats() {}

#[utoipa::path(get, path = "/api/1/datasets/suggest/mime/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Known MIME types", body = Vec<Suggestion>)))]
pub fn suggest_mimes() {}

#[utoipa::path(get, path = "/api/1/tags/suggest/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Tags in use", body = Vec<Suggestion>)))]
pub fn suggest_tags() {}

#[utoipa::path(get, path = "/api/1/organizations/suggest/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Organizations", body = Vec<Suggestion>)))]
pub fn suggest_organizations() {}

#[utoipa::path(get, path = "/api/1/users/suggest/", tag = "suggest", params(SuggestQuery),
    responses((status = 200, description = "Users", body = Vec<Suggestion>)))]
pub fn suggest_users() {}

#[utoipa::path(get, path = "/api/1/site/datasets.csv", tag = "exports",
    responses((status = 200, description = "Every public dataset, one line each (`;`-separated)", content_type = "text/csv", body = String)))]
pub fn export_datasets() {}

#[utoipa::path(get, path = "/api/1/site/resources.csv", tag = "exports",
    responses((status = 200, description = "Every resource of the public datasets", content_type = "text/csv", body = String)))]
pub fn export_resources() {}

#[utoipa::path(get, path = "/api/1/site/organizations.csv", tag = "exports",
    responses((status = 200, description = "Every organization", content_type = "text/csv", body = String)))]
pub fn export_organizations() {}

#[utoipa::path(get, path = "/api/1/site/catalog", tag = "dcat",
    params(("page" = Option<i64>, Query, description = "Kept in the redirect"),
        ("page_size" = Option<i64>, Query, description = "Kept in the redirect")),
    responses((status = 302, description = "To `catalog.{fmt}`, the format chosen from `Accept` (JSON-LD by default)",
        headers(("Location" = String, description = "The catalog in the chosen format")))))]
pub fn redirect_site_catalog() {}

#[utoipa::path(get, path = "/api/1/site/catalog.{fmt}", tag = "dcat",
    params(("fmt" = String, Path, description = "`json` or `jsonld` (JSON-LD), `ttl` (Turtle), `rdf`, `xml` or `owl` (RDF/XML), `nt` (N-Triples), `n3`, `trig`"),
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "Datasets per page (default 100, at most 1000)")),
    responses((status = 200, description = "A page of the DCAT-AP 3.0 catalog of the public datasets, with Hydra paging",
        content(("application/ld+json"), ("text/turtle"), ("application/rdf+xml"), ("application/n-triples"), ("text/n3"), ("application/trig")))))]
pub fn get_site_catalog() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/rdf", tag = "dcat",
    params(("id" = String, Path, description = "A dataset id or slug")),
    responses((status = 302, description = "To `rdf.{fmt}`, the format chosen from `Accept` (JSON-LD by default)",
        headers(("Location" = String, description = "The dataset in the chosen format")))))]
pub fn redirect_dataset_rdf() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/rdf.{fmt}", tag = "dcat",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("fmt" = String, Path, description = "`json`, `jsonld`, `ttl`, `rdf`, `xml`, `owl`, `nt`, `n3` or `trig`")),
    responses((status = 200, description = "The dataset and its resources in DCAT-AP 3.0",
        content(("application/ld+json"), ("text/turtle"), ("application/rdf+xml"), ("application/n-triples"), ("text/n3"), ("application/trig")))))]
pub fn get_dataset_rdf() {}

#[utoipa::path(get, path = "/api/1/organizations/{org}/catalog", tag = "dcat",
    params(("org" = String, Path, description = "An organization id or slug")),
    responses((status = 302, description = "To `catalog.{fmt}`, the format chosen from `Accept` (JSON-LD by default)",
        headers(("Location" = String, description = "The catalog in the chosen format")))))]
pub fn redirect_organization_catalog() {}

#[utoipa::path(get, path = "/api/1/organizations/{org}/catalog.{fmt}", tag = "dcat",
    params(("org" = String, Path, description = "An organization id or slug"),
        ("fmt" = String, Path, description = "`json`, `jsonld`, `ttl`, `rdf`, `xml`, `owl`, `nt`, `n3` or `trig`"),
        ("page" = Option<i64>, Query, description = "Page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "Datasets per page (default 100, at most 1000)")),
    responses((status = 200, description = "A page of the organization's public datasets in DCAT-AP 3.0, with Hydra paging",
        content(("application/ld+json"), ("text/turtle"), ("application/rdf+xml"), ("application/n-triples"), ("text/n3"), ("application/trig")))))]
pub fn get_organization_catalog() {}

#[utoipa::path(get, path = "/api/1/datasets/r/{rid}", tag = "resources",
    params(("rid" = String, Path, description = "A resource id")),
    responses((status = 302, description = "To the resource's current URL",
        headers(("Location" = String, description = "The current URL")))))]
pub fn redirect_latest() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/", tag = "datasets",
    params(("id" = String, Path, description = "A dataset id or slug")),
    responses((status = 200, description = "The dataset", body = Dataset)))]
pub fn get_dataset() {}

#[utoipa::path(put, path = "/api/1/datasets/{id}/", tag = "datasets",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body = DatasetInput, security(("apikey" = [])),
    responses((status = 200, description = "The dataset changed", body = Dataset)))]
pub fn update_dataset() {}

#[utoipa::path(delete, path = "/api/1/datasets/{id}/", tag = "datasets",
    params(("id" = String, Path, description = "A dataset id or slug")),
    security(("apikey" = [])),
    responses((status = 204, description = "Deleted (restorable until the next purge)")))]
pub fn delete_dataset() {}

#[utoipa::path(post, path = "/api/1/datasets/{id}/resources/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body = ResourceInput, security(("apikey" = [])),
    responses((status = 201, description = "The resource created (remote)", body = Resource)))]
pub fn create_resource() {}

#[utoipa::path(put, path = "/api/1/datasets/{id}/resources/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body(content = Vec<ResourceOrderEntry>, description = "Every resource id, in the new order"),
    security(("apikey" = [])),
    responses((status = 200, description = "The resources in their new order", body = Vec<Resource>)))]
pub fn reorder_resources() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/resources/{rid}/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    responses((status = 200, description = "The resource", body = Resource)))]
pub fn get_resource() {}

#[utoipa::path(put, path = "/api/1/datasets/{id}/resources/{rid}/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    request_body = ResourceInput, security(("apikey" = [])),
    responses((status = 200, description = "The resource changed", body = Resource)))]
pub fn update_resource() {}

#[utoipa::path(delete, path = "/api/1/datasets/{id}/resources/{rid}/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    security(("apikey" = [])),
    responses((status = 204, description = "Deleted")))]
pub fn delete_resource() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/resources/{rid}/versions/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    responses((status = 200, description = "Every file the resource has had, each still served at its URL", body = Vec<Object>)))]
pub fn list_resource_versions() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/resources/{rid}/checks/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    responses((status = 200, description = "The remote resource's last checks, newest first (rudata extension): `{checked, next_check, data: [{date, status, available, result, error}]}`", body = Object)))]
pub fn list_resource_checks() {}

#[utoipa::path(post, path = "/api/1/datasets/{id}/resources/{rid}/check/", tag = "resources",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    security(("apikey" = [])),
    responses((status = 202, description = "An immediate check of the remote resource is queued (rudata extension)", body = Object),
        (status = 400, description = "Not a remote HTTP(S) resource")))]
pub fn check_resource() {}

#[utoipa::path(post, path = "/api/1/datasets/{id}/upload/", tag = "uploads",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("apikey" = [])),
    responses((status = 201, description = "The resource made from the file", body = Resource),
        (status = 200, description = "A part of a chunked upload, received", body = Object)))]
pub fn upload_new_resource() {}

#[utoipa::path(post, path = "/api/1/datasets/{id}/resources/{rid}/upload/", tag = "uploads",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("apikey" = [])),
    responses((status = 200, description = "The resource with its new file, or a part received", body = Resource)))]
pub fn replace_resource_file() {}

#[utoipa::path(get, path = "/api/1/datasets/{id}/upload/{uuid}/", tag = "uploads",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("uuid" = String, Path, description = "The chunked upload's uuid")),
    security(("apikey" = [])),
    responses((status = 200, description = "The parts received so far (rudata extension)", body = UploadStatus)))]
pub fn get_upload() {}

#[utoipa::path(get, path = "/api/1/activity/", tag = "site", params(ActivityQuery),
    responses((status = 200, description = "A page of the activity log, newest first, with the \
        entries whose object the caller may see; `total` counts at most 10,000", body = ActivityPage)))]
pub fn list_activities() {}

#[utoipa::path(get, path = "/api/1/organizations/", tag = "organizations", params(PageQuery),
    responses((status = 200, description = "A page of organizations", body = OrganizationPage)))]
pub fn list_organizations() {}

#[utoipa::path(post, path = "/api/1/organizations/", tag = "organizations",
    request_body = OrganizationInput, security(("apikey" = [])),
    responses((status = 201, description = "The organization created; the caller administers it", body = Organization)))]
pub fn create_organization() {}

#[utoipa::path(get, path = "/api/1/organizations/roles/", tag = "organizations",
    responses((status = 200, description = "The members' roles", body = Vec<Choice>)))]
pub fn list_org_roles() {}

#[utoipa::path(get, path = "/api/1/organizations/{org}/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug")),
    responses((status = 200, description = "The organization", body = Organization)))]
pub fn get_organization() {}

#[utoipa::path(put, path = "/api/1/organizations/{org}/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug")),
    request_body = OrganizationInput, security(("apikey" = [])),
    responses((status = 200, description = "The organization changed", body = Organization)))]
pub fn update_organization() {}

#[utoipa::path(delete, path = "/api/1/organizations/{org}/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug")),
    security(("apikey" = [])),
    responses((status = 204, description = "Deleted")))]
pub fn delete_organization() {}

#[utoipa::path(get, path = "/api/1/organizations/{org}/datasets/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug"), SortedPageQuery),
    responses((status = 200, description = "A page of the organization's datasets", body = DatasetPage)))]
pub fn list_organization_datasets() {}

#[utoipa::path(post, path = "/api/1/organizations/{org}/member/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug")),
    request_body = InvitationInput, security(("apikey" = [])),
    responses((status = 201, description = "The invitation", body = Invitation)))]
pub fn invite_member() {}

#[utoipa::path(get, path = "/api/1/organizations/{org}/membership/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug"), InvitationQuery),
    security(("apikey" = [])),
    responses((status = 200, description = "The organization's invitations, newest first", body = Vec<Invitation>)))]
pub fn list_org_invitations() {}

#[utoipa::path(post, path = "/api/1/organizations/{org}/membership/{id}/cancel/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug"),
        ("id" = String, Path, description = "An invitation id")),
    security(("apikey" = [])),
    responses((status = 200, description = "Cancelled", body = Object)))]
pub fn cancel_invitation() {}

#[utoipa::path(put, path = "/api/1/organizations/{org}/member/{user}/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug"),
        ("user" = String, Path, description = "A user id or slug")),
    request_body = MemberInput, security(("apikey" = [])),
    responses((status = 200, description = "The member with the new role", body = Member)))]
pub fn update_member() {}

#[utoipa::path(delete, path = "/api/1/organizations/{org}/member/{user}/", tag = "organizations",
    params(("org" = String, Path, description = "An organization id or slug"),
        ("user" = String, Path, description = "A user id or slug")),
    security(("apikey" = [])),
    responses((status = 204, description = "Removed")))]
pub fn delete_member() {}

#[utoipa::path(get, path = "/api/1/me/", tag = "me", security(("apikey" = [])),
    responses((status = 200, description = "The caller's profile", body = User)))]
pub fn get_me() {}

#[utoipa::path(put, path = "/api/1/me/", tag = "me", request_body = UserInput,
    security(("apikey" = [])),
    responses((status = 200, description = "The caller's profile, changed", body = User)))]
pub fn update_me() {}

#[utoipa::path(get, path = "/api/1/me/api_tokens/", tag = "me", security(("apikey" = [])),
    responses((status = 200, description = "The caller's unrevoked tokens (prefixes only)", body = Vec<ApiToken>)))]
pub fn list_api_tokens() {}

#[utoipa::path(post, path = "/api/1/me/api_tokens/", tag = "me", request_body = ApiTokenInput,
    security(("apikey" = [])),
    responses((status = 201, description = "The token, with the plain `token` shown this once", body = ApiToken)))]
pub fn create_api_token() {}

#[utoipa::path(delete, path = "/api/1/me/api_tokens/{id}/", tag = "me",
    params(("id" = String, Path, description = "A token id")),
    security(("apikey" = [])),
    responses((status = 204, description = "Revoked")))]
pub fn revoke_api_token() {}

#[utoipa::path(get, path = "/api/1/me/org_invitations/", tag = "me", security(("apikey" = [])),
    responses((status = 200, description = "The caller's pending invitations", body = Vec<Invitation>)))]
pub fn list_my_invitations() {}

#[utoipa::path(post, path = "/api/1/me/org_invitations/{id}/accept/", tag = "me",
    params(("id" = String, Path, description = "An invitation id")),
    security(("apikey" = [])),
    responses((status = 200, description = "Accepted: the caller is a member", body = Message)))]
pub fn accept_invitation() {}

#[utoipa::path(post, path = "/api/1/me/org_invitations/{id}/refuse/", tag = "me",
    params(("id" = String, Path, description = "An invitation id")),
    security(("apikey" = [])),
    responses((status = 200, description = "Refused", body = Message)))]
pub fn refuse_invitation() {}

#[utoipa::path(get, path = "/api/1/users/{id}/", tag = "users",
    params(("id" = String, Path, description = "A user id or slug")),
    responses((status = 200, description = "A public profile (no e-mail)", body = User)))]
pub fn get_user() {}

#[utoipa::path(get, path = "/s/{key}", tag = "files",
    params(("key" = String, Path, description = "A stored file's key (`<dataset>/<resource>/<file>`)"),
        ("Range" = Option<String>, Header, description = "`bytes=<start>-<end>`"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag received before")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = String),
        (status = 304, description = "Not modified"),
        (status = 416, description = "The range is outside the file", body = Message)))]
pub fn serve_file() {}

#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process answers", content_type = "text/plain", body = String)))]
pub fn health() {}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub fn healthz() {}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "The database and the storage answer", body = Health)))]
pub fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "health",
    params(("Authorization" = Option<String>, Header, description = "`Bearer <RUDATA_METRICS_TOKEN>`")),
    responses((status = 200, description = "The node's metrics, in Prometheus' text format", content_type = "text/plain", body = String),
        (status = 401, description = "No token, or not the metrics token", body = Message),
        (status = 404, description = "No metrics token is set: no metrics on this address", body = Message)))]
pub fn get_metrics() {}

#[utoipa::path(get, path = "/api/1/swagger.json", tag = "documentation",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub fn swagger_v1() {}

#[utoipa::path(get, path = "/api/1/", tag = "documentation",
    responses((status = 200, description = "Swagger UI, rendering this document", content_type = "text/html", body = String)))]
pub fn swagger_ui() {}

#[utoipa::path(get, path = "/api/1/swagger-ui/{file}", tag = "documentation",
    params(("file" = String, Path, description = "A Swagger UI asset")),
    responses((status = 200, description = "The asset", content(
        (String = "text/javascript"), (String = "text/css"), (String = "text/plain")))))]
pub fn swagger_ui_asset() {}
