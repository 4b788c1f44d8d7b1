using System.Text.Json.Nodes;
using OpenCvSharp;
using R2D2.Localization.Evaluation;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The report in a real browser (headless Chromium, the network cut off): the page loads
/// without fetching anything, its script runs without a console error, sorting the table changes
/// the order of its rows, filtering hides rows, the 3D view draws, a picture opens full size, and a
/// screenshot is taken.</summary>
public class ReportBrowserTests
{
    private static List<string> Order(HeadlessChromium b) =>
        b.Evaluate("Array.from(document.querySelectorAll('#qtable tbody tr')).map(r => r.dataset.name)")!.AsArray().Select(n => (string)n!).ToList();

    [ChromiumFact]
    public void TheReportWorksInHeadlessChromiumOffline()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "report.html");
        HtmlReport.Write(path, MadeUpRun.Create(dir, more: 12));

        using var b = new HeadlessChromium();
        b.Send("Runtime.enable");
        b.Send("Log.enable");
        b.Send("Network.enable");
        b.Send("Page.enable");
        b.Send("Network.emulateNetworkConditions", new { offline = true, latency = 0, downloadThroughput = -1, uploadThroughput = -1 });
        b.Send("Page.navigate", new { url = new Uri(path).AbsoluteUri });
        b.WaitFor("Page.loadEventFired");

        // The table: 16 queries; sorting by position error changes the order, and again reverses it.
        var before = Order(b);
        Assert.Equal(16, before.Count);
        b.Evaluate("Array.from(document.querySelectorAll('#qtable th')).find(h => h.textContent === 'position error').click()");
        var sorted = Order(b);
        Assert.NotEqual(before, sorted);
        Assert.Equal(before.Order(), sorted.Order());
        List<double> Errors() => b.Evaluate("Array.from(document.querySelectorAll('#qtable tbody tr')).map(r => String(r.cells[6].dataset.v))")!.AsArray()
            .Select(v => double.Parse((string)v!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var ascending = Errors();
        Assert.Equal(ascending.Order(), ascending);                       // the queries without an error (∞) last
        b.Evaluate("Array.from(document.querySelectorAll('#qtable th')).find(h => h.textContent === 'position error').click()");
        var descending = Errors();
        Assert.Equal(descending.OrderDescending(), descending);
        // Filtering: only the queries that were not localized.
        b.Evaluate("(() => { const s = document.getElementById('qshow'); s.value = 'failed'; s.dispatchEvent(new Event('change')); })()");
        Assert.Equal(3, (int)b.Evaluate("document.querySelectorAll('#qtable tbody tr:not([hidden])').length")!);
        Assert.Equal("3 of 16 queries shown", (string)b.Evaluate("document.getElementById('qcount').textContent")!);
        // The 3D view drew points (pixels other than its background).
        int drawn = (int)b.Evaluate("(() => { const c = document.getElementById('view3d'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; "
            + "let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== 250 || d[i + 1] !== 250 || d[i + 2] !== 250) n++; return n; })()")!;
        Assert.True(drawn > 200, $"{drawn} pixels drawn in the 3D view");
        // Dragging turns it: another picture.
        string Picture() => (string)b.Evaluate("document.getElementById('view3d').toDataURL()")!;
        var still = Picture();
        b.Evaluate("(() => { const c = document.getElementById('view3d'); const o = { bubbles: true, pointerId: 1, clientX: 100, clientY: 100 }; "
            + "c.dispatchEvent(new PointerEvent('pointerdown', o)); c.dispatchEvent(new PointerEvent('pointermove', { ...o, clientX: 180, clientY: 130 })); "
            + "c.dispatchEvent(new PointerEvent('pointerup', o)); })()");
        Assert.NotEqual(still, Picture());
        // A picture opens full size, and closes.
        b.Evaluate("document.querySelector('img.thumb').click()");
        Assert.False((bool)b.Evaluate("document.getElementById('lightbox').hidden")!);
        Assert.StartsWith("data:image/jpeg", (string)b.Evaluate("document.querySelector('#lightbox img').src")!);
        b.Evaluate("document.getElementById('lightbox').click()");
        Assert.True((bool)b.Evaluate("document.getElementById('lightbox').hidden")!);

        // A screenshot of the page's top.
        var shot = b.Send("Page.captureScreenshot", new { format = "png" });
        var png = Convert.FromBase64String((string)shot["data"]!);
        var shotPath = Path.Combine(dir, "report.png");
        File.WriteAllBytes(shotPath, png);
        using (var img = Cv2.ImDecode(png, ImreadModes.Color)) Assert.True(img.Cols >= 800 && img.Rows >= 600, $"{img.Cols}x{img.Rows}");

        // Nothing went wrong and nothing was fetched.
        var events = b.Events.ToList();
        var problems = events.Where(e => e.Method == "Runtime.exceptionThrown"
                || e.Method == "Runtime.consoleAPICalled" && (string?)e.Params["type"] is "error" or "warning" or "assert"
                || e.Method == "Log.entryAdded" && (string?)e.Params["entry"]?["level"] == "error")
            .Select(e => e.Method + " " + e.Params.ToJsonString()).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        var requests = events.Where(e => e.Method == "Network.requestWillBeSent").Select(e => (string?)e.Params["request"]?["url"] ?? "")
            .Where(u => !u.StartsWith("data:") && !u.StartsWith("file:")).ToList();
        Assert.True(requests.Count == 0, string.Join("\n", requests));
    }
}
