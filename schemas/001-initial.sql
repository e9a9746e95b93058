-- pvd store, schema version 1: domains and their devices.
-- Applied by daemon/store.c inside one transaction together with the
-- schema_version update. Never edit a released migration: add a new file.

CREATE TABLE domains (
    uuid          TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),
    name          TEXT NOT NULL UNIQUE,
    config_format TEXT NOT NULL CHECK (config_format IN ('json', 'xml')),
    config        TEXT NOT NULL,            -- exactly as submitted
    config_normalized TEXT NOT NULL,        -- validated, units in MiB, defaults filled
    desired_state TEXT NOT NULL DEFAULT 'shut-off'
                  CHECK (desired_state IN ('shut-off', 'running', 'paused')),
    autostart     INTEGER NOT NULL DEFAULT 0 CHECK (autostart IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE disks (
    domain_uuid TEXT NOT NULL REFERENCES domains(uuid) ON DELETE CASCADE,
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    name        TEXT NOT NULL,
    path        TEXT,                       -- NULL: pvd chooses one in its pool
    size_mib    INTEGER NOT NULL CHECK (size_mib > 0),
    readonly    INTEGER NOT NULL DEFAULT 0 CHECK (readonly IN (0, 1)),
    PRIMARY KEY (domain_uuid, idx),
    UNIQUE (domain_uuid, name)
);

CREATE TABLE interfaces (
    domain_uuid TEXT NOT NULL REFERENCES domains(uuid) ON DELETE CASCADE,
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    mac         TEXT NOT NULL UNIQUE CHECK (length(mac) = 17),
    bridge      TEXT NOT NULL,
    PRIMARY KEY (domain_uuid, idx)
);
