namespace PdRdma.Tests.Engines;

/// <summary>
/// A plain full-sequence forward pass over a llama2.c checkpoint, written for the tests from the format's README:
/// float arrays, loops, no TorchSharp, no paging. It reads the file itself, so it shares no code with the loader.
/// </summary>
internal sealed class ReferenceLlama2c
{
    private readonly float[] _emb, _rmsAtt, _wq, _wk, _wv, _wo, _rmsFfn, _w1, _w2, _w3, _rmsFinal;
    public readonly int Dim, Hidden, Layers, Heads, KvHeads, Vocab, SeqLen;

    public ReferenceLlama2c(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var h = new int[7];
        for (int i = 0; i < 7; i++) h[i] = BitConverter.ToInt32(bytes, i * 4);
        (Dim, Hidden, Layers, Heads, KvHeads, Vocab, SeqLen) = (h[0], h[1], h[2], h[3], h[4], Math.Abs(h[5]), h[6]);
        int offset = 28;
        float[] Take(long count)
        {
            var a = new float[count];
            Buffer.BlockCopy(bytes, offset, a, 0, (int)count * 4);
            offset += (int)count * 4;
            return a;
        }
        int hs = Dim / Heads, kvd = KvHeads * hs;
        _emb = Take((long)Vocab * Dim);
        _rmsAtt = Take(Layers * Dim);
        _wq = Take((long)Layers * Dim * Dim);
        _wk = Take((long)Layers * Dim * kvd);
        _wv = Take((long)Layers * Dim * kvd);
        _wo = Take((long)Layers * Dim * Dim);
        _rmsFfn = Take(Layers * Dim);
        _w1 = Take((long)Layers * Hidden * Dim);
        _w2 = Take((long)Layers * Dim * Hidden);
        _w3 = Take((long)Layers * Hidden * Dim);
        _rmsFinal = Take(Dim);
    }

    /// <summary>Logits [positions][vocab] for every position of <paramref name="tokens"/>, computed over the whole sequence at once.</summary>
    public float[][] Forward(IReadOnlyList<int> tokens)
    {
        int n = tokens.Count, hs = Dim / Heads, kvd = KvHeads * hs, kvMul = Heads / KvHeads;
        var x = new float[n][];
        for (int t = 0; t < n; t++) x[t] = _emb.AsSpan(tokens[t] * Dim, Dim).ToArray();
        for (int l = 0; l < Layers; l++)
        {
            var q = new float[n][];
            var k = new float[n][];
            var v = new float[n][];
            for (int t = 0; t < n; t++)
            {
                var xb = RmsNorm(x[t], _rmsAtt.AsSpan(l * Dim, Dim));
                q[t] = MatVec(_wq, (long)l * Dim * Dim, xb, Dim, Dim);
                k[t] = MatVec(_wk, (long)l * Dim * kvd, xb, Dim, kvd);
                v[t] = MatVec(_wv, (long)l * Dim * kvd, xb, Dim, kvd);
                for (int i = 0; i < Dim; i += 2)
                {
                    int headDim = i % hs;
                    float freq = 1.0f / MathF.Pow(10000.0f, headDim / (float)hs);
                    float val = t * freq, fcr = MathF.Cos(val), fci = MathF.Sin(val);
                    Rotate(q[t], i, fcr, fci);
                    if (i < kvd) Rotate(k[t], i, fcr, fci);
                }
            }
            for (int t = 0; t < n; t++)
            {
                var att = new float[Dim];
                for (int head = 0; head < Heads; head++)
                {
                    int kvHead = head / kvMul;
                    var scores = new float[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        float s = 0;
                        for (int i = 0; i < hs; i++) s += q[t][head * hs + i] * k[j][kvHead * hs + i];
                        scores[j] = s / MathF.Sqrt(hs);
                    }
                    Softmax(scores);
                    for (int j = 0; j <= t; j++)
                        for (int i = 0; i < hs; i++) att[head * hs + i] += scores[j] * v[j][kvHead * hs + i];
                }
                var o = MatVec(_wo, (long)l * Dim * Dim, att, Dim, Dim);
                for (int i = 0; i < Dim; i++) x[t][i] += o[i];
                var xb = RmsNorm(x[t], _rmsFfn.AsSpan(l * Dim, Dim));
                var h1 = MatVec(_w1, (long)l * Hidden * Dim, xb, Dim, Hidden);
                var h3 = MatVec(_w3, (long)l * Hidden * Dim, xb, Dim, Hidden);
                for (int i = 0; i < Hidden; i++) h1[i] = h1[i] / (1f + MathF.Exp(-h1[i])) * h3[i];
                var down = MatVec(_w2, (long)l * Dim * Hidden, h1, Hidden, Dim);
                for (int i = 0; i < Dim; i++) x[t][i] += down[i];
            }
        }
        var logits = new float[n][];
        for (int t = 0; t < n; t++) logits[t] = MatVec(_emb, 0, RmsNorm(x[t], _rmsFinal), Dim, Vocab);
        return logits;
    }

    private static void Rotate(float[] vec, int i, float fcr, float fci)
    {
        float v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
    }

    private static float[] RmsNorm(float[] x, ReadOnlySpan<float> w)
    {
        float ss = 0;
        foreach (var f in x) ss += f * f;
        ss = 1f / MathF.Sqrt(ss / x.Length + 1e-5f);
        var o = new float[x.Length];
        for (int i = 0; i < x.Length; i++) o[i] = w[i] * (ss * x[i]);
        return o;
    }

    private static float[] MatVec(float[] w, long offset, float[] x, int n, int d)
    {
        var o = new float[d];
        for (int i = 0; i < d; i++)
        {
            float s = 0;
            for (int j = 0; j < n; j++) s += w[offset + (long)i * n + j] * x[j];
            o[i] = s;
        }
        return o;
    }

    private static void Softmax(float[] x)
    {
        float max = x.Max(), sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.Length; i++) x[i] /= sum;
    }
}
