"The project's own promises: notebooks and library in sync, README built from index.ipynb, CI runs the README's test command, samples intact."
import ast, hashlib, json, re, shutil, subprocess, sys
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

def test_lines_a_reader_can_take_in():
    "At most 2% of the exported modules' lines are longer than 120 characters; the offenders are listed."
    total, over = 0, []
    for f in sorted((ROOT/'medtune').glob('*.py')):
        if f.name == '_modidx.py': continue  # nbdev's generated index
        lines = f.read_text().splitlines()
        total += sum(1 for l in lines if l.strip())
        over += [f'{f.name}:{i} ({len(l)})' for i, l in enumerate(lines, 1) if len(l) > 120]
    assert len(over) <= 0.02 * total, f'{len(over)} of {total} lines over 120 characters:\n' + '\n'.join(over)

def _notebook_order()->dict:
    "Module name -> position of the notebook that exports it (notebooks sort by their numbered names)."
    order = {}
    for i, nb in enumerate(sorted((ROOT/'nbs').glob('*.ipynb'))):
        m = re.search(r'#\|\s*default_exp\s+(\w+)', nb.read_text())
        if m: order[m.group(1)] = i
    return order

def _medtune_imports(tree)->list:
    "(line, module) of every medtune module a parsed file imports: `from .x`, `from medtune.x`, `import medtune.x`."
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import): names = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.level == 0: names = [n.module or '']
        elif isinstance(n, ast.ImportFrom) and n.module: names = [f'medtune.{n.module}']
        elif isinstance(n, ast.ImportFrom): names = [f'medtune.{a.name}' for a in n.names]  # from . import x
        else: continue
        found += [(n.lineno, x.split('.')[1]) for x in names if x.startswith('medtune.')]
    return found

def test_no_import_runs_up_the_notebook_order():
    "A module imports only modules of earlier notebooks, at the top or inside a function."
    order, up = _notebook_order(), []
    for mod, i in order.items():
        for line, dep in _medtune_imports(ast.parse((ROOT/'medtune'/f'{mod}.py').read_text())):
            if dep in order and order[dep] >= i: up.append(f'{mod} (line {line}) imports {dep}')
    assert not up, 'imports up the notebook order:\n' + '\n'.join(up)
