"Fault injection: a training process killed mid-run keeps its checkpoints, and --resume finishes the run."
import json, os, signal, subprocess, sys, time
from pathlib import Path
from conftest import BIN, TIMEOUT, medtune

CFG = """preset: cpu-demo
data: {train: [sample:medquad], max_rows: 24, val_fraction: 0}
train: {max_steps: 6, save_steps: 2, logging_steps: 1, max_length: 128, batch_size: 2}
eval: {benchmarks: [pubmedqa], n: 2, generations: 0, max_new_tokens: 8, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""

def test_kill_then_resume(tmp_path):
    cfg, run = tmp_path/'cfg.yaml', tmp_path/'run'
    cfg.write_text(CFG)
    proc = subprocess.Popen([str(BIN/'medtune'), 'train', str(cfg), '--out', str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    while not (run/'checkpoints'/'checkpoint-2'/'trainer_state.json').exists():
        assert proc.poll() is None and time.monotonic() < deadline, 'training ended before its first checkpoint'
        time.sleep(0.5)
    time.sleep(1)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert json.loads((run/'state.json').read_text())['status'] == 'running'  # killed: no chance to record anything
    assert not (run/'report.json').exists()
    p = medtune('train', cfg, '--out', run)
    assert p.returncode == 2 and '--resume' in p.stderr
    p = medtune('train', cfg, '--out', run, '--resume')
    assert p.returncode == 0, p.stderr[-3000:]
    st = json.loads((run/'state.json').read_text())
    assert st['status'] == 'done'
    steps = [json.loads(l)['step'] for l in (run/'metrics.jsonl').read_text().splitlines() if '"loss"' in l]
    assert steps[-1] == 6 and 'checkpoint-' in json.loads((run/'report.json').read_text())['training']['resumed_from']
    from medtune.persist import verify_manifest
    verify_manifest(run/'adapter')

def test_resume_needs_same_config(tmp_path):
    cfg, run = tmp_path/'cfg.yaml', tmp_path/'run'
    cfg.write_text(CFG); run.mkdir()
    from medtune.config import load_config, save_config
    save_config(load_config(cfg, environ={}), run/'config.yaml')
    cfg.write_text(CFG.replace('max_steps: 6', 'max_steps: 7'))
    p = medtune('train', cfg, '--out', run, '--resume')
    assert p.returncode == 2 and 'differs from the config given' in p.stderr
