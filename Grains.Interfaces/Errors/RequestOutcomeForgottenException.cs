namespace OrleansDsm.Errors;

/// <summary>
/// A mutation came back (a retry) after its page had applied so many later mutations of the same session that it no
/// longer remembers whether this one was applied. It is not applied again: the element may or may not include it.
/// </summary>
[GenerateSerializer]
public sealed class RequestOutcomeForgottenException : DsmException
{
    /// <summary>Creates the error with a message that names the request and the page.</summary>
    public RequestOutcomeForgottenException(string message) : base(message) { }
}
