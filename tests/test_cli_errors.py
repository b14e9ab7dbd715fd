"Bad inputs: each exits with status 2, one clear message naming the field or file:line, and no run directory."
import pytest
from conftest import medtune

CASES = {
    'lora_r_zero': ('preset: cpu-demo\nlora:\n  r: 0\n', 'lora.r = 0'),
    'unknown_preset': ('preset: gpu-monster\n', "preset = 'gpu-monster' is unknown; choose one of: cpu-demo, t4-small, a100-8b"),
    'unknown_field': ('preset: cpu-demo\ntrain:\n  learning_rate: 0.1\n', 'train.learning_rate: unknown field'),
    'bad_type': ('preset: cpu-demo\ntrain:\n  batch_size: many\n', "train.batch_size = 'many'"),
    'bad_yaml': ('preset: cpu-demo\nlora: [r: 1\n', 'cfg.yaml:'),
    'missing_data': ('preset: cpu-demo\ndata:\n  train: [DATA/nope.jsonl]\n', 'nope.jsonl: file not found'),
    'malformed_line': ('preset: cpu-demo\ndata:\n  train: [DATA/bad.jsonl]\n', 'bad.jsonl:3: invalid JSON'),
    'answer_not_option': ('preset: cpu-demo\ndata:\n  train: [DATA/mcq.jsonl]\n', "mcq.jsonl:2: answer 'E' is neither a letter nor the text of one of the options"),
    'unknown_benchmark': ('preset: cpu-demo\neval:\n  benchmarks: [medqa, usmle]\n', "unknown benchmark 'usmle'"),
    'padding_free_on_hf': ('preset: cpu-demo\nmodel:\n  backend: hf\ntrain:\n  padding_free: true\n', 'train.padding_free: true needs the unsloth backend'),
    'freetext_source_missing': ('preset: cpu-demo\neval:\n  freetext: DATA/qa_nope.jsonl\n', 'qa_nope.jsonl: file not found'),
    'unknown_export': ('preset: cpu-demo\noutput:\n  export: [merged, onnx]\n', "output.export: 'onnx' is not a known exporter; use one of merged, gguf"),
    'unknown_model': ('preset: cpu-demo\nmodel:\n  name: someone/not-a-model-xyz\n', "model.name = 'someone/not-a-model-xyz'"),
    'empty_config': ('# to do\n', 'cfg.yaml: the config is empty: name at least a preset or model.name'),
    'key_not_a_string': ('1: 2\n', 'cfg.yaml: top-level key 1 is not a section name'),
    'nan_lr': ('preset: cpu-demo\ntrain: {lr: .nan}\n', 'train.lr = nan: not a finite number'),
    'no_benchmark': ('preset: cpu-demo\neval: {benchmarks: []}\n', 'eval.benchmarks = []: names no benchmark'),
}

@pytest.mark.parametrize('case', CASES)
def test_bad_input(case, tmp_path):
    text, msg = CASES[case]
    (tmp_path/'bad.jsonl').write_text('{"question": "q", "answer": "a"}\n{"question": "q2", "answer": "b"}\n{"question": "q3", "answer": \n')
    (tmp_path/'mcq.jsonl').write_text('{"question": "q", "options": ["a", "b"], "answer": "A"}\n{"question": "q", "options": ["a", "b"], "answer": "E"}\n')
    cfg = tmp_path/'cfg.yaml'
    cfg.write_text(text.replace('DATA', str(tmp_path)))
    p = medtune('train', cfg, '--out', tmp_path/'run')
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert msg in p.stderr, p.stderr
    assert p.stderr.startswith('medtune: error:') and 'Traceback' not in p.stderr
    assert not (tmp_path/'run').exists()

def test_missing_config_file(tmp_path):
    p = medtune('train', tmp_path/'none.yaml')
    assert p.returncode == 2 and 'none.yaml not found' in p.stderr

def test_env_override_is_validated(tmp_path):
    (tmp_path/'cfg.yaml').write_text('preset: cpu-demo\n')
    p = medtune('train', tmp_path/'cfg.yaml', '--out', tmp_path/'run', env={'MEDTUNE_TRAIN__LR': '-1'})
    assert p.returncode == 2 and 'train.lr = -1' in p.stderr and not (tmp_path/'run').exists()

def test_refuses_existing_run_dir(tmp_path):
    (tmp_path/'cfg.yaml').write_text('preset: cpu-demo\n')
    (tmp_path/'run').mkdir(); (tmp_path/'run'/'keep.txt').write_text('mine')
    p = medtune('train', tmp_path/'cfg.yaml', '--out', tmp_path/'run')
    assert p.returncode == 2 and 'already exists' in p.stderr and (tmp_path/'run'/'keep.txt').read_text() == 'mine'

def test_info():
    p = medtune('info')
    assert p.returncode == 0 and 'backend     hf' in p.stdout and 'transformers' in p.stdout

ENV_CASES = {  # a bad environment override names its variable, not the config file it does not come from
    'MEDTUNE_TRAIN__LR=abc': "the environment: invalid config\n  environment variable MEDTUNE_TRAIN__LR: train.lr = 'abc'",
    'MEDTUNE_TRIAN__LR=1e-4': "environment variable MEDTUNE_TRIAN__LR: 'trian' is not a config section",
    'MEDTUNE_PRESET__X=1': "environment variable MEDTUNE_PRESET__X: 'preset' is not a config section",
    'MEDTUNE_EVAL__BENCHMARKS=[]': 'environment variable MEDTUNE_EVAL__BENCHMARKS: eval.benchmarks = []: names no benchmark',
}

@pytest.mark.parametrize('var', ENV_CASES)
def test_bad_environment(var, tmp_path):
    (tmp_path/'cfg.yaml').write_text('preset: cpu-demo\n')
    k, v = var.split('=', 1)
    p = medtune('train', tmp_path/'cfg.yaml', '--out', tmp_path/'run', env={k: v})
    assert p.returncode == 2 and ENV_CASES[var] in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr and 'cfg.yaml' not in p.stderr and not (tmp_path/'run').exists()

@pytest.mark.parametrize('where', ['file', 'under_file', 'dev_null'])
def test_out_is_not_a_folder(where, tmp_path):
    (tmp_path/'cfg.yaml').write_text('preset: cpu-demo\n')
    (tmp_path/'f').write_text('mine')
    out = {'file': tmp_path/'f', 'under_file': tmp_path/'f'/'run', 'dev_null': '/dev/null/run'}[where]
    bad = '/dev/null' if where == 'dev_null' else tmp_path/'f'
    p = medtune('train', tmp_path/'cfg.yaml', '--out', out)
    assert p.returncode == 2 and f'--out {out}: {bad} exists and is not a folder; choose another --out' in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr and (tmp_path/'f').read_text() == 'mine'

@pytest.mark.parametrize('args,msg', [
    (['--benchmarks', ',', '--fail-if-worse'], "--benchmarks ',' names no benchmark"),
    (['--n', '0'], 'argument --n: 0: give a number of at least 1')])
def test_eval_flags(args, msg, tmp_path):
    p = medtune('eval', '--adapter', tmp_path/'nope', *args, '--out', tmp_path/'ev')
    assert p.returncode == 2 and msg in p.stderr and 'Traceback' not in p.stderr and not (tmp_path/'ev').exists(), p.stderr
