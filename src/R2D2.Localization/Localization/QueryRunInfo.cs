using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Localization;

/// <summary>
/// What a run of queries was and how long it took, written beside its outputs
/// (<c>poses.run.json</c>, atomically, as queries finish) so that `localize report` can show the
/// settings, the model and the time per stage of the run it reports on: the map, the inputs, the
/// extractor's identity and settings, the localizer's settings, the counts per status, and the
/// seconds per stage (the per-query stages summed over the queries in the outputs, kept ones
/// included; setup and writing as this invocation measured them).
/// </summary>
public sealed record QueryRunInfo
{
    public const string FormatName = "localize query run 1";

    /// <summary>Settings in the order written, nested keys joined by dots (<c>extractor.settings.top_k</c>).</summary>
    public IReadOnlyList<(string Key, string Value)> Settings { get; init; } = Array.Empty<(string, string)>();
    public IReadOnlyList<(string Stage, double Seconds)> Stages { get; init; } = Array.Empty<(string, double)>();
    /// <summary>The minimum PnP inlier count the run required (null when not recorded).</summary>
    public int? MinInliers { get; init; }

    /// <summary>The run description beside a submission: <c>poses.txt</c> → <c>poses.run.json</c>.</summary>
    public static string PathFor(string posesPath) => Path.ChangeExtension(posesPath, ".run.json");

    /// <summary>Writes the JSON atomically. <paramref name="settings"/> are written in order: a value
    /// that is itself a JSON object (an extractor's settings) is nested as one.</summary>
    public static void Write(string path, IEnumerable<(string Key, object? Value)> settings, IEnumerable<(string Stage, double Seconds)> stages) =>
        OutputFile.WriteAllText(path, Json(settings, stages));

    /// <summary>The settings as <see cref="Read"/> gives them back (flattened, as text).</summary>
    public static IReadOnlyList<(string Key, string Value)> Flattened(IEnumerable<(string Key, object? Value)> settings) =>
        Parse(Json(settings, Array.Empty<(string, double)>()), "(settings)").Settings;

    /// <summary>A path as the run description records it: in full, without a trailing separator ("" and null as they are).</summary>
    public static string? FullPath(string? path) =>
        string.IsNullOrEmpty(path) ? path : Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    /// <summary>The value a run description records under <paramref name="key"/>; null when absent or empty.</summary>
    public static string? Setting(IReadOnlyList<(string Key, string Value)> settings, string key) =>
        settings.FirstOrDefault(kv => kv.Key == key).Value is { Length: > 0 } v ? v : null;

    // The optional input files a run records by path (one list: resume compares them, and one a run adds is a difference).
    private static bool IsInputFile(string key) => key is "intrinsics" or "pairs_file" or "retrieval_pairs_file" or "global_descriptors" or "query_matches_file";

    private static bool IsPath(string key) => key is "image_root" or "query_list" || IsInputFile(key);

    /// <summary>
    /// What a resumed run must share with the run that wrote the kept queries: the map, the image
    /// folder, the submission's folders, the other inputs, the extractor and the localizer's settings (not the list, which may
    /// grow, nor the device or the counts). Each difference as `key: earlier → now`; keys the
    /// earlier run did not record are not compared.
    /// </summary>
    public static List<string> Differences(IReadOnlyList<(string Key, string Value)> earlier, IReadOnlyList<(string Key, string Value)> now)
    {
        // An older version recorded paths as typed: taken from the current folder, as that version compared them.
        earlier = earlier.Select(e => IsPath(e.Key) && e.Value.Length > 0 && !Path.IsPathRooted(e.Value) ? (e.Key, FullPath(e.Value)!) : e).ToList();
        // Before 2026-12-02 the folders were not recorded: such a run wrote base names (the default, 0).
        if (!earlier.Any(e => e.Key == "submission_folders")) earlier = earlier.Append(("submission_folders", "0")).ToList();
        static bool Compared(string k) => k is "map" or "map_points" or "map_images" or "map_asmk" or "image_root" or "submission_folders" || IsInputFile(k)
            || k.StartsWith("extractor.", StringComparison.Ordinal) || k.StartsWith("localizer.", StringComparison.Ordinal);
        var before = earlier.Where(e => Compared(e.Key)).ToDictionary(e => e.Key, e => e.Value);
        var after = now.Where(e => Compared(e.Key)).ToDictionary(e => e.Key, e => e.Value);
        return before.Where(b => after.GetValueOrDefault(b.Key, "–") != b.Value).Select(b => $"{b.Key}: {b.Value} → {after.GetValueOrDefault(b.Key, "–")}")
            .Concat(after.Where(a => !before.ContainsKey(a.Key) && IsInputFile(a.Key))
                .Select(a => $"{a.Key}: – → {a.Value}"))
            .ToList();
    }

