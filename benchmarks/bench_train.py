"""QLoRA training speed and peak memory: plain HF + peft + bitsandbytes vs a raw Unsloth loop vs medtune's own training path.

All three train the same random-init model of a public shape (no download) on the same random token batches
(labels = inputs), with nf4 4-bit weights, LoRA on q,k,v,o,gate,up,down, gradient checkpointing and 8-bit AdamW on a GPU.
Each path runs in its own process (Unsloth patches transformers when imported), one after the other, in one call.

    python benchmarks/bench_train.py --shape llama-1b --seq 2048 --batch 4        # on a GPU
    python benchmarks/bench_train.py --shape tiny --seq 64 --batch 2 --steps 3     # on a CPU (CI)

Prints tokens/s and peak memory per path and the ratios medtune/hf and medtune/unsloth; writes JSON to --out.
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path

TINY = dict(hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, vocab=512, tied=True)
TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']

def shape_dims(name):
    "Dimensions of a named shape: 'tiny' or any name in medtune.memory.SHAPES."
    if name == 'tiny': return TINY
    from medtune.memory import SHAPES
    s = SHAPES[name]
    return dict(hidden=s.hidden, layers=s.layers, heads=s.heads, kv_heads=s.kv_heads, intermediate=s.intermediate, vocab=s.vocab, tied=s.tied)

def make_model_dir(name, dest):
    "Save a random-init Llama-architecture model of shape `name` plus a small word-level tokenizer into `dest`."
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers
    d = shape_dims(name)
    cfg = LlamaConfig(hidden_size=d['hidden'], num_hidden_layers=d['layers'], num_attention_heads=d['heads'],
                      num_key_value_heads=d['kv_heads'], intermediate_size=d['intermediate'], vocab_size=d['vocab'],
                      tie_word_embeddings=d['tied'], max_position_embeddings=8192, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    torch.manual_seed(0)
    with torch.device('cpu'): model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(dest)
    vocab = {'<pad>': 0, '<s>': 1, '</s>': 2, '<unk>': 3, **{f'w{i}': i for i in range(4, 256)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token='<unk>')); tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token='<s>', eos_token='</s>', pad_token='<pad>', unk_token='<unk>')
    tok.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    tok.save_pretrained(dest)
    return d

def _batches(vocab, n, batch, seq, device):
    import torch
    g = torch.Generator().manual_seed(1234)
    return torch.randint(4, vocab, (n, batch, seq), generator=g).to(device)

def _peak_gib():
    import torch, resource
    if torch.cuda.is_available(): return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

def _sync():
    import torch
    if torch.cuda.is_available(): torch.cuda.synchronize()

def _optimizer(params, lr=2e-4):
    import torch
    if torch.cuda.is_available():
        import bitsandbytes as bnb
        return bnb.optim.AdamW8bit(params, lr=lr)
    return torch.optim.AdamW(params, lr=lr)

def _loop(model, data, warmup, dtype, autocast=True):
    "Train on each batch; (seconds per timed step, losses), timing only the steps after `warmup`."
    import torch
    opt = _optimizer([p for p in model.parameters() if p.requires_grad])
    model.train(); times, losses = [], []
    for i, x in enumerate(data):
        _sync(); t = time.perf_counter()
        with torch.autocast('cuda', dtype=dtype, enabled=autocast and torch.cuda.is_available()):
            loss = model(input_ids=x, labels=x).loss
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        losses.append(loss.item()); _sync()
        if i >= warmup: times.append(time.perf_counter() - t)
    return times, losses

def run_hf(a, d):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    cuda = torch.cuda.is_available(); dtype = torch.bfloat16 if cuda else torch.float32
    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4', bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=dtype)
    model = AutoModelForCausalLM.from_pretrained(a.model_dir, quantization_config=q, dtype=dtype, attn_implementation='sdpa',
                                                 device_map={'': 0} if cuda else None)
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True)
    model = get_peft_model(model, LoraConfig(r=a.lora_r, lora_alpha=a.lora_r, lora_dropout=0.0, target_modules=TARGETS, task_type='CAUSAL_LM'))
    # hf_ref: the reference setup of ../shared/calibration/README.md (no autocast: LoRA and the fp32-cast head run in fp32)
    return _loop(model, _batches(d['vocab'], a.warmup + a.steps, a.batch, a.seq, model.device), a.warmup, dtype, autocast=a.worker != 'hf_ref')

def run_unsloth(a, d):
    import unsloth  # first
    import torch
    from unsloth import FastLanguageModel
    cuda = torch.cuda.is_available()
    model, _ = FastLanguageModel.from_pretrained(model_name=a.model_dir, max_seq_length=a.seq, dtype=torch.bfloat16 if cuda else None, load_in_4bit=True)
    model = FastLanguageModel.get_peft_model(model, r=a.lora_r, lora_alpha=a.lora_r, lora_dropout=0, target_modules=TARGETS, bias='none',
                                             use_gradient_checkpointing='unsloth', random_state=0)
    return _loop(model, _batches(d['vocab'], a.warmup + a.steps, a.batch, a.seq, model.device), a.warmup, model.dtype)

def run_medtune(a, d):
    "medtune's own path: env → model.load_model/add_lora → train.make_trainer (TRL SFTTrainer + medtune callbacks) → train."
    from medtune.env import choose_backend, choose_precision, gpu_info
    gpu = gpu_info()
    backend, why = choose_backend(a.backend, gpu)
    if backend == 'unsloth': import unsloth  # noqa: F401  (first, as medtune.workflow does)
    from transformers import TrainerCallback
    from medtune.config import ModelConfig, LoraConfig, TrainConfig
    from medtune.model import ResolvedModel, load_model, add_lora
    from medtune.train import make_trainer
    precision = choose_precision('auto', gpu)
    model, tok = load_model(ResolvedModel(a.model_dir, a.model_dir, 'local'), ModelConfig(load_in_4bit=True), precision, backend, a.seq)
    model = add_lora(model, LoraConfig(r=a.lora_r, alpha=a.lora_r, target_modules=TARGETS), True, backend, seed=0)
    n = a.warmup + a.steps
    rows = [{'input_ids': r.tolist()} for r in _batches(d['vocab'], n, a.batch, a.seq, 'cpu').reshape(n * a.batch, a.seq)]
    marks, losses = [], []
    class Timer(TrainerCallback):
        def on_step_begin(self, *args, **kw):
            if not marks: _sync(); marks.append(time.perf_counter())
        def on_step_end(self, *args, **kw): _sync(); marks.append(time.perf_counter())
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and 'loss' in logs: losses.append(logs['loss'])
    cfg = TrainConfig(max_steps=n, batch_size=a.batch, grad_accum=1, max_length=a.seq, lr=2e-4, warmup_ratio=0, save_steps=10**6,
                      logging_steps=1, gradient_checkpointing=True, seed=0, padding_free=True if a.worker == 'medtune_pf' else None)
    from medtune.train import read_metrics
    with tempfile.TemporaryDirectory() as run:
        tr = make_trainer(model, tok, rows, cfg, run, precision, callbacks=[Timer()], backend=backend)
        print('PADDING ' + json.dumps(tr.medtune_padding), flush=True)
        tr.train()
        logged = [r.get('tokens_per_s') for r in read_metrics(Path(run)/'metrics.jsonl') if 'loss' in r][a.warmup + 1:]
    print('METRICS ' + json.dumps(dict(metrics_tokens_per_s=round(sum(logged) / len(logged), 1) if logged else None)), flush=True)
    steps = [t1 - t0 for t0, t1 in zip(marks, marks[1:])]
    return steps[a.warmup:], losses

WORKERS = dict(hf=run_hf, hf_ref=run_hf, unsloth=run_unsloth, medtune=run_medtune, medtune_pf=run_medtune)

def worker(a):
    "Run one path in this process and print its result as one JSON line."
    import torch
    torch.manual_seed(0)
    d = shape_dims(a.shape)
    if not torch.cuda.is_available(): torch.set_num_threads(max(1, (os.cpu_count() or 2)))
    times, losses = WORKERS[a.worker](a, d)
    s = sum(times) / len(times)
    print('RESULT ' + json.dumps(dict(path=a.worker, s_per_step=round(s, 4), tokens_per_s=round(a.batch * a.seq / s, 1),
                                      peak_gib=round(_peak_gib(), 3), steps_timed=len(times), loss_first=losses[0], loss_last=losses[-1])), flush=True)

def versions():
    from importlib import metadata
    out = {}
    for n in ['torch', 'transformers', 'trl', 'peft', 'bitsandbytes', 'unsloth', 'unsloth_zoo', 'medtune']:
        try: out[n] = metadata.version(n)
        except metadata.PackageNotFoundError: out[n] = None
    return out

def device_name():
    import torch
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else f'CPU {platform.processor() or platform.machine()} x{os.cpu_count()}'

def main(a):
    "Build the model once, run each path in a fresh process, print the table and ratios, write JSON."
    with tempfile.TemporaryDirectory() as tmp:
        a.model_dir = a.model_dir or str(Path(tmp)/a.shape)
        if not (Path(a.model_dir)/'config.json').exists(): make_model_dir(a.shape, a.model_dir)
        results = {}
        for path in a.paths.split(','):
            cmd = [sys.executable, __file__, '--worker', path, *[f'--{k.replace("_", "-")}={v}' for k, v in vars(a).items()
                                                                 if k in ('shape', 'seq', 'batch', 'steps', 'warmup', 'lora_r', 'model_dir', 'backend')]]
            t = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
            line = next((l for l in p.stdout.splitlines() if l.startswith('RESULT ')), None)
            extra = {}
            for tag, key in (('PADDING ', 'padding'), ('METRICS ', None)):
                got = next((json.loads(l[len(tag):]) for l in p.stdout.splitlines() if l.startswith(tag)), None)
                if got is not None: extra.update({key: got} if key else got)
            if line is None:
                results[path] = dict(error=(p.stderr or p.stdout)[-4000:]); print(f'{path}: FAILED\n{results[path]["error"]}', file=sys.stderr)
            else:
                results[path] = {**json.loads(line[7:]), **extra, 'wall_s': round(time.perf_counter() - t, 1),
                                 'log_tail': '\n'.join(l for l in p.stderr.splitlines() if 'it/s]' not in l)[-1500:]}
                print(f"{path:<10} {results[path]['tokens_per_s']:>10.1f} tokens/s  {results[path]['peak_gib']:>7.3f} GiB peak  "
                      f"({results[path]['s_per_step']:.4f} s/step, loss {results[path]['loss_first']:.3f} → {results[path]['loss_last']:.3f})", flush=True)
    ok = lambda k: k in results and 'error' not in results[k]
    ratios = {}
    for base in ('hf', 'hf_ref', 'medtune_pf'):
        if ok('medtune') and ok(base): ratios[f'medtune_vs_{base}_tokens_per_s'] = round(results['medtune']['tokens_per_s'] / results[base]['tokens_per_s'], 3)
    if ok('medtune') and ok('unsloth'):
        ratios['medtune_vs_unsloth_tokens_per_s'] = round(results['medtune']['tokens_per_s'] / results['unsloth']['tokens_per_s'], 3)
        ratios['medtune_vs_unsloth_peak_gib'] = round(results['medtune']['peak_gib'] / results['unsloth']['peak_gib'], 3)
    print('ratios', json.dumps(ratios))
    import torch
    if torch.cuda.is_available() and a.shape != 'tiny':  # the memory predictor against what was just measured
        from medtune.memory import predict_peak_gib
        for k, r in results.items():
            if 'error' in r: continue
            be = 'hf' if k.startswith('hf') or (k.startswith('medtune') and a.backend == 'hf') else 'unsloth'
            pf = be == 'unsloth' and (r.get('padding') or {}).get('used') is True  # the batches the trainer used (asked for, or Unsloth's choice)
            r['predicted_peak_gib'] = round(predict_peak_gib(a.shape, batch=a.batch, seq=a.seq, lora_r=a.lora_r, backend=be, padding_free=pf), 3)
            r['predictor_rel_error'] = round(r['predicted_peak_gib'] / r['peak_gib'] - 1, 4)
            print(f"{k:<8} predicted peak {r['predicted_peak_gib']:.3f} GiB ({be}), measured {r['peak_gib']:.3f}: {100*r['predictor_rel_error']:+.1f}%")
    rec = dict(benchmark='bench_train', when=datetime.now(timezone.utc).isoformat(timespec='seconds'), device=device_name(),
               versions=versions(), shape=a.shape, dims=shape_dims(a.shape), seq=a.seq, batch=a.batch, steps=a.steps, warmup=a.warmup,
               lora_r=a.lora_r, medtune_backend=a.backend, results=results, ratios=ratios,
               peak_memory='torch.cuda.max_memory_allocated over the whole worker process (CUDA); peak RSS of the worker (CPU)')
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    slug = ''.join(c if c.isalnum() else '-' for c in rec['device'].lower()).strip('-')[:40]
    f = out/f"train_{a.shape}_s{a.seq}_b{a.batch}_{slug}.json"
    f.write_text(json.dumps(rec, indent=2) + '\n')
    print(f'wrote {f}')
    return 0 if all(ok(k) for k in a.paths.split(',')) else 1

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shape', default='llama-1b'); ap.add_argument('--seq', type=int, default=2048); ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--steps', type=int, default=8); ap.add_argument('--warmup', type=int, default=3); ap.add_argument('--lora-r', type=int, default=16)
    ap.add_argument('--paths', default='hf,unsloth,medtune'); ap.add_argument('--out', default=str(Path(__file__).parent/'results'))
    ap.add_argument('--model-dir', default=None); ap.add_argument('--timeout', type=int, default=900)
    ap.add_argument('--backend', default='auto', choices=['auto', 'hf', 'unsloth'], help="medtune path's model.backend (auto: Unsloth on a CUDA GPU)")
    ap.add_argument('--worker', choices=sorted(WORKERS), help=argparse.SUPPRESS)
    a = ap.parse_args()
    sys.exit(worker(a) if a.worker else main(a))
