namespace OrleansDsm.Backups;

/// <summary>What a backup or a restore carried: regions, stored pages, and the bytes of those pages.</summary>
public sealed record BackupSummary(int Regions, long Pages, long PageBytes);
