-- Passkeys (WebAuthn credentials), several per user. The credential ID the authenticator chose
-- is unique across the server (a sign-in finds its passkey by it); the user handle is random,
-- the same for all of a user's passkeys; the static state (public key, algorithm) and the
-- dynamic state (signature counter, backup flags) are as `webauthn_rp` encodes them. All
-- binary values are base64url.
CREATE TABLE user_passkeys (
    user_passkey_id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,
    user_handle TEXT NOT NULL,
    static_state TEXT NOT NULL,
    dynamic_state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    CONSTRAINT user_passkeys_credential_id_unique UNIQUE (credential_id)
) STRICT;

CREATE INDEX user_passkeys_user_id_idx ON user_passkeys (user_id);

-- The WebAuthn ceremonies under way, keyed by their challenge: taken (deleted) by the answer,
-- once; the ones nobody answered are removed by the cleanup job.
CREATE TABLE user_passkey_challenges (
    challenge TEXT NOT NULL PRIMARY KEY,
    user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE INDEX user_passkey_challenges_created_at_idx ON user_passkey_challenges (created_at);
