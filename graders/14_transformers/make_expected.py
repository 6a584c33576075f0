"""make_expected.py - the PyTorch 1.13 numbers written into module 14's tests.

Run: /usr/bin/python3 graders/14_transformers/make_expected.py   (prints C++ initialisers)

Two cases:
  layer_norm   x (2, 3, 4), weight, bias and an upstream gradient g, all from sines; prints
               y = F.layer_norm(x, (4,), weight, bias) and the gradients of sum(y * g).
  tiny GPT     nanoGPT's layout (pre-LN, causal attention with one fused c_attn, exact GELU,
               ln_f, lm_head tied to wte) with V=7, context 5, L=2, H=2, D=8, every weight set by
               the formula of transformer_reference.h's deterministic_weights():
                   slot k, element i:  base + amplitude * sin(0.7 i + 1.3 k + 0.1)
               ids (2, 5) and targets; prints the logits (2, 5, 7), the mean cross-entropy and
               the gradients of that loss for a few parameters. Computed in float64.
The product and its tests never run this script; it documents where the numbers come from.
"""
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def fmt(t):
    return "{" + ", ".join(f"{v:.9g}" for v in t.flatten().tolist()) + "}"


# ---- layer_norm ------------------------------------------------------------------------------
x = torch.tensor([2 * math.sin(0.9 * i + 0.2) + 0.1 * i for i in range(24)]).reshape(2, 3, 4).requires_grad_()
w = torch.tensor([1 + 0.5 * math.sin(1.1 * i) for i in range(4)]).requires_grad_()
b = torch.tensor([0.3 * math.cos(0.7 * i) for i in range(4)]).requires_grad_()
g = torch.tensor([math.cos(0.5 * i + 0.1) for i in range(24)]).reshape(2, 3, 4)
y = F.layer_norm(x, (4,), w, b, 1e-5)
(y * g).sum().backward()
print("// layer_norm")
print("y", fmt(y.detach()))
print("dx", fmt(x.grad))
print("dweight", fmt(w.grad))
print("dbias", fmt(b.grad))
x2 = x.detach().clone().requires_grad_()
y2 = F.layer_norm(x2, (4,), None, None, 1e-5)
(y2 * g).sum().backward()
print("y_plain", fmt(y2.detach()))
print("dx_plain", fmt(x2.grad))

# ---- tiny GPT --------------------------------------------------------------------------------
V, C, L, H, D = 7, 5, 2, 2, 8


def sines(count, slot, base, amplitude):
    return torch.tensor([base + amplitude * math.sin(0.7 * i + 1.3 * slot + 0.1) for i in range(count)])


def param(count, slot, base, amplitude, shape):
    return sines(count, slot, base, amplitude).reshape(shape).requires_grad_()


wte = param(V * D, 0, 0.0, 0.5, (V, D))
wpe = param(C * D, 1, 0.0, 0.5, (C, D))
blocks = []
for l in range(L):
    s = 2 + 12 * l
    blocks.append(dict(
        ln_1_w=param(D, s + 0, 1.0, 0.2, (D,)), ln_1_b=param(D, s + 1, 0.0, 0.1, (D,)),
        qkv_w=param(3 * D * D, s + 2, 0.0, 0.3, (3 * D, D)), qkv_b=param(3 * D, s + 3, 0.0, 0.1, (3 * D,)),
        proj_w=param(D * D, s + 4, 0.0, 0.3, (D, D)), proj_b=param(D, s + 5, 0.0, 0.1, (D,)),
        ln_2_w=param(D, s + 6, 1.0, 0.2, (D,)), ln_2_b=param(D, s + 7, 0.0, 0.1, (D,)),
        fc_w=param(4 * D * D, s + 8, 0.0, 0.3, (4 * D, D)), fc_b=param(4 * D, s + 9, 0.0, 0.1, (4 * D,)),
        mproj_w=param(4 * D * D, s + 10, 0.0, 0.3, (D, 4 * D)), mproj_b=param(D, s + 11, 0.0, 0.1, (D,)),
    ))
s = 2 + 12 * L
ln_f_w = param(D, s, 1.0, 0.2, (D,))
ln_f_b = param(D, s + 1, 0.0, 0.1, (D,))

ids = torch.tensor([[1, 6, 0, 3, 3], [5, 2, 2, 4, 0]])
targets = torch.tensor([[6, 0, 3, 3, 5], [2, 2, 4, 0, 1]])
B, T = ids.shape
x = wte[ids] + wpe[torch.arange(T)]
mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
for p in blocks:
    h = F.layer_norm(x, (D,), p["ln_1_w"], p["ln_1_b"], 1e-5)
    q, k, v = F.linear(h, p["qkv_w"], p["qkv_b"]).split(D, dim=2)
    q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
    att = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
    att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
    a = (att @ v).transpose(1, 2).contiguous().view(B, T, D)
    x = x + F.linear(a, p["proj_w"], p["proj_b"])
    h = F.layer_norm(x, (D,), p["ln_2_w"], p["ln_2_b"], 1e-5)
    x = x + F.linear(F.gelu(F.linear(h, p["fc_w"], p["fc_b"])), p["mproj_w"], p["mproj_b"])
logits = F.linear(F.layer_norm(x, (D,), ln_f_w, ln_f_b, 1e-5), wte)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
loss.backward()
print("// tiny GPT")
print("logits", fmt(logits.detach()))
print("loss", f"{loss.item():.9g}")
print("d_token_embedding", fmt(wte.grad))
print("d_position_embedding", fmt(wpe.grad))
print("d_blocks_0_ln_1_weight", fmt(blocks[0]["ln_1_w"].grad))
print("d_blocks_0_qkv_bias", fmt(blocks[0]["qkv_b"].grad))
print("d_blocks_1_attention_proj_bias", fmt(blocks[1]["proj_b"].grad))
print("d_blocks_1_fc_bias", fmt(blocks[1]["fc_b"].grad))
print("d_ln_f_weight", fmt(ln_f_w.grad))
