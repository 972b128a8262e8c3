using System.Data;
using Npgsql;
using OrleansDsm.Grains.Backups;

namespace OrleansDsm.Silo.Storage;

/// <summary>
/// Snapshots of the dsm_pages table: one REPEATABLE READ, read-only transaction per snapshot, which sees exactly the
/// batches committed before its first query, read page by page in key order.
/// </summary>
internal sealed class PostgreSqlPageSnapshots(string connectionString, string serviceId) : IPageSnapshots
{
    public async Task<IPageSnapshot> OpenAsync(CancellationToken cancellation)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellation);
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellation);
            var snapshot = new Snapshot(connection, transaction, serviceId);
            await snapshot.FixAsync(cancellation);
            return snapshot;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class Snapshot(NpgsqlConnection connection, NpgsqlTransaction transaction, string serviceId) : IPageSnapshot
    {
        private string _after = "";

        /// <summary>Takes the snapshot now: a REPEATABLE READ transaction takes it at its first statement.</summary>
        public async Task FixAsync(CancellationToken cancellation)
        {
            await using var command = new NpgsqlCommand("SET TRANSACTION READ ONLY; SELECT 1 FROM dsm_pages LIMIT 1", connection, transaction);
            await command.ExecuteNonQueryAsync(cancellation);
        }

        public async Task<IReadOnlyList<(long Page, byte[] Payload)>> NextAsync(int count, CancellationToken cancellation)
        {
            await using var command = new NpgsqlCommand(
                "SELECT grain_id, payload FROM dsm_pages WHERE service_id = $1 AND grain_id > $2 ORDER BY grain_id LIMIT $3", connection, transaction)
            {
                Parameters = { new() { Value = serviceId }, new() { Value = _after }, new() { Value = count } },
            };
            var rows = new List<(long, byte[])>(count);
            await using var reader = await command.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                _after = reader.GetString(0);
                rows.Add((GrainId.Parse(_after).GetIntegerKey(), reader.GetFieldValue<byte[]>(1)));
            }
            return rows;
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
