using Microsoft.Extensions.Options;

namespace OrleansDsm.Grains.Hosting;

/// <summary>Rejects address space options that cannot work, with a message naming the setting.</summary>
internal sealed class AddressSpaceOptionsValidator : IValidateOptions<AddressSpaceOptions>
{
    public ValidateOptionsResult Validate(string? name, AddressSpaceOptions options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
