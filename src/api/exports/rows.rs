//! The columns of each export, in udata's order, and the line of each object.

use serde_json::Value;

use super::csv::{Cell, naive_iso, opt, owned, python_json, python_json_object, text};
use crate::api::BaseUrl;
use crate::api::resources::resource_url;
use crate::domain::reference::LICENSES;
use crate::domain::resource::Resource;
use crate::store::{DatasetColumns, DatasetExport, ObjectCounts, OrganizationExport};

pub const DATASET_COLUMNS: [&str; 47] = [
    "id",
    "title",
    "slug",
    "acronym",
    "url",
    "organization",
    "organization_id",
    "owner",
    "owner_id",
    "description",
    "description_short",
    "frequency",
    "license",
    "temporal_coverage.start",
    "temporal_coverage.end",
    "spatial.granularity",
    "spatial.zones",
    "spatial.geom",
    "featured",
    "created_at",
    "last_modified",
    "badges",
    "tags",
    "archived",
    "resources_count",
    "main_resources_count",
    "resources_formats",
    "harvest.backend",
    "harvest.domain",
    "harvest.remote_id",
    "harvest.remote_url",
    "harvest.uri",
    "harvest.created_at",
    "harvest.issued_at",
    "harvest.modified_at",
    "harvest.last_update",
    "harvest.dct_identifier",
    "quality_score",
    "metric.discussions",
    "metric.discussions_open",
    "metric.reuses",
    "metric.reuses_by_months",
    "metric.dataservices",
    "metric.followers",
    "metric.followers_by_months",
    "metric.views",
    "metric.resources_downloads",
];

pub const RESOURCE_COLUMNS: [&str; 30] = [
    "dataset.id",
    "dataset.title",
    "dataset.slug",
    "dataset.url",
    "dataset.organization",
    "dataset.organization_id",
    "dataset.license",
    "dataset.private",
    "dataset.archived",
    "id",
    "url",
    "title",
    "description",
    "filetype",
    "type",
    "format",
    "mime",
    "filesize",
    "checksum.type",
    "checksum.value",
    "created_at",
    "modified",
    "downloads",
    "harvest.issued_at",
    "harvest.modified_at",
    "harvest.last_update",
    "schema_name",
    "schema_version",
    "preview_url",
    "extras",
];

/// udata's organization columns; `metric.dataservices` is there twice, as in udata's metric list.
pub const ORGANIZATION_COLUMNS: [&str; 26] = [
    "id",
    "name",
    "acronym",
    "slug",
    "url",
    "description",
    "logo",
    "badges",
    "created_at",
    "last_modified",
    "business_number_id",
    "members_count",
    "downloads",
    "metric.dataservices",
    "metric.dataservices_by_months",
    "metric.datasets",
    "metric.datasets_by_months",
    "metric.datasets_followers_by_months",
    "metric.datasets_reuses_by_months",
    "metric.members",
    "metric.reuses",
    "metric.reuses_by_months",
    "metric.reuses_followers_by_months",
    "metric.dataservices",
    "metric.followers",
    "metric.views",
];

/// A license's title, as udata's CSV shows licenses (none: empty).
fn license_title(id: Option<&str>) -> Cell<'static> {
    id.and_then(|id| LICENSES.iter().find(|l| l.id == id))
        .map_or(Cell::Null, |l| text(&l.title))
}

/// `archived` as udata writes `o.archived or False`.
fn archived<'a>(t: Option<&chrono::DateTime<chrono::Utc>>) -> Cell<'a> {
    t.map_or(Cell::Bool(false), naive_iso)
}

pub fn dataset_cells<'a>(
    base: &BaseUrl,
    export: &'a DatasetExport,
    resources: &[Resource],
    score: f64,
    counts: ObjectCounts,
) -> Vec<Cell<'a>> {
    let d = &export.row.dataset;
    let spatial = d.spatial.as_ref();
    let zones = spatial
        .and_then(|s| s.get("zones"))
        .and_then(Value::as_array)
        .filter(|z| !z.is_empty())
        .map(|z| {
            z.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(",")
        });
    let mut formats: Vec<&str> = Vec::new();
    for f in resources.iter().filter_map(|r| r.format.as_deref()) {
        if !f.is_empty() && !formats.contains(&f) {
            formats.push(f);
        }
    }
    let main = resources.iter().filter(|r| r.kind == "main").count();
    let mut cells = vec![
        text(&d.id),
        text(&d.title),
        text(&d.slug),
        opt(&d.acronym),
        owned(format!("{}/api/1/datasets/{}/", base.api, d.slug)),
        opt(&export.organization),
        opt(&d.organization_id),
        opt(&export.owner_slug),
        opt(&d.owner_id),
        text(&d.description),
        opt(&d.description_short),
        text(&d.frequency),
        license_title(d.license.as_deref()),
        d.temporal_coverage
            .as_ref()
            .map_or(Cell::Null, |t| owned(t.start.to_string())),
        d.temporal_coverage
            .as_ref()
            .and_then(|t| t.end)
            .map_or(Cell::Null, |e| owned(e.to_string())),
        spatial
            .and_then(|s| s.get("granularity"))
            .and_then(Value::as_str)
            .map_or(Cell::Null, text),
        zones.map_or(Cell::Null, owned),
        spatial
            .and_then(|s| s.get("geom"))
            .filter(|g| !g.is_null())
            .map_or(Cell::Null, |g| owned(python_json(g))),
        Cell::Bool(d.featured),
        naive_iso(&d.created_at),
        naive_iso(&d.last_modified),
        text(""),
        owned(d.tags.join(",")),
        archived(d.archived.as_ref()),
        Cell::Int(resources.len() as i64),
        Cell::Int(main as i64),
        owned(formats.join(",")),
    ];
    cells.extend(std::iter::repeat_n(Cell::Null, 10));
    cells.push(owned(format!("{score:.2}")));
    // Metrics: seven rudata does not compute, then the counted views and resources_downloads.
    cells.extend(std::iter::repeat_n(Cell::Int(0), 7));
    cells.extend([Cell::Int(counts.views), Cell::Int(counts.downloads)]);
    cells
}

