"GPU-only checks, run on a CUDA machine (`pytest -m gpu tests/test_gpu.py`); skipped elsewhere."
import json, subprocess, sys
import pytest, torch
from conftest import ROOT

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]

def test_auto_backend_and_precision():
    from medtune.env import env_report
    r = env_report()
    assert r['backend'] == 'unsloth', r['backend_reason']
    assert r['precision'] == ('bfloat16' if torch.cuda.is_bf16_supported() else 'float16')

def test_medtune_path_trains_on_gpu(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'bench_train.py'), '--shape', 'tiny', '--seq', '256', '--batch', '2',
                        '--steps', '3', '--warmup', '1', '--out', str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    rec = json.loads(next(tmp_path.glob('train_tiny_*.json')).read_text())
    assert all('error' not in r for r in rec['results'].values())
    m = rec['results']['medtune']
    assert m['loss_last'] == m['loss_last'] and m['peak_gib'] < 2  # finite loss, tiny model stays tiny
