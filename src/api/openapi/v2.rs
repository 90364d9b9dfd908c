//! The operations of API v2, one per route of `app::router` under `/api/2/`.

#![allow(dead_code)]

use super::params::*;
use super::schemas::*;

#[utoipa::path(get, path = "/api/2/datasets/search/", tag = "datasets", params(DatasetSearchQuery),
    responses((status = 200, description = "Public datasets found, with the facets asked for", body = DatasetSearchPage)))]
pub fn search_datasets() {}

#[utoipa::path(get, path = "/api/2/organizations/search/", tag = "organizations", params(OrganizationSearchQuery),
    responses((status = 200, description = "Organizations found", body = OrganizationSearchPage)))]
pub fn search_organizations() {}

#[utoipa::path(get, path = "/api/2/datasets/{id}/", tag = "datasets", operation_id = "get_dataset_v2",
    params(("id" = String, Path, description = "A dataset id or slug")),
    responses((status = 200, description = "The dataset; its resources behind `resources.href`", body = DatasetV2)))]
pub fn get_dataset() {}

#[utoipa::path(get, path = "/api/2/datasets/{id}/resources/", tag = "datasets",
    params(("id" = String, Path, description = "A dataset id or slug"), ResourceListQuery),
    responses((status = 200, description = "A page of the dataset's resources", body = ResourcePage)))]
pub fn list_resources() {}

#[utoipa::path(get, path = "/api/2/datasets/resources/{rid}/", tag = "datasets", operation_id = "get_resource_v2",
    params(("rid" = String, Path, description = "A resource id")),
    responses((status = 200, description = "The resource and its dataset's id", body = ResourceV2)))]
pub fn get_resource() {}

#[utoipa::path(get, path = "/api/2/datasets/{id}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug")),
    responses((status = 200, description = "The dataset's extras", body = Object)))]
pub fn get_dataset_extras() {}

#[utoipa::path(put, path = "/api/2/datasets/{id}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body(content = Object, description = "Extras to set (a `null` value removes its key)"),
    security(("apikey" = [])),
    responses((status = 200, description = "The extras after the change", body = Object)))]
pub fn put_dataset_extras() {}

#[utoipa::path(delete, path = "/api/2/datasets/{id}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug")),
    request_body(content = Vec<String>, description = "Keys to remove"),
    security(("apikey" = [])),
    responses((status = 204, description = "Removed")))]
pub fn delete_dataset_extras() {}

#[utoipa::path(get, path = "/api/2/datasets/{id}/resources/{rid}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    responses((status = 200, description = "The resource's extras", body = Object)))]
pub fn get_resource_extras() {}

#[utoipa::path(put, path = "/api/2/datasets/{id}/resources/{rid}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    request_body(content = Object, description = "Extras to set (a `null` value removes its key)"),
    security(("apikey" = [])),
    responses((status = 200, description = "The extras after the change", body = Object)))]
pub fn put_resource_extras() {}

#[utoipa::path(delete, path = "/api/2/datasets/{id}/resources/{rid}/extras/", tag = "extras",
    params(("id" = String, Path, description = "A dataset id or slug"),
        ("rid" = String, Path, description = "A resource id")),
    request_body(content = Vec<String>, description = "Keys to remove"),
    security(("apikey" = [])),
    responses((status = 204, description = "Removed")))]
pub fn delete_resource_extras() {}

#[utoipa::path(get, path = "/api/2/organizations/{org}/extras/", tag = "extras",
    params(("org" = String, Path, description = "An organization id or slug")),
    responses((status = 200, description = "The organization's extras", body = Object)))]
pub fn get_organization_extras() {}

#[utoipa::path(put, path = "/api/2/organizations/{org}/extras/", tag = "extras",
    params(("org" = String, Path, description = "An organization id or slug")),
    request_body(content = Object, description = "Extras to set (a `null` value removes its key)"),
    security(("apikey" = [])),
    responses((status = 200, description = "The extras after the change", body = Object)))]
pub fn put_organization_extras() {}

#[utoipa::path(delete, path = "/api/2/organizations/{org}/extras/", tag = "extras",
    params(("org" = String, Path, description = "An organization id or slug")),
    request_body(content = Vec<String>, description = "Keys to remove"),
    security(("apikey" = [])),
    responses((status = 204, description = "Removed")))]
pub fn delete_organization_extras() {}

#[utoipa::path(get, path = "/api/2/swagger.json", tag = "documentation",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub fn swagger_v2() {}
