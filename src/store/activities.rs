//! The activity log: one row inserted by each write, in its transaction ([`WriteTx::record`]), and
//! the pages of `GET /api/1/activity/`.
//!
//! A page is a walk down one index, newest first (`activities_created`, or the index of the
//! filter: `related_id`, `organization_id`, `actor_id`, `kind`), stopped after the page. Who may read
//! an entry follows its object as it is now: each entry the walk meets is checked against its
//! object's row by primary key (a private or deleted dataset, a deleted organization, another
//! user's account are skipped), never by filtering the whole log. The total is counted the same way
//! up to [`COUNT_LIMIT`], so that no list costs more as the log grows.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::search::Sql;
use super::{PageQuery, Store, StoreResult, WriteTx, db_ts, from_json, json_of, ts};
use crate::domain::activity::{Actor, NewActivity, RelatedKind};
use crate::domain::ids::new_object_id;
use crate::domain::time::now;

/// The most entries a list counts (and so pages through): beyond, narrow the list with a filter.
pub const COUNT_LIMIT: i64 = 10_000;

/// Who is reading the log: decides which entries about hidden objects appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityViewer {
    /// Everything (sysadmins).
    All,
    /// Entries about public, live datasets and live organizations.
    Public,
    /// The public entries, and those about the user's own account, the datasets they own, and the
    /// datasets and organizations of their organizations.
    User {
        user_id: String,
        org_ids: Vec<String>,
    },
}

/// The filters of a list (udata's `user`, `organization`, `related_to`, `key`).
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// The actor.
    pub user: Option<String>,
    /// Entries about the organization or its datasets (as recorded).
    pub organization: Option<String>,
    /// Entries about one object.
    pub related_to: Option<String>,
    /// Any of these keys.
    pub keys: Vec<String>,
    /// Oldest first (`sort=created_at`); newest first otherwise.
    pub ascending: bool,
}

/// One entry as read back, with its object's current name and slug (`None`: the object is gone).
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub key: String,
    pub actor_id: Option<String>,
    pub token_id: Option<String>,
    pub related_kind: RelatedKind,
    pub related_id: String,
    pub related_title: String,
    pub related_slug: Option<String>,
    pub organization_id: Option<String>,
    pub changes: Vec<String>,
    pub extras: Map<String, Value>,
}

fn activity_of(row: &AnyRow) -> StoreResult<ActivityRow> {
    let kind: String = row.try_get("related_kind")?;
    Ok(ActivityRow {
        id: row.try_get("id")?,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
        key: row.try_get("kind")?,
        actor_id: row.try_get("actor_id")?,
        token_id: row.try_get("token_id")?,
        related_kind: RelatedKind::parse(&kind).unwrap_or(RelatedKind::Dataset),
        related_id: row.try_get("related_id")?,
        related_title: row.try_get("title")?,
        related_slug: row.try_get("slug")?,
        organization_id: row.try_get("organization_id")?,
        changes: from_json(&row.try_get::<String, _>("changes")?)?,
        extras: from_json(&row.try_get::<String, _>("extras")?)?,
    })
}

/// Invitations (made, refused, canceled) name who was invited, even when they never joined: their
/// entries are the organization's members' (and sysadmins') only.
const NOT_INVITATION: &str = "a.kind NOT IN ('organization:member:invited', \
     'organization:invitation:refused', 'organization:invitation:canceled')";

/// The condition an entry `a` meets when `viewer` may read it: its object, found by primary key,
/// is visible to them.
fn visible(viewer: &ActivityViewer, sql: &mut Sql) -> String {
    let public_dataset = "(d.private = 0 AND d.deleted IS NULL)";
    let (dataset, organization, user) = match viewer {
        ActivityViewer::All => return "1 = 1".into(),
        ActivityViewer::Public => (
            public_dataset.to_string(),
            format!("o.deleted IS NULL AND {NOT_INVITATION}"),
            "1 = 0".to_string(),
        ),
        ActivityViewer::User { user_id, org_ids } => {
            let me = sql.text(user_id.clone());
            let orgs = if org_ids.is_empty() {
                "''".to_string()
            } else {
                org_ids
                    .iter()
                    .map(|o| sql.text(o.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            (
                format!("({public_dataset}) OR d.owner_id = {me} OR d.organization_id IN ({orgs})"),
                format!("((o.deleted IS NULL AND {NOT_INVITATION}) OR o.id IN ({orgs}))"),
                format!("a.related_id = {me}"),
            )
        }
    };
    // Scalar subqueries, not `EXISTS`: PostgreSQL would turn an `EXISTS` under `OR` into a hash of
    // every visible dataset, built on each request; a scalar one is a lookup by primary key per
    // entry met. `<> 0` rather than `= 1`: the planner then expects most entries visible (as they
    // are), and does not cost a page as a scan of the whole log. (No row, a purged object: NULL,
    // not visible.)
    format!(
        "((a.related_kind = 'Dataset' AND (
              SELECT CASE WHEN {dataset} THEN 1 ELSE 0 END FROM datasets d
              WHERE d.id = a.related_id) <> 0)
          OR (a.related_kind = 'Organization' AND (
              SELECT CASE WHEN {organization} THEN 1 ELSE 0 END FROM organizations o
              WHERE o.id = a.related_id) <> 0)
          OR (a.related_kind = 'User' AND {user}))"
    )
}

