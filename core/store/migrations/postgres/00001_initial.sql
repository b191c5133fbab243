-- +goose Up
CREATE TABLE clusters (
    name       text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- An enabled plugin instance. secret_refs names where secrets come from
-- (env var or file); secret values are never stored.
CREATE TABLE integrations (
    cluster        text NOT NULL REFERENCES clusters (name) ON DELETE CASCADE,
    name           text NOT NULL,
    plugin         text NOT NULL,
    plugin_version text NOT NULL DEFAULT '',
    plugin_digest  text NOT NULL DEFAULT '',
    config         jsonb NOT NULL DEFAULT '{}',
    secret_refs    jsonb NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cluster, name)
);

CREATE TABLE ingest_cursors (
    cluster     text NOT NULL,
    integration text NOT NULL,
    watermark   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (cluster, integration)
);

-- Raw records, one partition per UTC day (records_pYYYYMMDD). sealed is
-- AES-256-GCM of the body, host, attributes, native id and link under key_id.
-- dedup_key (SHA-256 of cluster, integration and the native id, or of
-- cluster, integration, timestamp, content and ordinal) makes a second copy
-- of a record a no-op.
CREATE TABLE records (
    cluster     text     NOT NULL,
    integration text     NOT NULL,
    ts          timestamptz NOT NULL,
    dedup_key   bytea    NOT NULL,
    severity    smallint NOT NULL,
    service     text     NOT NULL,
    template_id text     NOT NULL,
    run_id      bigint NOT NULL DEFAULT 0,
    key_id      text     NOT NULL,
    sealed      bytea    NOT NULL,
    PRIMARY KEY (dedup_key, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE templates (
    cluster     text NOT NULL,
    integration text NOT NULL,
    template_id text NOT NULL,
    template    text NOT NULL DEFAULT '',
    severity    smallint NOT NULL DEFAULT 0,
    count       bigint NOT NULL DEFAULT 0,
    first_seen  timestamptz,
    last_seen   timestamptz,
    PRIMARY KEY (cluster, integration, template_id)
);

CREATE TABLE analysis_runs (
    id                 bigint PRIMARY KEY,
    cluster            text NOT NULL,
    integration        text NOT NULL,
    window_from        timestamptz,
    window_to          timestamptz,
    status             text NOT NULL,
    attempt            integer NOT NULL DEFAULT 0,
    records_read       bigint NOT NULL DEFAULT 0,
    records_stored     bigint NOT NULL DEFAULT 0,
    duplicates_skipped bigint NOT NULL DEFAULT 0,
    findings           bigint NOT NULL DEFAULT 0,
    error              text NOT NULL DEFAULT '',
    started_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    finished_at        timestamptz
);

-- examples_sealed holds the raw example lines, sealed like records.
CREATE TABLE findings (
    run_id          bigint NOT NULL,
    seq             integer NOT NULL,
    cluster         text NOT NULL,
    integration     text NOT NULL,
    kind            text NOT NULL,
    template_id     text NOT NULL,
    template        text NOT NULL,
    severity        smallint NOT NULL,
    service         text NOT NULL,
    first_seen      timestamptz,
    last_seen       timestamptz,
    count           bigint NOT NULL,
    score           double precision NOT NULL,
    explanation     text NOT NULL,
    key_id          text NOT NULL,
    examples_sealed bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (run_id, cluster, integration, seq)
);
CREATE INDEX findings_cluster_last_seen ON findings (cluster, last_seen);

CREATE TABLE analyzer_states (
    cluster     text NOT NULL,
    integration text NOT NULL,
    version     bigint NOT NULL,
    key_id      text NOT NULL,
    sealed      bytea NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (cluster, integration)
);

CREATE TABLE leases (
    key        text NOT NULL,
    slot       integer NOT NULL,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key, slot)
);

-- One known plaintext sealed per key id, to tell a wrong key at start-up.
CREATE TABLE encryption_canaries (
    key_id     text PRIMARY KEY,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- Per-database secrets, sealed by the keyring. 'dedup' keys the records'
-- identity hashes (HMAC), so a dump cannot confirm a guessed log line.
CREATE TABLE store_secrets (
    name   text PRIMARY KEY,
    key_id text NOT NULL,
    sealed bytea NOT NULL
);

-- +goose Down
DROP TABLE store_secrets;
DROP TABLE encryption_canaries;
DROP TABLE leases;
DROP TABLE analyzer_states;
DROP TABLE findings;
DROP TABLE analysis_runs;
DROP TABLE templates;
DROP TABLE records;
DROP TABLE ingest_cursors;
DROP TABLE integrations;
DROP TABLE clusters;
