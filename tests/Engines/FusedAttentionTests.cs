using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using static TorchSharp.torch;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The attention path the GPU takes (libtorch's fused kernel, mask built on the device, causal flag for a lone
/// prefill, no mask for a uniform decode step), run on the CPU against the explicit path the CPU takes.
/// </summary>
public sealed class FusedAttentionTests
{
    private const string Spec = "tiny-random:dim=64,layers=2,heads=8,kv_heads=2,hidden=172,seq=96,seed=5";

    private static float[] Run(LlamaModel model, KvPool pool, IReadOnlyList<ForwardItem> batch)
    {
        using var logits = model.Forward(batch, pool);
        return logits.data<float>().ToArray();
    }

    [Fact]
    public void FusedAndExplicitAttentionAgreeOnPrefillRaggedAndUniformDecode()
    {
        using var loaded = ModelSource.Load(Spec);
        var explicitModel = loaded.Model;
        // Shares the weights; not disposed (the loaded model owns them).
        var fused = new LlamaModel(loaded.Config, loaded.Model.Weights, CPU, fusedAttention: true);
        using var poolA = KvPool.Create(loaded.Config.KvLayout(8, 40), $"fa-{Guid.NewGuid():N}"[..16]);
        using var poolB = KvPool.Create(loaded.Config.KvLayout(8, 40), $"fb-{Guid.NewGuid():N}"[..16]);
        int[] Prompt(int n, int salt) => Enumerable.Range(0, n).Select(i => i == 0 ? 1 : 3 + (i * 31 + salt) % 250).ToArray();
        var promptA = Prompt(21, 0);
        var promptB = Prompt(13, 7);

        var tablesA = new[] { new BlockTable(8), new BlockTable(8) };
        var tablesB = new[] { new BlockTable(8), new BlockTable(8) };
        void Ensure(int which, int positions)
        {
            tablesA[which].EnsureCapacity(positions, poolA.Allocator);
            tablesB[which].EnsureCapacity(positions, poolB.Allocator);
        }
        static void Close(float[] x, float[] y, string what)
        {
            Assert.Equal(x.Length, y.Length);
            double worst = x.Zip(y, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"{what}: largest difference {worst}");
        }

        // A lone prefill (the causal flag path).
        Ensure(0, promptA.Length);
        Close(Run(explicitModel, poolA, [new ForwardItem(promptA, 0, tablesA[0])]), Run(fused, poolB, [new ForwardItem(promptA, 0, tablesB[0])]), "prefill");
        Ensure(1, promptB.Length);
        Close(Run(explicitModel, poolA, [new ForwardItem(promptB, 0, tablesA[1])]), Run(fused, poolB, [new ForwardItem(promptB, 0, tablesB[1])]), "second prefill");

        // A ragged decode step (contexts 22 and 14: the device-built mask).
        Ensure(0, 22);
        Ensure(1, 14);
        Close(Run(explicitModel, poolA, [new ForwardItem([5], 21, tablesA[0]), new ForwardItem([9], 13, tablesA[1])]),
              Run(fused, poolB, [new ForwardItem([5], 21, tablesB[0]), new ForwardItem([9], 13, tablesB[1])]), "ragged decode");

        // A ragged prefill continuation of two tokens beside one (padding rows in the mask).
        Ensure(0, 24);
        Ensure(1, 15);
        Close(Run(explicitModel, poolA, [new ForwardItem([6, 7], 22, tablesA[0]), new ForwardItem([8], 14, tablesA[1])]),
              Run(fused, poolB, [new ForwardItem([6, 7], 22, tablesB[0]), new ForwardItem([8], 14, tablesB[1])]), "ragged chunk");

        // A uniform decode step (both contexts 25 long: no mask at all).
        Ensure(1, 25);
        var fill = Enumerable.Range(15, 9).Select(i => 3 + i).ToArray();
        Run(explicitModel, poolA, [new ForwardItem(fill, 15, tablesA[1])]);
        Run(fused, poolB, [new ForwardItem(fill, 15, tablesB[1])]);
        Ensure(0, 25);
        Close(Run(explicitModel, poolA, [new ForwardItem([10], 24, tablesA[0]), new ForwardItem([11], 24, tablesA[1])]),
              Run(fused, poolB, [new ForwardItem([10], 24, tablesB[0]), new ForwardItem([11], 24, tablesB[1])]), "uniform decode");
    }
}
