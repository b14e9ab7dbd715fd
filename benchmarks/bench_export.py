"""Peak RAM of `medtune export --formats merged,gguf` (the streaming merge) against the whole-model merge in memory.

For each shape: a random-initialised Llama-architecture model created from a config and saved in bfloat16 (no
download), with the embedded SmolLM2's tokenizer; a LoRA adapter from a real one-step `medtune train` run on it (QLoRA:
4-bit base, so the export rounds the quantised weights through nf4); then, each in its own process, one after the other:

- **streamed**: `medtune export RUN --formats merged,gguf` (q8_0 GGUF, bfloat16 merged folder), medtune's export;
- **in_memory**: the merge the export used before, in one process: `merged_model` (the whole model in float32,
  nf4-rounded, peft's `merge_and_unload`), `write_gguf` on that model, then `save_pretrained` in bfloat16.

Peak RSS is the command's `ru_maxrss` from `os.wait4` (the kernel's high-water mark of resident memory, file-backed
pages included), taken by a small launcher process (see `WAIT4`). The JSON goes to --out (benchmarks/results/).

    python benchmarks/bench_export.py              # llama-0.5b and llama-1b, both paths (~25 min on 2 cores)
    python benchmarks/bench_export.py --shapes tiny --paths streamed               # a quick check
"""
import argparse, json, os, platform, shutil, subprocess, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Llama-architecture shapes with the embedded SmolLM2 tokenizer's vocabulary (49152), tied embeddings
SHAPES = {'tiny': dict(hidden=256, layers=2, heads=4, kv_heads=2, intermediate=512),
          'llama-0.5b': dict(hidden=1024, layers=24, heads=16, kv_heads=4, intermediate=5120),
          'llama-1b': dict(hidden=2048, layers=16, heads=32, kv_heads=8, intermediate=8192)}  # Llama 3.2 1B's layers
ENV = dict(os.environ, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')

def make_base(name, dest):
    "A random-init Llama model of shape `name` saved in bfloat16 into `dest` with SmolLM2's tokenizer; its parameters."
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from medtune.model import embedded_model_dir
    d = SHAPES[name]
    tok = AutoTokenizer.from_pretrained(embedded_model_dir())
    cfg = LlamaConfig(hidden_size=d['hidden'], num_hidden_layers=d['layers'], num_attention_heads=d['heads'],
                      num_key_value_heads=d['kv_heads'], intermediate_size=d['intermediate'], vocab_size=len(tok),
                      tie_word_embeddings=True, max_position_embeddings=8192, rope_theta=100000.0,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0); torch.set_default_dtype(torch.bfloat16)
    try: model = LlamaForCausalLM(cfg)
    finally: torch.set_default_dtype(torch.float32)
    model.save_pretrained(dest); tok.save_pretrained(dest)
    return sum(p.numel() for p in model.parameters())

CONFIG = """preset: cpu-demo
model: {{name: {base}}}
data: {{train: [sample:medquad], max_rows: 8, val_fraction: 0}}
train: {{max_steps: 1, save_steps: 1, logging_steps: 1, max_length: 64, batch_size: 1, grad_accum: 1, warmup_ratio: 0}}
eval: {{benchmarks: [pubmedqa], n: 2, batch_size: 2, generations: 0, max_new_tokens: 8, freetext: null, freetext_n: 0,
       refusal_probe: false}}
output: {{export: []}}
"""

def train_one_step(base, run):
    "A real one-step `medtune train` run on `base` (QLoRA, tiny data, one benchmark, n 2): the adapter to export."
    cfg = run.parent/f'{run.name}.yaml'; cfg.write_text(CONFIG.format(base=base))
    p = subprocess.run([str(BIN/'medtune'), 'train', str(cfg), '--out', str(run)], capture_output=True, text=True,
                       env=ENV)
    if p.returncode != 0: raise SystemExit(f'medtune train failed:\n{p.stderr[-3000:]}')
    return run

IN_MEMORY = """import sys, torch
from pathlib import Path
from medtune.export import merged_model, write_gguf
run, out = Path(sys.argv[1]), Path(sys.argv[2])
model, tok, meta = merged_model(run)
(out/'gguf').mkdir(parents=True); write_gguf(model, tok, run/'adapter', out/'gguf'/'model-q8_0.gguf', 'q8_0')
model.to(torch.bfloat16).save_pretrained(out/'merged', safe_serialization=True); tok.save_pretrained(out/'merged')
"""

# Linux keeps a process's RSS high-water mark across exec, and a child started from this (big) process begins with this
# process's mark: so the command is started by a small fresh Python process, which reports the command's own peak.
WAIT4 = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); "
         "_, s, ru = os.wait4(p.pid, 0); print(ru.ru_maxrss*1024, os.waitstatus_to_exitcode(s))")

