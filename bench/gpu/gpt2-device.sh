#!/usr/bin/env bash
# GPT-2 124M training throughput and peak memory on the device machine, one call, all rows
# side by side: PyTorch eager fp32 (TF32 off, SDPA) before and after ours; ours fp32 with the
# unfused and the fused (flash, the webgpu default) attention, twice each; ours with the
# tensor-core (MIXED PRECISION) matmuls; then fp32 matmul at 4096^3 (ours, tfjs-webgpu,
# cuBLAS fp32). Peak memory: nvidia-smi sampled every 250 ms during each run.
# Bundles (built here, carried in .gpu-bundle):
#   npx esbuild bench/gpu/train.ts  ... --outfile=.gpu-bundle/bench-train.mjs
#   npx esbuild bench/gpu/matmul.ts ... --outfile=.gpu-bundle/bench-matmul.mjs
# (esbuild flags as in docs/BENCHMARKS.md). Run: bash bench/gpu/gpt2-device.sh [steps]
# Prints one JSON line per run; with $OUT set (the device tool), also writes them to
# $OUT/gpt2-device.jsonl (committed as bench/results/gpt2-h200.jsonl).
set -uo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-12}
if [[ -n "${OUT:-}" ]]; then exec > >(tee "$OUT/gpt2-device.jsonl"); fi
peak() { # peak memory.used (MiB) while "$@" runs; the command's last line on stdout
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 250 > /tmp/smi.txt &
  local smi=$!
  local last
  last=$("$@" 2>/dev/null | tail -1)
  kill $smi 2>/dev/null; wait $smi 2>/dev/null
  echo "{\"peakMiB\": $(sort -n /tmp/smi.txt | tail -1), \"run\": $last}"
}
ours() { peak env "$@" bash .gpu-bundle/run.sh .gpu-bundle/bench-train.mjs gpt2 8 1024 "$steps"; }
peak python3 bench/gpu/torch_gpt2.py 8 1024 "$steps"
for i in 1 2; do
  ours ATTENTION_IMPL=matmul
  ours ATTENTION_IMPL=flash
done
ours ATTENTION_IMPL=matmul MATMUL_PRECISION=tensor-core
ours ATTENTION_IMPL=flash MATMUL_PRECISION=tensor-core
peak python3 bench/gpu/torch_gpt2.py 8 1024 "$steps"
bash .gpu-bundle/run.sh .gpu-bundle/bench-matmul.mjs 4096 auto 2>/dev/null
python3 bench/gpu/torch_matmul.py 4096 fp32 2>/dev/null
