//! Organizations, members, invitations and partial-editor assignments. Reads are `Store` methods;
//! writes are `WriteTx` methods, so that an operation makes its checks and its writes in one
//! transaction.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::documents::{CURRENT, decode, encode};
use super::users::{user_columns, user_of};
use super::{SlugTable, Store, StoreError, StoreResult, WriteTx, db_ts, placeholders, ts};
use crate::domain::organization::{Invitation, Member, Organization, Role};
use crate::domain::slug::make_slug;
use crate::domain::user::User;

/// A member with their user, as the organization JSON lists them.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub member: Member,
    pub user: User,
}

pub(super) fn org_of(row: &AnyRow) -> StoreResult<Organization> {
    decode(
        row.try_get("doc_version")?,
        &row.try_get::<String, _>("doc")?,
    )
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

const INVITATION_COLUMNS: &str = "id, org_id, user_id, email, role, comment, status, created_at";

fn invitation_of(row: &AnyRow) -> StoreResult<Invitation> {
    let role: String = row.try_get("role")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {role}")))?,
        comment: row.try_get("comment")?,
        status: row.try_get("status")?,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
    })
}

impl Store {
    /// By id, by slug, or by an old slug (then `Lookup::Moved`).
    pub async fn find_organization(&self, key: &str) -> StoreResult<super::Lookup<Organization>> {
        let row = sqlx::query("SELECT doc, doc_version FROM organizations WHERE id = $1 OR slug = $1 ORDER BY (id = $1) DESC LIMIT 1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
        if let Some(row) = row {
            return Ok(super::Lookup::Found(org_of(&row)?));
        }
        let moved = sqlx::query(
            "SELECT o.doc, o.doc_version FROM slug_redirects r JOIN organizations o ON o.id = r.target_id
             WHERE r.kind = 'organization' AND r.old_slug = $1",
        )
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(match moved {
            Some(row) => super::Lookup::Moved(org_of(&row)?),
            None => super::Lookup::Missing,
        })
    }

    /// Organizations by id, in no particular order (deleted ones included).
    pub async fn organizations_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Organization>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT doc, doc_version FROM organizations WHERE id IN ({})",
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
            "SELECT doc, doc_version FROM organizations WHERE deleted IS NULL ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
        )
        .bind(page_size)
        .bind((page - 1) * page_size)
        .fetch_all(&self.read)
        .await?;
        Ok((rows.iter().map(org_of).collect::<StoreResult<_>>()?, total))
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

