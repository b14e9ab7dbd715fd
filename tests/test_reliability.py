"""Reliability of a run folder, through the `medtune` command: one writer at a time, a resume that neither repeats nor
loses a step, Ctrl-C and a full disk ending with a clear message and nothing half-written, and a one-step run."""
import hashlib, json, os, re, shutil, signal, subprocess, time
from pathlib import Path
import pytest
from conftest import BIN, TIMEOUT, medtune

CFG = """preset: cpu-demo
model: {load_in_4bit: false}  # what is tested here is the same at any precision; 4-bit loads and trains slower on a CPU
data: {train: [sample:medquad], max_rows: 24, val_fraction: 0}
train: {max_steps: 6, save_steps: 2, logging_steps: 1, max_length: 128, batch_size: 2}
eval: {benchmarks: [pubmedqa], n: 4, generations: 0, max_new_tokens: 8, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""

def _train(cfg, out, *more):
    "A `medtune train` process started in the background (text output)."
    return subprocess.Popen([str(BIN/'medtune'), 'train', str(cfg), '--out', str(out), *more], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

def _records(run): return [json.loads(l) for l in (Path(run)/'metrics.jsonl').read_text().splitlines()]
def _loss_steps(run): return [r['step'] for r in _records(run) if 'loss' in r]
def _report(run): return json.loads((Path(run)/'report.json').read_text())

def _sums(d):
    "sha256 of every file under `d`, by relative path."
    return {str(f.relative_to(d)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(Path(d).rglob('*')) if f.is_file()}

def _wait_for(cond, proc, what):
    "Poll until `cond()` holds while `proc` runs (a hang fails after the generous test timeout)."
    deadline = time.monotonic() + TIMEOUT
    while not cond():
        assert proc.poll() is None, f'the run ended before {what}: {proc.stderr.read()[-3000:]}'
        assert time.monotonic() < deadline, f'no {what} after {TIMEOUT} s'
        time.sleep(0.2)

def _complete_checkpoints(run):
    "Every checkpoint folder of the run is complete (its trainer_state.json is whole JSON)."
    for c in (Path(run)/'checkpoints').glob('checkpoint-*'):
        json.loads((c/'trainer_state.json').read_text())
    return sorted(c.name for c in (Path(run)/'checkpoints').glob('checkpoint-*'))

@pytest.fixture(scope='module')
def two_at_once(tmp_path_factory):
    "Two `medtune train` started together on one --out: (run dir, config, [(returncode, stdout, stderr)] of both)."
    d = tmp_path_factory.mktemp('lock')
    cfg, run = d/'cfg.yaml', d/'run'
    cfg.write_text(CFG)
    ps = [_train(cfg, run), _train(cfg, run)]
    return run, cfg, [(p.wait(timeout=TIMEOUT), *p.communicate()) for p in ps]

def test_second_writer_is_refused(two_at_once):
    run, _, res = two_at_once
    (ok,), (refused,) = [r for r in res if r[0] == 0], [r for r in res if r[0] != 0]
    assert refused[0] == 2 and f'{run} is in use by another medtune run (process ' in refused[2], refused[2][-2000:]
    assert 'Traceback' not in refused[2] and 'wait for it to finish, or choose another --out' in refused[2]
    assert _loss_steps(run) == [1, 2, 3, 4, 5, 6]  # one line per step: the second writer wrote nothing
    assert json.loads((run/'state.json').read_text())['status'] == 'done' and not (run/'.medtune.lock').exists()

def test_resume_of_a_live_run_is_refused(two_at_once, tmp_path):
    done, cfg, _ = two_at_once
    from medtune.core import FolderLock
    run = tmp_path/'run'
    shutil.copytree(done, run)
    st = json.loads((run/'state.json').read_text())
    (run/'state.json').write_text(json.dumps({**st, 'status': 'running', 'stage': 'train'}))  # a run still training
    before = _sums(run)
    with FolderLock(run):  # stands for a run still writing into it
        p = medtune('train', cfg, '--out', run, '--resume')
    assert p.returncode == 2 and 'is in use by another medtune run' in p.stderr and 'Traceback' not in p.stderr
    assert _sums(run) == before

def test_resume_of_a_finished_run_changes_nothing(two_at_once):
    run, cfg, _ = two_at_once
    before = _sums(run)
    p = medtune('train', cfg, '--out', run, '--resume')
    assert p.returncode == 0, p.stderr[-3000:]
    assert f'{run} is finished: nothing to resume' in p.stdout and 'results for' in p.stdout
    assert _sums(run) == before and _loss_steps(run)[-1] == 6

def test_eval_adapter_report_shows_its_training(two_at_once, tmp_path):
    run, _, _ = two_at_once
    p = medtune('eval', '--adapter', run, '--n', '2', '--out', tmp_path/'ev')
    assert p.returncode == 0, p.stderr[-3000:]
    md, t = (tmp_path/'ev'/'report.md').read_text(), _report(run)['training']
    assert f"- steps: 6; training loss over the run {t['train_loss']:.3f} (first logged {t['first_loss']:.3f}" in md, md
    assert 'nan' not in md.split('## Benchmarks')[0] and '- examples: 24' in md

def test_ctrl_c_then_resume_matches_an_uninterrupted_run(two_at_once, tmp_path):
    straight, cfg, _ = two_at_once
    run = tmp_path/'run'
    p = _train(cfg, run)
    _wait_for(lambda: (run/'checkpoints'/'checkpoint-2'/'trainer_state.json').exists()
              and (run/'metrics.jsonl').exists() and _loss_steps(run)[-1] >= 3, p, 'step 3')
    p.send_signal(signal.SIGINT)
    rc, (out, err) = p.wait(timeout=TIMEOUT), p.communicate()
    assert rc == 130, (rc, err[-3000:])
    assert 'medtune: stopped: stopped at step ' in err and 'is kept: run the same command with --resume to continue from step' in err, err[-2000:]
    assert 'Traceback' not in err and 'KeyboardInterrupt' not in err
    assert json.loads((run/'state.json').read_text())['status'] == 'stopped' and _complete_checkpoints(run)
    p = medtune('train', cfg, '--out', run, '--resume')
    assert p.returncode == 0, p.stderr[-3000:]
    assert _loss_steps(run) == [1, 2, 3, 4, 5, 6]  # each step once: the lines after the checkpoint were cut
    a, b = _report(straight)['training'], _report(run)['training']
    assert abs(a['train_loss'] - b['train_loss']) < 1e-6, (a['train_loss'], b['train_loss'])
    assert 'checkpoint-' in b['resumed_from']
    meta = json.loads((run/'adapter'/'medtune.json').read_text())['training']
    assert abs(meta['train_loss'] - a['train_loss']) < 1e-6  # the adapter's metadata (and model card) carry it too

def _mount_tmpfs(d:Path, mib:int):
    "Mount a tmpfs of `mib` MiB on `d` (root only)."
    subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={mib}m', 'tmpfs', str(d)], check=True)

@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('mount'), reason='mounting a small tmpfs needs root')
def test_full_disk_then_resume(tmp_path):
    cfg, mnt = tmp_path/'cfg.yaml', tmp_path/'mnt'
    cfg.write_text(CFG.replace('preset: cpu-demo', 'preset: cpu-demo\nlora: {r: 2, alpha: 4}'))
    mnt.mkdir(); _mount_tmpfs(mnt, 11)  # room for one checkpoint (~7 MiB) but not a second one
    try:
        run = mnt/'run'
        p = medtune('train', cfg, '--out', run)
        assert p.returncode == 2, (p.returncode, p.stderr[-3000:])
        assert 'medtune: error: disk full at step ' in p.stderr and 'Traceback' not in p.stderr, p.stderr[-3000:]
        assert 'checkpoint-2 is kept: run the same command with --resume to continue from step 2 once there is space' in p.stderr
        assert 'partial checkpoint-' in p.stderr  # cut short by the full disk, and removed
        assert _complete_checkpoints(run) == ['checkpoint-2']
        assert json.loads((run/'state.json').read_text())['status'] == 'failed'
        subprocess.run(['mount', '-o', 'remount,size=200m', str(mnt)], check=True)  # space freed
        p = medtune('train', cfg, '--out', run, '--resume')
        assert p.returncode == 0, p.stderr[-3000:]
        assert _loss_steps(run) == [1, 2, 3, 4, 5, 6] and json.loads((run/'state.json').read_text())['status'] == 'done'
    finally: subprocess.run(['umount', '-l', str(mnt)])

def test_one_step_run(tmp_path):
    cfg = tmp_path/'cfg.yaml'
    cfg.write_text(CFG.replace('max_steps: 6, save_steps: 2, logging_steps: 1', 'max_steps: 1, save_steps: 100, logging_steps: 2')
                   .replace('n: 4', 'n: 2'))
    token = 'hf_' + 'Q' * 34  # a hub token in the environment reaches no file of the run
    p = medtune('train', cfg, '--out', tmp_path/'run', env={'HF_TOKEN': token, 'MY_SERVICE_KEY': 'very-secret-value'})
    assert p.returncode == 0, p.stderr[-3000:]
    for f in (tmp_path/'run').rglob('*'):
        if f.is_file(): assert b'QQQQQQQQQQ' not in f.read_bytes() and b'very-secret-value' not in f.read_bytes(), f
    log = (tmp_path/'run'/'run.log').read_text()  # what the console said, with timestamps
    said = [l.removeprefix('medtune: ') for l in p.stdout.splitlines() if l.startswith('medtune: ') and 'results for' not in l]
    assert said and all(re.search(rf'^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d INFO medtune: {re.escape(m)}$', log, re.M) for m in said), (said, log)
    recs = [r for r in _records(tmp_path/'run') if 'loss' in r]
    assert [r['step'] for r in recs] == [1] and recs[0]['loss'] > 0
    assert (tmp_path/'run'/'report.md').exists() and json.loads((tmp_path/'run'/'state.json').read_text())['status'] == 'done'
    assert abs(_report(tmp_path/'run')['training']['train_loss'] - recs[0]['loss']) < 1e-9
    (tmp_path/'run'/'report.md').unlink()  # e.g. lost in a crash while drawing: rebuilt from report.json
    p = medtune('report', tmp_path/'run')
    assert p.returncode == 0 and '- steps: 1; training loss over the run' in (tmp_path/'run'/'report.md').read_text()
