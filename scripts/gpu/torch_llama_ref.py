#!/usr/bin/env python3
"""PyTorch eager reference for `pdrdma engine-check`: the same Llama, the same weights, the same prompts.

Reads a legacy llama2.c checkpoint (written by `pdrdma model-export`, so tiny-random's weights are exactly the
engine's), runs greedy prefill + decode with a contiguous KV cache per sequence and F.scaled_dot_product_attention,
and prints JSON with the keys engine-check prints: ttft_ms, prefill_tokens_per_s, tpot_ms per batch size, tokens.
Prompts: token 0 is BOS (1), token i of sequence j is 3 + ((i + 101 j) * 7919 + 13) % (vocab - 3)
(EngineCheckCommand.PromptToken). The math follows the engine's: RMSNorm in float32 then cast, RoPE on adjacent pairs
in float32 with float32 angles, logits of the last position in float32 on the host, greedy argmax (first maximum).

--backend numpy runs the same forward in float32 with numpy (no torch): the CPU-side test of this script's math
and weight reading against the engine (tests/Engines/TorchReferenceScriptTests.cs).
"""
import argparse
import json
import struct
import sys
import time

HEADER = struct.Struct("<7i")


def prompt_token(sequence, i, vocab):
    return 1 if i == 0 else 3 + ((i + 101 * sequence) * 7919 + 13) % (vocab - 3)


