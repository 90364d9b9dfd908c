//! The OpenAPI 3.1 documents of the API (`/api/1/swagger.json`: API v1, the files and the health
//! checks; `/api/2/swagger.json`: API v2) and the Swagger UI that renders them (`/api/1/`).
//!
//! Each route of `app::router` has its operation in `v1.rs` or `v2.rs` (utoipa's `#[path]`), and
//! `tests/api/openapi.rs` fails when the router and the documents disagree. What every operation
//! shares (the error answers, `X-Fields`, the API key) is added once, by [`finish`]. The Swagger UI
//! files are vendored under `assets/swagger-ui/` and embedded: nothing is downloaded at build time.

mod params;
mod schemas;
mod v1;
mod v2;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
};

use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rudata API v1",
        version = "1",
        description = "udata's API v1 (data.gouv.fr), as rudata serves it, with the stored files \
            (`/s/...`) and the health checks. Authenticate with an API token in the `X-API-KEY` \
            header. `X-Fields` (a mask such as `id,title,resources{id,url}`) keeps only the named \
            fields of a JSON answer. Errors are JSON: `{\"message\": ...}`, or \
            `{\"errors\": {field: ...}, \"message\": ...}` for invalid input.",
    ),
    paths(
        v1::list_datasets,
        v1::create_dataset,
        v1::list_licenses,
        v1::list_frequencies,
        v1::list_resource_types,
        v1::list_extensions,
        v1::suggest_datasets,
        v1::suggest_formats,
        v1::suggest_mimes,
        v1::suggest_tags,
        v1::suggest_organizations,
        v1::suggest_users,
        v1::export_datasets,
        v1::export_resources,
        v1::export_organizations,
        v1::redirect_latest,
        v1::redirect_site_catalog,
        v1::get_site_catalog,
        v1::redirect_dataset_rdf,
        v1::get_dataset_rdf,
        v1::redirect_organization_catalog,
        v1::get_organization_catalog,
        v1::get_dataset,
        v1::update_dataset,
        v1::delete_dataset,
        v1::create_resource,
        v1::reorder_resources,
        v1::get_resource,
        v1::update_resource,
        v1::delete_resource,
        v1::list_resource_versions,
        v1::list_resource_checks,
        v1::check_resource,
        v1::upload_new_resource,
        v1::replace_resource_file,
        v1::get_upload,
        v1::list_activities,
        v1::list_organizations,
        v1::create_organization,
        v1::list_org_roles,
        v1::get_organization,
        v1::update_organization,
        v1::delete_organization,
        v1::list_organization_datasets,
        v1::invite_member,
        v1::list_org_invitations,
        v1::cancel_invitation,
        v1::update_member,
        v1::delete_member,
        v1::get_me,
        v1::update_me,
        v1::list_api_tokens,
        v1::create_api_token,
        v1::revoke_api_token,
        v1::list_my_invitations,
        v1::accept_invitation,
        v1::refuse_invitation,
        v1::get_user,
        v1::serve_file,
        v1::health,
        v1::healthz,
        v1::readyz,
        v1::get_metrics,
        v1::swagger_v1,
        v1::swagger_ui,
        v1::swagger_ui_asset,
    ),
    components(schemas(schemas::Message, schemas::ValidationErrors, schemas::UploadError))
)]
struct V1;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rudata API v2",
        version = "2",
        description = "udata's API v2 as rudata serves it: datasets with paginated resources, \
            search with facets, extras. Authentication, `X-Fields` and errors as in API v1.",
    ),
    paths(
        v2::search_datasets,
        v2::search_organizations,
        v2::get_dataset,
        v2::list_resources,
        v2::get_resource,
        v2::get_dataset_extras,
        v2::put_dataset_extras,
        v2::delete_dataset_extras,
        v2::get_resource_extras,
        v2::put_resource_extras,
        v2::delete_resource_extras,
        v2::get_organization_extras,
        v2::put_organization_extras,
        v2::delete_organization_extras,
        v2::swagger_v2,
    ),
    components(schemas(schemas::Message, schemas::ValidationErrors, schemas::UploadError))
)]
struct V2;

/// The document of API v1 (with the files and the health checks).
pub fn v1_document() -> utoipa::openapi::OpenApi {
    finish(V1::openapi())
}

/// The document of API v2.
pub fn v2_document() -> utoipa::openapi::OpenApi {
    finish(V2::openapi())
}

/// The schemas of the error answers, whose fields are all there.
const ERROR_SHAPES: &[&str] = &["Message", "ValidationErrors", "UploadError"];

/// Error answers that any operation may give, whatever it does.
const ANY: &[(&str, &str)] = &[
    ("400", "Invalid parameters, headers or `X-Fields` mask"),
    (
        "401",
        "Invalid, revoked or expired API key, or one is needed",
    ),
    (
        "404",
        "Nothing here (or not visible to the caller), or a page past the end",
    ),
    ("414", "Request URI too long"),
    ("429", "Too many requests (see `Retry-After`)"),
    ("431", "Request headers too large"),
    (
        "503",
        "The database or the storage does not answer (see `Retry-After`)",
    ),
];

