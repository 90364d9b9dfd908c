//! Organizations, members, invitations and partial-editor assignments.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{
    SlugTable, Store, StoreError, StoreResult, db_ts, free_slug, from_json, json_of, placeholders,
    ts,
};
use crate::domain::organization::{Invitation, Member, Organization, Role};
use crate::domain::slug::make_slug;
use crate::domain::user::User;

/// A member with their user, as the organization JSON lists them.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub member: Member,
    pub user: User,
}

fn org_of(row: &AnyRow) -> StoreResult<Organization> {
    from_json(&row.try_get::<String, _>("doc")?)
}

fn member_of(row: &AnyRow) -> StoreResult<Member> {
    let role: String = row.try_get("role")?;
    Ok(Member {
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {role}")))?,
        since: ts(&row.try_get::<String, _>("since")?)?,
    })
}

fn invitation_of(row: &AnyRow) -> StoreResult<Invitation> {
    let role: String = row.try_get("role")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {role}")))?,
        comment: row.try_get("comment")?,
        status: row.try_get("status")?,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

impl Store {
    /// Creates the organization with `admin` as its first member (role admin).
    pub async fn insert_organization(&self, org: &Organization, admin_id: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("INSERT INTO organizations (id, slug, name, doc, created_at, deleted) VALUES ($1, $2, $3, $4, $5, NULL)")
            .bind(&org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(json_of(org)?)
            .bind(db_ts(&org.created_at))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO members (org_id, user_id, role, since) VALUES ($1, $2, 'admin', $3)",
        )
        .bind(&org.id)
        .bind(admin_id)
        .bind(db_ts(&org.created_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs `change` on the current state of organization `id` inside one locked transaction and
    /// saves the result; a changed name renames the slug (the old one then redirects).
    pub async fn edit_organization<T, E, F>(
        &self,
        id: &str,
        change: F,
    ) -> Result<(T, Organization), E>
    where
        F: FnOnce(&mut Organization) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut tx = self.write.begin().await.map_err(StoreError::from)?;
        let lock = if self.dialect == super::Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT doc FROM organizations WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(StoreError::NotFound)?;
        let before = org_of(&row)?;
        let mut org = before.clone();
        let out = change(&mut org)?;
        if make_slug(&org.name) != make_slug(&before.name) {
            org.slug = free_slug(
                &mut *tx,
                SlugTable::Organizations,
                &make_slug(&org.name),
                Some(id),
            )
            .await?;
        } else {
            org.slug = before.slug.clone();
        }
        sqlx::query(
            "UPDATE organizations SET slug = $2, name = $3, doc = $4, deleted = $5 WHERE id = $1",
        )
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(json_of(&org)?)
        .bind(org.deleted.as_ref().map(db_ts))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if before.slug != org.slug {
            sqlx::query(
                "INSERT INTO slug_redirects (kind, old_slug, target_id) VALUES ('organization', $1, $2)
                 ON CONFLICT (kind, old_slug) DO UPDATE SET target_id = excluded.target_id",
            )
            .bind(&before.slug)
            .bind(&org.id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok((out, org))
    }

    /// By id, by slug, or by an old slug (then `Lookup::Moved`).
    pub async fn find_organization(&self, key: &str) -> StoreResult<super::Lookup<Organization>> {
        let row = sqlx::query("SELECT doc FROM organizations WHERE id = $1 OR slug = $1 ORDER BY (id = $1) DESC LIMIT 1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
        if let Some(row) = row {
            return Ok(super::Lookup::Found(org_of(&row)?));
        }
        let moved: Option<String> = sqlx::query_scalar(
            "SELECT o.slug FROM slug_redirects r JOIN organizations o ON o.id = r.target_id
             WHERE r.kind = 'organization' AND r.old_slug = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(moved.map_or(super::Lookup::Missing, super::Lookup::Moved))
    }

    pub async fn organizations_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Organization>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT doc FROM organizations WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&self.read).await?.iter().map(org_of).collect()
    }

    /// A page of organizations (not deleted), newest first, and the total.
    pub async fn list_organizations(
        &self,
        page: i64,
        page_size: i64,
    ) -> StoreResult<(Vec<Organization>, i64)> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE deleted IS NULL")
                .fetch_one(&self.read)
                .await?;
        let rows = sqlx::query(
            "SELECT doc FROM organizations WHERE deleted IS NULL ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
        )
        .bind(page_size)
        .bind((page - 1) * page_size)
        .fetch_all(&self.read)
        .await?;
        Ok((rows.iter().map(org_of).collect::<StoreResult<_>>()?, total))
    }

    pub async fn free_organization_slug(&self, base: &str) -> StoreResult<String> {
        free_slug(&self.read, SlugTable::Organizations, base, None).await
    }

    /// Members with their users, in order of joining.
    pub async fn list_members(&self, org_id: &str) -> StoreResult<Vec<MemberRow>> {
        let rows = sqlx::query("SELECT org_id, user_id, role, since FROM members WHERE org_id = $1 ORDER BY since, user_id")
            .bind(org_id)
            .fetch_all(&self.read)
            .await?;
        let members: Vec<Member> = rows.iter().map(member_of).collect::<StoreResult<_>>()?;
        let ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect();
        let users = self.users_by_ids(&ids).await?;
        Ok(members
            .into_iter()
            .filter_map(|member| {
                let user = users.iter().find(|u| u.id == member.user_id)?.clone();
                Some(MemberRow { member, user })
            })
            .collect())
    }

    /// Every membership of a user (used to decide what the caller may see and edit).
    pub async fn memberships_of(&self, user_id: &str) -> StoreResult<Vec<Member>> {
        sqlx::query("SELECT org_id, user_id, role, since FROM members WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(member_of)
            .collect()
    }

    /// Adds a member, or changes the role of an existing one.
    pub async fn upsert_member(&self, m: &Member) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO members (org_id, user_id, role, since) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(&m.org_id)
        .bind(&m.user_id)
        .bind(m.role.as_str())
        .bind(db_ts(&m.since))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn delete_member(&self, org_id: &str, user_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM members WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn insert_invitation(&self, i: &Invitation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invitations (id, org_id, user_id, role, comment, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&i.id)
        .bind(&i.org_id)
        .bind(&i.user_id)
        .bind(i.role.as_str())
        .bind(&i.comment)
        .bind(&i.status)
        .bind(db_ts(&i.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn find_invitation(&self, id: &str) -> StoreResult<Option<Invitation>> {
        let row = sqlx::query("SELECT id, org_id, user_id, role, comment, status, created_at FROM invitations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(invitation_of).transpose()
    }

    /// Marks the invitation accepted and adds the member, atomically.
    pub async fn accept_invitation(
        &self,
        inv: &Invitation,
        now: &chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let changed = sqlx::query(
            "UPDATE invitations SET status = 'accepted' WHERE id = $1 AND status = 'pending'",
        )
        .bind(&inv.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict("invitation already handled".into()));
        }
        sqlx::query(
            "INSERT INTO members (org_id, user_id, role, since) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(&inv.org_id)
        .bind(&inv.user_id)
        .bind(inv.role.as_str())
        .bind(db_ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn assign_dataset(
        &self,
        org_id: &str,
        user_id: &str,
        dataset_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO assignments (org_id, user_id, dataset_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(dataset_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The datasets a partial editor is assigned to.
    pub async fn list_assigned_datasets(&self, user_id: &str) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT dataset_id FROM assignments WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.read)
                .await?,
        )
    }
}
