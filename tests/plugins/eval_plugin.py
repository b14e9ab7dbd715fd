"""A user's own benchmark and scoring method, registered from outside the package with one call each.

Load it with `MEDTUNE_PLUGINS=tests/plugins/eval_plugin.py`; then
`medtune eval ... --benchmarks anatomy_quiz --method option-text` evaluates the one with the other.
"""
import math
from pathlib import Path
from medtune.benchmarks import BENCHMARKS, Benchmark
from medtune.evaluate import SCORERS, Scorer, loglikelihoods, render_prompt, summarize

QUIZ = Path(__file__).resolve().parents[1]/'fixtures'/'eval_plugin_mcq.jsonl'

def option_text(model, tok, items, batch_size=8, **kw):
    "The option whose text has the highest summed log-probability after the chat-template prompt (ties: the first)."
    reqs = [(tok(render_prompt(tok, it), add_special_tokens=False)['input_ids'],
             [tok(v, add_special_tokens=False)['input_ids'] for v in it['options'].values()]) for it in items]
    probs = []
    for ll in loglikelihoods(model, reqs, batch_size):
        m = max(ll); e = [math.exp(x - m) for x in ll]
        probs.append([x / sum(e) for x in e])
    return summarize(items, probs)

BENCHMARKS.register(Benchmark('anatomy_quiz', sample=str(QUIZ), style='medqa'))
SCORERS.register(Scorer('option-text', 'log-likelihood of each option text after the chat-template prompt',
                        option_text))
