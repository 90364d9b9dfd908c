//! Reference lists: licenses, frequencies, resource types, upload extensions, organization roles.

use axum::Json;
use serde_json::{Value, json};

use crate::domain::reference::{
    FREQUENCIES, LICENSES, ORG_ROLES, RESOURCE_TYPES, sorted_extensions,
};

pub async fn list_licenses() -> Json<Value> {
    Json(json!(*LICENSES))
}

pub async fn list_frequencies() -> Json<Value> {
    Json(json!(
        FREQUENCIES
            .iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect::<Vec<_>>()
    ))
}

pub async fn list_resource_types() -> Json<Value> {
    Json(json!(
        RESOURCE_TYPES
            .iter()
            .map(|(id, label)| json!({"id": id, "label": label}))
            .collect::<Vec<_>>()
    ))
}

pub async fn list_extensions() -> Json<Value> {
    Json(json!(sorted_extensions()))
}

pub async fn list_org_roles() -> Json<Value> {
    Json(json!(
        ORG_ROLES
            .iter()
            .map(|(id, label, description)| json!({"id": id, "label": label, "description": description}))
            .collect::<Vec<_>>()
    ))
}
