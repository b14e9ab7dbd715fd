#!/usr/bin/env python
"""Agreement and speed: medtune's scoring against lm-evaluation-harness on the same items (`--method continuation`, `letter` or `generate`).

For each benchmark (full published files in ../shared/data), `--n` items are drawn with `--seed` (and `--shots` k-shot examples per
question: MMLU's dev CSVs per subject, PubMedQA's non-test half, otherwise test items not evaluated). The very same items are written
as local JSONL for lm-eval's own task formats (benchmarks/lm_eval_tasks/, whose prompt functions are imported from lm-eval), then

  * lm-eval scores them: `simple_evaluate` with `HFLM(pretrained=<the cached HF folder of the embedded SmolLM2>, dtype=float32)`,
    i.e. `lm_eval --model hf --model_args pretrained=...,dtype=float32 --device cpu --include_path benchmarks/lm_eval_tasks`;
  * medtune scores them: `medtune.evaluate.score_continuation` on the same folder, float32.

`--method letter` checks medtune's default scoring (`eval.method: letter`: the option letters' probabilities at the first answer token
after the chat template, one forward per question, `medtune.evaluate.score_items`) the same way. The lm-eval side is a plain
multiple-choice task (benchmarks/lm_eval_tasks/medtune_letter_*.yaml) whose text is medtune's prompt and whose choices are the letters,
run with `apply_chat_template=True` (`lm_eval ... --apply_chat_template`): lm-eval then scores each letter as the continuation of the
chat-templated prompt, so both compute the same log-probabilities (compared after normalising over the options). Zero-shot only.

`--method generate` checks `eval.method: generate` (a greedy reply to the same chat-templated prompt, its letter read by
`medtune.evaluate.extract_answer`): lm-eval runs a `generate_until` task (benchmarks/lm_eval_tasks/medtune_generate_*.yaml, stop at
the end-of-turn token only, `--max-new-tokens` tokens at most, greedy) with `apply_chat_template=True`, and its filter reads the
letter with the same `extract_answer`; the bench compares the replies themselves as well as the letters. Zero-shot only.

Both have their model loaded (and warmed up on two items) before the clock starts; the timed part is everything from items to
scores (lm-eval: dataset load, prompts, requests, forwards; medtune: prompts, tokenisation, forwards). Written to --out:
eval_agreement_<tag>.json (per benchmark: acc, acc_norm of both, differences in points, per-item agreement, identical prompts,
largest log-likelihood difference, seconds, items/s, the speed ratio) and eval_agreement_<tag>.log (this run's output).

    nice .venv/bin/python benchmarks/bench_eval.py --n 200                      # zero-shot, all four benchmarks
    nice .venv/bin/python benchmarks/bench_eval.py --n 200 --shots 5 --benchmarks mmlu
    nice .venv/bin/python benchmarks/bench_eval.py --n 200 --benchmarks mmlu_cont    # answer texts as choices: multi-token continuations
    nice .venv/bin/python benchmarks/bench_eval.py --n 200 --method letter           # medtune's default method, zero-shot
    nice .venv/bin/python benchmarks/bench_eval.py --n 200 --method generate         # greedy reply + letter extraction, zero-shot
"""
import argparse, json, math, os, platform, random, sys, time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('HF_DATASETS_OFFLINE', '1'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT/'benchmarks'/'lm_eval_tasks'
DATA = TASKS/'data'
STYLE = {'medqa': 'medqa', 'medmcqa': 'medmcqa', 'pubmedqa': 'pubmedqa', 'mmlu': 'mmlu', 'mmlu_cont': 'mmlu_continuation'}  # benchmark -> lm-eval task format

def sources(shared:Path)->dict:
    "Where each benchmark's test items and k-shot pool come from."
    return {'medqa': dict(test=shared/'medqa_usmle/test_4options.jsonl'), 'medmcqa': dict(test=shared/'medmcqa/dev_single_choice.jsonl'),
            'pubmedqa': dict(test=shared/'pubmedqa/ori_pqal.json', split=shared/'pubmedqa/test_ground_truth.json'),
            'mmlu': dict(test=shared/'mmlu_medical/test_medical_6subjects.jsonl', dev=shared/'mmlu_medical/dev'),
            'mmlu_cont': dict(test=shared/'mmlu_medical/test_medical_6subjects.jsonl', dev=shared/'mmlu_medical/dev')}  # the answer texts as choices

def select(name:str, src:dict, n:int, seed:int, k:int)->tuple:
    "(items with their shots, the k-shot pool, a note on where the shots come from)."
    from medtune.benchmarks import read_items, draw_shots
    every = read_items(src['test'])
    if 'split' in src:  # PubMedQA: the official test half; the other half is the shot pool
        gt = json.loads(Path(src['split']).read_text())
        test, pool, where = [x for x in every if str(x['id']) in gt], [x for x in every if str(x['id']) not in gt], 'PubMedQA non-test half'
        assert len(test) == len(gt) and all(x['options'][x['answer']] == gt[str(x['id'])] for x in test)
    else: test, pool, where = every, None, None
    idx = sorted(random.Random(seed).sample(range(len(test)), min(n, len(test))))
    items = [test[i] for i in idx]
    if pool is None and 'dev' in src: pool, where = read_items(src['dev']), f"{src['dev']} (per subject)"
    if pool is None: keep = set(idx); pool, where = [x for i, x in enumerate(test) if i not in keep], 'test items not evaluated'
    return draw_shots(items, pool, k, seed, where), pool, where

def lm_doc(item:dict, style:str)->dict:
    "The item in the field layout of lm-eval's task for `style`."
    opts, gold = list(item['options'].values()), list(item['options']).index(item['answer'])
    if style == 'medqa': return dict(sent1=item['question'], **{f'ending{i}': o for i, o in enumerate(opts)}, label=gold)
    if style == 'medmcqa': return dict(question=item['question'], opa=opts[0], opb=opts[1], opc=opts[2], opd=opts[3], cop=gold)
    if style == 'pubmedqa': return dict(QUESTION=item['question'], CONTEXTS=[item['context']], final_decision=item['options'][item['answer']])
    return dict(question=item['question'], choices=opts, answer=gold, subject=item['subject'])

def write_jsonl(path:Path, rows:list):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows))