    private static string Json(IEnumerable<(string Key, object? Value)> settings, IEnumerable<(string Stage, double Seconds)> stages)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            foreach (var (key, value) in settings) WriteValue(w, key, value);
            w.WriteStartArray("stages");
            foreach (var (stage, s) in stages)
            {
                w.WriteStartObject();
                w.WriteString("stage", stage);
                w.WriteNumber("seconds", Math.Round(s, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    private static void WriteValue(Utf8JsonWriter w, string key, object? value)
    {
        switch (value)
        {
            case null: w.WriteNull(key); break;
            case bool b: w.WriteBoolean(key, b); break;
            case int i: w.WriteNumber(key, i); break;
            case long l: w.WriteNumber(key, l); break;
            case double d when double.IsFinite(d): w.WriteNumber(key, d); break;
            case double d: w.WriteString(key, d.ToString(CultureInfo.InvariantCulture)); break;
            case float f when float.IsFinite(f): w.WriteNumber(key, f); break;
            case float f: w.WriteString(key, f.ToString(CultureInfo.InvariantCulture)); break;
            case JsonObjectText j: w.WritePropertyName(key); using (var doc = JsonDocument.Parse(j.Json)) doc.RootElement.WriteTo(w); break;
            case IEnumerable<(string Key, object? Value)> nested:
                w.WriteStartObject(key);
                foreach (var (k, v) in nested) WriteValue(w, k, v);
                w.WriteEndObject();
                break;
            default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>The run description of shards' outputs merged into one (`localize merge --outputs`):
    /// the first shard's, with the counts of the merged queries, each stage's seconds summed over the
    /// shards, and the shards named; so `query --resume` and `report` take the merged outputs as
    /// those of one run.</summary>
    public static string Merged(IReadOnlyList<(string Path, string Json)> shards, string queryList, IReadOnlyList<QueryStatus> statuses)
    {
        var infos = shards.Select(s => Parse(s.Json, s.Path)).ToList(); // a file that is not a run description is named
        var nodes = shards.Select(s => JsonNode.Parse(s.Json)!.AsObject()).ToList();
        var merged = nodes[0].DeepClone().AsObject();
        merged["updated"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        merged["query_list"] = FullPath(queryList); // in full, as a query run writes it
        merged["shard"] = Shard.All.ToString(); // the whole list now
        merged["queries"] = statuses.Count;
        merged["done"] = statuses.Count;
        merged["kept_from_earlier_run"] = nodes.Sum(n => n["kept_from_earlier_run"]?.GetValue<int>() ?? 0);
        foreach (var st in Enum.GetValues<QueryStatus>()) merged[QueryOutputs.Word(st)] = statuses.Count(x => x == st);
        var seconds = new List<(string Stage, double Seconds)>();
        foreach (var (stage, sec) in infos.SelectMany(i => i.Stages))
        {
            int k = seconds.FindIndex(x => x.Stage == stage);
            if (k < 0) seconds.Add((stage, sec)); else seconds[k] = (stage, seconds[k].Seconds + sec);
        }
        merged["stages"] = new JsonArray(seconds.Select(x => (JsonNode)new JsonObject { ["stage"] = x.Stage, ["seconds"] = Math.Round(x.Seconds, 4) }).ToArray());
        merged["merged_from"] = new JsonArray(shards.Select(s => (JsonNode)JsonValue.Create(s.Path)).ToArray());
        return merged.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    /// <summary>Reads a run description; a file that is not one is an error naming it.</summary>
    public static QueryRunInfo Read(string path) => Parse(File.ReadAllText(path), path);

    private static QueryRunInfo Parse(string text, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e) { throw new FileFormatException(path, (int)(e.LineNumber ?? -1) + 1, "not JSON: " + e.Message); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() != FormatName)
                throw new FileFormatException(path, 1, $"not a query run description (\"format\": \"{FormatName}\")");
            var settings = new List<(string, string)>();
            var stages = new List<(string, double)>();
            int? minInliers = null;
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name == "format") continue;
                if (p.Name == "stages" && p.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var s in p.Value.EnumerateArray())
                        if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("stage", out var n) && n.ValueKind == JsonValueKind.String
                            && s.TryGetProperty("seconds", out var sec) && sec.ValueKind == JsonValueKind.Number)
                            stages.Add((n.GetString()!, sec.GetDouble()));
                        else throw new FileFormatException(path, 0, "a stage is not {\"stage\": NAME, \"seconds\": NUMBER}");
                    continue;
                }
                JsonFlat.Add(p.Name, p.Value, settings);
            }
            // JSON allows a key twice; a run description never has one (edited, or two pasted together).
            if (settings.GroupBy(kv => kv.Item1).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new FileFormatException(path, 0, $"\"{twice.Key}\" is given {twice.Count()} times: not a run description this program wrote");
            foreach (var (k, v) in settings)
                if (k == "localizer.min_inliers" && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int m)) minInliers = m;
            return new QueryRunInfo { Settings = settings, Stages = stages, MinInliers = minInliers };
        }
    }
}

/// <summary>A JSON object given as text (an extractor's settings as stored), written nested in <see cref="QueryRunInfo"/>.</summary>
public sealed record JsonObjectText(string Json);