/// A resource's row; `downloads` is its counted downloads.
pub fn resource_cells<'a>(
    base: &BaseUrl,
    d: &'a DatasetColumns,
    r: &'a Resource,
    downloads: i64,
) -> Vec<Cell<'a>> {
    let schema = |key: &str| {
        r.schema
            .as_ref()
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map_or(Cell::Null, text)
    };
    vec![
        text(&d.id),
        text(&d.title),
        text(&d.slug),
        owned(format!("{}/api/1/datasets/{}/", base.api, d.slug)),
        opt(&d.organization),
        opt(&d.organization_id),
        license_title(d.license.as_deref()),
        // Only public datasets are exported.
        Cell::Bool(false),
        archived(d.archived.as_ref()),
        text(&r.id),
        owned(resource_url(base, r)),
        text(&r.title),
        opt(&r.description),
        text(&r.filetype),
        text(&r.kind),
        opt(&r.format),
        opt(&r.mime),
        r.filesize.map_or(Cell::Null, Cell::Int),
        r.checksum.as_ref().map_or(Cell::Null, |c| text(&c.kind)),
        r.checksum.as_ref().map_or(Cell::Null, |c| text(&c.value)),
        naive_iso(&r.created_at),
        naive_iso(&r.last_modified),
        Cell::Int(downloads),
        Cell::Null,
        Cell::Null,
        Cell::Null,
        schema("name"),
        schema("version"),
        Cell::Null,
        owned(python_json_object(&r.extras)),
    ]
}

pub fn organization_cells<'a>(base: &BaseUrl, export: &'a OrganizationExport) -> Vec<Cell<'a>> {
    let o = &export.organization;
    let mut cells = vec![
        text(&o.id),
        text(&o.name),
        opt(&o.acronym),
        text(&o.slug),
        owned(format!("{}/api/1/organizations/{}/", base.api, o.slug)),
        text(&o.description),
        Cell::Null,
        text(""),
        naive_iso(&o.created_at),
        naive_iso(&o.last_modified),
        opt(&o.business_number_id),
        Cell::Int(export.members),
        Cell::Int(0),
    ];
    // Metrics in udata's order: dataservices, dataservices_by_months, datasets, three more, members,
    // then six more. rudata counts datasets and members; the others are 0, as in a fresh udata.
    cells.extend([Cell::Int(0), Cell::Int(0), Cell::Int(export.datasets)]);
    cells.extend(std::iter::repeat_n(Cell::Int(0), 3));
    cells.push(Cell::Int(export.members));
    cells.extend(std::iter::repeat_n(Cell::Int(0), 6));
    cells
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::time::now;

    #[test]
    fn column_counts_match_the_rows() {
        let ds = crate::domain::dataset::Dataset::blank("d".into(), now());
        let export = DatasetExport {
            row: crate::store::DatasetRow {
                dataset: ds,
                last_update: now(),
            },
            organization: None,
            owner_slug: None,
        };
        let base = BaseUrl {
            api: "http://x".into(),
            files: "http://x/s".into(),
        };
        assert_eq!(
            dataset_cells(&base, &export, &[], 0.0, ObjectCounts::default()).len(),
            DATASET_COLUMNS.len()
        );
        let columns = DatasetColumns {
            id: "d".into(),
            title: "t".into(),
            slug: "t".into(),
            organization_id: None,
            organization: None,
            license: None,
            archived: None,
        };
        let r = Resource::blank("r".into(), now());
        assert_eq!(
            resource_cells(&base, &columns, &r, 0).len(),
            RESOURCE_COLUMNS.len()
        );
        let org = OrganizationExport {
            organization: serde_json::from_value(json!({
                "id": "o", "slug": "o", "name": "O", "acronym": null, "description": "",
                "url": null, "image_url": null, "business_number_id": null,
                "created_at": "2024-01-01T00:00:00+00:00", "last_modified": "2024-01-01T00:00:00+00:00"
            }))
            .unwrap(),
            members: 2,
            datasets: 3,
        };
        let cells = organization_cells(&base, &org);
        assert_eq!(cells.len(), ORGANIZATION_COLUMNS.len());
        let at = |name: &str| {
            ORGANIZATION_COLUMNS
                .iter()
                .position(|c| *c == name)
                .unwrap()
        };
        assert_eq!(cells[at("metric.datasets")], Cell::Int(3));
        assert_eq!(cells[at("metric.members")], Cell::Int(2));
    }
}
