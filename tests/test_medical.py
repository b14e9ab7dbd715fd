"Medical data checks: PHI scan precision/recall on the labelled synthetic fixture and speed on the real files, contamination on the real files, `medtune data check`, shipped resources."
import fnmatch, json, time, tomllib
import pytest
from conftest import ROOT, medtune
from medtune.medical import phi_scores, phi_report, format_phi_report, contamination, format_contamination, load_abbreviations, RESOURCES_DIR
from medtune.data import load_examples
from medtune.evaluate import load_benchmark

SHARED = ROOT.parent/'shared'/'data'
FIXTURE = ROOT/'tests'/'fixtures'/'phi_synthetic.txt'
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason='../shared/data is not beside the repository')

def test_phi_precision_recall_on_fixture():
    lines = FIXTURE.read_text().splitlines()
    s = phi_scores(lines)
    print(f"\n{'type':<6} {'n':>4} {'found':>6} {'missed':>7} {'false+':>7} {'precision':>10} {'recall':>7}")
    for t, v in s.items(): print(f"{t:<6} {v['tp'] + v['fn']:>4} {v['tp']:>6} {v['fn']:>7} {v['fp']:>7} {v['precision']:>10.3f} {v['recall']:>7.3f}")
    sentences = [l for l in lines if l.strip() and not l.startswith('#')]
    assert len(sentences) >= 80 and s['all']['tp'] + s['all']['fn'] >= 150
    assert s['all']['recall'] >= 0.95 and s['all']['precision'] >= 0.9, s['all']
    assert all(v['recall'] >= 0.8 and v['precision'] >= 0.9 for v in s.values()), s

@needs_shared
def test_phi_scan_real_training_data_is_fast_and_quiet():
    for f, n in [('medquad/medquad_with_answers.jsonl.gz', 16407), ('medical_meadow_wikidoc_patient/medical_meadow_small.json', 5942)]:
        exs = load_examples([str(SHARED/f)])
        t = time.perf_counter(); rep = phi_report(exs, f, show=10); dt = time.perf_counter() - t
        print(f'\n{f}: {n} rows in {dt:.1f} s\n' + format_phi_report(rep, f))
        assert len(exs) == n and dt < 30, dt
        assert rep['rows_with_phi'] < 0.02 * n, rep['counts']  # public health texts: few hits (agency contact details, researchers' names)
        assert all(f"[{x['type']}]" in x['context'] for x in rep['examples'])

@needs_shared
def test_contamination_real_files():
    bench = {k: load_benchmark(f'{k}={SHARED/v}')[1] for k, v in {'medqa': 'medqa_usmle/test_4options.jsonl', 'pubmedqa': 'pubmedqa/ori_pqal.json',
             'medmcqa': 'medmcqa/dev_single_choice.jsonl', 'mmlu': 'mmlu_medical/test_medical_6subjects.jsonl'}.items()}
    bench['sample:pubmedqa'] = load_benchmark('pubmedqa')[1]
    train = {'medquad': load_examples([str(SHARED/'medquad/medquad_with_answers.jsonl.gz')]),
             'wikidoc': load_examples([str(SHARED/'medical_meadow_wikidoc_patient/medical_meadow_small.json')])}
    t = time.perf_counter(); rep, _ = contamination(train, bench); dt = time.perf_counter() - t
    print(f'\n{dt:.1f} s\n' + format_contamination(rep))
    assert dt < 60
    assert all(p['overlapping_rows'] == 0 for p in rep['pairs']), [p for p in rep['pairs'] if p['overlapping_rows']]
    pq, _ = contamination({'ori_pqal': load_examples([str(SHARED/'pubmedqa/ori_pqal.json')])}, {'sample:pubmedqa': bench['sample:pubmedqa']})
    assert (pq['pairs'][0]['overlapping_rows'], pq['pairs'][0]['overlapping_items']) == (100, 100)  # the shipped test items are in the full release

def test_data_check_masks_identifiers_and_reports_contamination(tmp_path):
    item = json.loads((ROOT/'medtune'/'samples'/'medqa_eval.jsonl').read_text().splitlines()[0])
    f = tmp_path/'notes.jsonl'
    f.write_text(json.dumps({'question': 'Mrs. Keller (MRN: 00482913) asks about her HTN.', 'answer': 'Call 617-555-0134.'}) + '\n'
                 + json.dumps({'question': 'Quiz', 'answer': item['question']}) + '\n')
    p = medtune('data', 'check', f, '--no-tokens', '--benchmarks', 'medqa,pubmedqa')
    assert p.returncode == 0, p.stderr
    assert 'Keller' not in p.stdout and '00482913' not in p.stdout and '555-0134' not in p.stdout, p.stdout
    assert 'Mrs. [NAME] (MRN: [ID])' in p.stdout and 'NAME 1, PHONE 1, ID 1' in p.stdout, p.stdout
    assert f'{f} × medqa: 1 of 2 training rows overlap 1 of 100 evaluation items' in p.stdout and f'{f} × pubmedqa: 0 of 2' in p.stdout, p.stdout

def test_resources_are_package_data():
    pats = tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['setuptools']['package-data']['medtune']
    files = [p for p in RESOURCES_DIR.iterdir() if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f'resources/{p.name}', pat) for pat in pats) for p in files), (files, pats)
    assert 'compiled for medtune' in (RESOURCES_DIR/'abbreviations.tsv').read_text() and len(load_abbreviations()) >= 200

def test_phi_block_stops_train_with_file_line(tmp_path):
    (tmp_path/'notes.jsonl').write_text('{"question": "What is asthma?", "answer": "A lung disease."}\n'
                                        '{"question": "Is this normal?", "answer": "Call the clinic at 617-555-0134."}\n')
    cfg = tmp_path/'cfg.yaml'
    cfg.write_text(f'preset: cpu-demo\ndata:\n  train: [{tmp_path}/notes.jsonl]\n  phi: block\n')
    p = medtune('train', cfg, '--out', tmp_path/'run')
    assert p.returncode == 2 and 'medtune: error: data.phi = block:' in p.stderr and 'Traceback' not in p.stderr, p.stderr
    assert f'{tmp_path}/notes.jsonl:2 (completion) holds a possible PHONE identifier' in p.stderr and 'data.phi: redact' in p.stderr, p.stderr
    assert '555-0134' not in p.stderr and not (tmp_path/'run').exists()
