#!/usr/bin/env bash
# The GPU checks, in one go: the llama-1b training benchmark (seq 2048 x batch 4: plain HF with and without autocast, raw Unsloth,
# medtune, and medtune with padding-free batches forced), then the GPU tests.
# Usage: bash benchmarks/run_gpu.sh [OUTDIR]   (needs medtune's deps + unsloth; see benchmarks/README.md for an offline machine)
set -u
out=${1:-benchmarks/results}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch, transformers, trl, peft, bitsandbytes, unsloth; print('torch', torch.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__, 'peft', peft.__version__, 'bnb', bitsandbytes.__version__, 'unsloth', unsloth.__version__)" 2>&1 | tail -3
timeout 420 python3 benchmarks/bench_train.py --shape llama-1b --seq 2048 --batch 4 --steps 8 --warmup 3 --paths hf,hf_ref,unsloth,medtune,medtune_pf \
  --model-dir /tmp/llama-1b --out "$out" 2>&1 | grep -v "it/s\]" | tail -40
timeout 150 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py 2>&1 | tail -15
