"""The gpt milestone's model in PyTorch, for bench_gpt: the same GPT (nanoGPT layout), batch and AdamW.

    python3 gpt.py step THREADS REPEATS     ->  {"ms_per_step": <median>, "parameters": N}
    python3 gpt.py generate THREADS TOKENS  ->  {"tokens_per_second": <greedy, no KV cache>}

A character-level GPT: vocabulary 65, context 64, 4 layers, 4 heads, width 128, no dropout; pre-LN
blocks, exact GELU, the lm_head tied to the token embedding, initialised as nanoGPT. One training
step is zero_grad, forward, cross-entropy, backward, clip_grad_norm_(1.0) and an AdamW step (lr 1e-3,
betas 0.9/0.99, weight decay 0.1 on the matrices only) on a random batch of 12 sequences of 64
tokens - the work of one step of the milestone. Generation is greedy, one token at a time, feeding
the model the last 64 tokens each time (no KV cache), from a 1-token prompt.
"""
import json, math, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, T, L, H, D, B = 65, 64, 4, 4, 128, 12


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.attn_proj = nn.Linear(D, D)
        self.ln_2 = nn.LayerNorm(D)
        self.fc = nn.Linear(D, 4 * D)
        self.mlp_proj = nn.Linear(4 * D, D)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(D, dim=2)
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in (q, k, v))  # (B, H, T, d)
        # PyTorch 1.13 has no fused scaled_dot_product_attention: nanoGPT's manual path.
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        weights = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        y = (weights @ v).transpose(1, 2).contiguous().view(b, t, D)
        x = x + self.attn_proj(y)
        return x + self.mlp_proj(F.gelu(self.fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(V, D)
        self.position_embedding = nn.Embedding(T, D)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, V, bias=False)
        self.lm_head.weight = self.token_embedding.weight  # tied
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding(torch.arange(t))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def main():
    mode, threads, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(2018)
    model = GPT()
    if mode == "step":
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                      lr=1e-3, betas=(0.9, 0.99))
        times = []
        for r in range(count + 2):  # two warm-up steps
            x = torch.randint(0, V, (B, T))
            y = torch.randint(0, V, (B, T))
            start = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            if r >= 2:
                times.append(time.perf_counter() - start)
        times.sort()
        print(json.dumps({"ms_per_step": 1000 * times[len(times) // 2],
                          "parameters": sum(p.numel() for p in model.parameters())}))
    elif mode == "generate":
        model.eval()
        ids = torch.zeros(1, 1, dtype=torch.long)
        with torch.no_grad():
            model(ids)  # warm-up
            start = time.perf_counter()
            for _ in range(count):
                logits = model(ids[:, -T:])
                ids = torch.cat([ids, logits[:, -1, :].argmax(dim=-1, keepdim=True)], dim=1)
            seconds = time.perf_counter() - start
        print(json.dumps({"tokens_per_second": count / seconds}))
    else:
        raise SystemExit("mode must be step or generate")


if __name__ == "__main__":
    main()
