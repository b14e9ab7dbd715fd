"Medical data checks: PHI scan precision/recall on the labelled synthetic fixture and speed on the real files (printed, not asserted), contamination on the real files, `medtune data check`, shipped resources."
import fnmatch, json, re, time, tomllib
import pytest
from conftest import ROOT, medtune
from medtune.medical import phi_scores, phi_report, format_phi_report, contamination, format_contamination, load_abbreviations, RESOURCES_DIR
from medtune.examples import load_examples
from medtune.benchmarks import load_benchmark

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
def test_phi_scan_real_training_data_is_quiet():
    for f, n in [('medquad/medquad_with_answers.jsonl.gz', 16407), ('medical_meadow_wikidoc_patient/medical_meadow_small.json', 5942)]:
        exs = load_examples([str(SHARED/f)])
        t = time.perf_counter(); rep = phi_report(exs, f, show=10); dt = time.perf_counter() - t
        print(f'\n{f}: {n} rows in {dt:.1f} s\n' + format_phi_report(rep, f))
        assert len(exs) == n, len(exs)
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
    assert all(p['overlapping_rows'] == 0 for p in rep['pairs']), [p for p in rep['pairs'] if p['overlapping_rows']]
    pq, _ = contamination({'ori_pqal': load_examples([str(SHARED/'pubmedqa/ori_pqal.json')])}, {'sample:pubmedqa': bench['sample:pubmedqa']})
    assert (pq['pairs'][0]['overlapping_rows'], pq['pairs'][0]['overlapping_items']) == (100, 100)  # the shipped test items are in the full release

def test_data_check_masks_identifiers_and_reports_contamination(tmp_path):
    item = json.loads((ROOT/'medtune'/'samples'/'medqa_eval.jsonl').read_text().splitlines()[0])
    f = tmp_path/'notes.jsonl'
    f.write_text(json.dumps({'question': 'Mrs. Keller (MRN: 00482913) asks about her HTN.', 'answer': 'Call 617-555-0134, or the CDC at 404-639-3311.'}) + '\n'
                 + json.dumps({'question': 'Quiz', 'answer': item['question']}) + '\n')
    p = medtune('data', 'check', f, '--no-tokens', '--benchmarks', 'medqa,pubmedqa')
    assert p.returncode == 0, p.stderr
    assert 'Keller' not in p.stdout and '00482913' not in p.stdout and '555-0134' not in p.stdout, p.stdout
    assert 'Mrs. [NAME] (MRN: [ID])' in p.stdout and 'NAME 1, PHONE 1, ID 1; allowed (public contact details, data.phi_allow): PHONE 1' in p.stdout, p.stdout
    assert f'{f} × medqa: 1 of 2 training rows overlap 1 of 100 evaluation items' in p.stdout and f'{f} × pubmedqa: 0 of 2' in p.stdout, p.stdout

def test_resources_are_package_data():
    st = tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['setuptools']
    pats = st['package-data']['medtune.resources']
    files = [p for p in RESOURCES_DIR.iterdir() if p.is_file()]
    assert 'medtune.resources' in st['packages'], st['packages']
    assert files and all(any(fnmatch.fnmatch(p.name, pat) for pat in pats) for p in files), (files, pats)
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

# --- PHI allow-list and streamed checks -------------------------------------------------------------------------

def _old_phi_report(examples, ref=None, show=5):
    "phi_report as it was before the streaming rework (kept verbatim as the reference; it scans with today's phi_spans)."
    from collections import Counter
    from medtune.medical import phi_spans, example_texts, example_where, _masked, PHI_TYPES
    counts, rows, ex = Counter(), 0, []
    for e in examples:
        found = False
        for field, text in example_texts(e):
            sp = phi_spans(text)
            for t, _, _ in sp: counts[t] += 1
            if sp and len(ex) < show: ex.append(dict(where=example_where(e, ref), field=field, type=sp[0][0], context=_masked(text, sp, 0)))
            found = found or bool(sp)
        rows += found
    return dict(rows=len(examples), rows_with_phi=rows, counts=dict(sorted(counts.items(), key=lambda x: PHI_TYPES.index(x[0]))), examples=ex)

