using System.Text.Json.Serialization;

namespace PdRdma.Perf.Serving;

/// <summary>One setup at one load point: the figures vLLM's benchmark_serving reports, plus mismatches against colocated greedy output.</summary>
public sealed record ServePoint
{
    [JsonPropertyName("setup")] public required string Setup { get; init; }
    [JsonPropertyName("concurrency")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Concurrency { get; init; }
    [JsonPropertyName("request_rate")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? RequestRate { get; init; }
    [JsonPropertyName("requests")] public int Requests { get; init; }
    [JsonPropertyName("completed")] public int Completed { get; init; }
    [JsonPropertyName("failed")] public int Failed { get; init; }
    [JsonPropertyName("mismatches")] public int Mismatches { get; init; }
    [JsonPropertyName("duration_s")] public double DurationS { get; init; }
    [JsonPropertyName("request_throughput")] public double RequestThroughput { get; init; }
    [JsonPropertyName("output_tokens")] public long OutputTokens { get; init; }
    [JsonPropertyName("output_tokens_per_s")] public double OutputTokensPerS { get; init; }
    [JsonPropertyName("goodput")] public double Goodput { get; init; }
    [JsonPropertyName("ttft_ms_p50")] public double TtftMsP50 { get; init; }
    [JsonPropertyName("ttft_ms_p90")] public double TtftMsP90 { get; init; }
    [JsonPropertyName("ttft_ms_p99")] public double TtftMsP99 { get; init; }
    [JsonPropertyName("tpot_ms_p50")] public double TpotMsP50 { get; init; }
    [JsonPropertyName("tpot_ms_p90")] public double TpotMsP90 { get; init; }
    [JsonPropertyName("tpot_ms_p99")] public double TpotMsP99 { get; init; }
    [JsonPropertyName("itl_ms_p50")] public double ItlMsP50 { get; init; }
    [JsonPropertyName("itl_ms_p90")] public double ItlMsP90 { get; init; }
    [JsonPropertyName("itl_ms_p99")] public double ItlMsP99 { get; init; }
    [JsonPropertyName("kv_transfer_ms_p50")] public double KvTransferMsP50 { get; init; }
    [JsonPropertyName("reserve_ms_p50")] public double ReserveMsP50 { get; init; }
    [JsonPropertyName("prefill_call_ms_p50")] public double PrefillCallMsP50 { get; init; }
    [JsonPropertyName("prefill_compute_ms_p50")] public double PrefillComputeMsP50 { get; init; }
    [JsonPropertyName("exposed_transfer_ms_p50")] public double ExposedTransferMsP50 { get; init; }
    [JsonPropertyName("decode_first_token_ms_p50")] public double DecodeFirstTokenMsP50 { get; init; }
    [JsonPropertyName("engine_decode_steps")] public double EngineDecodeSteps { get; init; }
    [JsonPropertyName("engine_mean_batch")] public double EngineMeanBatch { get; init; }
    [JsonPropertyName("engine_step_ms")] public double EngineStepMs { get; init; }
    [JsonPropertyName("engine_busy_fraction")] public double EngineBusyFraction { get; init; }
    [JsonPropertyName("slo")] public string Slo { get; init; } = "";
    [JsonPropertyName("first_error")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FirstError { get; init; }

    /// <summary>"c=8" or "rate=4/s".</summary>
    [JsonIgnore] public string Load => Concurrency is { } c ? $"c={c}" : $"rate={RequestRate:0.##}/s";

    public static ServePoint From(string setup, int? concurrency, double? rate, IReadOnlyList<ServeRequestResult> results, IReadOnlyList<string> reference,
        double seconds, ServeBenchOptions options, EngineCounters engine)
    {
        var ok = results.Where(r => r.Ok).ToList();
        double P(IEnumerable<double> values, double q)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            if (sorted.Length == 0) return 0;
            var rank = q * (sorted.Length - 1);
            int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
            return Math.Round(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo), 3);
        }
        var ttft = ok.Select(r => r.TtftMs).ToList();
        var tpot = ok.Where(r => r.OutputTokens > 1).Select(r => r.TpotMs).ToList();
        var itl = ok.SelectMany(r => r.ItlMs).ToList();
        long tokens = ok.Sum(r => (long)r.OutputTokens);
        var good = ok.Count(r => r.TtftMs <= options.SloTtftMs && (r.OutputTokens <= 1 || r.TpotMs <= options.SloTpotMs));
        return new ServePoint
        {
            Setup = setup, Concurrency = concurrency, RequestRate = rate,
            Requests = results.Count, Completed = ok.Count, Failed = results.Count - ok.Count,
            Mismatches = ok.Count(r => r.Text != reference[r.PromptIndex]),
            DurationS = Math.Round(seconds, 3),
            RequestThroughput = Math.Round(ok.Count / seconds, 3),
            OutputTokens = tokens,
            OutputTokensPerS = Math.Round(tokens / seconds, 1),
            Goodput = Math.Round(good / seconds, 3),
            TtftMsP50 = P(ttft, 0.5), TtftMsP90 = P(ttft, 0.9), TtftMsP99 = P(ttft, 0.99),
            TpotMsP50 = P(tpot, 0.5), TpotMsP90 = P(tpot, 0.9), TpotMsP99 = P(tpot, 0.99),
            ItlMsP50 = P(itl, 0.5), ItlMsP90 = P(itl, 0.9), ItlMsP99 = P(itl, 0.99),
            KvTransferMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.TransferMs), 0.5),
            ReserveMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.Parts.ReserveMs), 0.5),
            PrefillCallMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.Parts.PrefillCallMs), 0.5),
            PrefillComputeMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.Parts.PrefillComputeMs), 0.5),
            ExposedTransferMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.Parts.ExposedTransferMs), 0.5),
            DecodeFirstTokenMsP50 = P(ok.Where(r => r.TransferMs > 0).Select(r => r.Parts.DecodeFirstTokenMs), 0.5),
            EngineDecodeSteps = engine.Steps,
            EngineMeanBatch = engine.Steps > 0 ? Math.Round(engine.Sequences / engine.Steps, 2) : 0,
            EngineStepMs = engine.Steps > 0 ? Math.Round(engine.Seconds * 1000 / engine.Steps, 3) : 0,
            EngineBusyFraction = Math.Round(engine.Seconds / seconds, 3),
            Slo = $"ttft<={options.SloTtftMs}ms,tpot<={options.SloTpotMs}ms",
            FirstError = results.FirstOrDefault(r => !r.Ok)?.Error,
        };
    }
}
