"The Colab notebook (machine check, the panel, the same in code) runs top to bottom in a real Jupyter kernel on a CPU (its Colab-only cells skipped), on settings shrunk by MEDTUNE_* overrides."
import json
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from conftest import TIMEOUT

NB = Path(__file__).parents[1]/'medtune_colab.ipynb'
SMALL = {'MEDTUNE_DATA__MAX_ROWS': '12', 'MEDTUNE_TRAIN__MAX_STEPS': '2', 'MEDTUNE_TRAIN__MAX_LENGTH': '160',
         'MEDTUNE_TRAIN__LOGGING_STEPS': '1', 'MEDTUNE_EVAL__BENCHMARKS': '[pubmedqa]', 'MEDTUNE_EVAL__N': '4',
         'MEDTUNE_EVAL__FREETEXT_N': '2', 'MEDTUNE_EVAL__REFUSAL_PROBE': 'false', 'MEDTUNE_EVAL__GENERATIONS': '1',
         'MEDTUNE_EVAL__MAX_NEW_TOKENS': '8'}

def _runnable(nb):
    "The notebook's code cells without the Colab-only ones, the run cell twice (running it again must not train again)."
    cells = []
    for c in nb.cells:
        if c.cell_type != 'code' or c.source.startswith('# colab only'): continue
        assert '%' not in c.source.split('\n')[0] and not c.source.lstrip().startswith('!'), c.source  # shell/magics only in Colab-only cells
        cells.append(c)
        if 'workflow.run(' in c.source: cells.append(nbformat.v4.new_code_cell(c.source))
    nb.cells = cells
    return nb

def test_colab_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    nb = nbformat.read(NB, as_version=4)
    assert nb.metadata['accelerator'] == 'GPU' and all(not c.get('outputs') for c in nb.cells if c.cell_type == 'code')
    for k, v in {**SMALL, 'CUDA_VISIBLE_DEVICES': ''}.items(): monkeypatch.setenv(k, v)  # the kernel inherits them
    nb = _runnable(nb)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    out = ''.join(o.get('text', '') for c in nb.cells for o in c.outputs if o.output_type == 'stream' and o.name == 'stdout')
    run = tmp_path/'runs'/'colab'
    assert 'No GPU: the CPU demo settings' in out and 'embedded:smollm2-135m-instruct' in out
    assert "exports: ['gguf']" in out and 'runs/colab is already done' in out
    r = json.loads((run/'report.json').read_text())
    assert list(r['benchmarks']) == ['pubmedqa'] and r['benchmarks']['pubmedqa']['n'] == 4 and r['training']['global_step'] == 2
    assert (run/'exports'/'gguf'/'model-q8_0.gguf').is_file() and 'model-q8_0.gguf' in out
    assert json.loads((run/'state.json').read_text())['status'] == 'done'
    asked = next(c for c in nb.cells if 'format_answers(ask(' in c.source)  # the tuned model answers a question, next to its base
    text = ''.join(o.get('text', '') for o in asked.outputs if o.get('name') == 'stdout')
    assert text.startswith('Q: What are the symptoms of iron-deficiency anemia?\n  base: ') and '\n  tuned: ' in text and 'Not medical advice' in text, text
    # the live plot: one image output in the first run cell, kept up to date through its display id
    first, again = [c for c in nb.cells if 'workflow.run(' in c.source]
    images = lambda c: [o for o in c.outputs if o.output_type == 'display_data' and 'image/png' in o.data]
    assert len(images(first)) == 1 and not images(again), [o.output_type for o in first.outputs]
    # the report cell shows report.md and the plots
    shown = next(c for c in nb.cells if 'show_report(' in c.source)
    assert any('text/markdown' in o.get('data', {}) for o in shown.outputs) and sum('image/png' in o.get('data', {}) for o in shown.outputs) >= 2
    # the panel: shown as a widget with its plan for this CPU machine, and nothing started by its defaults
    panel = next(c for c in nb.cells if 'app(' in c.source)
    assert any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in panel.outputs), panel.outputs
    state = nb.metadata['widgets']['application/vnd.jupyter.widget-state+json']['state']
    texts = [m['state'].get('value') for m in state.values() if isinstance(m['state'].get('value'), str)]
    assert any('CPU (no CUDA GPU): about' in t for t in texts) and any('ready: Train starts a run' in t for t in texts)
    assert not (tmp_path/'runs'/'panel').exists()
