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
