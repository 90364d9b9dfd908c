-- Requests counted per client (`subject`: an address, a /64 network, or a token's hash) and per
-- minute (`window_start`: minutes since the epoch), so that the nodes of a portal share their rate
-- limits. Each node adds what it counted about once a second in one statement and reads the totals
-- back; windows older than the previous minute are deleted. (SQLite serves one node: its counts stay
-- in memory, and this table stays empty.)
CREATE TABLE rate_limits (
    subject       TEXT    NOT NULL,
    window_start  INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
