using System.Net;

namespace PdRdma.Perf.E2e;

/// <summary>
/// The decoding process of a disaggregated end-to-end run (<c>pdrdma bench-decode</c>): the model, a decode engine over
/// a KV pool registered with a listening TransferAgent, and a line protocol on stdin/stdout:
/// <c>reserve ID LEN</c> → <c>lease ID B1,B2,…</c>; <c>resume ID FIRST RNG MAXTOKENS SEED LEN</c> → (after the KV's
/// notification arrived and decoding ran) <c>done ID TOKENS TPOT_MS WAIT_MS</c>; <c>generate ID MAXTOKENS SEED LEN</c> →
/// <c>colocated ID TTFT_MS TPOT_MS TOKENS</c> (the colocated case: one engine process does both phases). Reservations are answered while an
/// earlier request decodes, so that a pipelined run can prefill the next request meanwhile.
/// </summary>
public static partial class DecodeServer
{
    public const string PoolRegion = "bench-decode-pool";

    public static Task RunAsync(string modelSpec, string? tokenizer, string backend, IPEndPoint listen, int blocks, int tokensPerBlock,
        TextReader input, TextWriter output, CancellationToken ct)
    {
#if PDRDMA_ENGINES && PDRDMA_AGENT
        return ServeAsync(modelSpec, tokenizer, backend, listen, blocks, tokensPerBlock, input, output, ct);
#else
        throw new InvalidOperationException($"the engines and the transfer library are not both on this branch yet ({modelSpec}, {tokenizer}, {backend}, {listen}, {blocks}x{tokensPerBlock}, {input}, {output}, {ct})");
#endif
    }
}
