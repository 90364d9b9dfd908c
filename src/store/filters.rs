//! The WHERE clauses of dataset lists and searches, and how their many-valued filters are written.

use super::datasets::{DatasetFilter, TemporalFilter, Visibility};
use super::db_ts;
use super::search::Sql;
use crate::domain::reference::DEFAULT_LICENSE;

/// Below this many matches, a filtered page always starts from the filters' indexes.
const WALK_MIN_MATCHES: i64 = 5_000;
/// A page walks the sort's index when its end lies within the first 1/20 of the matches.
const WALK_RATIO: i64 = 20;

/// How the many-valued filters (tags, terms) are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drive {
    /// `d.id IN (datasets holding the value)`: the database starts from that index.
    FromFilters,
    /// `EXISTS (the dataset holds the value)`: a test on each dataset the sort's index yields.
    FromSortIndex,
}

/// The WHERE clause of a dataset list. Each filter goes through an index: a column of `datasets`,
/// or the primary key of `dataset_tags` / `dataset_terms`.
pub(super) fn list_conditions(f: &DatasetFilter, drive: Drive, sql: &mut Sql) -> String {
    if f.nothing {
        return "1 = 0".to_string();
    }
    let mut c: Vec<String> = Vec::new();
    // Written word for word as the predicate of the `datasets_public_*` partial indexes.
    let public = "(d.private = 0 AND d.deleted IS NULL AND d.archived IS NULL)";
    match &f.visibility {
        Visibility::Public => c.push(public.to_string()),
        Visibility::All => {}
        Visibility::NotHidden => c.push("(d.private = 0 AND d.deleted IS NULL)".to_string()),
        Visibility::User { user_id, org_ids } => {
            let mut owned = vec![format!("d.owner_id = {}", sql.text(user_id.as_str()))];
            if !org_ids.is_empty() {
                let list: Vec<String> = org_ids.iter().map(|o| sql.text(o.as_str())).collect();
                owned.push(format!("d.organization_id IN ({})", list.join(", ")));
            }
            c.push(format!("({public} OR {})", owned.join(" OR ")));
        }
    }
    // `rows` names the rows of table `t` that hold the value; the dataset must have one.
    let holds = |rows: String| match drive {
        Drive::FromFilters => format!("d.id IN (SELECT t.dataset_id FROM {rows})"),
        Drive::FromSortIndex => format!("EXISTS (SELECT 1 FROM {rows} AND t.dataset_id = d.id)"),
    };
    for t in &f.tags {
        let p = sql.text(t.as_str());
        c.push(holds(format!("dataset_tags t WHERE t.tag = {p}")));
    }
    if let Some(l) = &f.license {
        let p = sql.text(l.as_str());
        if l == DEFAULT_LICENSE {
            c.push(format!("(d.license IS NULL OR d.license = {p})"));
        } else {
            c.push(format!("d.license = {p}"));
        }
    }
    let mut term = |kind: &str, values: &[String], sql: &mut Sql| {
        if !values.is_empty() {
            let list: Vec<String> = values.iter().map(|v| sql.text(v.as_str())).collect();
            c.push(holds(format!(
                "dataset_terms t WHERE t.kind = '{kind}' AND t.value IN ({})",
                list.join(", ")
            )));
        }
    };
    term("format", &f.formats, sql);
    term("schema", &f.schemas, sql);
    term("schema_version", f.schema_version.as_slice(), sql);
    term("geozone", f.geozone.as_slice(), sql);
    term("badge", f.badge.as_slice(), sql);
    if let Some(family) = &f.format_family {
        let p = sql.text(family.as_str());
        let has = holds(format!(
            "dataset_terms t WHERE t.kind = 'format_family' AND t.value = {p}"
        ));
        // udata files a dataset with no resource format under "other".
        c.push(if family == "other" {
            format!(
                "({has} OR NOT EXISTS (SELECT 1 FROM dataset_terms t WHERE t.dataset_id = d.id AND t.kind = 'format_family'))"
            )
        } else {
            has
        });
    }
    if !f.granularities.is_empty() {
        let list: Vec<String> = f
            .granularities
            .iter()
            .map(|g| sql.text(g.as_str()))
            .collect();
        c.push(format!("d.granularity IN ({})", list.join(", ")));
    }
    match &f.temporal {
        Some(TemporalFilter::StartsWithin(from, to)) => c.push(format!(
            "d.temporal_start >= {} AND d.temporal_start <= {}",
            sql.text(from.to_string()),
            sql.text(to.to_string())
        )),
        Some(TemporalFilter::Covers(from, to)) => c.push(format!(
            "d.temporal_start <= {} AND d.temporal_end >= {}",
            sql.text(from.to_string()),
            sql.text(to.to_string())
        )),
        None => {}
    }
    for (column, value) in [
        ("d.access_type", &f.access_type),
        ("d.organization_id", &f.organization),
        ("d.owner_id", &f.owner),
    ] {
        if let Some(v) = value {
            c.push(format!("{column} = {}", sql.text(v.as_str())));
        }
    }
    if let Some(name) = &f.organization_name {
        c.push(format!(
            "d.organization_id IN (SELECT o.id FROM organizations o WHERE o.name = {})",
            sql.text(name.as_str())
        ));
    }
    match f.has_organization {
        Some(true) => c.push("d.organization_id IS NOT NULL".to_string()),
        Some(false) => c.push("d.organization_id IS NULL".to_string()),
        None => {}
    }
    // Through the partial index of the resources found unavailable (a few rows), never a read of
    // every resource: `false` looks the dataset up there, `true` excludes what it holds.
    let unavailable = "resources t WHERE t.unavailable = 1";
    match (f.available, drive) {
        (Some(false), _) => c.push(holds(unavailable.to_string())),
        (Some(true), Drive::FromFilters) => c.push(format!(
            "d.id NOT IN (SELECT t.dataset_id FROM {unavailable})"
        )),
        (Some(true), Drive::FromSortIndex) => c.push(format!(
            "NOT EXISTS (SELECT 1 FROM {unavailable} AND t.dataset_id = d.id)"
        )),
        (None, _) => {}
    }
    if let Some(since) = &f.last_update_since {
        c.push(format!("d.last_update >= {}", sql.text(db_ts(since))));
    }
    for (column, flag) in [("d.featured", f.featured), ("d.private", f.private)] {
        if let Some(b) = flag {
            c.push(format!("{column} = {}", i64::from(b)));
        }
    }
    for (flag, col) in [(f.deleted, "d.deleted"), (f.archived, "d.archived")] {
        match flag {
            Some(true) => c.push(format!("{col} IS NOT NULL")),
            Some(false) => c.push(format!("{col} IS NULL")),
            None => {}
        }
    }
    if c.is_empty() {
        "1 = 1".to_string()
    } else {
        c.join(" AND ")
    }
}

