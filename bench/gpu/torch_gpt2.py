"""PyTorch eager fp32 (TF32 off) GPT-2 training throughput: the anchor for bench/gpu/train.ts.
A plain GPT-2 (pre-norm blocks, causal SDPA attention, tanh GELU, tied head), AdamW, random
tokens, B=8, T=1024 by default. Prints tokens/s and peak CUDA memory.
   python3 bench/gpu/torch_gpt2.py [B] [T] [steps]"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")

B = int(sys.argv[1]) if len(sys.argv) > 1 else 8
T = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
STEPS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
V, C, L, NH = 50257, 768, 12, 12


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.mlp_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for blk in self.h:
            x = blk(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


torch.manual_seed(0)
model = GPT().cuda()
with torch.no_grad():  # GPT-2 init (std 0.02), so the loss starts near log(V) as ours does
    for name, p in model.named_parameters():
        if p.dim() == 2:
            p.normal_(0.0, 0.02)
        elif "ln" not in name:
            p.zero_()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
idx = torch.randint(0, V, (B, T + 1), device="cuda")
x, y = idx[:, :-1].contiguous(), idx[:, 1:].contiguous()


def step():
    opt.zero_grad(set_to_none=True)
    loss = model(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss


for _ in range(3):
    step()
torch.cuda.synchronize()
torch.cuda.reset_peak_memory_stats()
t0 = time.time()
for _ in range(STEPS):
    loss = step()
torch.cuda.synchronize()
s = time.time() - t0
print(json.dumps({
    "impl": "torch-eager-fp32", "torch": torch.__version__, "device": torch.cuda.get_device_name(0), "tf32": False,
    "B": B, "T": T, "steps": STEPS, "tokensPerS": STEPS * B * T / s, "msPerStep": 1000 * s / STEPS,
    "loss": float(loss.detach()), "peakMemBytes": torch.cuda.max_memory_allocated(), "expectedInitLoss": math.log(V),
}))
