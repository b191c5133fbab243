-- +goose Up
-- Issued access and refresh tokens, by the SHA-256 of their value (the
-- value itself is never stored). revoked_at is NULL while live.
CREATE TABLE auth_tokens (
    hash       bytea PRIMARY KEY,
    user_id    text NOT NULL,
    kind       text NOT NULL,
    session_id text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);
CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at);

-- Browser-extension sessions (X-Session-Id); user_id is '' before login.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    client_id  text NOT NULL,
    user_id    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Troubleshooting cases. Ids are global (messages refer to a case by id
-- alone); every read is also filtered by owner.
CREATE TABLE cases (
    id           text PRIMARY KEY,
    owner        text NOT NULL,
    title        text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT '',
    cluster      text NOT NULL DEFAULT '',
    current_turn integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX cases_owner_updated ON cases (owner, updated_at DESC, id);

-- A case's transcript. sealed is the content under key_id, bound to its
-- case, sequence number and message id.
CREATE TABLE messages (
    case_id     text NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    id          text NOT NULL,
    turn_number integer NOT NULL DEFAULT 0,
    role        text NOT NULL,
    key_id      text NOT NULL,
    sealed      bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Responses replayed for a retried Idempotency-Key; the body is sealed.
CREATE TABLE idempotency (
    owner      text NOT NULL,
    key        text NOT NULL,
    route      text NOT NULL,
    status     integer NOT NULL,
    location   text NOT NULL DEFAULT '',
    key_id     text NOT NULL,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_created ON idempotency (created_at);

-- +goose Down
DROP TABLE idempotency;
DROP TABLE messages;
DROP TABLE cases;
DROP TABLE sessions;
DROP TABLE auth_tokens;
