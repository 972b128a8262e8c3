namespace OrleansDsm.Errors;

/// <summary>
/// A write made under a lock reached its page after the hold it carried had ended (its lease ran out, or it was
/// released): the page refused it and nothing changed. Another holder may have the lock now.
/// </summary>
[GenerateSerializer]
public sealed class LockLostException : DsmException
{
    /// <summary>Creates the error with a message that names the lock, the token and the page.</summary>
    public LockLostException(string message) : base(message) { }
}
