-- Device authorization requests (RFC 8628), with both codes stored only as their SHA-256 (hex).
-- The stage is told by which of fulfilled_at / rejected_at / exchanged_at are set, and the
-- checks keep those columns describing exactly one stage. `previous_polled_at` is the poll
-- before `last_polled_at`, so that recording a poll returns the one before in one statement.
CREATE TABLE oauth2_device_code_grants (
    oauth2_device_code_grant_id UUID NOT NULL PRIMARY KEY,
    oauth2_client_id UUID NOT NULL
        REFERENCES oauth2_clients (oauth2_client_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    device_code_hash TEXT NOT NULL,
    user_code_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    last_polled_at TIMESTAMPTZ,
    previous_polled_at TIMESTAMPTZ,
    ip TEXT,
    user_agent TEXT,
    user_session_id UUID REFERENCES user_sessions (user_session_id) ON DELETE CASCADE,
    user_id UUID REFERENCES users (user_id) ON DELETE CASCADE,
    fulfilled_at TIMESTAMPTZ,
    rejected_at TIMESTAMPTZ,
    oauth2_session_id UUID REFERENCES oauth2_sessions (oauth2_session_id) ON DELETE CASCADE,
    exchanged_at TIMESTAMPTZ,
    CONSTRAINT oauth2_device_code_grants_device_code_hash_unique UNIQUE (device_code_hash),
    CONSTRAINT oauth2_device_code_grants_fulfilled_whole
        CHECK ((fulfilled_at IS NULL) = (user_session_id IS NULL)
            AND (fulfilled_at IS NULL) = (user_id IS NULL)),
    CONSTRAINT oauth2_device_code_grants_fulfilled_or_rejected
        CHECK (fulfilled_at IS NULL OR rejected_at IS NULL),
    CONSTRAINT oauth2_device_code_grants_exchanged_whole
        CHECK ((exchanged_at IS NULL) = (oauth2_session_id IS NULL)),
    CONSTRAINT oauth2_device_code_grants_exchanged_after_fulfilled
        CHECK (exchanged_at IS NULL OR fulfilled_at IS NOT NULL)
);

-- A user code identifies one pending grant; once that grant is decided, the code may come up
-- again.
CREATE UNIQUE INDEX oauth2_device_code_grants_pending_user_code_hash_unique
    ON oauth2_device_code_grants (user_code_hash)
    WHERE fulfilled_at IS NULL AND rejected_at IS NULL;
CREATE INDEX oauth2_device_code_grants_user_code_hash_idx
    ON oauth2_device_code_grants (user_code_hash);
CREATE INDEX oauth2_device_code_grants_oauth2_client_id_idx
    ON oauth2_device_code_grants (oauth2_client_id);
CREATE INDEX oauth2_device_code_grants_user_session_id_idx
    ON oauth2_device_code_grants (user_session_id);
CREATE INDEX oauth2_device_code_grants_user_id_idx ON oauth2_device_code_grants (user_id);
CREATE INDEX oauth2_device_code_grants_oauth2_session_id_idx
    ON oauth2_device_code_grants (oauth2_session_id);
