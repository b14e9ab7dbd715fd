"End to end: `medtune demo` on the real SmolLM2 model and real medical data, then `medtune eval` on its adapter."
import json, re, shutil
import pytest, torch
from conftest import medtune

def test_demo_succeeds(demo_run):
    out, p, secs = demo_run
    assert p.returncode == 0, p.stderr[-3000:]
    print(f'demo took {secs:.0f} s')
    assert 'results for embedded:smollm2-135m-instruct' in p.stdout
    assert json.loads((out/'state.json').read_text())['status'] == 'done'
    assert {'config.yaml', 'metrics.jsonl', 'report.json', 'report.md', 'loss.png', 'accuracy.png', 'reliability.png', 'adapter', 'eval_items.jsonl'} <= {f.name for f in out.iterdir()}

def test_report_schema_and_consistency(demo_run):
    out, p, _ = demo_run
    from medtune.report import check_report
    r = check_report(json.loads((out/'report.json').read_text()))
    assert len(r['benchmarks']) >= 2
    rows = [json.loads(l) for l in (out/'eval_items.jsonl').read_text().splitlines()]
    for name, b in r['benchmarks'].items():
        mine = [x for x in rows if x['benchmark'] == name]
        assert len(mine) == b['n'] == 32
        for side in ('base', 'tuned'):  # the reported accuracy is exactly what the per-item predictions give
            assert b[side]['accuracy'] == sum(x[side] == x['answer'] for x in mine) / b['n']
            lo, hi = b[side]['ci95']
            assert 0 <= lo < b[side]['accuracy'] < hi <= 1 or b[side]['accuracy'] in (0, 1)
            assert 0 <= b[side]['ece'] <= 1 and sum(x['count'] for x in b[side]['reliability']) == b['n']
        d = b['paired']
        assert d['delta_ci95'][0] <= d['delta'] <= d['delta_ci95'][1]
        assert d['base_only'] == sum(x['base'] == x['answer'] != x['tuned'] for x in mine)
        assert d['tuned_only'] == sum(x['tuned'] == x['answer'] != x['base'] for x in mine)
    assert sum(x['n'] for x in r['benchmarks']['mmlu_medical']['by_subject'].values()) == 32
    assert r['training']['global_step'] == 20 and r['load_in_4bit'] is True

def test_loss_falls(demo_run):
    out, _, _ = demo_run
    m = [json.loads(l) for l in (out/'metrics.jsonl').read_text().splitlines()]
    losses = [x['loss'] for x in m if 'loss' in x]
    assert len(losses) == 10 and all(x['tokens_per_s'] > 0 and x['rss_gib'] > 0 for x in m if 'loss' in x)
    # 20 steps on CPU: the mean of the last third of the logged losses is at least 8% below the first third (measured: 11%)
    third = len(losses) // 3
    assert sum(losses[-third:]) / third < 0.92 * sum(losses[:third]) / third, losses

def test_adapter_loads_with_plain_peft(demo_run):
    out, _, _ = demo_run
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from medtune.model import embedded_model_dir
    from medtune.persist import verify_manifest
    verify_manifest(out/'adapter')
    base_dir = embedded_model_dir()
    tok = AutoTokenizer.from_pretrained(out/'adapter')
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), str(out/'adapter'))
    x = tok('Question: Is aspirin an antiplatelet drug?', return_tensors='pt')
    with torch.no_grad():
        tuned = model(**x).logits
        with model.disable_adapter(): base = model(**x).logits
    assert (tuned - base).abs().max() > 1e-2  # the trained adapter changes the model
    meta = json.loads((out/'adapter'/'medtune.json').read_text())
    assert meta['base_model'] == 'embedded:smollm2-135m-instruct' and len(meta['data_fingerprint']) == 64
    # the adapter keeps the keys of the questions it trained on (no text), and the free-text pairs are none of them
    from medtune.freetext import question_key
    keys = set((out/'adapter'/'trained_questions.txt').read_text().split())
    ft = json.loads((out/'report.json').read_text())['freetext']
    assert len(keys) > 100 and ft['n'] == 8 and not {question_key(x['question']) for x in ft['items']} & keys

