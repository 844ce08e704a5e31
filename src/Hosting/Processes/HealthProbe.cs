using System.Diagnostics;

namespace PdRdma.Hosting.Processes;

/// <summary>Polls an HTTP URL until it answers 2xx: how a started part (daemon, engine, proxy, etcd) is known to be up.</summary>
public static class HealthProbe
{
    /// <summary>
    /// Waits until <paramref name="url"/> answers 2xx (and, when given, its body satisfies <paramref name="body"/>).
    /// <paramref name="failed"/> is asked before each try and returns why waiting is pointless (the process exited),
    /// which becomes an <see cref="InvalidOperationException"/>; running out of time is a <see cref="TimeoutException"/>.
    /// </summary>
    public static async Task WaitAsync(string url, TimeSpan timeout, Func<string?> failed, CancellationToken ct,
        Func<string, bool>? body = null, TimeSpan? interval = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (failed() is { } why) throw new InvalidOperationException(why);
            try
            {
                using var response = await http.GetAsync(url, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode && (body is null || body(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)))) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds:0} s");
    }

    /// <summary>Waits until <paramref name="part"/> answers at <paramref name="url"/>; its exit or the timeout fails with its log's tail.</summary>
    public static async Task WaitAsync(ChildProcess part, string url, TimeSpan timeout, CancellationToken ct, Func<string, bool>? body = null)
    {
        try
        {
            await WaitAsync(url, timeout, () => part.HasExited ? "exited" : null, ct, body).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            throw new InvalidOperationException($"{part.Name} exited during start; its log ({part.LogPath ?? "stderr"}) ends with:\n{part.Tail()}");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{part.Name} did not become healthy at {url} within {timeout.TotalSeconds:0} s; log {part.LogPath ?? "stderr"}:\n{part.Tail()}");
        }
    }
}
