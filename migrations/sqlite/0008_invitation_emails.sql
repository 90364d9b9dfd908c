-- An invitation by e-mail to an address with no account is kept (so that the answer to the
-- inviting admin does not tell whether an account exists): `user_id` becomes optional and `email`
-- records the address an invitation was made for. The account created later with that address
-- takes the invitation over (`ops::users::create_user`).
-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt (nothing references it).
CREATE TABLE invitations_new (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
    email       TEXT,
    role        TEXT NOT NULL,
    comment     TEXT,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
INSERT INTO invitations_new (id, org_id, user_id, email, role, comment, status, created_at)
    SELECT id, org_id, user_id, NULL, role, comment, status, created_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;

-- An organization's invitations (its admins' list); a user's (theirs); an address's (taken over
-- by the account created with it).
CREATE INDEX invitations_org ON invitations(org_id, created_at);
CREATE INDEX invitations_user ON invitations(user_id);
CREATE INDEX invitations_email ON invitations(email);
