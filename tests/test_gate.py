"The regression gate (--fail-if-worse) on a deliberately damaged adapter: trained on PubMedQA items whose labels were all set to 'maybe'."
import json
from conftest import ROOT, medtune

CFG = """preset: cpu-demo
model: {load_in_4bit: false}  # what is tested here is the same at any precision; 4-bit loads and trains slower on a CPU
data: {train: [DATA], max_rows: 48, val_fraction: 0}
train: {max_steps: 4, lr: 2.0e-3, batch_size: 4, max_length: 320, logging_steps: 2, save_steps: 100}
eval: {benchmarks: [pubmedqa], n: 40, generations: 0, freetext_n: 0, refusal_probe: false}
output: {export: []}
"""

def test_fail_if_worse_catches_a_damaged_adapter(tmp_path):
    rows = [json.loads(l) for l in (ROOT/'medtune'/'samples'/'pubmedqa_train.jsonl').read_text().splitlines()]
    (tmp_path/'bad_labels.jsonl').write_text(''.join(json.dumps({**r, 'answer': 'maybe'}) + '\n' for r in rows))  # a label bug
    (tmp_path/'cfg.yaml').write_text(CFG.replace('DATA', str(tmp_path/'bad_labels.jsonl')))
    p = medtune('train', tmp_path/'cfg.yaml', '--out', tmp_path/'run', '--fail-if-worse')
    assert p.returncode == 1, (p.returncode, p.stdout[-1500:], p.stderr[-1500:])
    assert 'tuned is significantly worse than base on: pubmedqa' in p.stderr
    r = json.loads((tmp_path/'run'/'report.json').read_text())['benchmarks']['pubmedqa']
    assert r['paired']['verdict'] == 'tuned worse' and r['paired']['mcnemar_p'] < 0.05 and r['tuned']['accuracy'] < r['base']['accuracy']
