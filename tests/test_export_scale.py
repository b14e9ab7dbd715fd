"""Exports through the `medtune` command of a model that is not the embedded one: a random-initialised Llama-shape
model created from a config and saved in bfloat16 (no download), with a LoRA adapter from a real one-step
`medtune train` run. The streamed merge equals the whole-model merge in memory within bfloat16 rounding, the GGUF
carries what llama.cpp reads, and the export's peak memory does not grow with the model (the 0.5B/1B measurement is
benchmarks/bench_export.py); `medtune plan` prints what the export needs."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from conftest import BIN, ROOT, TIMEOUT, medtune

CFG = """preset: cpu-demo
model: {{name: {base}}}
data: {{train: [sample:medquad], max_rows: 8, val_fraction: 0}}
train: {{max_steps: 1, save_steps: 1, logging_steps: 1, max_length: 64, batch_size: 1, grad_accum: 1, lr: 0.02,
        warmup_ratio: 0}}
eval: {{benchmarks: [pubmedqa], n: 2, batch_size: 2, generations: 0, max_new_tokens: 8, freetext: null, freetext_n: 0,
       refusal_probe: false}}
output: {{export: [gguf]}}
"""

def _base(dest, hidden=256, layers=4, heads=4, kv_heads=2, head_dim=48, intermediate=512, tied=False, seed=0):
    "A random-init Llama model saved in bfloat16 into `dest`, with the embedded SmolLM2 tokenizer."
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from medtune.model import embedded_model_dir
    tok = AutoTokenizer.from_pretrained(embedded_model_dir())
    cfg = LlamaConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                      num_key_value_heads=kv_heads, head_dim=head_dim, intermediate_size=intermediate,
                      vocab_size=len(tok), tie_word_embeddings=tied, max_position_embeddings=2048,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(dest); tok.save_pretrained(dest)
    return dest

@pytest.fixture(scope='module')
def small_run(tmp_path_factory):
    """(run, base): a one-step QLoRA `medtune train` on a small random Llama base (head_dim 48, not hidden/heads = 64;
    untied head), its config exporting a GGUF (output.export)."""
    d = tmp_path_factory.mktemp('scale')
    base = _base(d/'base')
    (d/'cfg.yaml').write_text(CFG.format(base=base))
    p = medtune('train', d/'cfg.yaml', '--out', d/'run')
    assert p.returncode == 0, p.stderr[-3000:]
    return d/'run', base

def _safetensors(folder):
    "{name: float32 tensor} of every safetensors file in `folder`."
    from safetensors.torch import load_file
    return {k: v.float() for f in sorted(Path(folder).glob('*.safetensors')) for k, v in load_file(str(f)).items()}

def test_streamed_merge_equals_in_memory_merge(small_run, tmp_path):
    """`medtune export --formats merged`: every tensor equals peft's merge of the whole model in memory (nf4-rounded),
    converted to bfloat16, up to one bfloat16 rounding step."""
    import torch
    from safetensors.torch import load_file
    from medtune.export import merged_model
    run, base = small_run
    b = load_file(str(run/'adapter'/'adapter_model.safetensors'))
    assert any(v.abs().max() > 0 for k, v in b.items() if 'lora_B' in k)  # the step moved it: a LoRA update to add
    p = medtune('export', run, '--formats', 'merged', '--out', tmp_path/'x')
    assert p.returncode == 0, p.stderr[-3000:]
    from tqdm import tqdm
    n = tqdm.format_sizeof(sum(v.numel() for v in _safetensors(base).values()))
    bar = p.stderr.replace('\r', '\n').splitlines()  # the progress bar's last state: every parameter merged
    assert any(l.startswith('export merged: 100%') and f'{n}/{n} [' in l for l in bar), (n, p.stderr[-2000:])
    got = _safetensors(tmp_path/'x'/'merged')
    ref, _, meta = merged_model(run)
    want = ref.state_dict()
    assert meta['merge']['base_weights'] == 'nf4-rounded' and set(got) == set(want)
    base_w = _safetensors(base)
    bf = lambda t: t.to(torch.bfloat16).float()
    for n, w in want.items():
        ulp = torch.finfo(torch.bfloat16).eps * bf(w).abs().clamp_min(torch.finfo(torch.bfloat16).tiny)
        assert ((got[n] - bf(w)).abs() <= ulp).all(), n
    changed = [n for n in want if n.endswith('proj.weight') and not torch.equal(got[n], base_w[n])]
    assert len(changed) == 4*7  # every projection rounded and updated
    cfg = json.loads((tmp_path/'x'/'merged'/'config.json').read_text())
    assert cfg['dtype'] == 'bfloat16' and cfg['head_dim'] == 48 and 'quantization_config' not in cfg

def _count(r):
    "(total, shared, expert, expert count) parameters of a GGUF, as gguf-py's writer counts them for the size label."
    n = sum(int(x.n_elements) for x in r.tensors)
    return n, n, 0, 0

def test_gguf_llamacpp_metadata(small_run):
    "The GGUF that output.export wrote during `medtune train`: what llama.cpp reads, checked with gguf's reader."
    import gguf
    run, base = small_run
    r = gguf.GGUFReader(run/'exports'/'gguf'/'model-q8_0.gguf')
    v = lambda k: r.fields[k].contents()
    assert (v('general.architecture'), v('general.type'), v('general.file_type'), v('general.quantization_version')) \
        == ('llama', 'model', gguf.LlamaFileType.MOSTLY_Q8_0, gguf.GGML_QUANT_VERSION)
    keys = ('embedding_length', 'block_count', 'feed_forward_length', 'attention.head_count', 'attention.head_count_kv',
            'attention.key_length', 'attention.value_length', 'rope.dimension_count', 'context_length', 'vocab_size')
    assert [v(f'llama.{k}') for k in keys] == [256, 4, 512, 4, 2, 48, 48, 48, 2048, 49152]
    assert v('general.name') == f'{base} medtune' and v('general.base_model.count') == 1
    assert v('general.base_model.0.name') == 'Base' and 'medtune' in v('general.tags')
    assert v('general.size_label') == gguf.size_label(*_count(r))
    assert v('tokenizer.ggml.pre') == 'smollm' and v('tokenizer.ggml.eos_token_id') == 2
    assert 'im_start' in v('tokenizer.chat_template')
    t = {x.name: x for x in r.tensors}
    assert len(t) == 3 + 4*9 and t['output.weight'].shape.tolist() == [256, 49152]  # the untied head written
    assert [t[f'blk.0.attn_{x}.weight'].shape.tolist() for x in 'qk'] == [[256, 192], [256, 96]]
    assert t['blk.0.attn_q.weight'].tensor_type == gguf.GGMLQuantizationType.Q8_0
    assert t['blk.3.ffn_norm.weight'].tensor_type == gguf.GGMLQuantizationType.F32

# Linux keeps a process's RSS high-water mark across exec, so a child of this (big) test process would start with the
# test's mark: a small fresh Python process starts the export and reports its own peak (ru_maxrss from os.wait4).
WAIT4 = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); "
         "_, s, ru = os.wait4(p.pid, 0); print(ru.ru_maxrss*1024, os.waitstatus_to_exitcode(s))")

def _peak_export(run, out):
    "Peak RSS (bytes) of `medtune export RUN --formats merged,gguf` in its own process."
    cmd = [str(BIN/'medtune'), 'export', str(run), '--formats', 'merged,gguf', '--out', str(out)]
    p = subprocess.run([sys.executable, '-c', WAIT4, *cmd], capture_output=True, text=True, timeout=TIMEOUT)
    rss, rc = map(int, p.stdout.split())
    assert rc == 0, p.stderr[-3000:]
    return rss

def test_export_memory_does_not_grow_with_the_model(tmp_path):
    """Two bases that differ only in depth (2 and 32 layers: 0.03 B and 0.1 B parameters): the export's peak RSS stays
    within 15% while the model grows three times; the adapters are made with peft directly (no training needed)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    from medtune.config import make_config
    from medtune.model import load_tokenizer
    from medtune.persist import save_adapter
    peaks, params = {}, {}
    for layers in (2, 32):
        base = _base(tmp_path/f'b{layers}', hidden=512, layers=layers, heads=8, kv_heads=2, head_dim=64,
                     intermediate=1024, tied=True)
        m = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        params[layers] = sum(p.numel() for p in m.parameters())
        targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']
        pm = get_peft_model(m, LoraConfig(r=16, lora_alpha=32, target_modules=targets))
        cfg = make_config('cpu-demo', {'model': {'name': str(base)}}, environ={})
        meta = dict(base_model=str(base), config=cfg.model_dump(mode='json'), data_sources=[], data_fingerprint='0'*64,
                    training=dict(global_step=0))
        save_adapter(pm, load_tokenizer(str(base)), tmp_path/f'r{layers}'/'adapter', meta)
        del m, pm
        peaks[layers] = _peak_export(tmp_path/f'r{layers}', tmp_path/f'x{layers}')
    grow, model_grow = peaks[32]/peaks[2], params[32]/params[2]
    print(f'params {params}, peak RSS {peaks}: x{grow:.2f} for a model x{model_grow:.1f}')
    assert model_grow > 3 and grow < 1.15

