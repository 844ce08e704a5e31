namespace PdRdma.Engines.Serving;

/// <summary>
/// Applies OpenAI stop strings to streamed text: text that may still become a stop string is held back, text before
/// a match is released and the rest dropped. Not thread-safe (one per choice).
/// </summary>
public sealed class StopMatcher(IReadOnlyList<string> stops)
{
    private string _pending = "";

    public bool Matched { get; private set; }

    /// <summary>Adds <paramref name="piece"/>; returns the text safe to send now ("" while a stop may be forming).</summary>
    public string Push(string piece)
    {
        if (Matched) return "";
        if (stops.Count == 0) return piece;
        _pending += piece;
        var first = -1;
        foreach (var stop in stops)
        {
            var at = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0)
        {
            Matched = true;
            var before = _pending[..first];
            _pending = "";
            return before;
        }
        var hold = 0;
        foreach (var stop in stops)
        {
            for (var k = Math.Min(stop.Length - 1, _pending.Length); k > hold; k--)
            {
                if (_pending.AsSpan(_pending.Length - k).SequenceEqual(stop.AsSpan(0, k)))
                {
                    hold = k;
                    break;
                }
            }
        }
        var ready = _pending[..^hold];
        _pending = _pending[^hold..];
        return ready;
    }

    /// <summary>The text held back at the end of generation (no stop string completed).</summary>
    public string Flush()
    {
        var rest = Matched ? "" : _pending;
        _pending = "";
        return rest;
    }
}
