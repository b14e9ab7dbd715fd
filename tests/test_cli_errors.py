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
    'unknown_export': ('preset: cpu-demo\noutput:\n  export: [merged, onnx]\n', "output.export[1] = 'onnx': Input should be 'merged' or 'gguf'"),
    'unknown_model': ('preset: cpu-demo\nmodel:\n  name: someone/not-a-model-xyz\n', "model.name = 'someone/not-a-model-xyz'"),
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