def test_eval_command_on_saved_adapter(demo_run, tmp_path):
    out, _, _ = demo_run
    small = {'MEDTUNE_EVAL__FREETEXT_N': '2', 'MEDTUNE_EVAL__REFUSAL_PROBE': 'false', 'MEDTUNE_EVAL__N': '3'}  # MEDTUNE_EVAL__* apply; --n wins
    p = medtune('eval', '--adapter', out, '--benchmarks', 'mmlu_medical,medmcqa', '--n', '6', '--out', tmp_path/'ev', env=small)
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads((tmp_path/'ev'/'report.json').read_text())
    assert sorted(r['benchmarks']) == ['medmcqa', 'mmlu_medical'] and r['benchmarks']['medmcqa']['n'] == 6
    for b in ('mmlu_medical', 'medmcqa'):  # a progress bar per benchmark and side, run to the end
        for side in ('base', 'tuned'): assert re.search(rf'{b} {side}: 100%\|[^|]*\| 6/6 ', p.stderr), (b, side, p.stderr[-2000:])
    assert re.search(r'free text tuned: 100%\|[^|]*\| 2/2 ', p.stderr)
    assert r['freetext']['n'] == 2 and r['refusal'] is None
    # the model alone (no adapter), 4-bit as it was trained: the same items get exactly the base side's predictions
    p = medtune('eval', '--model', 'embedded:smollm2-135m-instruct', '--load-in-4bit', '--benchmarks', 'mmlu_medical,medmcqa', '--n', '6', '--out', tmp_path/'base',
                env=small)
    assert p.returncode == 0, p.stderr[-3000:]
    assert 'no adapter' in p.stdout and '→' not in p.stdout.split('results for')[-1]
    b = json.loads((tmp_path/'base'/'report.json').read_text())
    assert all('tuned' not in x and 'paired' not in x for x in b['benchmarks'].values()) and b['freetext']['n'] == 2 and b['refusal'] is None
    rows = lambda d: [json.loads(l) for l in (d/'eval_items.jsonl').read_text().splitlines()]
    assert [(x['id'], x['base']) for x in rows(tmp_path/'base')] == [(x['id'], x['base']) for x in rows(tmp_path/'ev')]
    for k in r['benchmarks']: assert b['benchmarks'][k]['base']['accuracy'] == r['benchmarks'][k]['base']['accuracy']
    # medtune compare: the base model's evaluation against the adapter's gives exactly the adapter run's own paired statistics
    p = medtune('compare', tmp_path/'base', tmp_path/'ev', '--json', tmp_path/'cmp.json')
    assert p.returncode == 0 and 'mmlu_medical' in p.stdout, p.stderr[-2000:]
    c = json.loads((tmp_path/'cmp.json').read_text())
    for k, x in c['benchmarks'].items():
        pr = r['benchmarks'][k]['paired']
        assert (x['n'], x['a'], x['b']) == (6, r['benchmarks'][k]['base']['accuracy'], r['benchmarks'][k]['tuned']['accuracy'])
        assert (x['delta'], x['delta_ci95'], x['mcnemar_p'], x['a_only'], x['b_only']) == (pr['delta'], pr['delta_ci95'], pr['mcnemar_p'], pr['base_only'], pr['tuned_only'])

