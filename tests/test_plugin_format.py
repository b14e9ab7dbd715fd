"A data format of the user's own: one registration in a plugin file (MEDTUNE_PLUGINS); `medtune data check` reads it."
import json
from conftest import ROOT, medtune

PLUGIN = ROOT/'tests'/'plugins'/'format_plugin.py'
PAIRS = [('What is gout?', 'A form of arthritis.'), ('What is asthma?', 'A lung disease.'),
         ('What is anemia?', 'Too few red blood cells.')]

def _check(path, plugin:bool):
    return medtune('data', 'check', path, '--no-tokens', env={'MEDTUNE_PLUGINS': str(PLUGIN) if plugin else ''},
                   timeout=300)

def test_plugin_format_is_read(tmp_path):
    f = tmp_path/'pairs.jsonl'; f.write_text(''.join(json.dumps({'q': q, 'a': a}) + '\n' for q, a in PAIRS))
    c = tmp_path/'pairs.csv'; c.write_text('q,a\n' + ''.join(f'{q},{a}\n' for q, a in PAIRS))
    p = _check(f, plugin=True)
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    assert '3 records read, 3 kept, 0 with errors' in p.stdout, p.stdout
    assert 'formats: qa_pair 3; tasks: qa 3' in p.stdout, p.stdout
    p = _check(c, plugin=True)  # the CSV header check knows the format too
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-2000:])
    assert '3 records read, 3 kept, 0 with errors' in p.stdout, p.stdout

def test_without_the_plugin(tmp_path):
    f = tmp_path/'pairs.jsonl'; f.write_text(''.join(json.dumps({'q': q, 'a': a}) + '\n' for q, a in PAIRS))
    c = tmp_path/'pairs.csv'; c.write_text('q,a\n' + ''.join(f'{q},{a}\n' for q, a in PAIRS))
    p = _check(f, plugin=False)  # every record is an error, listed with its line: exit 1
    assert p.returncode == 1, (p.stdout[-2000:], p.stderr[-2000:])
    assert '3 records read, 0 kept, 3 with errors' in p.stdout, p.stdout
    assert f"{f}:1: unknown record format (fields ['a', 'q']): expected one of: " in p.stdout, p.stdout
    p = _check(c, plugin=False)  # a CSV header that fits no format: one error for the file, exit 2
    assert p.returncode == 2, (p.stdout[-2000:], p.stderr[-2000:])
    assert f"medtune: error: {c}:1: the CSV columns ['q', 'a'] fit no known record format" in p.stderr, p.stderr
    assert 'Traceback' not in p.stderr
