#!/usr/bin/python3
"""PyTorch twin of bench/bench_train.c, driven by bench/vs-pytorch (see docs/performance.md).

Commands on stdin, one reply line each:
    case mlp|gpt WIDTH      build the model and Adam, warm up; "ok params=P"
    step K                  K training steps; "seconds"
    quit
The first line it prints is "ready TORCH_VERSION", or "na REASON" (and it exits) when torch cannot
be imported.
Threads come from the environment the driver sets (OMP_NUM_THREADS for ATen, OPENBLAS_NUM_THREADS
for the GEMMs: torch.set_num_threads does not reach OpenBLAS's own pool).

The models match libmup's mup_mlp and mup_gpt under SP: nn.Linear (uniform ±1/sqrt(fan_in) weights
and biases), nn.Embedding (normal(0, 1)), nn.LayerNorm (ones, zeros), exact GELU, causal attention
with scale 1/sqrt(d_head), a readout with a bias; Adam(lr=1e-3) with PyTorch's defaults; one fixed
random batch reused every step.
"""
import math
import sys
import time

MLP_BATCH, MLP_IN, MLP_OUT = 128, 784, 10
GPT_BATCH, GPT_BLOCK, GPT_VOCAB, GPT_LAYERS, GPT_HEADS = 8, 128, 65, 2, 4

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # missing or broken install: the driver prints "na"
    print("na", type(e).__name__, str(e).replace("\n", " "), flush=True)
    sys.exit(0)


class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(MLP_IN, width)
        self.fc2 = nn.Linear(width, width)
        self.readout = nn.Linear(width, MLP_OUT)

    def forward(self, x):
        return self.readout(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.fc_out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("mask", torch.tril(torch.ones(GPT_BLOCK, GPT_BLOCK, dtype=torch.bool)))

    def attention(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, GPT_HEADS, C // GPT_HEADS).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // GPT_HEADS))
        att = F.softmax(att.masked_fill(~self.mask[:T, :T], float("-inf")), dim=-1)
        return self.proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc_out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(GPT_VOCAB, d), nn.Embedding(GPT_BLOCK, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(GPT_LAYERS))
        self.lnf = nn.LayerNorm(d)
        self.readout = nn.Linear(d, GPT_VOCAB)
        self.register_buffer("pos", torch.arange(GPT_BLOCK))

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(self.pos[: ids.shape[1]])
        for b in self.blocks:
            x = b(x)
        return self.readout(self.lnf(x))


class Case:
    def __init__(self, model, width):
        torch.manual_seed(1)
        g = torch.Generator().manual_seed(2)
        if model == "mlp":
            self.net = MLP(width)
            self.x = torch.randn(MLP_BATCH, MLP_IN, generator=g)
            self.y = torch.randint(0, MLP_OUT, (MLP_BATCH,), generator=g)
        elif model == "gpt":
            self.net = GPT(width)
            self.x = torch.randint(0, GPT_VOCAB, (GPT_BATCH, GPT_BLOCK), generator=g)
            self.y = torch.randint(0, GPT_VOCAB, (GPT_BATCH * GPT_BLOCK,), generator=g)
        else:
            raise ValueError(model)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        for _ in range(3):
            self.step()

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        logits = self.net(self.x)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), self.y)
        loss.backward()
        self.opt.step()


def main():
    print("ready", torch.__version__, flush=True)
    case = None
    for line in sys.stdin:
        w = line.split()
        if len(w) == 3 and w[0] == "case":
            case = Case(w[1], int(w[2]))
            print("ok params=%d" % sum(p.numel() for p in case.net.parameters()), flush=True)
        elif len(w) == 2 and w[0] == "step" and case:
            t0 = time.perf_counter()
            for _ in range(int(w[1])):
                case.step()
            print("%.9f" % (time.perf_counter() - t0), flush=True)
        elif w and w[0] == "quit":
            break
        else:
            print("error: bad command", line.strip(), flush=True)


if __name__ == "__main__":
    main()