/// Error answers of the operations that change something.
const WRITES: &[(&str, &str)] = &[
    ("403", "The caller may not do this"),
    ("409", "Conflicts with what is stored"),
    ("410", "The object is deleted"),
    ("413", "Body too large"),
    ("415", "Unsupported content type"),
];

/// Error answers of the operations on one object (named in the path).
const ONE_OBJECT: &[(&str, &str)] = &[
    ("403", "The caller may not see this"),
    ("410", "The object is deleted"),
];

/// Adds what every operation shares: the API key scheme (optional unless the operation says
/// otherwise), the error answers, the `X-Fields` header of JSON reads, the `Error` schema.
fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "apikey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-KEY",
            "An API token (`rudata token create`, or `POST /api/1/me/api_tokens/`)",
        ))),
    );
    let error = AnyOfBuilder::new()
        .item(Ref::from_schema_name("Message"))
        .item(Ref::from_schema_name("ValidationErrors"))
        .item(Ref::from_schema_name("UploadError"))
        .description(Some(
            "`{\"message\"}`, udata's validation errors, or a failed upload's status",
        ))
        .build();
    // An `X-Fields` mask can drop any field of an answer: only the error shapes keep theirs.
    for (name, schema) in components.schemas.iter_mut() {
        if let (RefOr::T(Schema::Object(object)), false) =
            (schema, ERROR_SHAPES.contains(&name.as_str()))
        {
            object.required.clear();
        }
    }
    components
        .schemas
        .insert("Error".to_string(), RefOr::T(error.into()));
    for (path, item) in doc.paths.paths.iter_mut() {
        for method in [
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Delete,
        ] {
            let Some(op) = operation(item, &method) else {
                continue;
            };
            complete(path, &method, op);
        }
    }
    doc
}

fn operation<'a>(
    item: &'a mut utoipa::openapi::PathItem,
    method: &HttpMethod,
) -> Option<&'a mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        _ => None,
    }
}

fn complete(path: &str, method: &HttpMethod, op: &mut Operation) {
    let documentation = op
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "documentation"));
    if op.security.is_none() {
        // Anonymous or with a key: both are answered (the key widens what is visible).
        op.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new("apikey", Vec::<String>::new()),
        ]);
    }
    let mut errors: Vec<(&str, &str)> = ANY.to_vec();
    if *method != HttpMethod::Get {
        errors.extend_from_slice(WRITES);
    }
    if path.contains('{') {
        errors.extend_from_slice(ONE_OBJECT);
        add_response(op, "308", moved());
    }
    for (status, description) in errors {
        add_response(op, status, error_response(description));
    }
    if *method == HttpMethod::Get && path.starts_with("/api/") && !documentation {
        let x_fields = ParameterBuilder::new()
            .name("X-Fields")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A mask of the fields to keep, e.g. `id,title,resources{id,url}` or `*`",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        op.parameters.get_or_insert_with(Vec::new).push(x_fields);
    }
}

fn add_response(op: &mut Operation, status: &str, response: utoipa::openapi::Response) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert(RefOr::T(response));
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

fn moved() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description("Renamed: the object's current URL is in `Location`")
        .header(
            "Location",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .build(),
        )
        .build()
}

/// `GET /api/1/swagger.json`.
pub async fn swagger_v1() -> Response {
    document(v1_document())
}

/// `GET /api/2/swagger.json`.
pub async fn swagger_v2() -> Response {
    document(v2_document())
}

fn document(doc: utoipa::openapi::OpenApi) -> Response {
    match doc.to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::Internal(e.into()).into_response(),
    }
}

/// The Swagger UI page's policy: only its own scripts (no inline script), styles inline as the UI
/// sets them, requests to this origin only.
const UI_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// `GET /api/1/`: Swagger UI on both documents.
pub async fn swagger_ui() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_bytes!("../../../assets/swagger-ui/index.html"),
    )
}

/// `GET /api/1/swagger-ui/{file}`: the UI's files, embedded in the binary.
pub async fn swagger_ui_asset(Path(file): Path<String>) -> Response {
    let (content_type, bytes): (&str, &'static [u8]) = match file.as_str() {
        "swagger-ui-bundle.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../../assets/swagger-ui/swagger-ui-bundle.js"),
        ),
        "swagger-ui-standalone-preset.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../../assets/swagger-ui/swagger-ui-standalone-preset.js"),
        ),
        "rudata-init.js" => (
            "text/javascript; charset=utf-8",
            include_bytes!("../../../assets/swagger-ui/rudata-init.js"),
        ),
        "swagger-ui.css" => (
            "text/css; charset=utf-8",
            include_bytes!("../../../assets/swagger-ui/swagger-ui.css"),
        ),
        "LICENSE" => (
            "text/plain; charset=utf-8",
            include_bytes!("../../../assets/swagger-ui/LICENSE"),
        ),
        _ => return ApiError::not_found().into_response(),
    };
    asset(content_type, bytes)
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(UI_POLICY),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
