"""Greedy generation in PyTorch with the weights bench_capstone_gpt exports, for the gpt competition.

    python3 gpt_capstone.py THREADS WEIGHTS.json WEIGHTS.bin PROMPTS.json NEW_TOKENS
        ->  {"tokens_per_second": <greedy, no KV cache>, "tokens": [[new ids of prompt 0], ...]}

WEIGHTS.json: {"config": {vocab_size, context_length, num_layers, num_heads, embed_dim, bias,
tie_weights}, "parameters": [{"name": "blocks.0.ln_1.weight", "shape": [128]}, ...]} in the order of
the float32 values in WEIGHTS.bin (the engine's named_parameters()). PROMPTS.json: a list of lists of
token ids. Each prompt is continued greedily by NEW_TOKENS tokens, one at a time, feeding the model
the whole sequence each time (no KV cache) - what the competition's rules ask of a plain engine -
with torch.no_grad() in eval mode. The tokens come back too, so the benchmark can check that
PyTorch writes the same text as the engine.
"""
import array, json, math, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, D, H, bias):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(D, elementwise_affine=True)
        self.qkv = nn.Linear(D, 3 * D, bias=bias)
        self.proj = nn.Linear(D, D, bias=bias)
        self.ln_2 = nn.LayerNorm(D)
        self.fc = nn.Linear(D, 4 * D, bias=bias)
        self.mlp_proj = nn.Linear(4 * D, D, bias=bias)

    def forward(self, x):
        b, t, D = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(D, dim=2)
        q, k, v = (z.view(b, t, self.H, D // self.H).transpose(1, 2) for z in (q, k, v))  # (B, H, T, d)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // self.H))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        weights = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).contiguous().view(b, t, D)
        x = x + self.proj(y)
        return x + self.mlp_proj(F.gelu(self.fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        V, C, D = c["vocab_size"], c["context_length"], c["embed_dim"]
        self.token_embedding = nn.Embedding(V, D)
        self.position_embedding = nn.Embedding(C, D)
        self.blocks = nn.ModuleList([Block(D, c["num_heads"], c["bias"]) for _ in range(c["num_layers"])])
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, V, bias=False)
        if c["tie_weights"]:
            self.lm_head.weight = self.token_embedding.weight

    def forward(self, ids):
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def engine_name_to_torch(name):
    """blocks.0.attention.qkv.weight -> blocks.0.qkv.weight, blocks.0.mlp.proj.bias -> blocks.0.mlp_proj.bias"""
    return name.replace(".attention.qkv.", ".qkv.").replace(".attention.proj.", ".proj.").replace(
        ".mlp.fc.", ".fc.").replace(".mlp.proj.", ".mlp_proj.")


def main():
    threads, manifest_path, values_path, prompts_path, new_tokens = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    manifest = json.load(open(manifest_path))
    model = GPT(manifest["config"])
    values = array.array("f")
    with open(values_path, "rb") as f:
        values.frombytes(f.read())
    flat = torch.tensor(values, dtype=torch.float32)
    state = dict(model.named_parameters())
    offset = 0
    with torch.no_grad():
        for entry in manifest["parameters"]:
            count = math.prod(entry["shape"])
            state[engine_name_to_torch(entry["name"])].copy_(flat[offset:offset + count].view(entry["shape"]))
            offset += count
        # LayerNorms without bias in the engine (bias = false): PyTorch's stays 0 as initialised.
        if not manifest["config"]["bias"]:
            for module in model.modules():
                if isinstance(module, nn.LayerNorm):
                    module.bias.zero_()
    model.eval()
    prompts = json.load(open(prompts_path))
    new_tokens = int(new_tokens)
    out = []
    with torch.no_grad():
        model(torch.tensor([prompts[0]]))  # warm-up
        start = time.perf_counter()
        for prompt in prompts:
            ids = torch.tensor([prompt])
            for _ in range(new_tokens):
                logits = model(ids)
                ids = torch.cat([ids, logits[:, -1, :].argmax(dim=-1, keepdim=True)], dim=1)
            out.append(ids[0, len(prompt):].tolist())
        seconds = time.perf_counter() - start
    print(json.dumps({"tokens_per_second": len(prompts) * new_tokens / seconds, "tokens": out}))


if __name__ == "__main__":
    main()
