-- Grain state for Orleans' ADO.NET storage provider (Microsoft.Orleans.Persistence.AdoNet 10.4.2), which stores
-- pages and regions. The row version is the ETag: a write names the version it read, so a stale activation's write
-- changes nothing and the provider reports the conflict.

CREATE TABLE dsm_grain_state
(
    service_id         varchar(150) NOT NULL,
    grain_type         varchar(512) NOT NULL,
    grain_type_hash    integer      NOT NULL,
    grain_id_hash      integer      NOT NULL,
    grain_id_n0        bigint       NOT NULL,
    grain_id_n1        bigint       NOT NULL,
    grain_id_extension varchar(512) NOT NULL DEFAULT '',
    payload            bytea,
    version            integer      NOT NULL,
    modified_at        timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_type_hash, grain_id_hash, grain_id_n0, grain_id_n1, grain_type, grain_id_extension)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT payload AS PayloadBinary, version AS Version
FROM dsm_grain_state
WHERE service_id = @ServiceId AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
  AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
  AND grain_id_extension = COALESCE(@GrainIdExtensionString, '')
$q$),

-- Updates the row at the version the caller read, or creates it when the caller read none. Returns the new version,
-- or the caller's own version when nothing changed (the provider's signal for a conflict).
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE dsm_grain_state SET payload = @PayloadBinary, version = version + 1, modified_at = now()
    WHERE service_id = @ServiceId AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
      AND grain_id_extension = COALESCE(@GrainIdExtensionString, '') AND version = @GrainStateVersion
    RETURNING version),
created AS (
    INSERT INTO dsm_grain_state (service_id, grain_type, grain_type_hash, grain_id_hash, grain_id_n0, grain_id_n1,
                                 grain_id_extension, payload, version)
    SELECT @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdHash, @GrainIdN0, @GrainIdN1,
           COALESCE(@GrainIdExtensionString, ''), @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version)
SELECT COALESCE((SELECT version FROM updated), (SELECT version FROM created), @GrainStateVersion) AS NewGrainStateVersion
$q$),

-- Clearing keeps the row, without payload, so its version keeps guarding against stale writers.
('ClearStorageKey', $q$
WITH cleared AS (
    UPDATE dsm_grain_state SET payload = NULL, version = version + 1, modified_at = now()
    WHERE service_id = @ServiceId AND grain_type_hash = @GrainTypeHash AND grain_id_hash = @GrainIdHash
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
      AND grain_id_extension = COALESCE(@GrainIdExtensionString, '') AND version = @GrainStateVersion
    RETURNING version)
SELECT COALESCE((SELECT version FROM cleared), @GrainStateVersion) AS NewGrainStateVersion
$q$);
