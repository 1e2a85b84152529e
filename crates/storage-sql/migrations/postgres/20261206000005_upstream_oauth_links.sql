-- Accounts at upstream providers, each tied to a local user once the visitor registers or
-- signs in (before that, user_id is empty). A provider has one link per subject. Deleting the
-- provider (`config sync --prune`) or the user takes the links along.
CREATE TABLE upstream_oauth_links (
    upstream_oauth_link_id UUID NOT NULL PRIMARY KEY,
    upstream_oauth_provider_id TEXT NOT NULL
        REFERENCES upstream_oauth_providers (upstream_oauth_provider_id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    user_id UUID REFERENCES users (user_id) ON DELETE CASCADE,
    human_account_name TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT upstream_oauth_links_subject_unique UNIQUE (upstream_oauth_provider_id, subject)
);

CREATE INDEX upstream_oauth_links_user_id_idx ON upstream_oauth_links (user_id);
