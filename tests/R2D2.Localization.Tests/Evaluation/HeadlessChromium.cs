using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>A test that needs Debian's Chromium (tools/setup installs it): skipped, saying so, where
/// /usr/bin/chromium is absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(HeadlessChromium.Executable))
            Skip = $"{HeadlessChromium.Executable} not found: the browser test of the report needs Debian's chromium (apt-get install chromium, or tools/setup)";
    }
}

/// <summary>
/// Headless Chromium driven over the DevTools protocol (a WebSocket; no library), for testing pages
/// in a real browser: every host name resolves to nothing and the page's network is switched
/// offline, console messages, uncaught exceptions and requests are recorded, scripts evaluated and
/// screenshots taken. The browser process is this object's and is killed on dispose.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly Task _receiving;
    private int _nextId;

    /// <summary>Every event received (method, params), in order.</summary>
    public ConcurrentQueue<(string Method, JsonObject Params)> Events { get; } = new();

    public HeadlessChromium(int width = 1400, int height = 1000)
    {
        _profile = TempDir.Create();
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        // --no-sandbox: Chromium refuses to run as root with its sandbox (CI runs as root).
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
                     "--remote-debugging-port=0", "--remote-allow-origins=*", $"--user-data-dir={_profile}", $"--window-size={width},{height}", "about:blank",
                 })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // Chromium writes the port it chose, and the browser's WebSocket path, into the profile.
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        string[] lines = Array.Empty<string>();
        while (clock.Elapsed < Timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited with code {_process.ExitCode} before listening");
            if (File.Exists(portFile) && (lines = File.ReadAllLines(portFile)).Length >= 2) break;
            Thread.Sleep(100);
        }
        if (lines.Length < 2) throw new TimeoutException("chromium did not open its DevTools port");
        int port = int.Parse(lines[0]);
        // The page's target, by the browser's list of targets.
        using var http = new HttpClient { Timeout = Timeout };
        var list = JsonNode.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/json/list").GetAwaiter().GetResult())!.AsArray();
        var page = list.First(t => (string?)t!["type"] == "page")!;
        _socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None).Wait(Timeout);
        _receiving = Task.Run(ReceiveLoop);
    }

    private async Task ReceiveLoop()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var r = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                var json = JsonNode.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length))!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && _pending.TryRemove((int)id, out var tcs)) tcs.TrySetResult(json);
                else if (json["method"] is { } m) Events.Enqueue(((string)m!, json["params"]?.AsObject() ?? new JsonObject()));
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException) { }
        foreach (var tcs in _pending.Values) tcs.TrySetException(new InvalidOperationException("the DevTools connection closed"));
    }

    /// <summary>Sends a command and waits for its result; a protocol error throws.</summary>
    public JsonObject Send(string method, object? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var text = JsonSerializer.Serialize(new { id, method, @params = parameters ?? new { } });
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Wait(Timeout);
        if (!tcs.Task.Wait(Timeout)) throw new TimeoutException($"{method}: no answer from chromium");
        var answer = tcs.Task.Result;
        if (answer["error"] is { } err) throw new InvalidOperationException($"{method}: {err.ToJsonString()}");
        return answer["result"]?.AsObject() ?? new JsonObject();
    }

    /// <summary>Waits until an event of <paramref name="method"/> has arrived.</summary>
    public void WaitFor(string method)
    {
        var clock = Stopwatch.StartNew();
        while (!Events.Any(e => e.Method == method))
        {
            if (clock.Elapsed > Timeout) throw new TimeoutException($"no {method} from chromium");
            Thread.Sleep(50);
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page; its value as JSON (an exception in it throws).</summary>
    public JsonNode? Evaluate(string expression)
    {
        var r = Send("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (r["exceptionDetails"] is { } ex) throw new InvalidOperationException($"evaluating {expression}: {ex.ToJsonString()}");
        return r["result"]?["value"]?.DeepClone();
    }

    public void Dispose()
    {
        try { _socket.Abort(); } catch (ObjectDisposedException) { }
        _socket.Dispose();
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        _process.Dispose();
        _receiving.Wait(TimeSpan.FromSeconds(5));
        try { Directory.Delete(_profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