def test_plan_prints_export_needs_and_uncalibrated_family(tmp_path):
    "`medtune plan` on a shipped Gemma 2 config: the widened peak of an uncalibrated family, the export's RAM and disk."
    from medtune.memory import export_need, format_export_need, model_shape
    g2 = ROOT/'tests'/'fixtures'/'configs'/'gemma-2-2b-it'
    (tmp_path/'a.yaml').write_text(f'preset: t4-small\nmodel: {{name: {g2}}}\n')
    (tmp_path/'b.yaml').write_text(f'preset: t4-small\nmodel: {{name: {g2}}}\n'
                                   'output: {export: [gguf], gguf_type: f16}\n')
    p = medtune('plan', tmp_path/'a.yaml', '--free-gib', '14.5', timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    print(p.stdout)
    assert 'caution  gemma2 models were never measured' in p.stdout and 'sliding window 4096' in p.stdout
    need = format_export_need(export_need(model_shape(g2)))
    assert need + ' (for `medtune export`; output.export is empty)' in p.stdout
    assert 'merged bfloat16 4.87 GiB + gguf q8_0 2.59 GiB = 7.46 GiB of disk' in p.stdout
    p = medtune('plan', tmp_path/'b.yaml', '--free-gib', '14.5', timeout=300)
    line = next(l for l in p.stdout.splitlines() if l.startswith('export'))
    assert line.startswith('export   gguf f16 4.87 GiB = 4.87 GiB of disk;') and 'merged bfloat16' not in line, line