def test_eval_refuses_tampered_adapter(demo_run, tmp_path):
    out, _, _ = demo_run
    bad = tmp_path/'adapter'
    shutil.copytree(out/'adapter', bad)
    f = bad/'adapter_model.safetensors'
    b = bytearray(f.read_bytes()); b[len(b)//2] ^= 0xFF; f.write_bytes(bytes(b))
    p = medtune('eval', '--adapter', bad, '--n', '4', '--out', tmp_path/'ev')
    assert p.returncode == 2
    assert 'integrity check failed' in p.stderr and 'adapter_model.safetensors: content changed' in p.stderr
    assert not (tmp_path/'ev').exists()

def test_demo_exports_gguf_and_merged(demo_run, tmp_path):
    "The demo ends with a GGUF export of the tuned model; `medtune export` adds the merged folder; both are that model."
    out, p, _ = demo_run
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from medtune.persist import verify_manifest
    g = out/'exports'/'gguf'
    verify_manifest(g)
    assert sorted(f.name for f in g.iterdir()) == ['Modelfile', 'README.md', 'manifest.json', 'medtune.json', 'model-q8_0.gguf']
    assert json.loads((out/'state.json').read_text())['stages']['export']['exports'] == {'gguf': str(g)}
    card = (g/'README.md').read_text()
    assert 'Not a medical device' in card and all(f'| {k} | 32 |' in card for k in ('pubmedqa', 'medqa', 'mmlu_medical'))
    r = GGUFReader(g/'model-q8_0.gguf')
    assert r.fields['tokenizer.ggml.eos_token_id'].contents() == 2 and r.fields['general.architecture'].contents() == 'llama'
    p = medtune('export', out, '--formats', 'merged', '--dtype', 'float32', '--out', tmp_path/'x')
    assert p.returncode == 0, p.stderr[-3000:]
    verify_manifest(tmp_path/'x'/'merged')
    tok = AutoTokenizer.from_pretrained(tmp_path/'x'/'merged')
    ids = tok.apply_chat_template([{'role': 'user', 'content': 'What causes iron-deficiency anemia?'}], add_generation_prompt=True, return_tensors='pt', return_dict=True)['input_ids']
    merged = AutoModelForCausalLM.from_pretrained(tmp_path/'x'/'merged')
    fromgguf = AutoModelForCausalLM.from_pretrained(g, gguf_file='model-q8_0.gguf', dtype=torch.float32)
    with torch.no_grad(): a, b = merged(ids).logits, fromgguf(ids).logits
    assert (a - b).abs().mean() < 0.3 and (a.argmax(-1) == b.argmax(-1)).float().mean() >= 0.8, ((a - b).abs().mean(), (a.argmax(-1) == b.argmax(-1)).float().mean())
    p = medtune('export', out, '--formats', 'gguf')  # never overwrites
    assert p.returncode == 2 and 'already exists' in p.stderr

def test_ask_command_on_saved_adapter(demo_run, tmp_path):
    "`medtune ask`: the demo's adapter answers questions from the command line and a file, next to its base."
    out, _, _ = demo_run
    (tmp_path/'q.txt').write_text('\nWhat is gout?\n')
    p = medtune('ask', out, 'What causes iron-deficiency anemia?', '--file', tmp_path/'q.txt', '--max-new-tokens', '32')
    assert p.returncode == 0, p.stderr[-3000:]
    blocks = p.stdout.strip().split('\n\n')
    assert blocks[-1].startswith('Not medical advice') and len(blocks) == 3, p.stdout
    ans = [dict(l.strip().split(': ', 1) for l in b.splitlines()) for b in blocks[:2]]
    assert [a['Q'] for a in ans] == ['What causes iron-deficiency anemia?', 'What is gout?'] and all(a['base'] and a['tuned'] for a in ans)
    assert any(a['base'] != a['tuned'] for a in ans), ans  # 20 steps of training changed what it says
    p = medtune('ask', out/'adapter', 'What causes iron-deficiency anemia?', '--file', tmp_path/'q.txt', '--max-new-tokens', '32', '--no-base')
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.startswith('\n\n'.join(f"Q: {a['Q']}\n  tuned: {a['tuned']}" for a in ans) + '\n\n'), p.stdout  # the same answers (same batch), no base lines

def test_push_command_reports_what_to_do(demo_run, tmp_path):
    "`medtune push` with the real hub client: no hub here, so each way it can fail must say what to do, and leave the run as it was."
    out, _, _ = demo_run
    files = lambda: {f.relative_to(out): (f.stat().st_mtime_ns, f.stat().st_size) for f in out.rglob('*') if f.is_file()}
    before = files()
    net = {'HF_HUB_OFFLINE': '0', 'HF_ENDPOINT': 'http://127.0.0.1:9', 'HF_TOKEN': 'hf_test', 'HF_HOME': str(tmp_path/'hf')}  # a closed local port
    for kind in ('adapter', 'gguf'):
        p = medtune('push', out, '--repo', 'someone/medtune-demo', '--kind', kind, env=net)
        assert p.returncode == 2 and 'cannot reach the Hugging Face hub' in p.stderr and 'No commit was made' in p.stderr, p.stderr[-2000:]
    p = medtune('push', out, '--repo', 'someone/medtune-demo', '--kind', 'merged', env=net)
    assert p.returncode == 2 and f'no merged export there; write it first with: medtune export {out} --formats merged' in p.stderr, p.stderr[-2000:]
    p = medtune('push', out, '--repo', 'someone/medtune-demo', env={**net, 'HF_TOKEN': ''})
    assert p.returncode == 2 and 'not logged in to the Hugging Face hub' in p.stderr, p.stderr[-2000:]
    p = medtune('push', out, '--repo', 'someone/medtune-demo')  # the tests' HF_HUB_OFFLINE=1
    assert p.returncode == 2 and 'HF_HUB_OFFLINE is set' in p.stderr, p.stderr[-2000:]
    assert files() == before and not list(out.rglob('.push-*'))  # no file of the run changed; the staged copies (beside each folder) are gone

def test_eval_of_no_benchmark_is_refused(demo_run, tmp_path):
    out, _, _ = demo_run  # an empty list would exit 0 and pass --fail-if-worse having scored nothing
    p = medtune('eval', '--adapter', out, '--fail-if-worse', '--out', tmp_path/'ev', env={'MEDTUNE_EVAL__BENCHMARKS': '[]'})
    assert p.returncode == 2 and 'environment variable MEDTUNE_EVAL__BENCHMARKS: eval.benchmarks = []: names no benchmark' in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr and not (tmp_path/'ev').exists()

def test_eval_command_kshot_error(demo_run, tmp_path):
    "`medtune eval --method continuation --shots` reaches the benchmarks: too few examples left for k-shot stop it before any weights load, naming the field."
    out, _, _ = demo_run
    bad = medtune('eval', '--adapter', out, '--benchmarks', 'medqa', '--n', '99', '--method', 'continuation', '--shots', '2', '--out', tmp_path/'ev')
    assert bad.returncode == 2 and 'eval.shots = 2: medqa: the items not evaluated' in bad.stderr and not (tmp_path/'ev').exists()
    bad = medtune('eval', '--adapter', out, '--method', 'mc2', '--out', tmp_path/'ev')
    assert bad.returncode == 2 and "invalid choice: 'mc2'" in bad.stderr
