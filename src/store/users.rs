//! Users. Reads are `Store` methods; writes are `WriteTx` methods (see `ops::users`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SlugTable, Store, StoreResult, WriteTx, db_ts, placeholders, ts, ts_opt};
use crate::domain::slug::make_slug;
use crate::domain::user::User;

const COLUMNS: &str =
    "id, slug, email, first_name, last_name, website, about, active, sysadmin, created_at, deleted";

/// `COLUMNS` qualified by a table alias, for queries that join users to another table.
pub(super) fn user_columns(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn user_of(row: &AnyRow) -> StoreResult<User> {
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
    /// Activates or deactivates an account (an inactive user's tokens are refused).
    pub async fn set_user_active(&self, id: &str, active: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(active))
            .execute(&self.write)
            .await?;
        self.changed().await
    }

    /// A user by id or slug.
    pub async fn find_user(&self, id_or_slug: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1 OR slug = $1 LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_or_slug)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    /// A user by e-mail address, whatever its case.
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

    /// How many accounts exist (none: first start).
    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }
}

impl WriteTx {
    /// Inserts a user, giving them a free slug made from `name`.
    pub async fn insert_user(&mut self, u: &mut User, name: &str) -> StoreResult<()> {
        u.slug = self
            .allocate_slug(SlugTable::Users, &make_slug(name), None)
            .await?;
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Is `email` an account's address, whatever its case? Transactions asking about the same
    /// address wait for each other until they end: the unique index compares case-sensitively, so it
    /// alone would let two simultaneous creations differing only in case both in.
    pub async fn email_in_use(&mut self, email: &str) -> StoreResult<bool> {
        let lock = format!("user-email:{}", email.to_lowercase());
        self.dialect.lock_name(&mut self.tx, &lock).await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE lower(email) = lower($1)")
                .bind(email)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// The user `id`, locked until the transaction ends (`None`: no such user).
    pub async fn lock_user(&mut self, id: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE id = $1{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    /// Saves a user's profile fields (e-mail, names, website, about).
    pub async fn update_user(&mut self, u: &User) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET email = $2, first_name = $3, last_name = $4, website = $5, about = $6 WHERE id = $1",
        )
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.first_name)
        .bind(&u.last_name)
        .bind(&u.website)
        .bind(&u.about)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
