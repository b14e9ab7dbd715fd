"""Data pipeline at scale: medtune's streaming path vs a naive `datasets` load + map, on the same generated JSONL file.

    python benchmarks/bench_data.py                       # 1,000,000 rows; writes benchmarks/results/data_stream_1000000.json
    python benchmarks/bench_data.py --rows 20000 --out /tmp/bench   # a quick run

A file of mixed rows (one third each Alpaca instruction/output, question/answer, and 4-option multiple choice; about 1% exact
repeats) is generated with a fixed seed in a temporary folder. Then, each in its own fresh process (so peak RSS is that
path's alone), one after the other:

- **report**: `medtune.examples.data_report(file, tokenizer)` — what `medtune data check` runs: stream the file in chunks,
  validate and convert every record, apply the chat template, tokenize each chunk in one batched call of the fast
  tokenizer, count formats, duplicates, answer balance and token lengths;
- **tokenize**: `stream_examples` + `tokenize_examples` (input_ids and completion starts, as for training preparation);
- **baseline**: `datasets.load_dataset('json', data_files=file)` then `.map(batched=True)` applying the same chat template
  and tokenizer (no validation), Arrow cache in the temporary folder. On `--baseline-rows` (default: all) rows: when fewer,
  the first rows of the file are used and the rate compared (stated in the JSON).

examples/s = rows / wall seconds of the whole path (reading included, tokenizer loading and imports excluded); peak RSS is the
process's maximum resident set (`ru_maxrss`), imports and tokenizer included. The tokenizer is the default model's
(embedded SmolLM2-135M-Instruct). The machine's load average is recorded before and after each path.
"""
import argparse, json, os, platform, random, resource, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ('patient fever cough dyspnea chest pain diabetes insulin glucose hypertension blood pressure kidney liver heart failure '
         'asthma inhaler steroid antibiotic infection pneumonia sepsis anemia iron vitamin deficiency fracture bone cancer tumor '
         'chemotherapy radiation dose daily tablet injection symptom treatment diagnosis prognosis risk factor child adult elderly '
         'pregnancy nausea vomiting headache migraine stroke seizure thyroid hormone cholesterol statin aspirin warfarin bleeding '
         'clot vaccine virus bacteria allergy rash skin eye ear throat stomach ulcer bowel colon surgery recovery therapy exercise').split()

def _words(rng, lo, hi): return ' '.join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))

def make_row(rng, i):
    "One generated record: Alpaca, question/answer or 4-option multiple choice."
    k = i % 3
    if k == 0: return {'instruction': f'Explain {_words(rng, 3, 8)} ({i}).', 'input': _words(rng, 0, 12), 'output': _words(rng, 20, 80)}
    if k == 1: return {'question': f'What is the {_words(rng, 4, 14)} ({i})?', 'answer': _words(rng, 20, 80)}
    return {'question': f'Which {_words(rng, 8, 25)} ({i})?', 'options': [_words(rng, 1, 5) for _ in range(4)], 'answer': rng.choice('ABCD')}

def generate(path:Path, rows:int, seed:int=0):
    "Write `rows` mixed records (about 1% repeats of an earlier row) as JSONL."
    rng, recent = random.Random(seed), []
    with open(path, 'w') as f:
        for i in range(rows):
            line = recent[rng.randrange(len(recent))] if recent and rng.random() < 0.01 else json.dumps(make_row(rng, i)) + '\n'
            if len(recent) < 1000: recent.append(line)
            f.write(line)

def _tok():
    from medtune.model import load_tokenizer, resolve_model
    return load_tokenizer(resolve_model('embedded:smollm2-135m-instruct').path)

def work_report(path, tok, chunk):
    from medtune.examples import data_report
    r = data_report([str(path)], tok, 2048, chunk_size=chunk)[str(path)]
    return dict(rows=r['kept'], dropped=r['dropped'], formats=r['formats'], duplicates_exact=r['duplicates_exact'], tokens=r['tokens'])

def work_tokenize(path, tok, chunk):
    from medtune.examples import stream_examples, tokenize_examples
    n = ntok = 0
    for exs in stream_examples([str(path)], chunk_size=chunk):
        t = tokenize_examples(tok, exs, max_length=2048, completion_start=True)
        n += len(exs); ntok += sum(map(len, t['input_ids']))
    return dict(rows=n, tokens_total=ntok)

