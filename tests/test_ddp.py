"Multi-process training with `accelerate launch` (DDP): the command a multi-GPU machine runs, here as two CPU processes (gloo)."
import json, os, socket, subprocess
from conftest import BIN, TIMEOUT

CFG = """preset: cpu-demo
data: {train: [sample:medquad], max_rows: 16, val_fraction: 0}
train: {max_steps: 3, batch_size: 2, max_length: 128, logging_steps: 1, save_steps: 2}
eval: {benchmarks: [mmlu_medical], n: 4, generations: 0, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""
LAUNCH = ['launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no']

def test_two_process_ddp_run(tmp_path):
    (tmp_path/'cfg.yaml').write_text(CFG)
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': '', 'OMP_NUM_THREADS': '1'}
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]  # a free port, not the default 29500 another job may hold
    p = subprocess.run([str(BIN/'accelerate'), *LAUNCH, '--main_process_port', str(port), str(BIN/'medtune'), 'train', str(tmp_path/'cfg.yaml'), '--out', str(tmp_path/'run')],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=tmp_path)
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-3000:])
    run = tmp_path/'run'
    r = json.loads((run/'report.json').read_text())
    assert r['backend'] == 'hf' and p.stdout.count('auto: 2 processes (accelerate launch)') == 1  # said once, by the first process
    assert (r['training']['processes'], r['training']['examples_per_step'], r['training']['global_step']) == (2, 4, 3)
    assert p.stdout.count('results for') == 1 and r['benchmarks']['mmlu_medical']['n'] == 4  # the first process alone evaluates and reports
    m = [json.loads(l) for l in (run/'metrics.jsonl').read_text().splitlines()]
    assert [x['step'] for x in m] == [1, 2, 3]  # one writer: no step logged twice
    assert m[-1]['epoch'] == 0.75  # 3 steps x 2 processes x 2 examples = 12 of the 16: each process took its own share
    # tokens are summed over both processes: one process alone sees 6 examples of at most 128 tokens
    assert m[-1]['tokens'] > 6 * 128, m[-1]
    assert (run/'checkpoints'/'checkpoint-2'/'rng_state_1.pth').is_file() and json.loads((run/'state.json').read_text())['status'] == 'done'

def test_ddp_needs_one_run_dir(tmp_path):
    (tmp_path/'cfg.yaml').write_text(CFG)
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': '', 'WORLD_SIZE': '2', 'RANK': '0', 'LOCAL_RANK': '0'}  # as a launcher sets them
    p = subprocess.run([str(BIN/'medtune'), 'train', str(tmp_path/'cfg.yaml')], capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=tmp_path)
    assert p.returncode == 2 and 'a 2-process launch needs one run directory for all processes: pass --out DIR' in p.stderr
    assert not (tmp_path/'runs').exists()

def test_fsdp_launch_is_refused(tmp_path):
    (tmp_path/'cfg.yaml').write_text(CFG)
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': '', 'WORLD_SIZE': '2', 'RANK': '0', 'LOCAL_RANK': '0', 'ACCELERATE_USE_FSDP': 'true'}  # as `accelerate launch --use_fsdp` sets them
    p = subprocess.run([str(BIN/'medtune'), 'train', str(tmp_path/'cfg.yaml'), '--out', str(tmp_path/'run')], capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=tmp_path)
    assert p.returncode == 2 and 'this is an `accelerate launch --use_fsdp` run' in p.stderr and 'accelerate launch --multi_gpu' in p.stderr, p.stderr[-2000:]
    assert not (tmp_path/'run').exists()