/// The filters' conditions on the entries `t`.
fn conditions(filter: &ActivityFilter, t: &str, sql: &mut Sql) -> String {
    let mut out = Vec::new();
    if let Some(user) = &filter.user {
        out.push(format!("{t}.actor_id = {}", sql.text(user.clone())));
    }
    if let Some(org) = &filter.organization {
        out.push(format!("{t}.organization_id = {}", sql.text(org.clone())));
    }
    if let Some(id) = &filter.related_to {
        out.push(format!("{t}.related_id = {}", sql.text(id.clone())));
    }
    match filter.keys.as_slice() {
        [] => {}
        // One key: a walk down `activities_kind`, in order.
        [key] => out.push(format!("{t}.kind = {}", sql.text(key.clone()))),
        // Several: SQLite would read every entry of those keys to sort them; walking the order's
        // index and keeping those keys stops after the page (`|| ''` keeps it off `activities_kind`).
        keys => {
            let keys: Vec<String> = keys.iter().map(|k| sql.text(k.clone())).collect();
            out.push(format!("({t}.kind || '') IN ({})", keys.join(", ")));
        }
    }
    if out.is_empty() {
        out.push("1 = 1".into());
    }
    out.join(" AND ")
}

impl Store {
    /// A page of the log under `filter`, as `viewer` may read it, and the total (at most
    /// [`COUNT_LIMIT`]).
    pub async fn list_activities(
        &self,
        filter: &ActivityFilter,
        viewer: &ActivityViewer,
        page: PageQuery,
    ) -> StoreResult<(Vec<ActivityRow>, i64)> {
        let mut sql = Sql::default();
        let text = format!(
            "SELECT COUNT(*) FROM ({}) c",
            matching(filter, viewer, &mut sql)
        );
        let total: i64 = sql.scalar(text).fetch_one(&self.read).await?;
        let offset = (page.page - 1).saturating_mul(page.page_size);
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let rows = self
            .activities_from(filter, viewer, offset, page.page_size.min(total - offset))
            .await?;
        Ok((rows, total))
    }

    /// The first `limit` entries of the log under `filter`, as `viewer` may read it, without the
    /// count a page of the API carries (a dataset's web page shows its newest changes).
    pub async fn newest_activities(
        &self,
        filter: &ActivityFilter,
        viewer: &ActivityViewer,
        limit: i64,
    ) -> StoreResult<Vec<ActivityRow>> {
        self.activities_from(filter, viewer, 0, limit).await
    }

    /// `limit` entries from `offset` of the log under `filter`, as `viewer` may read it.
    async fn activities_from(
        &self,
        filter: &ActivityFilter,
        viewer: &ActivityViewer,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<ActivityRow>> {
        let dir = direction(filter);
        let order = format!("a.created_at {dir}, a.id {dir}");
        let mut sql = Sql::default();
        let inner = matching(filter, viewer, &mut sql);
        let limit = sql.int(limit);
        let offset = sql.int(offset);
        let text = format!(
            "SELECT a.id, a.created_at, a.kind, a.actor_id, a.token_id, a.related_kind, a.related_id,
                    a.organization_id, a.changes, a.extras,
                    COALESCE(d.title, o.name, u.first_name || ' ' || u.last_name, a.related_title)
                        AS title,
                    COALESCE(d.slug, o.slug, u.slug) AS slug
             FROM (SELECT a.id FROM ({inner}) a
                   ORDER BY {order} LIMIT {limit} OFFSET {offset}) p
             JOIN activities a ON a.id = p.id
             LEFT JOIN datasets d ON a.related_kind = 'Dataset' AND d.id = a.related_id
             LEFT JOIN organizations o ON a.related_kind = 'Organization' AND o.id = a.related_id
             LEFT JOIN users u ON a.related_kind = 'User' AND u.id = a.related_id
             ORDER BY {order}"
        );
        let rows = sql.query(text).fetch_all(&self.read).await?;
        rows.iter().map(activity_of).collect()
    }
}

fn direction(filter: &ActivityFilter) -> &'static str {
    if filter.ascending { "ASC" } else { "DESC" }
}

/// The entries `viewer` may read among the newest (or oldest) `COUNT_LIMIT` matching `filter`,
/// walked down the filter's index; only then is each one's visibility looked up, so the cost is
/// bounded whatever the log holds, even when the caller may see none of what matches.
fn matching(filter: &ActivityFilter, viewer: &ActivityViewer, sql: &mut Sql) -> String {
    let dir = direction(filter);
    let where_ = conditions(filter, "m", sql);
    let cap = sql.int(COUNT_LIMIT);
    let visible = visible(viewer, sql);
    format!(
        "SELECT a.id, a.created_at FROM (SELECT m.id FROM activities m
           WHERE {where_} ORDER BY m.created_at {dir}, m.id {dir} LIMIT {cap}) w
         JOIN activities a ON a.id = w.id WHERE {visible}"
    )
}

impl WriteTx {
    /// Records `activity` by `actor`, now, in this transaction: it commits or rolls back with the
    /// write it tells of. One insert, whatever the size of the catalog or of the log.
    pub async fn record(&mut self, actor: &Actor, activity: &NewActivity) -> StoreResult<()> {
        insert_activity(&mut self.tx, actor, activity).await
    }
}

/// The insert behind [`WriteTx::record`], for the transactions the store runs itself (the purge).
pub(super) async fn insert_activity(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    activity: &NewActivity,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO activities (id, created_at, kind, actor_id, token_id, related_kind, related_id,
                                 related_title, organization_id, changes, extras)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new_object_id())
    .bind(db_ts(&now()))
    .bind(activity.key)
    .bind(actor.user_id.as_deref())
    .bind(actor.token_id.as_deref())
    .bind(activity.related_kind.as_str())
    .bind(activity.related_id.as_str())
    .bind(activity.related_title.as_str())
    .bind(activity.organization_id.as_deref())
    .bind(json_of(&activity.changes)?)
    .bind(json_of(&activity.extras)?)
    .execute(conn)
    .await?;
    Ok(())
}