def write_tasks(name:str, items:list, pool:list)->list:
    "Write the lm-eval data files for `items` (the shots of each task in order as its dev split); returns [(task, item indices)]."
    style = STYLE[name]
    groups = {}
    for i, it in enumerate(items): groups.setdefault(it.get('subject') if name.startswith('mmlu') else None, []).append(i)
    out = []
    for subj, idx in groups.items():
        base = f'{name}_{subj}' if subj else name
        shots = items[idx[0]].get('shots') or [next(p for p in pool if not subj or p.get('subject') == subj)]  # 0-shot: one unused row
        write_jsonl(DATA/f'{base}_test.jsonl', [lm_doc(items[i], style) for i in idx])
        write_jsonl(DATA/f'{base}_dev.jsonl', [lm_doc(s, style) for s in shots])
        out.append((f'medtune_{base}', idx))
    return out

def write_letter_task(name:str, items:list)->list:
    "Write the lm-eval data file of the letter task: medtune's prompt, the option letters, the gold index; returns [(task, item indices)]."
    from medtune.formats import mcq_prompt
    write_jsonl(DATA/f'letter_{name}_test.jsonl', [dict(prompt=mcq_prompt(it['question'], it['options'], it.get('context')), choices=list(it['options']),
                                                       gold=list(it['options']).index(it['answer'])) for it in items])
    return [(f'medtune_letter_{name}', list(range(len(items))))]

def write_generate_task(name:str, items:list)->list:
    "Write the lm-eval data file of the generate task: medtune's prompt, the options (for the extraction), the gold letter."
    from medtune.formats import mcq_prompt
    write_jsonl(DATA/f'generate_{name}_test.jsonl', [dict(prompt=mcq_prompt(it['question'], it['options'], it.get('context')), letters=list(it['options']),
                                                         texts=list(it['options'].values()), answer=it['answer']) for it in items])
    return [(f'medtune_generate_{name}', list(range(len(items))))]

