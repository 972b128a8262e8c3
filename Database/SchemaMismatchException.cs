using OrleansDsm.Errors;

namespace OrleansDsm.Database;

/// <summary>The database's schema is not the one this silo was built for.</summary>
public sealed class SchemaMismatchException(string message) : DsmException(message);
