//! API tokens (stored as keyed hashes). Reads, and the record of a token's use, are `Store`
//! methods; issuing and revoking are `WriteTx` methods (see `ops::tokens`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, WriteTx, db_ts, from_json, json_of, ts, ts_opt};
use crate::domain::api_token::ApiToken;
use crate::domain::permissions::Scope;

const COLUMNS: &str = "id, user_id, name, token_prefix, created_at, last_used_at, user_agents, revoked_at, expires_at, scopes";

/// A token's scopes as stored: a JSON array of their texts (`Scope`'s `Display`).
fn scopes_of(text: &str) -> StoreResult<Vec<Scope>> {
    from_json::<Vec<String>>(text)?
        .iter()
        .map(|s| {
            Scope::parse(s)
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown token scope {s:?}")))
        })
        .collect()
}

fn token_of(row: &AnyRow) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        token_prefix: row.try_get("token_prefix")?,
        created_at: ts(&row.try_get::<String, _>("created_at")?)?,
        last_used_at: ts_opt(row.try_get("last_used_at")?)?,
        user_agents: from_json(&row.try_get::<String, _>("user_agents")?)?,
        revoked_at: ts_opt(row.try_get("revoked_at")?)?,
        expires_at: ts_opt(row.try_get("expires_at")?)?,
        scopes: scopes_of(&row.try_get::<String, _>("scopes")?)?,
    })
}

impl Store {
    /// The fingerprint of the token key the database's tokens are made with: the one recorded, or
    /// `fingerprint` when none was (the first start records it).
    pub async fn adopt_token_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO installation (name, value) VALUES ('token_key_fingerprint', $1)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(fingerprint)
        .execute(&self.write)
        .await?;
        Ok(sqlx::query_scalar(
            "SELECT value FROM installation WHERE name = 'token_key_fingerprint'",
        )
        .fetch_one(&self.write)
        .await?)
    }

    /// The token whose keyed hash is `hash` (how a request's key is recognised).
    pub async fn find_api_token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(token_of).transpose()
    }

    /// Active (unrevoked) tokens of a user, oldest first.
    pub async fn list_api_tokens(&self, user_id: &str) -> StoreResult<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(token_of)
            .collect()
    }

    /// Records a token's last use and user agents. Not an operation: bookkeeping of authentication,
    /// written on its own and at most once a minute (see `auth`).
    pub async fn touch_api_token(&self, t: &ApiToken) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2, user_agents = $3 WHERE id = $1")
            .bind(&t.id)
            .bind(t.last_used_at.as_ref().map(db_ts))
            .bind(json_of(&t.user_agents)?)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

impl WriteTx {
    /// Stores a new token as its keyed hash (the plaintext is never stored).
    pub async fn insert_api_token(&mut self, t: &ApiToken, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, token_prefix, created_at, user_agents, expires_at, scopes)
             VALUES ($1, $2, $3, $4, $5, $6, '[]', $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.name)
        .bind(hash)
        .bind(&t.token_prefix)
        .bind(db_ts(&t.created_at))
        .bind(t.expires_at.as_ref().map(db_ts))
        .bind(json_of(
            &t.scopes.iter().map(Scope::to_string).collect::<Vec<_>>(),
        )?)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The token `id`, locked until the transaction ends (`None`: no such token).
    pub async fn lock_api_token(&mut self, id: &str) -> StoreResult<Option<ApiToken>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE id = $1{}",
            self.dialect.for_update()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(token_of).transpose()
    }

    /// Marks token `id` revoked at `at`; a token revoked already keeps its first date.
    pub async fn revoke_api_token(
        &mut self,
        id: &str,
        at: &chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(db_ts(at))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
