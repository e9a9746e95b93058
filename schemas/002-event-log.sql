-- pvd store, schema version 2: the event log, and per-device limits.
-- Events are not tied to domains by a foreign key: the log outlives
-- undefined domains.

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    type        TEXT NOT NULL,
    domain_uuid TEXT,
    domain_name TEXT,
    caller      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_domain ON events(domain_uuid, id);

ALTER TABLE disks ADD COLUMN quota_mib INTEGER NOT NULL DEFAULT 0 CHECK (quota_mib >= 0);
ALTER TABLE disks ADD COLUMN iops_limit INTEGER NOT NULL DEFAULT 0 CHECK (iops_limit >= 0);
ALTER TABLE disks ADD COLUMN bps_limit INTEGER NOT NULL DEFAULT 0 CHECK (bps_limit >= 0);
ALTER TABLE interfaces ADD COLUMN rate INTEGER NOT NULL DEFAULT 0 CHECK (rate >= 0);
ALTER TABLE interfaces ADD COLUMN burst INTEGER NOT NULL DEFAULT 0 CHECK (burst >= 0);
ALTER TABLE interfaces ADD COLUMN weight INTEGER NOT NULL DEFAULT 256 CHECK (weight BETWEEN 1 AND 65535);
