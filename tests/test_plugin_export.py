"""A user's own exporter, registered by a plugin file (MEDTUNE_PLUGINS, tests/plugins/export_plugin.py), goes through
`medtune export` like the built-in ones: its folder has the model card with its usage, medtune.json and a manifest, and
`medtune export --help` and `medtune push --kind` offer it; without the plugin its name is a clear error (exit 2)."""
import json
import pytest
from conftest import ROOT, medtune

PLUGIN = ROOT/'tests'/'plugins'/'export_plugin.py'

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A run folder with a saved LoRA adapter of the embedded model (B perturbed, as if trained; no training: seconds)."
    import torch
    from medtune.config import EMBEDDED_MODEL, make_config
    from medtune.model import resolve_model, load_model, add_lora
    from medtune.persist import save_adapter
    cfg = make_config('cpu-demo', environ={})
    m, tok = load_model(resolve_model(EMBEDDED_MODEL), cfg.model.model_copy(update={'load_in_4bit': False}))
    pm = add_lora(m, cfg.lora)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if 'lora_B' in n: p.normal_(0, 0.02)
    meta = dict(medtune_format=1, base_model=EMBEDDED_MODEL, config=cfg.model_dump(mode='json'),
                data_sources=cfg.data.train, data_fingerprint='0'*64, training=dict(global_step=1, train_loss=2.0))
    d = tmp_path_factory.mktemp('plugin')/'run'
    save_adapter(pm, tok, d/'adapter', meta)
    return d

@pytest.fixture
def plugin():
    "The plugin loaded in this process (as `medtune` loads it), unregistered afterwards."
    from medtune.core import load_plugins
    from medtune.export import EXPORTERS
    load_plugins(str(PLUGIN))
    yield EXPORTERS['lora-npz']
    EXPORTERS.unregister('lora-npz')

def test_plugin_exporter_through_the_cli(run):
    "`medtune export RUN --formats lora-npz` with the plugin: the .npz holds the adapter's tensors, published whole."
    import numpy as np
    from safetensors.torch import load_file
    from medtune.persist import verify_manifest
    p = medtune('export', run, '--formats', 'lora-npz', env=dict(MEDTUNE_PLUGINS=str(PLUGIN)))
    out = run/'exports'/'lora-npz'
    assert p.returncode == 0 and f'medtune: lora-npz: {out}' in p.stdout, p.stderr[-3000:]
    verify_manifest(out)
    assert sorted(f.name for f in out.iterdir()) == ['README.md', 'lora.npz', 'manifest.json', 'medtune.json']
    w, z = load_file(str(run/'adapter'/'adapter_model.safetensors')), np.load(out/'lora.npz')
    assert sorted(z.files) == sorted(w) and all(np.array_equal(z[k], w[k].float().numpy()) for k in w)
    card = (out/'README.md').read_text()
    assert f"np.load('{out}/lora.npz')" in card and 'Files: `lora.npz`' in card and 'Not a medical device' in card
    meta = json.loads((out/'medtune.json').read_text())
    assert meta['export'] == {'format': 'lora-npz'} and meta['base_model'] == 'embedded:smollm2-135m-instruct'
    assert not (run/'exports'/'merged').exists() and not (run/'exports'/'gguf').exists()  # only what was asked

def test_plugin_exporter_in_help_and_push(run, plugin, tmp_path):
    "With the plugin, `medtune export --help` describes it, `--kind` takes it, and its export stages for the hub."
    from medtune.cli import _parser
    from medtune.hub import push_kinds, push_source, stage_push
    from medtune.persist import verify_manifest
    sub = next(a for a in _parser()._actions if a.dest == 'cmd').choices
    fmt = next(a for a in sub['export']._actions if a.dest == 'formats')
    assert "lora-npz = the adapter's LoRA matrices" in fmt.help and fmt.default == 'merged,gguf,lora-npz', fmt.help
    assert next(a for a in sub['push']._actions if a.dest == 'kind').choices == push_kinds() == [
        'adapter', 'merged', 'gguf', 'lora-npz']
    if not (run/'exports'/'lora-npz').is_dir(): pytest.skip('needs the export of the test above')
    st = stage_push(push_source(run, 'lora-npz'), 'lora-npz', 'someone/x', tmp_path)
    verify_manifest(st)  # the card names only the file, which keeps its name: it goes up as it is
    assert (st/'README.md').read_text() == (run/'exports'/'lora-npz'/'README.md').read_text()

def test_without_the_plugin_the_name_is_refused(run, tmp_path):
    "Without MEDTUNE_PLUGINS, `--formats lora-npz` and `output.export: [lora-npz]` fail at once, naming the table."
    p = medtune('export', run, '--formats', 'lora-npz', '--out', tmp_path/'x', env=dict(MEDTUNE_PLUGINS=''))
    assert p.returncode == 2 and not (tmp_path/'x').exists(), p.stderr[-2000:]
    assert ("--formats: 'lora-npz' is not a known exporter; use one of merged, gguf, or register your own in "
            "medtune.export.EXPORTERS (MEDTUNE_PLUGINS on the command line)") in p.stderr, p.stderr[-2000:]
    from medtune.config import make_config
    from medtune.workflow import prepare
    cfg = make_config('cpu-demo', overrides={'output': {'export': ['lora-npz']}}, environ={})
    with pytest.raises(Exception, match="output.export: 'lora-npz' is not a known exporter"): prepare(cfg)
