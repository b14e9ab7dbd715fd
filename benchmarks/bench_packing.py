"""Packed vs padded batches on the CPU demo's data and model: training tokens/s (real tokens, padding not counted) and the
loss, the same steps each, in one run (the ratio is what counts: machines differ). The runs alternate padded, packed,
packed, padded (`--repeats 2`), so a machine that slows down during the run slows both alike; each mode's tokens/s is
the median over its runs' steps.

Usage: python benchmarks/bench_packing.py [--steps 12] [--repeats 2] [--batch N] [--out benchmarks/results]
(--batch: rows per step, default the cpu-demo preset's; writes packing_cpu.json, or packing_cpu_bN.json with --batch)
"""
import argparse, json, platform, statistics, tempfile, time
from pathlib import Path
import torch
from medtune.config import make_config
from medtune.medical import prepare_data
from medtune.examples import split_examples
from medtune.model import add_lora, load_model, resolve_model
from medtune.train import make_trainer, read_metrics, train

def one(packing:bool, steps:int, exs:list, batch=None)->dict:
    "Train `steps` steps of the cpu-demo settings with or without packing; tokens/s and losses from metrics.jsonl."
    over = {'max_steps': steps, 'packing': packing, 'logging_steps': 1, 'save_steps': 1000}
    cfg = make_config('cpu-demo', {'train': {**over, **({'batch_size': batch} if batch else {})}}, environ={})
    model, tok = load_model(resolve_model(cfg.model.name), cfg.model)
    model = add_lora(model, cfg.lora, False, 'hf', cfg.train.seed)
    run = Path(tempfile.mkdtemp())
    tr = make_trainer(model, tok, exs, cfg.train, run, live_plot=False)
    t = time.perf_counter(); s = train(tr); wall = time.perf_counter() - t
    m = [r for r in read_metrics(run/'metrics.jsonl') if 'loss' in r]
    tps = [r['tokens_per_s'] for r in m[1:]]  # the first step includes the warm-up
    return dict(packing=packing, steps=steps, batch=cfg.train.batch_size, max_length=cfg.train.max_length,
                tokens=m[-1]['tokens'], tokens_per_s=round(statistics.median(tps), 1), step_tokens_per_s=tps,
                wall_s=round(wall, 1),
                train_loss=round(s['train_loss'], 4), losses=[round(r['loss'], 4) for r in m], batches=tr.medtune_padding['reason'])

def main(steps:int=12, repeats:int=2, batch=None, out:str='benchmarks/results'):
    torch.manual_seed(0)
    cfg = make_config('cpu-demo', environ={})
    exs, _ = prepare_data(cfg)
    train_exs, _ = split_examples(exs, cfg.data.val_fraction, cfg.data.seed)
    order = [k for i in range(repeats) for k in (('padded', 'packed') if i % 2 == 0 else ('packed', 'padded'))]
    runs = [one(k == 'packed', steps, train_exs, batch) for k in order]
    res = {k: [r for r in runs if r['packing'] == (k == 'packed')] for k in ('padded', 'packed')}
    tps = {k: statistics.median(x for r in rs for x in r['step_tokens_per_s']) for k, rs in res.items()}
    a, b = res['padded'][0], res['packed'][0]  # the same steps, data and seed in every run of a mode: same losses
    summary = dict(machine=platform.processor() or platform.machine(), torch_threads=torch.get_num_threads(),
                   examples=len(train_exs), order=order, tokens_per_s={k: round(v, 1) for k, v in tps.items()},
                   tokens_per_s_ratio=round(tps['packed'] / tps['padded'], 2),
                   packed_loss_in_padded_range=min(a['losses']) <= b['train_loss'] <= max(a['losses']), runs=res)
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out)/f"packing_cpu{f'_b{batch}' if batch else ''}.json").write_text(json.dumps(summary, indent=2) + '\n')
    print(json.dumps({k: v for k, v in summary.items() if k != 'runs'}, indent=2))
    for r in runs: print('packed' if r['packing'] else 'padded', {x: r[x] for x in ('tokens', 'tokens_per_s', 'wall_s', 'train_loss')})

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=12); ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--batch', type=int, default=None); ap.add_argument('--out', default='benchmarks/results')
    main(**vars(ap.parse_args()))
