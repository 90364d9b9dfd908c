-- An invitation by e-mail to an address with no account is kept (so that the answer to the
-- inviting admin does not tell whether an account exists): `user_id` becomes optional and `email`
-- records the address an invitation was made for. The account created later with that address
-- takes the invitation over (`ops::users::create_user`).
ALTER TABLE invitations ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE invitations ADD COLUMN email TEXT;

-- An organization's invitations (its admins' list); a user's (theirs); an address's (taken over
-- by the account created with it).
CREATE INDEX invitations_org ON invitations(org_id, created_at);
CREATE INDEX invitations_user ON invitations(user_id);
CREATE INDEX invitations_email ON invitations(email);
