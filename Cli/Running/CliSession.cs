using OrleansDsm.Connection;
using OrleansDsm.Errors;

namespace OrleansDsm.Cli.Running;

/// <summary>
/// Runs one verb against the cluster: connects as the command line says (see <see cref="Verbs.ConnectionOptions"/>), and turns every error
/// into one line on stderr and an exit code, so scripts can rely on both.
/// </summary>
internal static class CliSession
{
    public static async Task<int> RunAsync(System.CommandLine.ParseResult parse, Func<DsmClient, CancellationToken, Task> verb, CancellationToken cancellation)
    {
        try
        {
            await using var client = await DsmClient.ConnectAsync(Verbs.ConnectionOptions.Read(parse), cancellation);
            await verb(client, cancellation);
            return ExitCodes.Success;
        }
        catch (Exception error)
        {
            var (code, message) = Describe(error);
            // An address the user did not type is the first thing to doubt.
            if (error is ClusterUnreachableException && Verbs.ConnectionOptions.GatewaySource(parse) is { } source) message = $"{message.TrimEnd('.')}; {source}.";
            await Console.Error.WriteLineAsync($"dsm: {message}");
            return code;
        }
    }

    private static (int Code, string Message) Describe(Exception error) => error switch
    {
        ArgumentException argument => (ExitCodes.BadInput, StripParameterSuffix(argument)),
        FormatException or OverflowException or NotSupportedException or InvalidDataException => (ExitCodes.BadInput, error.Message),
        ClusterUnreachableException => (ExitCodes.Unreachable, error.Message),
        // The client tried again for its retry budget; the tool will not, whatever Orleans' message says.
        Orleans.Runtime.Messaging.ConnectionFailedException or SiloUnavailableException =>
            (ExitCodes.Unreachable, $"The cluster stopped answering: {error.Message.Split(", will retry after")[0].TrimEnd('.')}."),
        DsmException => (ExitCodes.Refused, error.Message),
        OperationCanceledException => (ExitCodes.Refused, "cancelled"),
        _ => (ExitCodes.Refused, error.GetBaseException().Message),
    };

    /// <summary>Argument exceptions append " (Parameter 'x')" and the actual value; the first sentence is what a user needs.</summary>
    private static string StripParameterSuffix(ArgumentException error)
    {
        var message = error.Message;
        var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.Split(Environment.NewLine)[0];
    }
}
