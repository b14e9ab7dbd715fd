#!/usr/bin/env python3
"""Fit the free constants of `medtune.memory.predict_peak_gib` to the measurements in `shared/calibration` and print them.

OVERHEAD_GIB and ACT_SCALE: weighted least squares (relative error) on the Unsloth QLoRA points of `unsloth_qlora_h200.jsonl`.
HF_LOGIT_BYTES and HF_ATTN_BYTES: minimax relative error over every plain transformers + peft point, the other terms fixed:
the two points of the calibration README and the hf points measured on device machines (`medtune.memory.DEVICE_POINTS`).
The same batch shape was measured more than once (18.29 GiB in the README, 14.38 and 14.87 GiB by bench_train.py), so each
shape's target is the value with equal relative error to its lowest and highest measurement (2·lo·hi/(lo+hi)); with two shapes
and two constants the targets are met exactly, and the largest |error| is the spread of the measurements themselves.
Paste the printed constants into the constants cell of nbs/03_memory.ipynb (via its source), then re-export.
"""
import argparse, json, re, sys
from pathlib import Path
import numpy as np
from medtune.memory import CALIBRATION, DEVICE_POINTS, memory_terms, model_shape

REPO = Path(__file__).resolve().parents[1]

def unsloth_points(folder):
    "The measured Unsloth points of the jsonl file."
    rows = [json.loads(l) for l in (folder/'unsloth_qlora_h200.jsonl').read_text().splitlines() if l.strip()]
    return [dict(shape=r['shape'], seq=r['seq'], bs=r['bs'], peak_gib=r['peak_alloc_gib']) for r in rows if 'seq' in r]

def hf_points(folder):
    "The plain transformers points of the README (`seq S x bs B: N tokens/s, G GiB peak`); llama-1b."
    txt = (folder/'README.md').read_text()
    pts = [dict(shape='llama-1b', seq=int(s), bs=int(b), peak_gib=float(g))
           for s, b, g in re.findall(r'seq (\d+) x bs (\d+): [\d,]+ tokens/s, ([\d.]+) GiB peak', txt)]
    return pts or [p for p in CALIBRATION if p['backend'] == 'hf']

def minimax_targets(points):
    "One target peak per (shape, seq, bs): equal relative error to the lowest and highest measurement of that shape."
    groups = {}
    for p in points: groups.setdefault((p['shape'], p['seq'], p['bs']), []).append(p['peak_gib'])
    return [dict(shape=s, seq=q, bs=b, peak_gib=2*min(g)*max(g)/(min(g)+max(g)), n=len(g)) for (s, q, b), g in groups.items()]

def terms(p, backend):
    return memory_terms(model_shape(p['shape']), p['bs'], p['seq'], backend=backend)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--calibration', type=Path, default=REPO.parent/'shared'/'calibration', help='folder with the measurements')
    a = ap.parse_args(argv)
    if not (a.calibration/'unsloth_qlora_h200.jsonl').is_file(): sys.exit(f"{a.calibration}/unsloth_qlora_h200.jsonl not found (--calibration)")
    us, hf = unsloth_points(a.calibration), hf_points(a.calibration)
    # Unsloth: peak - (weights + lora) = OVERHEAD_GIB + ACT_SCALE * layer_act, rows weighted by 1/measured
    T = [terms(p, 'unsloth') for p in us]
    y = np.array([p['peak_gib'] - t['weights'] - t['lora'] - t['ckpt'] for p, t in zip(us, T)])
    A = np.array([[1.0, t['layer_act']] for t in T]); w = 1/np.array([p['peak_gib'] for p in us])
    (overhead, act_scale), *_ = np.linalg.lstsq(A*w[:, None], y*w, rcond=None)
    # hf: peak - (fixed terms) = HF_LOGIT_BYTES * logits + HF_ATTN_BYTES * attn, one minimax target per batch shape
    hf = minimax_targets(hf + [p for p in DEVICE_POINTS if p['backend'] == 'hf'])
    T = [terms(p, 'hf') for p in hf]
    y = np.array([p['peak_gib'] - overhead - t['weights'] - t['lora'] - t['ckpt'] - act_scale*t['layer_act'] for p, t in zip(hf, T)])
    logit_b, attn_b = np.linalg.lstsq(np.array([[t['logits'], t['attn']] for t in T]), y, rcond=None)[0]
    print(f"# fitted on {len(us)} Unsloth points from {a.calibration} and hf targets "
          + ', '.join(f"{p['seq']}x{p['bs']}: {p['peak_gib']:.2f} GiB ({p['n']} measured)" for p in hf))
    print(f"OVERHEAD_GIB = {overhead:.4f}\nACT_SCALE = {act_scale:.3f}\nHF_LOGIT_BYTES = {logit_b:.2f}\nHF_ATTN_BYTES = {attn_b:.2f}")

if __name__ == '__main__': main()