    /// An organization's invitations, newest first; only those of `status` when given.
    pub async fn list_org_invitations(
        &self,
        org_id: &str,
        status: Option<&str>,
    ) -> StoreResult<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 AND ($2 = '' OR status = $2)
             ORDER BY created_at DESC, id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(status.unwrap_or(""))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(invitation_of)
            .collect()
    }

    /// A user's pending invitations into organizations that are not deleted, newest first.
    pub async fn list_pending_invitations_of(&self, user_id: &str) -> StoreResult<Vec<Invitation>> {
        let sql = format!(
            "SELECT {} FROM invitations i JOIN organizations o ON o.id = i.org_id
             WHERE i.user_id = $1 AND i.status = 'pending' AND o.deleted IS NULL
             ORDER BY i.created_at DESC, i.id",
            INVITATION_COLUMNS
                .split(", ")
                .map(|c| format!("i.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(invitation_of)
            .collect()
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

impl WriteTx {
    /// Inserts a new organization and its first member (`admin`), giving the organization a free
    /// slug made from its name.
    pub async fn insert_organization(
        &mut self,
        org: &mut Organization,
        admin: &Member,
    ) -> StoreResult<()> {
        org.slug = self
            .allocate_slug(SlugTable::Organizations, &make_slug(&org.name), None)
            .await?;
        sqlx::query("INSERT INTO organizations (id, slug, name, doc, doc_version, created_at, deleted) VALUES ($1, $2, $3, $4, $5, $6, NULL)")
            .bind(&org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(encode(&*org)?)
            .bind(CURRENT)
            .bind(db_ts(&org.created_at))
            .execute(&mut *self.tx)
            .await?;
        self.write_organization_search(org, None).await?;
        sqlx::query("UPDATE organizations SET search_version = $2 WHERE id = $1")
            .bind(&org.id)
            .bind(super::search::SEARCH_VERSION)
            .execute(&mut *self.tx)
            .await?;
        self.upsert_member(admin).await
    }

    /// The organization `id`, locked until the transaction ends (`None`: no such organization).
    /// Membership writes take this lock too, so that what they checked still holds at commit.
    pub async fn lock_organization(&mut self, id: &str) -> StoreResult<Option<Organization>> {
        let sql = format!(
            "SELECT doc, doc_version FROM organizations WHERE id = $1{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(org_of).transpose()
    }

    /// Saves `org`, read as `before` in this transaction. A changed name renames the slug (the old
    /// one then redirects); any other change to `slug` is ignored.
    pub async fn update_organization(
        &mut self,
        before: &Organization,
        org: &mut Organization,
    ) -> StoreResult<()> {
        org.slug = before.slug.clone();
        if make_slug(&org.name) != make_slug(&before.name) {
            org.slug = self
                .allocate_slug(
                    SlugTable::Organizations,
                    &make_slug(&org.name),
                    Some(&org.id),
                )
                .await?;
        }
        sqlx::query(
            "UPDATE organizations SET slug = $2, name = $3, doc = $4, doc_version = $5, deleted = $6 WHERE id = $1",
        )
        .bind(&org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(encode(&*org)?)
        .bind(CURRENT)
        .bind(org.deleted.as_ref().map(db_ts))
        .execute(&mut *self.tx)
        .await?;
        if before.slug != org.slug {
            self.drop_slug_redirect("organization", &org.slug).await?;
            self.insert_slug_redirect("organization", &before.slug, &org.id)
                .await?;
        }
        // A new name reaches the search rows of the organization's datasets in this transaction.
        self.write_organization_search(org, Some(before)).await
    }

    /// A member of `org_id` named by user id or slug, with their user (the first to join, should
    /// an id and a slug both match).
    pub async fn find_member(
        &mut self,
        org_id: &str,
        user_key: &str,
    ) -> StoreResult<Option<MemberRow>> {
        let sql = format!(
            "SELECT m.org_id, m.user_id, m.role, m.since, {} FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 AND (u.id = $2 OR u.slug = $2) ORDER BY m.since, m.user_id LIMIT 1",
            user_columns("u")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .bind(user_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.map(|row| {
            Ok(MemberRow {
                member: member_of(&row)?,
                user: user_of(&row)?,
            })
        })
        .transpose()
    }

    /// Is user `user_id` a member of `org_id`?
    pub async fn is_member(&mut self, org_id: &str, user_id: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM members WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(user_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// Adds a member, or changes the role of an existing one (who then keeps their `since`).
    pub async fn upsert_member(&mut self, m: &Member) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO members (org_id, user_id, role, since) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(&m.org_id)
        .bind(&m.user_id)
        .bind(m.role.as_str())
        .bind(db_ts(&m.since))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Removes user `user_id` from organization `org_id`.
    pub async fn delete_member(&mut self, org_id: &str, user_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM members WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Stores a new invitation.
    pub async fn insert_invitation(&mut self, i: &Invitation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invitations (id, org_id, user_id, email, role, comment, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&i.id)
        .bind(&i.org_id)
        .bind(&i.user_id)
        .bind(&i.email)
        .bind(i.role.as_str())
        .bind(&i.comment)
        .bind(&i.status)
        .bind(db_ts(&i.created_at))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The invitation `id`, locked until the transaction ends (`None`: no such invitation).
    pub async fn lock_invitation(&mut self, id: &str) -> StoreResult<Option<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(invitation_of).transpose()
    }

    /// Ends (`canceled`) the pending invitations of organization `org_id` made for user `user_id`
    /// or for address `email`: a newer invitation replaces them, and a removed member's are void.
    pub async fn cancel_pending_invitations(
        &mut self,
        org_id: &str,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE invitations SET status = 'canceled'
             WHERE org_id = $1 AND status = 'pending' AND (user_id = $2 OR email = lower($3))",
        )
        .bind(org_id)
        .bind(user_id.unwrap_or(""))
        .bind(email.unwrap_or(""))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Gives the pending invitations made for address `email` with no account to user `user_id`,
    /// the account just created with that address.
    pub async fn claim_email_invitations(&mut self, user_id: &str, email: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE invitations SET user_id = $1
             WHERE user_id IS NULL AND status = 'pending' AND email = lower($2)",
        )
        .bind(user_id)
        .bind(email)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// How many administrators organization `org_id` has.
    pub async fn count_admins(&mut self, org_id: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE org_id = $1 AND role = 'admin'")
                .bind(org_id)
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    /// Records what became of invitation `id` (`accepted`, `refused`, `canceled`).
    pub async fn set_invitation_status(&mut self, id: &str, status: &str) -> StoreResult<()> {
        sqlx::query("UPDATE invitations SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(status)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
