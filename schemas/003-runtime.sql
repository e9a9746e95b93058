-- pvd store, schema version 3: what starting a domain needs beyond its config.
--   transient: created with domain.create {transient: true}; removed from the
--              store when it stops (and by reconciliation when it is gone).
--   base_dir:  the directory of the submitted config file (pvctl sends it);
--              a relative kernel/ramdisk path is resolved against it.

ALTER TABLE domains ADD COLUMN transient INTEGER NOT NULL DEFAULT 0 CHECK (transient IN (0, 1));
ALTER TABLE domains ADD COLUMN base_dir TEXT;
