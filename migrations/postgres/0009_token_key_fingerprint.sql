-- Facts about this installation that every node must agree on. `token_key_fingerprint` is an HMAC of
-- a fixed label under the token key (never the key): written by the first node that starts, compared
-- by every later one, so that a node given another key (a missing RUDATA_SECRET_KEY, a new
-- secret.key) refuses to start instead of answering 401 to every token.
CREATE TABLE installation (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
