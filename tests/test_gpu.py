"GPU-only checks, run on a CUDA machine (`pytest -m gpu tests/test_gpu.py`); skipped elsewhere."
import json, subprocess, sys
import pytest, torch
from conftest import ROOT, TIMEOUT

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]

def test_auto_backend_and_precision():
    from medtune.env import env_report
    r = env_report()
    assert r['backend'] == 'unsloth', r['backend_reason']
    assert r['precision'] == ('bfloat16' if torch.cuda.is_bf16_supported() else 'float16')

def test_medtune_path_trains_on_gpu(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'bench_train.py'), '--shape', 'tiny', '--seq', '256', '--batch', '2',
                        '--steps', '3', '--warmup', '1', '--out', str(tmp_path)], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr[-3000:]
    rec = json.loads(next(tmp_path.glob('train_tiny_*.json')).read_text())
    assert all('error' not in r for r in rec['results'].values())
    m = rec['results']['medtune']
    assert m['loss_last'] == m['loss_last'] and m['peak_gib'] < 2  # finite loss, tiny model stays tiny
    # medtune's default leaves the batches to Unsloth, whose rule keeps padding-free for a run this short (and on an H100/H200 always): recorded as used
    assert (m['padding']['padding_free'], m['padding']['used']) == (None, True), m['padding']

def _unsloth_tiny(tmp_path):
    "A random-init tiny Llama (benchmarks/bench_train.py's), loaded 4-bit through Unsloth and switched to its inference mode."
    sys.path.insert(0, str(ROOT/'benchmarks'))
    from bench_train import make_model_dir
    from medtune.config import ModelConfig
    from medtune.model import ResolvedModel, for_inference, load_model
    make_model_dir('tiny', tmp_path/'m')
    model, tok = load_model(ResolvedModel('tiny', str(tmp_path/'m'), 'local', 'random tiny'), ModelConfig(load_in_4bit=True), 'bfloat16', 'unsloth', 1024)
    return for_inference(model, 'unsloth')

def _shared_prefix_requests():
    "Six contexts sharing a 300-token prefix, each with three continuations of 1 to 3 tokens."
    g = torch.Generator().manual_seed(0)
    tok = lambda n: torch.randint(4, 256, (n,), generator=g).tolist()
    pre = tok(300)
    return [(pre + tok(10 + i), [tok(1), tok(2), tok(3)]) for i in range(6)]

def _naive(model, reqs):
    "Summed continuation log-probs, one full forward per (context, continuation), no cache."
    out = []
    for ctx, conts in reqs:
        row = []
        for c in conts:
            with torch.no_grad(): lp = model(input_ids=torch.tensor([ctx + c[:-1]], device='cuda')).logits[0].float().log_softmax(-1)
            row.append(sum(lp[len(ctx) - 1 + j, t].item() for j, t in enumerate(c)))
        out.append(row)
    return out

def test_loglikelihoods_under_unsloth_inference(tmp_path, capsys):
    "Shared-prefix scoring under Unsloth's inference kernels gives the naive numbers, and (for speed) its key/value cache passes the check."
    from medtune.evaluate import loglikelihoods
    model, reqs = _unsloth_tiny(tmp_path), _shared_prefix_requests()
    got = loglikelihoods(model, reqs, batch_size=4)
    for g, w in zip(got, _naive(model, reqs)): assert g == pytest.approx(w, rel=0.02, abs=0.05)
    assert 'run whole' not in capsys.readouterr().out, "Unsloth's cached forward differs from its plain one: k-shot prompts fall back to whole prompts"
