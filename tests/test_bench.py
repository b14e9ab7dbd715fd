"benchmarks/bench_train.py runs on a CPU with a tiny shape: all three paths train and the JSON holds their numbers and ratios."
import json, subprocess, sys
from conftest import ROOT, TIMEOUT

def test_bench_train_tiny_cpu(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'bench_train.py'), '--shape', 'tiny', '--seq', '64', '--batch', '2',
                        '--steps', '2', '--warmup', '1', '--out', str(tmp_path)], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr[-3000:]
    rec = json.loads(next(tmp_path.glob('train_tiny_*.json')).read_text())
    assert set(rec["results"]) == {"hf", "unsloth", "medtune"}
    for r in rec['results'].values():
        assert r['tokens_per_s'] > 0 and r['peak_gib'] > 0 and r['steps_timed'] == 2
    assert set(rec['ratios']) == {'medtune_vs_hf_tokens_per_s', 'medtune_vs_unsloth_tokens_per_s', 'medtune_vs_unsloth_peak_gib'}
    assert rec['versions']['torch'] and 'CPU' in rec['device']
