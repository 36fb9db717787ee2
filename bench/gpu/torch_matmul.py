"""PyTorch cuBLAS fp32 matmul TFLOP/s with TF32 off (the anchor for bench/gpu/matmul.ts).
   python3 bench/gpu/torch_matmul.py 1024,2048,4096"""
import json
import sys

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")

sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1024,2048,4096").split(",")]
print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "tf32": torch.backends.cuda.matmul.allow_tf32}))
for n in sizes:
    a = torch.rand(n, n, device="cuda") * 2 - 1
    b = torch.rand(n, n, device="cuda") * 2 - 1
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    reps = max(10, int(2e12 / (2 * n**3)))
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        a @ b
    end.record()
    torch.cuda.synchronize()
    s = start.elapsed_time(end) / 1000 / reps
    print(json.dumps({"impl": "torch-cublas-fp32", "n": n, "tflops": 2 * n**3 / s / 1e12, "reps": reps}))