def log_softmax(xs:list)->list:
    m = max(xs); z = m + math.log(sum(math.exp(x - m) for x in xs))
    return [x - z for x in xs]

def first_max(xs:list)->int: return max(range(len(xs)), key=xs.__getitem__)

def run_lm_eval(lm, tasks:list, k:int, tm, limit:int|None=None, chat:bool=False, gen_kwargs:dict|None=None)->tuple:
    "lm-eval on the tasks: (seconds, {task: samples}, {task: reported metrics}); `chat`: apply the model's chat template."
    from lm_eval import simple_evaluate
    t = time.perf_counter()
    res = simple_evaluate(model=lm, tasks=[t_ for t_, _ in tasks], num_fewshot=k, task_manager=tm, log_samples=True, bootstrap_iters=0,
                          verbosity='ERROR', limit=limit, apply_chat_template=chat, gen_kwargs=gen_kwargs)
    return time.perf_counter() - t, res['samples'], res['results']

def lm_eval_rows(samples:dict, tasks:list, n:int, normalise:bool=False)->list:
    "Per item (in medtune's order): lm-eval's context, log-likelihoods (`normalise`: over the options), acc and acc_norm."
    rows = [None] * n
    for task, idx in tasks:
        for s in samples[task]:
            args = s['arguments']
            ctx = (args[0][0] if isinstance(args[0], (list, tuple)) else args['gen_args_0']['arg_0'])
            if 'exact_match' in s:  # generate_until: the reply and the letter the filter read from it
                ok = float(s['exact_match'])
                pred = s['filtered_resps'][0]
                if isinstance(pred, (list, tuple)): pred = pred[0]  # one reply per request
                rows[idx[s['doc_id']]] = dict(context=ctx, reply=s['resps'][0][0], pred=pred, acc=ok, acc_norm=ok); continue
            lls = [float(r[0]) for r in s['filtered_resps']]
            rows[idx[s['doc_id']]] = dict(context=ctx, lls=log_softmax(lls) if normalise else lls, acc=float(s['acc']), acc_norm=float(s['acc_norm']))
    assert all(rows), 'lm-eval returned fewer samples than items'
    return rows

def medtune_rows(model, tok, items:list, style:str, bs:int)->tuple:
    "(seconds, per item: context, log-likelihoods, acc, acc_norm) for medtune's continuation scoring."
    from medtune.evaluate import score_continuation, lm_context
    t = time.perf_counter()
    sc = score_continuation(model, tok, items, style, bs)
    dt = time.perf_counter() - t
    rows = []
    for it, s in zip(items, sc):
        gold = list(it['options']).index(it['answer'])
        rows.append(dict(context=lm_context(it, style), lls=s['lls'], acc=float(first_max(s['lls']) == gold),
                         acc_norm=float(first_max([x / n for x, n in zip(s['lls'], s['lens'])]) == gold)))
    return dt, rows

def letter_rows(model, tok, items:list, bs:int)->tuple:
    "(seconds, per item: chat-templated prompt, log-probabilities of the letters normalised over the options, acc (= acc_norm)) for medtune's letter scoring."
    from medtune.evaluate import score_items, render_prompt
    t = time.perf_counter()
    probs = score_items(model, tok, items, bs)
    dt = time.perf_counter() - t
    rows = []
    for it, pr in zip(items, probs):
        ok = float(first_max(pr) == list(it['options']).index(it['answer']))
        rows.append(dict(context=render_prompt(tok, it), lls=[math.log(max(x, 1e-300)) for x in pr], acc=ok, acc_norm=ok))
    return dt, rows

def generate_rows(model, tok, items:list, bs:int, max_new_tokens:int)->tuple:
    "(seconds, per item: chat-templated prompt, reply, extracted letter ('[invalid]' when none), acc (= acc_norm)) for medtune's generate scoring."
    from medtune.evaluate import score_generate, render_prompt
    t = time.perf_counter()
    got = score_generate(model, tok, items, bs, max_new_tokens)
    dt = time.perf_counter() - t
    return dt, [dict(context=render_prompt(tok, it), reply=r, pred=L or '[invalid]', acc=float(L == it['answer']), acc_norm=float(L == it['answer']))
                for it, (L, r) in zip(items, got)]

