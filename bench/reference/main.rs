//! The yardstick of `bench/reads.sh`: the least an axum server on this toolchain can do per request,
//! a fixed JSON document of about 1.3 KB (a dataset's shape) answered with no I/O, on the same
//! axum, hyper and tokio as rudata, built with the same profile.
//!
//! A package of rudata's workspace, built only on demand (`cargo build --release -p rudata -p
//! reference`), so `cargo test` and CI never compile it. Usage: `reference [ADDR]` (default
//! `127.0.0.1:0`); prints `reference listening on http://ADDR` once bound.

use axum::Router;
use axum::http::header;
use axum::routing::get;

/// The answer: a dataset with one resource, as an API answers it.
const DOCUMENT: &str = r#"{"acronym":null,"archived":null,"badges":[],"created_at":"2026-11-28T00:00:00.000000+00:00","deleted":null,"description":"Budget primitif et compte administratif de la ville depuis 2015.","extras":{},"frequency":"monthly","id":"6747b2c1e1d2a3b4c5d6e7f8","last_modified":"2026-11-28T00:00:00.000000+00:00","last_update":"2026-11-28T00:00:00.000000+00:00","license":"lov2","organization":null,"owner":{"class":"User","first_name":"Ada","id":"6747b2c1e1d2a3b4c5d6e7f0","last_name":"Lovelace","slug":"ada-lovelace","uri":"http://127.0.0.1/api/1/users/ada-lovelace/"},"private":false,"quality":{"all_resources_available":true,"has_resources":true,"license":true,"score":0.78,"update_frequency":true,"update_fulfilled_in_time":true},"resources":[{"checksum":null,"created_at":"2026-11-28T00:00:00.000000+00:00","description":null,"filesize":null,"filetype":"remote","format":"csv","id":"0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f","last_modified":"2026-11-28T00:00:00.000000+00:00","latest":"http://127.0.0.1/api/1/datasets/r/0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f","mime":null,"title":"Fichier 1","type":"main","url":"https://example.org/budget/1.csv"}],"slug":"budget-de-la-ville","spatial":null,"tags":["budget","ville"],"temporal_coverage":null,"title":"Budget de la ville","uri":"http://127.0.0.1/api/1/datasets/budget-de-la-ville/"}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let app = Router::new().route(
        "/",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], DOCUMENT) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("reference listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
