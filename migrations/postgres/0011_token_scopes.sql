-- What a token allows (beyond udata, whose tokens all hold `admin`): a JSON array of scopes,
-- `admin`, `read`, `organization:<id>`, `dataset:<id>` (see `domain::permissions::Scope`). Tokens
-- made before keep everything their user may do, as they did.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '["admin"]';
