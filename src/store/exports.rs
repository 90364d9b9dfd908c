//! Reads for the catalog exports (`/api/1/site/*.csv`): the catalog in batches, each batch starting
//! after the last key of the one before (keyset pagination through primary keys and the
//! `resources_export` index), so that every batch costs the same and nothing holds the whole catalog.
//!
//! What is exported is what udata exports: datasets neither private nor deleted (archived ones
//! included, flagged), their resources, and organizations that are not deleted.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::datasets::{DatasetRow, dataset_of};
use super::documents::decode;
use super::{Store, StoreResult, ts_opt};
use crate::domain::organization::Organization;
use crate::domain::resource::Resource;

/// A dataset with what `datasets.csv` shows of its owners.
#[derive(Debug)]
pub struct DatasetExport {
    pub row: DatasetRow,
    pub organization: Option<String>,
    pub owner_slug: Option<String>,
}

/// The dataset columns of `resources.csv` (no document: the description is not shown).
#[derive(Debug, Clone)]
pub struct DatasetColumns {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub organization_id: Option<String>,
    pub organization: Option<String>,
    pub license: Option<String>,
    pub archived: Option<DateTime<Utc>>,
}

/// Where a resource stands in the export order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceKey {
    pub dataset_id: String,
    pub position: i64,
    pub id: String,
}

impl ResourceKey {
    /// Before every resource of `dataset_id`.
    pub fn before(dataset_id: &str) -> ResourceKey {
        ResourceKey {
            dataset_id: dataset_id.to_string(),
            position: i64::MIN,
            id: String::new(),
        }
    }
}

#[derive(Debug)]
pub struct ExportedResource {
    pub key: ResourceKey,
    pub resource: Resource,
}

/// An organization with the counts `organizations.csv` shows.
#[derive(Debug)]
pub struct OrganizationExport {
    pub organization: Organization,
    pub members: i64,
    pub datasets: i64,
}

/// Exported datasets: not private, not deleted (archived ones are exported, as udata does).
const EXPORTED: &str = "d.private = 0 AND d.deleted IS NULL";

impl Store {
    /// Up to `limit` exported datasets with an id after `after`, in id order.
    pub async fn export_datasets(
        &self,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<DatasetExport>> {
        let sql = format!(
            "SELECT d.doc, d.doc_version, d.last_update, o.name AS org_name, u.slug AS owner_slug
             FROM datasets d
             LEFT JOIN organizations o ON o.id = d.organization_id
             LEFT JOIN users u ON u.id = d.owner_id
             WHERE d.id > $1 AND {EXPORTED} ORDER BY d.id LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                Ok(DatasetExport {
                    row: dataset_of(row)?,
                    organization: row.try_get("org_name")?,
                    owner_slug: row.try_get("owner_slug")?,
                })
            })
            .collect()
    }

    /// The `resources.csv` columns of up to `limit` exported datasets after `after`, in id order.
    pub async fn export_dataset_columns(
        &self,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<DatasetColumns>> {
        let sql = format!(
            "SELECT d.id, d.title, d.slug, d.organization_id, o.name AS org_name, d.license, d.archived
             FROM datasets d LEFT JOIN organizations o ON o.id = d.organization_id
             WHERE d.id > $1 AND {EXPORTED} ORDER BY d.id LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                Ok(DatasetColumns {
                    id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    slug: row.try_get("slug")?,
                    organization_id: row.try_get("organization_id")?,
                    organization: row.try_get("org_name")?,
                    license: row.try_get("license")?,
                    archived: ts_opt(row.try_get("archived")?)?,
                })
            })
            .collect()
    }

    /// Up to `limit` resources after `after` in (dataset, position, id) order, of datasets up to
    /// `last_dataset` included. Resources of datasets that are not exported come too: the caller
    /// knows which datasets it exports.
    ///
    /// Two reads, each an index range that starts where the last batch ended: the rest of `after`'s
    /// dataset, then the next datasets. (One `(dataset_id, position, id) > (…)` comparison reads the
    /// same, but PostgreSQL's planner misjudges it and may read a large dataset from its start again
    /// for every batch.)
    pub async fn export_resources(
        &self,
        after: &ResourceKey,
        last_dataset: &str,
        limit: i64,
    ) -> StoreResult<Vec<ExportedResource>> {
        let mut out: Vec<ExportedResource> = sqlx::query(
            "SELECT dataset_id, position, id, doc, doc_version FROM resources
             WHERE dataset_id = $1 AND (position, id) > ($2, $3)
             ORDER BY position, id LIMIT $4",
        )
        .bind(&after.dataset_id)
        .bind(after.position)
        .bind(&after.id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(exported_resource)
        .collect::<StoreResult<_>>()?;
        let missing = limit - out.len() as i64;
        if missing > 0 {
            let next = sqlx::query(
                "SELECT dataset_id, position, id, doc, doc_version FROM resources
                 WHERE dataset_id > $1 AND dataset_id <= $2
                 ORDER BY dataset_id, position, id LIMIT $3",
            )
            .bind(&after.dataset_id)
            .bind(last_dataset)
            .bind(missing)
            .fetch_all(&self.read)
            .await?;
            for row in &next {
                out.push(exported_resource(row)?);
            }
        }
        Ok(out)
    }

    /// Up to `limit` organizations (not deleted) after `after`, in id order, with their member count
    /// and their public dataset count.
    pub async fn export_organizations(
        &self,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<OrganizationExport>> {
        sqlx::query(
            "SELECT o.doc, o.doc_version,
                 (SELECT COUNT(*) FROM members m WHERE m.org_id = o.id) AS members,
                 (SELECT COUNT(*) FROM datasets d WHERE d.organization_id = o.id
                     AND d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL) AS datasets
             FROM organizations o WHERE o.id > $1 AND o.deleted IS NULL ORDER BY o.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|row| {
            Ok(OrganizationExport {
                organization: decode(
                    row.try_get("doc_version")?,
                    &row.try_get::<String, _>("doc")?,
                )?,
                members: row.try_get("members")?,
                datasets: row.try_get("datasets")?,
            })
        })
        .collect()
    }
}

fn exported_resource(row: &AnyRow) -> StoreResult<ExportedResource> {
    Ok(ExportedResource {
        key: ResourceKey {
            dataset_id: row.try_get("dataset_id")?,
            position: row.try_get("position")?,
            id: row.try_get("id")?,
        },
        resource: decode(
            row.try_get("doc_version")?,
            &row.try_get::<String, _>("doc")?,
        )?,
    })
}
