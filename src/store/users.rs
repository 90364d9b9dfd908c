//! Users.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SlugTable, Store, StoreResult, db_ts, free_slug, placeholders, ts, ts_opt};
use crate::domain::user::User;

const COLUMNS: &str =
    "id, slug, email, first_name, last_name, website, about, active, sysadmin, created_at, deleted";

fn user_of(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        email: row.try_get("email")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        website: row.try_get("website")?,
        about: row.try_get("about")?,
        active: row.try_get::<i64, _>("active")? != 0,
        sysadmin: row.try_get::<i64, _>("sysadmin")? != 0,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
        deleted: ts_opt(row.try_get("deleted")?)?,
    })
}

impl Store {
    pub async fn insert_user(&self, u: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, slug, email, first_name, last_name, website, about, active, sysadmin, created_at, deleted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        )
        .bind(&u.id)
        .bind(&u.slug)
        .bind(&u.email)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.website)
        .bind(&u.about)
        .bind(i64::from(u.active))
        .bind(i64::from(u.sysadmin))
        .bind(db_ts(&u.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn update_user(&self, u: &User) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET email = $2, first_name = $3, last_name = $4, website = $5, about = $6 WHERE id = $1",
        )
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.website)
        .bind(&u.about)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Activates or deactivates an account (an inactive user's tokens are refused).
    pub async fn set_user_active(&self, id: &str, active: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(active))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn find_user(&self, id_or_slug: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1 OR slug = $1 LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_or_slug)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    pub async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    /// Users by id, in no particular order (one query for a whole page of datasets).
    pub async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&self.read).await?.iter().map(user_of).collect()
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }

    /// A slug not yet used by any user, from `base` with `-1`, `-2`… suffixes.
    pub async fn free_user_slug(&self, base: &str) -> StoreResult<String> {
        free_slug(&self.read, SlugTable::Users, base, None).await
    }
}