def floor_seconds(model, tok, items:list, style:str, bs:int)->tuple:
    """(seconds, context tokens): only the transformer body's forward over every item's context (no tokenisation, no output layer,
    no log-softmax, no key/value cache kept), in medtune's length-sorted batches. Any exact scorer in the same precision must at least run every context token
    through the body once, so lm-eval's seconds / these seconds bounds the speed-up any such scorer could show over lm-eval here."""
    import torch
    from medtune.evaluate import lm_requests, model_max_length, render_prompt
    if style == 'letter': ctx = tok([render_prompt(tok, it) for it in items], add_special_tokens=False)['input_ids']
    else: ctx = [r[0] for r in lm_requests(tok, items, style, model_max_length(model, tok))]
    ctx = sorted(ctx, key=len)
    batches = []
    for s in range(0, len(ctx), bs):
        b = ctx[s:s + bs]; L = max(map(len, b))
        ids, m = torch.zeros(len(b), L, dtype=torch.long), torch.zeros(len(b), L, dtype=torch.long)
        for i, x in enumerate(b): ids[i, L - len(x):] = torch.tensor(x); m[i, L - len(x):] = 1
        batches.append((ids.to(model.device), m.to(model.device)))
    t = time.perf_counter()
    with torch.inference_mode():
        for ids, m in batches: model.model(input_ids=ids, attention_mask=m, use_cache=False)
    return time.perf_counter() - t, sum(map(len, ctx))

def compare_rows(mt:list, le:list)->dict:
    "Accuracies of both, their differences in points, and how closely the per-item results agree."
    n = len(mt); mean = lambda rows, key: sum(r[key] for r in rows) / n
    d = {f'{m}_{e}': mean(rows, m) for m in ('acc', 'acc_norm') for e, rows in (('medtune', mt), ('lm_eval', le))}
    d.update(acc_diff_points=100 * (d['acc_medtune'] - d['acc_lm_eval']), acc_norm_diff_points=100 * (d['acc_norm_medtune'] - d['acc_norm_lm_eval']),
             same_acc_items=sum(a['acc'] == b['acc'] for a, b in zip(mt, le)), same_acc_norm_items=sum(a['acc_norm'] == b['acc_norm'] for a, b in zip(mt, le)),
             identical_prompts=sum(a['context'] == b['context'] for a, b in zip(mt, le)))
    if 'reply' in mt[0]:  # generation: the same letter read, and the same reply text (after stripping surrounding white space)
        d.update(same_prediction_items=sum(a['pred'] == b['pred'] for a, b in zip(mt, le)),
                 identical_replies=sum(a['reply'].strip() == b['reply'].strip() for a, b in zip(mt, le)),
                 unreadable_medtune=sum(a['pred'] == '[invalid]' for a in mt), unreadable_lm_eval=sum(b['pred'] == '[invalid]' for b in le))
    else:
        d.update(same_prediction_items=sum(first_max(a['lls']) == first_max(b['lls']) for a, b in zip(mt, le)),
                 max_abs_ll_diff=max(abs(x - y) for a, b in zip(mt, le) for x, y in zip(a['lls'], b['lls'])))
    d['agree_within_half_point'] = abs(d['acc_diff_points']) <= 0.5 and abs(d['acc_norm_diff_points']) <= 0.5
    return d