def read_checkpoint(path, ops):
    """Config and weights of a legacy llama2.c .bin; every size is checked against the file before use."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER.size:
        raise ValueError(f"{path}: {len(data)} bytes, the header needs {HEADER.size}")
    dim, hidden, layers, heads, kv_heads, vocab, seq = HEADER.unpack_from(data, 0)
    for name, v in (("dim", dim), ("hidden_dim", hidden), ("n_layers", layers), ("n_heads", heads), ("n_kv_heads", kv_heads), ("seq_len", seq)):
        if v <= 0:
            raise ValueError(f"{path}: header {name} = {v}")
    shared = vocab > 0
    vocab = abs(vocab)
    if vocab == 0 or dim % heads or heads % kv_heads or (dim // heads) % 2:
        raise ValueError(f"{path}: inconsistent header {dim, hidden, layers, heads, kv_heads, vocab, seq}")
    hd = dim // heads
    kvd = kv_heads * hd
    offset = HEADER.size
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads, vocab=vocab, seq=seq, head_dim=hd)

    def take(*shape):
        nonlocal offset
        count = 1
        for s in shape:
            count *= s
        end = offset + 4 * count
        if end > len(data):
            raise ValueError(f"{path}: truncated at byte {offset} (needs {end}, has {len(data)})")
        t = ops.weight(data, offset, count, shape)
        offset = end
        return t

    w = {"emb": take(vocab, dim)}
    for name, shape in (("att_norm", (dim,)), ("wq", (dim, dim)), ("wk", (kvd, dim)), ("wv", (kvd, dim)), ("wo", (dim, dim)),
                        ("ffn_norm", (dim,)), ("w1", (hidden, dim)), ("w2", (dim, hidden)), ("w3", (hidden, dim))):
        w[name] = [take(*shape) for _ in range(layers)]
    w["final_norm"] = take(dim)
    offset += 4 * seq * hd  # freq_cis_real and freq_cis_imag: unused, RoPE is computed
    w["cls"] = w["emb"] if shared else take(vocab, dim)
    return cfg, w


class TorchOps:
    def __init__(self, device, dtype):
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        self.device = torch.device(device)
        self.dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]

    def weight(self, data, offset, count, shape):
        t = self.torch.frombuffer(bytearray(data[offset:offset + 4 * count]), dtype=self.torch.float32).reshape(shape)
        return t.to(device=self.device, dtype=self.dtype)

    def rope_tables(self, seq, hd, theta=10000.0):
        torch = self.torch
        i = torch.arange(0, hd // 2, dtype=torch.float32)
        freq = 1.0 / torch.pow(torch.tensor(theta, dtype=torch.float32), (2 * i) / hd)
        ang = torch.arange(seq, dtype=torch.float32)[:, None] * freq[None, :]
        return torch.cos(ang).to(self.device), torch.sin(ang).to(self.device)

    def tokens(self, rows):
        return self.torch.tensor(rows, dtype=self.torch.long, device=self.device)

    def embed(self, emb, tok):
        return emb[tok]

    def rmsnorm(self, x, w, eps):
        xf = x.float()
        return (xf * self.torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(self.dtype) * w

    def linear(self, x, w):
        return self.F.linear(x, w)

    def rope(self, x, cos, sin):
        b, t, h, hd = x.shape
        p = x.float().reshape(b, t, h, hd // 2, 2)
        x0, x1 = p[..., 0], p[..., 1]
        c, s = cos[None, :, None, :], sin[None, :, None, :]
        return self.torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).reshape(b, t, h, hd).to(self.dtype)

    def new_cache(self, b, kvh, length, hd):
        return self.torch.zeros(b, kvh, length, hd, dtype=self.dtype, device=self.device)

    def store(self, cache, start, x):  # x [b, t, kvh, hd]
        cache[:, :, start:start + x.shape[1]] = x.transpose(1, 2)

    def attention(self, q, k, v, group, causal):  # q [b, H, t, hd]; k, v [b, kvh, L, hd]
        if group > 1:
            k = k.repeat_interleave(group, 1)
            v = v.repeat_interleave(group, 1)
        return self.F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    def silu(self, x):
        return self.F.silu(x)

    def merge_heads(self, o):  # [b, H, t, hd] -> [b, t, H*hd]
        b, h, t, hd = o.shape
        return o.transpose(1, 2).reshape(b, t, h * hd)

    def split_heads(self, x, h, hd):
        b, t, _ = x.shape
        return x.reshape(b, t, h, hd)

    def to_heads(self, x):  # [b, t, h, hd] -> [b, h, t, hd]
        return x.transpose(1, 2)

    def last_logits(self, x, cls):
        return self.F.linear(x[:, -1], cls).float().cpu()

    def argmax(self, logits):
        return [int(i) for i in logits.argmax(-1).tolist()]

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def version(self):
        return self.torch.__version__


class NumpyOps:
    """float32 only, CPU: the same forward written with numpy, to test this script's math where torch is absent."""

    def __init__(self):
        import numpy as np
        self.np = np

    def weight(self, data, offset, count, shape):
        return self.np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(shape)

    def rope_tables(self, seq, hd, theta=10000.0):
        np = self.np
        i = np.arange(0, hd // 2, dtype=np.float32)
        freq = (np.float32(1.0) / np.power(np.float32(theta), (np.float32(2) * i) / np.float32(hd))).astype(np.float32)
        ang = (np.arange(seq, dtype=np.float32)[:, None] * freq[None, :]).astype(np.float32)
        return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    def tokens(self, rows):
        return self.np.array(rows, dtype=self.np.int64)

    def embed(self, emb, tok):
        return emb[tok]

    def rmsnorm(self, x, w, eps):
        np = self.np
        return (x * (np.float32(1) / np.sqrt((x * x).mean(-1, keepdims=True) + np.float32(eps)))).astype(np.float32) * w

    def linear(self, x, w):
        return (x @ w.T).astype(self.np.float32)

    def rope(self, x, cos, sin):
        b, t, h, hd = x.shape
        p = x.reshape(b, t, h, hd // 2, 2)
        x0, x1 = p[..., 0], p[..., 1]
        c, s = cos[None, :, None, :], sin[None, :, None, :]
        return self.np.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).reshape(b, t, h, hd).astype(self.np.float32)

    def new_cache(self, b, kvh, length, hd):
        return self.np.zeros((b, kvh, length, hd), dtype=self.np.float32)

    def store(self, cache, start, x):
        cache[:, :, start:start + x.shape[1]] = x.transpose(0, 2, 1, 3)

    def attention(self, q, k, v, group, causal):
        np = self.np
        if group > 1:
            k = np.repeat(k, group, axis=1)
            v = np.repeat(v, group, axis=1)
        t, length = q.shape[2], k.shape[2]
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(q.shape[-1]))
        if causal:
            mask = np.triu(np.ones((t, length), dtype=bool), k=length - t + 1)
            scores = np.where(mask, np.float32(-np.inf), scores)
        scores = scores - scores.max(-1, keepdims=True)
        e = np.exp(scores)
        return ((e / e.sum(-1, keepdims=True)) @ v).astype(np.float32)

    def silu(self, x):
        return (x / (1 + self.np.exp(-x))).astype(self.np.float32)

    def merge_heads(self, o):
        b, h, t, hd = o.shape
        return o.transpose(0, 2, 1, 3).reshape(b, t, h * hd)

    def split_heads(self, x, h, hd):
        b, t, _ = x.shape
        return x.reshape(b, t, h, hd)

    def to_heads(self, x):
        return x.transpose(0, 2, 1, 3)

    def last_logits(self, x, cls):
        return (x[:, -1] @ cls.T).astype(self.np.float32)

    def argmax(self, logits):
        return [int(i) for i in logits.argmax(-1)]

    def sync(self):
        pass

    def version(self):
        return "numpy " + self.np.__version__


