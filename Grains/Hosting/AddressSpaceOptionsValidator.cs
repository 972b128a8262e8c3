using Microsoft.Extensions.Options;
using OrleansDsm.Addressing;

namespace OrleansDsm.Grains.Hosting;

/// <summary>Rejects address space options that cannot work, with a message naming the setting.</summary>
internal sealed class AddressSpaceOptionsValidator : IValidateOptions<AddressSpaceOptions>
{
    public ValidateOptionsResult Validate(string? name, AddressSpaceOptions options)
    {
        var problems = new List<string>();
        if (PageGeometry.Describe(options.PageSize) is { } pageProblem)
            problems.Add($"Dsm:PageSize: {pageProblem}");
        if (options.QuotaBytes <= 0)
            problems.Add($"Dsm:QuotaBytes must be positive; it is {options.QuotaBytes}.");
        if (options.RegionLease <= TimeSpan.Zero || options.RegionLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:RegionLease must be between 0 and 5 minutes; it is {options.RegionLease}.");
        if (options.CacheLease < TimeSpan.FromMilliseconds(50) || options.CacheLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:CacheLease must be between 50 ms and 5 minutes; it is {options.CacheLease}.");
        if (options.ServingLease < TimeSpan.FromMilliseconds(200) || options.ServingLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:ServingLease must be between 200 ms and 5 minutes; it is {options.ServingLease}.");
        if (options.WriteBehind < TimeSpan.Zero || options.WriteBehind > TimeSpan.FromMinutes(1))
            problems.Add($"Dsm:WriteBehind must be zero (write-through) or at most one minute; it is {options.WriteBehind}.");
        if (!options.FirstTouchPlacement && !string.Equals(options.PagePlacement, "Balanced", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Dsm:PagePlacement '{options.PagePlacement}' is not known; it is 'Balanced' or 'FirstTouch'.");
        if (options.PageIdleTimeout < TimeSpan.FromSeconds(1))
            problems.Add($"Dsm:PageIdleTimeout must be at least one second; it is {options.PageIdleTimeout}.");
        if (options.MemorySheddingPercent is < 20 or > 100)
            problems.Add($"Dsm:MemorySheddingPercent must be from 20 to 100; it is {options.MemorySheddingPercent}.");
        if (options.MemoryRefusalPercent is < 20 or > 100)
            problems.Add($"Dsm:MemoryRefusalPercent must be from 20 to 100; it is {options.MemoryRefusalPercent}.");
        if (options.MetricsInterval < TimeSpan.FromMilliseconds(100) || options.MetricsInterval > TimeSpan.FromMinutes(10))
            problems.Add($"Dsm:MetricsInterval must be between 100 ms and 10 minutes; it is {options.MetricsInterval}.");
        if (options.DirectPort is < -1 or > 65535)
            problems.Add($"Dsm:DirectPort must be -1 (off), 0 (any free port) or a port up to 65535; it is {options.DirectPort}.");
        if (options.AdminToken is { } admin && (admin.Length < 16 || admin.Any(char.IsWhiteSpace)))
            problems.Add("Dsm:AdminToken must be at least 16 characters without spaces (its value is not shown here).");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
