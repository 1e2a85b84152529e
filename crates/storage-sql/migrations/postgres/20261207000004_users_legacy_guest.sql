-- Guest accounts moved from Synapse (`syn2mas`), as MAS keeps them (`legacy_guest` in the
-- Admin API): no guest account is made here, and a guest has no password and no session.
ALTER TABLE users ADD COLUMN legacy_guest BOOLEAN NOT NULL DEFAULT FALSE;