def measure(cmd):
    "(peak RSS in bytes, seconds, return code, stderr tail) of `cmd` run in its own process."
    t = time.perf_counter()
    p = subprocess.run([sys.executable, '-c', WAIT4, *cmd], capture_output=True, text=True, env=ENV)
    rss, rc = map(int, p.stdout.split())
    return rss, time.perf_counter() - t, rc, p.stderr[-2000:]

def run_path(path, run, out):
    "Measure one export path of `run` into `out`."
    cmd = ([str(BIN/'medtune'), 'export', str(run), '--formats', 'merged,gguf', '--out', str(out)] if path == 'streamed'
           else [sys.executable, '-c', IN_MEMORY, str(run), str(out)])
    rss, secs, rc, err = measure(cmd)
    if rc != 0: raise SystemExit(f'{path} export failed ({rc}):\n{err}')
    files = {str(f.relative_to(out)): f.stat().st_size for f in sorted(out.rglob('*')) if f.is_file()}
    return dict(peak_rss_bytes=rss, peak_rss_gib=round(rss/2**30, 3), seconds=round(secs, 1),
                gguf_bytes=sum(v for k, v in files.items() if k.endswith('.gguf')),
                merged_bytes=sum(v for k, v in files.items() if k.endswith('.safetensors')))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--shapes', default='llama-0.5b,llama-1b', help=f"comma-separated, of {', '.join(SHAPES)}; "
                    "the first is the ratios' baseline")
    ap.add_argument('--paths', default='streamed,in_memory', help='comma-separated: streamed, in_memory')
    ap.add_argument('--work', help='working folder, reused when it holds the bases and runs (default: a temporary one)')
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'), help='folder for the JSON')
    a = ap.parse_args()
    import psutil, torch, transformers
    from medtune.memory import export_need, model_shape
    shapes, paths = a.shapes.split(','), a.paths.split(',')
    work, res = Path(a.work or tempfile.mkdtemp(prefix='bench_export_')), {}
    for s in shapes:
        base, run = work/f'{s}-base', work/f'{s}-run'
        if not (base/'config.json').is_file():
            t = time.perf_counter(); n = make_base(s, base)
            print(f'{s}: {n/1e9:.3f} B params, created in {time.perf_counter()-t:.0f} s', flush=True)
        if not (run/'adapter').is_dir():
            t = time.perf_counter(); train_one_step(base, run)
            print(f'{s}: one-step medtune train in {time.perf_counter()-t:.0f} s', flush=True)
        need = export_need(model_shape(base))
        res[s] = dict(params=model_shape(base).params, predicted_ram_gib=need.ram_gib, predicted_disk_gib=need.disk_gib)
        for p in paths:
            out = work/f'{s}-{p}'
            shutil.rmtree(out, ignore_errors=True)
            res[s][p] = run_path(p, run, out)
            r = res[s][p]; print(f"{s} {p:9}: peak RSS {r['peak_rss_gib']:.2f} GiB, {r['seconds']:.0f} s", flush=True)
    b, big = shapes[0], shapes[-1]
    ratios = {f'{p}_peak_{big}_vs_{b}': round(res[big][p]['peak_rss_bytes']/res[b][p]['peak_rss_bytes'], 3)
              for p in paths if len(shapes) > 1}
    if 'in_memory' in paths and 'streamed' in paths:
        pk = lambda s, p: res[s][p]['peak_rss_bytes']
        ratios.update({f'streamed_vs_in_memory_peak_{s}': round(pk(s, 'streamed')/pk(s, 'in_memory'), 3) for s in shapes})
    targets = {}
    if 'streamed' in paths and len(shapes) > 1:
        targets = {f'streamed peak of {big} <= 2 GB': res[big]['streamed']['peak_rss_bytes'] <= 2e9,
                   f'streamed peak of {big} within 15% of {b}': ratios[f'streamed_peak_{big}_vs_{b}'] <= 1.15}
    ram = psutil.virtual_memory().total/2**30
    rec = dict(when=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               device=f'CPU: {platform.machine()}, {os.cpu_count()} cores, {ram:.0f} GiB RAM',
               versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                             python=platform.python_version()),
               shapes={s: SHAPES[s] for s in shapes}, results=res, ratios=ratios, targets=targets)
    print(json.dumps(dict(ratios=ratios, targets=targets), indent=1))
    Path(a.out).mkdir(parents=True, exist_ok=True)
    f = Path(a.out)/f"export_{'_'.join(shapes)}_cpu.json"; f.write_text(json.dumps(rec, indent=1)); print(f'wrote {f}')
    if not a.work: shutil.rmtree(work, ignore_errors=True)

if __name__ == '__main__': main()