def _old_contamination(sources, benchmarks, n=13, show=3):
    "contamination as it was before the streaming rework: every row's n-grams held at once (kept verbatim as the reference)."
    from medtune.medical import benchmark_index, ngram_hashes, _fields, example_where, _shared_ngram
    index = benchmark_index(benchmarks, n)
    pairs, overlaps = [], {}
    for ref, exs in sources.items():
        grams = [set().union(*(ngram_hashes(t, n) for t in _fields(e))) for e in exs]
        overlaps[ref] = set()
        for name, (items, per, union) in index.items():
            rows = [i for i, g in enumerate(grams) if not union.isdisjoint(g)]
            shared = set().union(*(grams[i] & union for i in rows))
            overlaps[ref].update(rows)
            pairs.append(dict(train=ref, benchmark=name, train_rows=len(exs), overlapping_rows=len(rows), eval_items=len(items),
                              overlapping_items=sum(not p.isdisjoint(shared) for p in per),
                              examples=[dict(row=example_where(exs[i], ref), ngram=_shared_ngram(_fields(exs[i]), union, n)) for i in rows[:show]]))
    return dict(n=n, method=f'{n}-gram overlap: lower-cased word {n}-grams of each field, hashed', pairs=pairs), overlaps

def _planted(path, n=90):
    "A JSONL file of n rows: copies of medqa items, rows with a patient's identifiers and public contact details, clean rows."
    items = [json.loads(l) for l in (ROOT/'medtune'/'samples'/'medqa_eval.jsonl').read_text().splitlines()[:15]]
    rows = [{'question': f'Quiz {i}', 'answer': items[i // 3 % 15]['question']} if i % 3 == 0 else
            {'question': f'Mr. Okafor (DOB 04/{i % 28 + 1:02d}/1950) called from 617-555-{i:04d}, j{i}@example.com.', 'answer': 'Call 1-800-232-4636 or 404-639-3311.'} if i % 3 == 1 else
            {'question': 'What is gout?', 'answer': 'A form of arthritis; see https://www.niams.nih.gov/health-topics/gout.'} for i in range(n)]
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)

def test_check_sources_streamed_equals_materialised(tmp_path):
    from medtune.medical import check_sources
    from medtune.examples import read_source
    refs = ['sample:medquad', 'sample:pubmedqa', _planted(tmp_path/'planted.jsonl')]
    specs = ['medqa', 'pubmedqa', 'mmlu_medical']
    new = check_sources(refs, specs)
    sources = {ref: read_source(ref)[0] for ref in refs}  # what check_sources did before: every example of every file in memory
    old = dict(phi={ref: _old_phi_report(exs, ref) for ref, exs in sources.items()}, contamination=_old_contamination(sources, dict(load_benchmark(b) for b in specs))[0])
    assert {ref: {k: v for k, v in r.items() if k != 'allowed'} for ref, r in new['phi'].items()} == old['phi']
    assert new['contamination'] == old['contamination']
    p = new['phi'][refs[2]]
    assert (p['rows_with_phi'], p['counts'], p['allowed'], len(p['examples'])) == (30, {'NAME': 30, 'DATE': 30, 'PHONE': 30, 'EMAIL': 30}, {'PHONE': 30, 'URL': 30}, 5)
    mq = next(x for x in new['contamination']['pairs'] if x['train'] == refs[2] and x['benchmark'] == 'medqa')
    assert (mq['overlapping_rows'], len(mq['examples'])) == (30, 3) and mq['overlapping_items'] >= 15

def test_check_sources_holds_one_example_at_a_time(monkeypatch):
    "check_sources never holds more than the example it scans: every example the source yields is counted while alive."
    import medtune.medical as med
    class Row(dict):
        live = peak = 0
        def __init__(self, *a, **k): super().__init__(*a, **k); Row.live += 1; Row.peak = max(Row.peak, Row.live)
        def __del__(self): Row.live -= 1
    item = load_benchmark('medqa')[1][0]['question']
    def rows(ref, *a, **k):
        for i in range(20000):
            text = item if i % 100 == 0 else f'Mrs. Keller called from 617-555-{i % 10000:04d} about row {i}; see www.cdc.gov.'
            yield Row(id=f'{ref}:{i + 1}', prompt=[{'role': 'user', 'content': text}], completion=[{'role': 'assistant', 'content': 'Noted.'}])
    monkeypatch.setattr(med, 'iter_examples', rows)
    r = med.check_sources(['many.jsonl'], ['medqa'])
    p, c = r['phi']['many.jsonl'], r['contamination']['pairs'][0]
    assert (p['rows'], p['rows_with_phi'], p['allowed'], len(p['examples'])) == (20000, 19800, {'URL': 19800}, 5)
    assert (c['train_rows'], c['overlapping_rows'], len(c['examples'])) == (20000, 200, 3)
    assert Row.peak <= 2, Row.peak  # materialising would have held all 20,000
    Row.peak = 0; held = list(rows('x')); assert Row.peak >= 20000; del held  # the counter does see a materialised source

def test_check_sources_memory_flat_in_rows(tmp_path):
    "Peak traced memory of `medtune data check`'s checks stays flat from 500 to 5,000 rows of a real file; reading the rows into a list grows with them."
    import tracemalloc
    from medtune.medical import check_sources
    from medtune.examples import read_source
    check_sources([_planted(tmp_path/'warm.jsonl', 9)], ['medqa'])  # load the benchmark once
    def peak(f, *a):
        tracemalloc.start()
        try: f(*a); return tracemalloc.get_traced_memory()[1]
        finally: tracemalloc.stop()
    small, big = _planted(tmp_path/'small.jsonl', 500), _planted(tmp_path/'big.jsonl', 5000)
    p_small, p_big, p_list = peak(check_sources, [small], ['medqa']), peak(check_sources, [big], ['medqa']), peak(read_source, big)
    print(f'\npeak traced memory: check 500 rows {p_small/1e6:.2f} MB, 5,000 rows {p_big/1e6:.2f} MB; read_source 5,000 rows {p_list/1e6:.2f} MB')
    assert p_big - p_small < 0.5e6 and p_list - p_small > 3e6, (p_small, p_big, p_list)

@needs_shared
def test_phi_allow_list_on_medquad():
    from medtune.medical import phi_allow
    f = 'medquad/medquad_with_answers.jsonl.gz'
    exs = load_examples([str(SHARED/f)])
    off, on = phi_report(exs, f, allow=phi_allow(public=False)), phi_report(exs, f)
    print(f"\nMedQuAD without the allow-list: {sum(off['counts'].values())} in {off['rows_with_phi']} rows {off['counts']}"
          f"\nwith the public contact details allowed: {sum(on['counts'].values())} in {on['rows_with_phi']} rows {on['counts']}; allowed {on['allowed']}")
    assert on['rows_with_phi'] < off['rows_with_phi'] / 3 and sum(on['allowed'].values()) + sum(on['counts'].values()) == sum(off['counts'].values())
    assert on['allowed']['PHONE'] >= 40 and on['allowed']['URL'] >= 200 and on['allowed']['EMAIL'] >= 10

def test_phi_allow_bad_regex_in_config_file(tmp_path):
    from medtune.config import load_config
    from medtune.core import ConfigError
    cfg = tmp_path/'cfg.yaml'
    cfg.write_text("data:\n  phi: block\n  phi_allow: ['404-639-\\d{4}', '[0-9']\n")
    with pytest.raises(ConfigError) as e: load_config(cfg, environ={})
    assert f'{cfg}: invalid config' in str(e.value) and "data.phi_allow[1] = '[0-9': not a valid regular expression (unterminated character set at position 0)" in str(e.value), e.value
    cfg.write_text("data:\n  phi: block\n  phi_allow: ['404-639-\\d{4}']\n")
    assert load_config(cfg, environ={}).data.phi_allow == [r'404-639-\d{4}']

def test_no_timed_assertions():
    "Speed is printed, never asserted: a machine three times slower must pass the same tests."
    timed = re.compile(r'assert\b[^\n#]*\b_?(dt|elapsed|seconds)\s*<')
    for f in (ROOT/'tests'/'test_medical.py', ROOT/'nbs'/'05_medical.ipynb'):
        src = f.read_text() if f.suffix == '.py' else '\n'.join(''.join(c['source']) for c in json.loads(f.read_text())['cells'])
        assert not timed.search(src), f'{f.name}: {timed.search(src).group(0)}'
