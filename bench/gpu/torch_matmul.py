"""PyTorch matmul TFLOP/s on n x n x n products: cuBLAS fp32 with TF32 off (the anchor for
bench/gpu/matmul.ts), and for context beside the tensor-core path (bench/gpu/matmul-tc.ts)
fp32 inputs with TF32 on, and fp16 inputs (fp32 accumulate, fp16 output).
   python3 bench/gpu/torch_matmul.py 1024,2048,4096 [fp32,tf32,fp16]"""
import json
import sys

import torch

sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1024,2048,4096").split(",")]
modes = (sys.argv[2] if len(sys.argv) > 2 else "fp32").split(",")
print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}))

IMPL = {"fp32": "torch-cublas-fp32", "tf32": "torch-cublas-tf32", "fp16": "torch-cublas-fp16"}


def set_mode(mode):
    tf32 = mode == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")


for mode in modes:
    set_mode(mode)
    dtype = torch.float16 if mode == "fp16" else torch.float32
    for n in sizes:
        a = (torch.rand(n, n, device="cuda") * 2 - 1).to(dtype)
        b = (torch.rand(n, n, device="cuda") * 2 - 1).to(dtype)
        for _ in range(3):
            a @ b
        torch.cuda.synchronize()
        reps = max(10, int((2e13 if mode != "fp32" else 2e12) / (2 * n**3)))
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            a @ b
        end.record()
        torch.cuda.synchronize()
        s = start.elapsed_time(end) / 1000 / reps
        print(json.dumps({"impl": IMPL[mode], "n": n, "tflops": 2 * n**3 / s / 1e12, "reps": reps, "tf32": torch.backends.cuda.matmul.allow_tf32}))