class Tee:
    "Write to the terminal and the log file."
    def __init__(self, path): self.f, self.o = open(path, 'w'), sys.stdout
    def write(self, s): self.o.write(s); self.f.write(s); self.f.flush()
    def flush(self): self.o.flush(); self.f.flush()

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--benchmarks', default='medqa,medmcqa,pubmedqa,mmlu')
    ap.add_argument('--n', type=int, default=200, help='items per benchmark')
    ap.add_argument('--shots', type=int, default=0)
    ap.add_argument('--method', choices=['continuation', 'letter', 'generate'], default='continuation', help="medtune's scoring method to check (letter, generate: zero-shot only)")
    ap.add_argument('--max-new-tokens', type=int, default=64, help='--method generate: reply length cap (eval.max_new_tokens default)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--batch-size', type=int, default=8, help="medtune's questions per forward (eval.batch_size default)")
    ap.add_argument('--lm-eval-batch-sizes', default='8,1', help='lm-eval runs, one per batch size (1 is its default)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0 = torch default)')
    ap.add_argument('--shared', default=str(ROOT.parent/'shared'/'data'))
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'))
    ap.add_argument('--tag', default=None)
    ap.add_argument('--floor', action='store_true', help="also time the transformer body alone on the same contexts: the bound on any exact scorer's speed")
    a = ap.parse_args(argv)
    letter, gen = a.method == 'letter', a.method == 'generate'
    chat = letter or gen  # medtune's own prompt under the chat template: lm-eval with apply_chat_template
    if chat and a.shots: ap.error(f'--method {a.method} compares zero-shot scoring only (--shots 0)')
    if chat and 'mmlu_cont' in a.benchmarks: ap.error(f'--method {a.method}: mmlu_cont is a continuation format; use mmlu')
    if gen and a.floor: ap.error('--floor bounds single forward passes; it does not apply to --method generate')
    os.chdir(ROOT)  # the task YAMLs name their data files relative to the repository root
    import torch, transformers, lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from medtune.model import embedded_model_dir, load_tokenizer
    from transformers import AutoModelForCausalLM
    if a.threads: torch.set_num_threads(a.threads)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    tag = a.tag or f"{a.shots}shot_n{a.n}_{a.device}" + (f'_{a.method}' if chat else '')
    sys.stdout = Tee(out/f'eval_agreement_{tag}.log')
    names = [b.strip() for b in a.benchmarks.split(',') if b.strip()]
    folder = str(embedded_model_dir(verbose=False))
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  bench_eval {' '.join(sys.argv[1:])}\nmodel folder {folder}; device {a.device}; "
          f"torch threads {torch.get_num_threads()}; load average {os.getloadavg()}")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(a.device).eval()
    tok = load_tokenizer(folder)
    lms = {bs: HFLM(pretrained=folder, dtype='float32', device=a.device, batch_size=bs) for bs in map(int, a.lm_eval_batch_sizes.split(','))}
    tm = TaskManager(include_path=str(TASKS))
    src, results, warm = sources(Path(a.shared)), {}, set()
    for name in names:
        items, pool, where = select(name, src[name], a.n, a.seed, a.shots)
        if letter: tasks, style, score = write_letter_task(name, items), 'letter', lambda its: letter_rows(model, tok, its, a.batch_size)
        elif gen: tasks, style, score = write_generate_task(name, items), 'generate', lambda its: generate_rows(model, tok, its, a.batch_size, a.max_new_tokens)
        else: tasks, style, score = write_tasks(name, items, pool), STYLE[name], lambda its: medtune_rows(model, tok, its, STYLE[name], a.batch_size)
        score(items[:2])   # warm-up (untimed)
        dt_m, mt = score(items)
        dt_f, ntok = floor_seconds(model, tok, items, style, a.batch_size) if a.floor else (None, None)
        r = dict(n=len(items), shots=a.shots, shots_from=where if a.shots else None, style=style, lm_eval_tasks=[t for t, _ in tasks],
                 medtune=dict(batch_size=a.batch_size, seconds=round(dt_m, 2), items_per_s=round(len(items) / dt_m, 3)), lm_eval={},
                 **(dict(floor=dict(seconds=round(dt_f, 2), context_tokens=ntok, what='transformer body forward over the contexts only')) if a.floor else {}))
        print(f"\n[{name}] {len(items)} items, {a.shots}-shot; medtune {dt_m:.1f} s ({len(items) / dt_m:.2f} items/s)"
              + (f"; body-forward floor {dt_f:.1f} s for {ntok} context tokens (medtune = {dt_m / dt_f:.2f}x the floor)" if a.floor else ''))
        for bs, lm in lms.items():
            gk = dict(max_gen_toks=a.max_new_tokens) if gen else None
            if bs not in warm: warm.add(bs); run_lm_eval(lm, tasks[:1], a.shots, tm, limit=2, chat=chat, gen_kwargs=gk)  # warm-up (untimed)
            dt_l, samples, reported = run_lm_eval(lm, tasks, a.shots, tm, chat=chat, gen_kwargs=gk)
            le = lm_eval_rows(samples, tasks, len(items), normalise=letter)
            c = compare_rows(mt, le)
            rep = {t: {m: v for m in ('acc', 'acc_norm', 'exact_match') if (v := reported[t].get(f'{m},none', reported[t].get(f'{m},medtune_extract'))) is not None} for t, _ in tasks}
            r['lm_eval'][f'batch_size_{bs}'] = dict(seconds=round(dt_l, 2), items_per_s=round(len(items) / dt_l, 3),
                                                    speed_ratio_medtune_over_lm_eval=round(dt_l / dt_m, 2), reported=rep, **c,
                                                    **(dict(max_possible_ratio_exact=round(dt_l / dt_f, 2)) if a.floor else {}))
            print(f"  lm-eval batch {bs}: {dt_l:.1f} s ({len(items) / dt_l:.2f} items/s) -> medtune {dt_l / dt_m:.2f}x faster | "
                  f"acc {100 * c['acc_medtune']:.2f} vs {100 * c['acc_lm_eval']:.2f} ({c['acc_diff_points']:+.2f}) | acc_norm {100 * c['acc_norm_medtune']:.2f} vs "
                  f"{100 * c['acc_norm_lm_eval']:.2f} ({c['acc_norm_diff_points']:+.2f}) | same prediction {c['same_prediction_items']}/{len(items)} | "
                  f"identical prompts {c['identical_prompts']}/{len(items)} | "
                  + (f"identical replies {c['identical_replies']}/{len(items)} | unreadable {c['unreadable_medtune']} vs {c['unreadable_lm_eval']}" if gen else f"max |ll diff| {c['max_abs_ll_diff']:.2e}")
                  + (f" | lm-eval = {dt_l / dt_f:.2f}x the floor (the most any exact scorer could gain)" if a.floor else ''))
        results[name] = r
    tot_items = sum(r['n'] for r in results.values())
    summary = dict(items=tot_items, medtune_items_per_s=round(tot_items / sum(r['medtune']['seconds'] for r in results.values()), 3))
    for bs in lms:
        sl = sum(r['lm_eval'][f'batch_size_{bs}']['seconds'] for r in results.values())
        summary[f'lm_eval_batch_size_{bs}'] = dict(items_per_s=round(tot_items / sl, 3),
                                                  speed_ratio_medtune_over_lm_eval=round(sl / sum(r['medtune']['seconds'] for r in results.values()), 2),
                                                  all_agree_within_half_point=all(r['lm_eval'][f'batch_size_{bs}']['agree_within_half_point'] for r in results.values()),
                                                  **(dict(max_possible_ratio_exact=round(sl / sum(r['floor']['seconds'] for r in results.values()), 2)) if a.floor else {}))
    if a.floor: summary['floor_seconds'] = round(sum(r['floor']['seconds'] for r in results.values()), 2)
    rec = dict(date=f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}", command=' '.join(sys.argv), model='embedded:smollm2-135m-instruct (float32)', method=a.method,
               model_folder=folder, device=a.device if a.device != 'cpu' else f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               torch_threads=torch.get_num_threads(), load_average_end=os.getloadavg(), seed=a.seed, shots=a.shots,
               versions=dict(torch=torch.__version__, transformers=transformers.__version__, lm_eval=lm_eval.__version__, python=platform.python_version()),
               timing="wall-clock from items to scores with the model loaded and warmed up; lm-eval: simple_evaluate (dataset load, prompts, requests, forwards)",
               summary=summary, benchmarks=results)
    (out/f'eval_agreement_{tag}.json').write_text(json.dumps(rec, indent=1))
    print(f"\nsummary: {json.dumps(summary)}\nwrote {out/f'eval_agreement_{tag}.json'}")
    return 0 if all(v['all_agree_within_half_point'] for k, v in summary.items() if k.startswith('lm_eval_')) else 1

if __name__ == '__main__': sys.exit(main())
