namespace OrleansDsm.Tests.Processes;

/// <summary>
/// The dashboard as a window into memory, seen the way a person sees it: headless Chromium opens the real silo's
/// dashboard, asks its Grain Details view for the page the test wrote, and finds the page's allocation, version and
/// first bytes there. The screenshot is kept in <c>artifacts/</c> at the repository root.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class DashboardBrowserTests(SiloProcessFixture fixture)
{
    private static readonly TimeSpan PageLoad = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_dashboard_shows_a_written_pages_allocation_version_and_first_bytes()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("dashboard"), 512);
        await array.SetAsync(0, 0x1122334455667788);
        await array.SetAsync(1, 5);
        var page = array.Region.FirstPage;

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync($"http://localhost:{fixture.Silo.HttpPort}/dashboard/#/grainDetails");
        await browser.WaitUntilAsync("[...document.querySelectorAll('select option')].some(option => option.value.endsWith('.PageGrain'))",
            PageLoad, "the page grain among the grain types");
        await browser.EvaluateAsync(AskForPage(page));
        await browser.WaitUntilAsync("(document.querySelector('pre')?.innerText ?? '').includes('Version')", PageLoad, "the page's state");
        var shown = await browser.EvaluateAsync("document.querySelector('pre').innerText") ?? "";
        await browser.ScreenshotAsync(ScreenshotPath);

        Assert.Contains("8877665544332211", shown);   // the first bytes, little-endian
        Assert.Matches($@"""Epoch""\s*:\s*{array.Region.Epoch}\b", shown);
        Assert.Matches(@"""Version""\s*:\s*2\b", shown);
        Assert.Matches($@"""PageNumber""\s*:\s*{page}\b", shown);
        Assert.Matches(@"""Silo""\s*:\s*""[^""]+""", shown);        // the silo it is active on
        Assert.True(new FileInfo(ScreenshotPath).Length > 1000, "the screenshot is empty");
    }

    private static string ScreenshotPath => Path.Combine(BuiltPrograms.RepositoryRoot.FullName, "artifacts", "dashboard-page-state.png");

    /// <summary>
    /// Picks the page grain type, types the page number and presses "Show Details", as a person would: the form is
    /// React's, so values go through the elements' own setters and the events React listens to.
    /// </summary>
    private static string AskForPage(long page) => $$"""
        (() => {
          const set = (element, value, eventName) => {
            Object.getOwnPropertyDescriptor(Object.getPrototypeOf(element), 'value').set.call(element, value);
            element.dispatchEvent(new Event(eventName, { bubbles: true }));
          };
          const select = document.querySelector('select');
          set(select, [...select.options].find(option => option.value.endsWith('.PageGrain')).value, 'change');
          set(document.querySelector('input[placeholder="Grain Id"]'), '{{page}}', 'input');
          document.querySelector('input[value="Show Details"]').click();
          return true;
        })()
        """;
}
