"""Out of memory during training, through the `medtune` command on the real embedded model: torch's OutOfMemoryError is
raised from the model's forward when a batch has more than K sequences (from step 3 on), as a GPU would raise it."""
import json, subprocess, sys
from pathlib import Path
from conftest import TIMEOUT

CFG = """preset: cpu-demo
model: {load_in_4bit: false}  # what is tested here is the same at any precision; 4-bit loads and trains slower on a CPU
data: {train: [sample:medquad], max_rows: 24, val_fraction: 0}
train: {max_steps: 6, save_steps: 2, logging_steps: 1, max_length: 128, batch_size: 4}
eval: {benchmarks: [pubmedqa], n: 2, generations: 0, max_new_tokens: 8, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""

INJECT = '''
import sys, torch
from transformers import TrainerCallback
import medtune.train as T
K, AT = int(sys.argv[1]), int(sys.argv[2])
class OOM(TrainerCallback):
    def __init__(self): self.on = False
    def on_train_begin(self, args, state, control, model=None, **kw):
        if not hasattr(self, 'h'): self.h = model.register_forward_pre_hook(self.hook, with_kwargs=True)
    def on_step_begin(self, args, state, control, **kw): self.on = state.global_step + 1 >= AT
    def hook(self, module, args, kwargs):
        ids = kwargs.get('input_ids', args[0] if args else None)
        if module.training and self.on and ids.shape[0] > K: raise torch.OutOfMemoryError('CUDA out of memory (injected)')
make = T.make_trainer
def make_with_oom(*a, **kw):
    tr = make(*a, **kw); tr.add_callback(OOM()); return tr
T.make_trainer = make_with_oom
from medtune.cli import main
sys.exit(main(sys.argv[3:]))
'''

def _train_with_oom(k, tmp_path):
    (tmp_path/'cfg.yaml').write_text(CFG)
    return subprocess.run([sys.executable, '-c', INJECT, str(k), '3', 'train', str(tmp_path/'cfg.yaml'), '--out', str(tmp_path/'run')],
                          capture_output=True, text=True, timeout=TIMEOUT)

def test_training_goes_on_at_half_the_batch(tmp_path):
    p = _train_with_oom(2, tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    change = 'batch 4 → 2 at step 3 after out of memory (gradient accumulation 1 → 2: 4 examples per step as before)'
    assert f'medtune: warning: {change}' in p.stdout
    recs = [json.loads(l) for l in (tmp_path/'run'/'metrics.jsonl').read_text().splitlines()]
    assert [r['step'] for r in recs if 'loss' in r] == [1, 2, 3, 4, 5, 6]  # the loss curve goes on without a gap
    assert [(r['step'], r['batch_size'], r['grad_accum']) for r in recs if r.get('event') == 'out_of_memory'] == [(2, [4, 2], [1, 2])]
    t = json.loads((tmp_path/'run'/'report.json').read_text())['training']
    assert (t['batch_size'], t['grad_accum'], t['global_step']) == (2, 2, 6) and t['batch_changes'][0]['text'] == change
    assert f'- {change}' in (tmp_path/'run'/'report.md').read_text()

def test_out_of_memory_at_batch_one(tmp_path):
    p = _train_with_oom(0, tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr[-3000:])
    assert ('medtune: error: out of memory at step 3 with a per-device batch of 1 (max_length 128): nothing smaller to try. '
            'checkpoint-2 is kept: run the same command with --resume to continue from step 2 after changing the config') in p.stderr
    assert 'Traceback' not in p.stderr and 'batch 2 → 1 at step 3' in p.stdout
    run = tmp_path/'run'
    assert sorted(c.name for c in (run/'checkpoints').glob('checkpoint-*')) == ['checkpoint-2']
    assert json.loads((run/'checkpoints'/'checkpoint-2'/'trainer_state.json').read_text())['global_step'] == 2
    from medtune.train import last_checkpoint
    assert Path(last_checkpoint(run)).name == 'checkpoint-2' and json.loads((run/'state.json').read_text())['status'] == 'failed'
    assert not (run/'adapter').exists() and not (run/'report.json').exists()
