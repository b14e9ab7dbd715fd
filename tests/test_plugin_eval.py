"A benchmark and a scoring method of the user's own, registered by a plugin file (MEDTUNE_PLUGINS), in `medtune eval`."
import json
from conftest import ROOT, medtune

PLUGIN = ROOT/'tests'/'plugins'/'eval_plugin.py'
CHEAP = {'MEDTUNE_EVAL__FREETEXT_N': '0', 'MEDTUNE_EVAL__REFUSAL_PROBE': 'false', 'MEDTUNE_EVAL__GENERATIONS': '0'}

def test_plugin_benchmark_and_scorer(tmp_path):
    "The plugin's benchmark and scorer are known to the command line and scored with the real model."
    out = tmp_path/'ev'
    p = medtune('eval', '--model', 'embedded:smollm2-135m-instruct', '--benchmarks', 'anatomy_quiz', '--n', '4',
                '--method', 'option-text', '--out', out, env={**CHEAP, 'MEDTUNE_PLUGINS': str(PLUGIN)})
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads((out/'report.json').read_text())
    assert r['eval']['method'] == 'option-text' and r['method'].startswith('log-likelihood of each option text')
    b = r['benchmarks']['anatomy_quiz']
    assert list(r['benchmarks']) == ['anatomy_quiz'] and b['n'] == 4 and b['method'] == 'option-text'
    assert 0 <= b['base']['accuracy'] <= 1 and b['base']['correct'] == round(4 * b['base']['accuracy'])
    assert 'ece' in b['base'] and 'tuned' not in b
    rows = [json.loads(l) for l in (out/'eval_items.jsonl').read_text().splitlines()]
    assert len(rows) == 4 and {x['id'] for x in rows} <= {f'quiz-{i}' for i in range(6)}
    assert all(x['base'] in 'ABCD' for x in rows)
    md = (out/'report.md').read_text()
    assert 'anatomy_quiz' in md and 'log-likelihood of each option text' in md

def test_without_the_plugin(tmp_path):
    "Without the plugin, its names are unknown: exit 2 with one clear message, before any weights load."
    p = medtune('eval', '--model', 'embedded:smollm2-135m-instruct', '--benchmarks', 'anatomy_quiz', '--n', '4',
                '--out', tmp_path/'ev', env={**CHEAP, 'MEDTUNE_PLUGINS': ''})
    assert p.returncode == 2, p.stderr[-2000:]
    assert "eval.benchmarks: unknown benchmark 'anatomy_quiz'; use one of medqa, pubmedqa" in p.stderr, p.stderr
    assert 'register your own in medtune.benchmarks.BENCHMARKS (MEDTUNE_PLUGINS' in p.stderr
    assert 'Traceback' not in p.stderr and not (tmp_path/'ev').exists()
    p = medtune('eval', '--model', 'embedded:smollm2-135m-instruct', '--method', 'option-text',
                env={'MEDTUNE_PLUGINS': ''})
    assert p.returncode == 2 and "argument --method: invalid choice: 'option-text'" in p.stderr, p.stderr
