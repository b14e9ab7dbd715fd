"The project's own promises: notebooks and library in sync, README built from index.ipynb, CI runs the README's test command, samples intact."
import hashlib, json, re, shutil, subprocess, sys
from pathlib import Path
from conftest import ROOT, BIN

def test_library_in_sync_with_notebooks(tmp_path):
    for f in ('nbs', 'medtune', 'pyproject.toml'):
        (shutil.copytree if (ROOT/f).is_dir() else shutil.copy)(ROOT/f, tmp_path/f)
    subprocess.run([str(BIN/'nbdev-export')], cwd=tmp_path, check=True, capture_output=True)
    for f in sorted((ROOT/'medtune').glob('*.py')):
        assert (tmp_path/'medtune'/f.name).read_text() == f.read_text(), f'{f.name} differs from what nbdev-export writes: edit the notebook, then export'
    assert sorted(p.name for p in (tmp_path/'medtune').glob('*.py')) == sorted(p.name for p in (ROOT/'medtune').glob('*.py'))

def test_readme_built_from_index(tmp_path):
    sys.path.insert(0, str(ROOT/'scripts'))
    import build_docs
    side = (ROOT/'nbs'/'sidebar.yml').read_text()
    build_docs.main(out=str(tmp_path/'docs'), readme=str(tmp_path/'README.md'), only=r'^(index|00_core)\.ipynb$')  # the whole site: 76 s more, same code
    assert (ROOT/'nbs'/'sidebar.yml').read_text() == side  # a partial build leaves the site's sidebar alone
    assert all(f'- {nb.name}' in side for nb in (ROOT/'nbs').glob('*.ipynb')) and 'styles.css' not in side  # every page, no config files
    assert (tmp_path/'README.md').read_text() == (ROOT/'README.md').read_text(), 'README.md is stale: run python scripts/build_docs.py'
    assert sorted(p.name for p in (tmp_path/'docs').iterdir()) == ['00_core.md', 'index.md']
    core = (tmp_path/'docs'/'00_core.md').read_text()
    assert core.startswith('# Core\n') and '## Atomic writes' in core and 'def atomic_write_text' in core

def test_ci_runs_the_readme_test_command():
    readme = (ROOT/'README.md').read_text()
    blocks = re.findall(r'```(?:sh)?\n(.*?)\n```', readme, re.S)
    test_cmd = next(b for b in blocks if 'pytest' in b)
    assert test_cmd.strip() in (ROOT/'.ci'/'run').read_text().splitlines()
    assert any('medtune demo' in b and 'scripts/setup.sh' in b for b in blocks)

def test_samples_match_manifest():
    d = ROOT/'medtune'/'samples'
    man = json.loads((d/'manifest.json').read_text())
    for name, info in man['files'].items():
        data = (d/name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info['sha256'] and data.count(b'\n') == info['rows'], name
    assert 'CC BY 4.0' in (d/'ATTRIBUTION.md').read_text()

def test_samples_reproducible_from_shared(tmp_path):
    shared = ROOT.parent/'shared'/'data'
    if not shared.is_dir():
        import pytest; pytest.skip('../shared/data is not beside the repository')
    subprocess.run([sys.executable, str(ROOT/'scripts'/'make_samples.py'), '--shared', str(shared), '--out', str(tmp_path)], check=True, capture_output=True)
    for f in (ROOT/'medtune'/'samples').iterdir():
        assert (tmp_path/f.name).read_bytes() == f.read_bytes(), f.name