/// How to write the many-valued filters of a page, knowing how many datasets match: many, and
/// walking the sort's index finds a page near its start after a few tests; few, and starting from
/// the filters' indexes and sorting the matches is cheaper. The planners cannot tell (a frequent
/// tag and a rare one look the same to them); the count just did.
pub(super) fn drive_for(total: i64, offset: i64, page_size: i64) -> Drive {
    if total >= WALK_MIN_MATCHES && (offset + page_size) * WALK_RATIO <= total {
        Drive::FromSortIndex
    } else {
        Drive::FromFilters
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::dataset::Dataset;
    use crate::domain::ids::{new_object_id, new_resource_id};
    use crate::domain::resource::Resource;
    use crate::domain::time::now;
    use crate::store::{PageQuery, Position, SortKey, Store};

    #[test]
    fn broad_filters_walk_the_sort_index() {
        assert_eq!(drive_for(4_999, 0, 20), Drive::FromFilters);
        assert_eq!(drive_for(20_000, 0, 20), Drive::FromSortIndex);
        assert_eq!(drive_for(20_000, 980, 20), Drive::FromSortIndex);
        assert_eq!(drive_for(20_000, 1_000, 20), Drive::FromFilters);
    }

    /// Both ways of writing the filters select and order the same datasets (the HTTP tests' small
    /// catalogs only ever take the first).
    #[tokio::test]
    async fn both_drives_give_the_same_pages() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let start = now();
        for i in 0..60i64 {
            let mut ds = Dataset::blank(new_object_id(), start + Duration::seconds(i));
            ds.title = format!("t{:02}", (i * 7) % 60);
            ds.tags = if i % 3 == 0 {
                vec!["aaa".into(), "bbb".into()]
            } else {
                vec!["aaa".into()]
            };
            ds.private = i % 11 == 0;
            let created = ds.created_at;
            tx.insert_dataset(&mut ds, created).await.unwrap();
            if i % 2 == 0 {
                let mut r = Resource::blank(new_resource_id(), created);
                r.format = Some(if i % 4 == 0 { "csv" } else { "pdf" }.into());
                tx.insert_resource(&ds.id, &r, Position::At(0))
                    .await
                    .unwrap();
            }
        }
        tx.commit().await.unwrap();
        let mut filters = Vec::new();
        for change in 0..5 {
            let mut f = DatasetFilter::new(Visibility::Public);
            match change {
                0 => f.tags = vec!["aaa".into()],
                1 => f.tags = vec!["aaa".into(), "bbb".into()],
                2 => f.formats = vec!["csv".into(), "pdf".into()],
                3 => f.format_family = Some("other".into()),
                _ => {
                    f.tags = vec!["bbb".into()];
                    f.format_family = Some("tabular".into());
                }
            }
            filters.push(f);
        }
        for mut f in filters {
            for (sort, descending) in [
                (SortKey::Created, true),
                (SortKey::Title, false),
                (SortKey::LastUpdate, true),
            ] {
                (f.sort, f.descending) = (sort, descending);
                let mut seen = 0;
                for page in 1..=5 {
                    let page = PageQuery { page, page_size: 7 };
                    let ids = |rows: Vec<crate::store::DatasetRow>| {
                        rows.into_iter().map(|r| r.dataset.id).collect::<Vec<_>>()
                    };
                    let from_filters = store.list_page(&f, page, Drive::FromFilters).await;
                    let walking = store.list_page(&f, page, Drive::FromSortIndex).await;
                    let from_filters = ids(from_filters.unwrap());
                    assert_eq!(from_filters, ids(walking.unwrap()), "{f:?} {page:?}");
                    seen += from_filters.len();
                }
                assert!(seen > 0, "{f:?}");
            }
        }
    }
}
