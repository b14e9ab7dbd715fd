"The same end-to-end test on both backends: transformers+peft+bitsandbytes (hf) and Unsloth (its CPU fallback here, its kernels on a GPU)."
import importlib.util, json
import pytest, torch
from conftest import medtune

CFG = """preset: cpu-demo
model: {backend: BACKEND}
data: {train: [sample:medquad, sample:pubmedqa], max_rows: 6, val_fraction: 0}
train: {max_steps: 2, batch_size: 2, max_length: 96, logging_steps: 1, save_steps: 100}
eval: {benchmarks: [mmlu_medical, medmcqa], n: 4, generations: 1, max_new_tokens: 8, freetext_n: 2, refusal_probe: false}
output: {export: []}
"""

@pytest.mark.parametrize('backend', ['hf', 'unsloth'])
def test_train_eval_save_on_backend(backend, tmp_path):
    if backend == 'unsloth' and importlib.util.find_spec('unsloth') is None: pytest.skip('unsloth is not installed (scripts/setup.sh installs it)')
    (tmp_path/'cfg.yaml').write_text(CFG.replace('BACKEND', backend))
    p = medtune('train', tmp_path/'cfg.yaml', '--out', tmp_path/'run')
    assert p.returncode == 0, p.stderr[-3000:]
    run = tmp_path/'run'
    r = json.loads((run/'report.json').read_text())
    assert r['backend'] == backend and sorted(r['benchmarks']) == ['medmcqa', 'mmlu_medical']
    assert all(b['n'] == 4 for b in r['benchmarks'].values())
    pad = r['training']['padding']  # on a CPU both train on padded batches; under Unsloth the choice is Unsloth's, recorded as made
    assert pad['used'] is False and ('as Unsloth chose' in pad['reason']) == (backend == 'unsloth'), pad
    assert f"- {pad['reason']}" in (run/'report.md').read_text()
    steps = [json.loads(l) for l in (run/'metrics.jsonl').read_text().splitlines()]
    assert [s['step'] for s in steps if 'loss' in s] == [1, 2] and all(s['tokens_per_s'] > 0 for s in steps if 'loss' in s)
    # the adapter is a plain peft adapter whichever backend trained it
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    from medtune.model import embedded_model_dir
    from medtune.persist import verify_manifest
    verify_manifest(run/'adapter')
    m = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(embedded_model_dir()), str(run/'adapter'))
    assert sum(p.abs().sum().item() for n, p in m.named_parameters() if 'lora_B' in n) > 0  # trained, not the zero init
