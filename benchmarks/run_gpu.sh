#!/usr/bin/env bash
# The GPU checks, in one go: GPU tests, then the llama-1b training benchmark (seq 2048 x batch 4) and a second
# point for the memory predictor. Usage: bash benchmarks/run_gpu.sh [OUTDIR]   (needs medtune's deps + unsloth)
set -u
out=${1:-benchmarks/results}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch, transformers, trl, peft, bitsandbytes, unsloth; print('torch', torch.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__, 'peft', peft.__version__, 'bnb', bitsandbytes.__version__, 'unsloth', unsloth.__version__)" 2>&1 | tail -3
timeout 240 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py 2>&1 | tail -15
timeout 600 python3 benchmarks/bench_train.py --shape llama-1b --seq 2048 --batch 4 --steps 8 --warmup 3 --model-dir /tmp/llama-1b --out "$out" 2>&1 | grep -v "it/s\]" | tail -40
timeout 240 python3 benchmarks/bench_train.py --shape llama-1b --seq 3072 --batch 3 --steps 4 --warmup 2 --paths unsloth,medtune --model-dir /tmp/llama-1b --out "$out" 2>&1 | grep -v "it/s\]" | tail -12
