//! Stored documents: the JSON of datasets, resources and organizations kept in `doc` columns, with
//! the version of their shape in `doc_version`.
//!
//! A release that changes a document's shape bumps [`CURRENT`] and teaches [`decode`] to read the
//! older versions, so a database written by any earlier release keeps loading; the tests below load
//! a fixture of every version.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, StoreResult};

/// The version written today.
/// - 0: rudata 0.1, before versions were recorded (the column's default for older rows);
/// - 1: the same shape as 0, now versioned.
pub const CURRENT: i64 = 1;

pub(crate) fn encode<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(e.into()))
}

/// Reads a document written in shape `version`.
pub(crate) fn decode<T: DeserializeOwned>(version: i64, doc: &str) -> StoreResult<T> {
    match version {
        0 | 1 => serde_json::from_str(doc).map_err(|e| StoreError::Other(e.into())),
        newer => Err(StoreError::Other(anyhow::anyhow!(
            "a document of version {newer} was written by a newer release of rudata (this one reads up to {CURRENT})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::Dataset;
    use crate::domain::organization::Organization;
    use crate::domain::resource::Resource;

    /// Fixtures: documents as each version wrote them (version 0 taken from a database made by 0.1).
    const DATASETS: [(i64, &str); 2] = [
        (
            0,
            include_str!("../../tests/fixtures/documents/dataset.v0.json"),
        ),
        (
            1,
            include_str!("../../tests/fixtures/documents/dataset.v1.json"),
        ),
    ];
    const RESOURCES: [(i64, &str); 2] = [
        (
            0,
            include_str!("../../tests/fixtures/documents/resource.v0.json"),
        ),
        (
            1,
            include_str!("../../tests/fixtures/documents/resource.v1.json"),
        ),
    ];
    const ORGANIZATIONS: [(i64, &str); 2] = [
        (
            0,
            include_str!("../../tests/fixtures/documents/organization.v0.json"),
        ),
        (
            1,
            include_str!("../../tests/fixtures/documents/organization.v1.json"),
        ),
    ];

    #[test]
    fn every_version_of_a_dataset_loads() {
        for (version, doc) in DATASETS {
            let ds: Dataset = decode(version, doc).expect("a dataset document");
            assert_eq!(ds.title, "Budget primitif", "version {version}");
            assert_eq!(ds.tags, ["budget", "finances"], "version {version}");
            assert_eq!(ds.license.as_deref(), Some("lov2"), "version {version}");
            assert!(ds.organization_id.is_some(), "version {version}");
        }
    }

    #[test]
    fn every_version_of_a_resource_loads() {
        for (version, doc) in RESOURCES {
            let r: Resource = decode(version, doc).expect("a resource document");
            assert_eq!(r.title, "budget.csv", "version {version}");
            assert!(r.file_key.is_some(), "version {version}");
            assert_eq!(
                r.checksum.as_ref().map(|c| c.kind.as_str()),
                Some("sha1"),
                "version {version}"
            );
        }
    }

    #[test]
    fn every_version_of_an_organization_loads() {
        for (version, doc) in ORGANIZATIONS {
            let o: Organization = decode(version, doc).expect("an organization document");
            assert_eq!(o.name, "Ville de Test", "version {version}");
        }
    }

    #[test]
    fn the_current_version_writes_what_it_reads() {
        let (_, doc) = DATASETS[DATASETS.len() - 1];
        let ds: Dataset = decode(CURRENT, doc).expect("a dataset document");
        let again: Dataset = decode(CURRENT, &encode(&ds).expect("encoded")).expect("decoded");
        assert_eq!(
            encode(&again).expect("encoded"),
            encode(&ds).expect("encoded")
        );
    }

    #[test]
    fn a_document_from_a_newer_release_is_refused() {
        let (_, doc) = DATASETS[0];
        assert!(decode::<Dataset>(CURRENT + 1, doc).is_err());
    }
}
