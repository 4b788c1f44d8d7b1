using System.Text.Json;

namespace R2D2.Localization.Formats;

/// <summary>
/// Nested JSON objects as flat keys joined by dots (<c>extractor.settings.top_k</c>), each value as
/// text (a string without its quotes, null as "–", anything else as written): how run
/// descriptions and training settings are compared and shown key by key.
/// </summary>
public static class JsonFlat
{
    public static void Add(string key, JsonElement e, List<(string Key, string Value)> into)
    {
        if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject()) Add(key.Length == 0 ? p.Name : key + "." + p.Name, p.Value, into);
        else into.Add((key, e.ValueKind switch
        {
            JsonValueKind.String => e.GetString()!,
            JsonValueKind.Null => "–",
            _ => e.GetRawText(),
        }));
    }

    /// <summary>The flat keys of a JSON object's text; null when the text is not a JSON object.</summary>
    public static List<(string Key, string Value)>? Object(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var into = new List<(string, string)>();
            Add("", doc.RootElement, into);
            return into;
        }
        catch (JsonException) { return null; }
    }
}