def work_baseline(path, tok, chunk):
    import datasets
    from medtune.formats import mcq_prompt
    datasets.disable_progress_bars()
    ds = datasets.load_dataset('json', data_files=str(path), split='train', cache_dir=str(Path(path).parent/'hf_cache'))
    def fn(b):
        texts = []
        for i in range(len(b['question'])):
            if b['instruction'][i] is not None: user, ans = b['instruction'][i] + ('\n\n' + b['input'][i] if b['input'][i] else ''), b['output'][i]
            elif b['options'][i] is not None: user, ans = mcq_prompt(b['question'][i], dict(zip('ABCD', b['options'][i]))), b['answer'][i]
            else: user, ans = b['question'][i], b['answer'][i]
            texts.append(tok.apply_chat_template([{'role': 'user', 'content': user}, {'role': 'assistant', 'content': ans}], tokenize=False))
        ids = tok(texts, add_special_tokens=False, truncation=True, max_length=2048)['input_ids']
        return {'input_ids': ids, 'length': [len(x) for x in ids]}
    out = ds.map(fn, batched=True, batch_size=chunk, remove_columns=ds.column_names)
    return dict(rows=len(out), tokens_total=int(sum(out['length'])))

def worker(kind, path, chunk):
    "Run one path in this process; print its JSON result."
    t0 = time.perf_counter(); tok = _tok(); t_load = time.perf_counter() - t0
    load0 = os.getloadavg()
    t = time.perf_counter()
    res = dict(report=work_report, tokenize=work_tokenize, baseline=work_baseline)[kind](path, tok, chunk)
    secs = time.perf_counter() - t
    res.update(seconds=round(secs, 2), examples_per_s=round(res['rows'] / secs, 1), peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
               tokenizer_load_s=round(t_load, 2), loadavg_before=load0, loadavg_after=os.getloadavg())
    print('RESULT ' + json.dumps(res))

def run_worker(kind, path, chunk):
    "Run one path in a fresh process (nice'd, as the other workers on this machine are); its result dict."
    p = subprocess.run(['nice', '-n', '5', sys.executable, __file__, '--worker', kind, '--file', str(path), '--chunk', str(chunk)],
                       capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1'})
    line = next((l for l in p.stdout.splitlines() if l.startswith('RESULT ')), None)
    if p.returncode or line is None: raise SystemExit(f'{kind} failed (exit {p.returncode}):\n{p.stderr[-3000:]}')
    r = json.loads(line[7:]); print(f'{kind}: {r}', flush=True)
    return r

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rows', type=int, default=1_000_000)
    ap.add_argument('--baseline-rows', type=int, help='rows for the datasets baseline (default: all)')
    ap.add_argument('--chunk', type=int, default=1000, help='examples per chunk / map batch')
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'))
    ap.add_argument('--worker', choices=['report', 'tokenize', 'baseline']); ap.add_argument('--file')
    a = ap.parse_args()
    if a.worker: return worker(a.worker, Path(a.file), a.chunk)
    with tempfile.TemporaryDirectory(prefix='medtune-bench-data-') as tmp:
        f = Path(tmp)/'mixed.jsonl'
        t = time.perf_counter(); generate(f, a.rows); gen_s = time.perf_counter() - t
        print(f'generated {a.rows:,} rows ({f.stat().st_size / 2**20:.0f} MiB) in {gen_s:.0f} s', flush=True)
        res = {k: run_worker(k, f, a.chunk) for k in ('report', 'tokenize')}
        nb = min(a.baseline_rows or a.rows, a.rows)
        fb = f
        if nb < a.rows:
            fb = Path(tmp)/'subset.jsonl'
            with open(f) as src, open(fb, 'w') as dst: dst.writelines(l for _, l in zip(range(nb), src))
        res['baseline'] = run_worker('baseline', fb, a.chunk)
        size = f.stat().st_size
    import tokenizers, transformers, datasets
    rec = dict(benchmark='data_stream', rows=a.rows, file_mib=round(size / 2**20, 1), baseline_rows=nb, baseline_subset=nb < a.rows, chunk=a.chunk,
               results=res, ratios=dict(report_vs_baseline_examples_per_s=round(res['report']['examples_per_s'] / res['baseline']['examples_per_s'], 3),
                                        tokenize_vs_baseline_examples_per_s=round(res['tokenize']['examples_per_s'] / res['baseline']['examples_per_s'], 3),
                                        report_vs_baseline_peak_rss=round(res['report']['peak_rss_gib'] / res['baseline']['peak_rss_gib'], 3)),
               targets=dict(report_examples_per_s_min=5000, peak_rss_gib_max=1.0,
                            met=res['report']['examples_per_s'] >= 5000 and res['report']['peak_rss_gib'] <= 1.0),
               machine=dict(cpus=os.cpu_count(), platform=platform.platform(), python=platform.python_version(),
                            tokenizers_parallelism=os.environ.get('TOKENIZERS_PARALLELISM', '(unset)'), generate_s=round(gen_s, 1)),
               versions=dict(tokenizers=tokenizers.__version__, transformers=transformers.__version__, datasets=datasets.__version__),
               date=time.strftime('%Y-%m-%d %H:%M'))
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dest = out/f'data_stream_{a.rows}.json'
    dest.write_text(json.dumps(rec, indent=2) + '\n')
    print(json.dumps(rec['ratios']), '\nwrote', dest)

if __name__ == '__main__': main()
