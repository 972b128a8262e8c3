-- Pages in a table of their own, written by the silo's batched page store (Database/PageStore): one row per page that
-- holds bytes, keyed by the page grain's id. The payload is the page's state in Orleans' binary serialization (its
-- bytes, epoch, version, checksum and the memory of recent requests). The row version is the ETag: a write names the
-- version it read, so a stale activation's write matches no row and is refused.

CREATE TABLE dsm_pages
(
    service_id text   NOT NULL,
    grain_id   text   NOT NULL,
    payload    bytea  NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (service_id, grain_id)
);

-- A page's row (about 4.7 KB for 4 KiB pages) stays whole in the table's own block: PostgreSQL would otherwise move
-- any row over 2 KB out to the TOAST table, which costs every update a second heap insert, index entries, and a
-- compression attempt on bytes that are mostly incompressible. Rows too large for a block are still compressed and
-- moved out, as the MAIN strategy allows.
ALTER TABLE dsm_pages ALTER COLUMN payload SET STORAGE MAIN;
ALTER TABLE dsm_pages SET (toast_tuple_target = 8160);
