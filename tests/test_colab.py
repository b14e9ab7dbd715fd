"The Colab notebook runs top to bottom on a CPU (its Colab-only cells skipped), on settings shrunk by MEDTUNE_* overrides."
import json, subprocess, sys
from pathlib import Path
from conftest import BIN

NB = Path(__file__).parents[1]/'medtune_colab.ipynb'
SMALL = {'MEDTUNE_DATA__MAX_ROWS': '12', 'MEDTUNE_TRAIN__MAX_STEPS': '2', 'MEDTUNE_TRAIN__MAX_LENGTH': '160',
         'MEDTUNE_TRAIN__LOGGING_STEPS': '1', 'MEDTUNE_EVAL__BENCHMARKS': '[pubmedqa]', 'MEDTUNE_EVAL__N': '4',
         'MEDTUNE_EVAL__FREETEXT_N': '2', 'MEDTUNE_EVAL__REFUSAL_PROBE': 'false', 'MEDTUNE_EVAL__GENERATIONS': '1',
         'MEDTUNE_EVAL__MAX_NEW_TOKENS': '8'}

def _script(cells:list)->str:
    "The notebook's code cells as one script: Colab-only cells dropped, each cell echoed, the run cell run twice."
    out = []
    for c in cells:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or src.startswith('# colab only'): continue
        assert '%' not in src.split('\n')[0] and not src.lstrip().startswith('!'), src  # shell/magics only in Colab-only cells
        out.append(f"print('### cell {c['id']}', flush=True)\n{src}")
        if 'workflow.run(' in src: out.append(src)  # running the cell again must not train again
    return '\n'.join(out)

def test_colab_notebook_runs_on_cpu(tmp_path):
    import os
    nb = json.loads(NB.read_text())
    assert nb['metadata']['accelerator'] == 'GPU' and all(not c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')
    (tmp_path/'nb.py').write_text(_script(nb['cells']))
    env = {**os.environ, **SMALL, 'CUDA_VISIBLE_DEVICES': ''}
    p = subprocess.run([str(BIN/'python'), 'nb.py'], cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-3000:])
    run = tmp_path/'runs'/'colab'
    assert 'No GPU: the CPU demo settings' in p.stdout and 'embedded:smollm2-135m-instruct' in p.stdout
    assert "exports: ['gguf']" in p.stdout and 'runs/colab is already done' in p.stdout
    r = json.loads((run/'report.json').read_text())
    assert list(r['benchmarks']) == ['pubmedqa'] and r['benchmarks']['pubmedqa']['n'] == 4 and r['training']['global_step'] == 2
    assert (run/'exports'/'gguf'/'model-q8_0.gguf').is_file() and 'model-q8_0.gguf' in p.stdout
    assert json.loads((run/'state.json').read_text())['status'] == 'done'