class Llama:
    def __init__(self, cfg, w, ops, eps=1e-5):
        self.cfg, self.w, self.ops, self.eps = cfg, w, ops, eps
        self.cos, self.sin = ops.rope_tables(cfg["seq"], cfg["head_dim"])

    def forward(self, rows, start, caches):
        """rows: b token lists of equal length t at positions start..start+t-1; caches: per layer (k, v). Returns float32 logits [b, vocab] of the last position."""
        c, w, ops = self.cfg, self.w, self.ops
        t = len(rows[0])
        hd, heads, kvh = c["head_dim"], c["heads"], c["kv_heads"]
        x = ops.embed(w["emb"], ops.tokens(rows))
        cos, sin = self.cos[start:start + t], self.sin[start:start + t]
        for layer in range(c["layers"]):
            h = ops.rmsnorm(x, w["att_norm"][layer], self.eps)
            q = ops.rope(ops.split_heads(ops.linear(h, w["wq"][layer]), heads, hd), cos, sin)
            k = ops.rope(ops.split_heads(ops.linear(h, w["wk"][layer]), kvh, hd), cos, sin)
            v = ops.split_heads(ops.linear(h, w["wv"][layer]), kvh, hd)
            kc, vc = caches[layer]
            ops.store(kc, start, k)
            ops.store(vc, start, v)
            o = ops.attention(ops.to_heads(q), kc[:, :, :start + t], vc[:, :, :start + t], heads // kvh, causal=t > 1)
            x = x + ops.linear(ops.merge_heads(o), w["wo"][layer])
            h = ops.rmsnorm(x, w["ffn_norm"][layer], self.eps)
            x = x + ops.linear(ops.silu(ops.linear(h, w["w1"][layer])) * ops.linear(h, w["w3"][layer]), w["w2"][layer])
        x = ops.rmsnorm(x, w["final_norm"], self.eps)
        return ops.last_logits(x, w["cls"])

    def caches(self, b, length):
        c = self.cfg
        return [(self.ops.new_cache(b, c["kv_heads"], length, c["head_dim"]), self.ops.new_cache(b, c["kv_heads"], length, c["head_dim"])) for _ in range(c["layers"])]


def run(args):
    ops = NumpyOps() if args.backend == "numpy" else TorchOps(args.device, args.dtype)
    if args.backend == "numpy" and args.dtype != "f32":
        raise ValueError("--backend numpy runs float32 only")
    cfg, w = read_checkpoint(args.weights, ops)
    if args.prompt_len + args.decode_steps + 1 > cfg["seq"]:
        raise ValueError(f"prompt {args.prompt_len} + {args.decode_steps} steps exceed the model's context of {cfg['seq']}")
    model = Llama(cfg, w, ops)
    vocab, n = cfg["vocab"], args.prompt_len
    prompts = [[prompt_token(j, i, vocab) for i in range(n)] for j in range(max(args.batches))]
    length = n + args.decode_steps + 1

    ttft = float("inf")
    for r in range(args.repeats + 1):
        caches = model.caches(1, length)
        ops.sync()
        t0 = time.perf_counter()
        logits = model.forward([prompts[0]], 0, caches)
        ops.argmax(logits)
        ops.sync()
        if r > 0:
            ttft = min(ttft, (time.perf_counter() - t0) * 1000)
    if args.logits_out:
        with open(args.logits_out, "w") as f:
            json.dump([float(v) for v in logits[0].tolist()], f)

    tpot, tokens0 = {}, None
    for b in args.batches:
        caches = model.caches(b, length)
        last = ops.argmax(model.forward(prompts[:b], 0, caches))
        tokens = [last[0]]
        ops.sync()
        t0 = None
        for step in range(args.decode_steps - 1):
            if step == 1:
                ops.sync()
                t0 = time.perf_counter()
            last = ops.argmax(model.forward([[tok] for tok in last], n + step, caches))
            tokens.append(last[0])
        ops.sync()
        tpot[str(b)] = (time.perf_counter() - t0) * 1000 / max(1, args.decode_steps - 2) if t0 is not None else float("nan")
        if tokens0 is None:
            tokens0 = tokens
    return {
        "engine": "pytorch-eager" if args.backend == "torch" else "numpy-reference",
        "version": ops.version(),
        "device": args.device if args.backend == "torch" else "cpu",
        "config": dict(cfg, dtype=args.dtype),
        "prompt_len": n,
        "decode_steps": args.decode_steps,
        "ttft_ms": ttft,
        "prefill_tokens_per_s": n / (ttft / 1000) if ttft > 0 else None,
        "tpot_ms": tpot,
        "tokens": tokens0,
    }


def parse(argv):
    ap = argparse.ArgumentParser(description="PyTorch eager reference for pdrdma engine-check")
    ap.add_argument("--weights", required=True, help="llama2.c .bin from `pdrdma model-export`")
    ap.add_argument("--backend", choices=["torch", "numpy"], default="torch")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="bf16")
    ap.add_argument("--prompt-len", type=int, default=4096)
    ap.add_argument("--decode-steps", type=int, default=64)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--logits-out", help="write the float32 prefill logits of prompt 0 here (JSON list)")
    args = ap.parse_args(argv)
    try:
        args.batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        ap.error(f"--batches {args.batches!r}: comma-separated integers")
    if not all(1 <= b <= 64 for b in args.batches) or not 1 <= args.prompt_len <= 1 << 20 or not 2 <= args.decode_steps <= 1 << 16 or not 1 <= args.repeats <= 100:
        ap.error("out of range: batches 1..64, prompt-len 1..2^20, decode-steps 2..65536, repeats 1..100")
    return args


def main(argv):
    args = parse(argv)
    try:
        result = run(args)
    except (OSError, ValueError) as e:
        print(f"torch_llama_ref: {e}", file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
