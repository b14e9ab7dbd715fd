"""The notebook panel in a real browser: JupyterLab served on localhost, Debian's headless Chromium driven by Playwright
(`executable_path`, no browser download). One session does the whole scenario: CPU demo preset, LoRA r changed and the plan
updated, Train, the live plot redrawn, Stop, Resume, the report tab; screenshots are saved and checked."""
import io, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path
import pytest
from conftest import ROOT, BIN

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')  # Debian's; a CI runner's Chrome
# Chromium as root needs --no-sandbox; the rest keep it from reaching out to a network it does not have
CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--no-first-run', '--disable-gpu', '--disable-dev-shm-usage']
# what the panel's cpu-demo preset shows, shrunk so the scenario takes a minute or two (the kernel inherits these)
TINY = {'MEDTUNE_TRAIN__MAX_STEPS': '6', 'MEDTUNE_TRAIN__MAX_LENGTH': '128', 'MEDTUNE_TRAIN__LOGGING_STEPS': '1',
        'MEDTUNE_DATA__MAX_ROWS': '16', 'MEDTUNE_EVAL__N': '2', 'MEDTUNE_EVAL__BENCHMARKS': '[pubmedqa]',
        'MEDTUNE_EVAL__FREETEXT_N': '0', 'MEDTUNE_EVAL__REFUSAL_PROBE': 'false', 'MEDTUNE_EVAL__GENERATIONS': '1',
        'MEDTUNE_EVAL__MAX_NEW_TOKENS': '8', 'MEDTUNE_OUTPUT__EXPORT': '[]', 'CUDA_VISIBLE_DEVICES': ''}

def need_chromium():
    "Skip without Debian's chromium, except in CI (.ci/run installs it): there its absence is a failure."
    if CHROMIUM: return
    if os.environ.get('CI'): pytest.fail('chromium is not installed: .ci/run installs it (apt-get install chromium chromium-driver)')
    pytest.skip('chromium is not installed (apt-get install chromium chromium-driver)')

@contextmanager
def chromium(tmp:Path, **kw):
    "A headless Chromium context (a fresh profile in `tmp`) driven by Playwright."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp/'profile'), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **kw)
        try: yield ctx
        finally: ctx.close()

def png_stats(png:bytes)->dict:
    "Size, number of distinct colours, and share of the most common colour of a PNG (a blank shot has one colour)."
    from PIL import Image
    im = Image.open(io.BytesIO(png)).convert('RGB')
    colours = im.getcolors(maxcolors=1 << 20)
    return dict(size=im.size, colours=len(colours), top=max(c for c, _ in colours) / (im.size[0] * im.size[1]), image=im)

def has_colour(im, rgb, tol=12, least=30)->bool:
    "Whether at least `least` pixels are within `tol` of `rgb` (e.g. matplotlib's line colours)."
    n = 0
    for c, px in im.getcolors(maxcolors=1 << 20):
        if all(abs(a - b) <= tol for a, b in zip(px, rgb)): n += c
    return n >= least

def _free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextmanager
def jupyterlab(root:Path, env:dict):
    "JupyterLab serving `root` on localhost with a token; yields its base URL (with the token) once it answers."
    port, token = _free_port(), 'medtune-browser-test'
    cfg = root/'.jupyter'; cfg.mkdir()
    env = {**os.environ, **env, 'JUPYTER_CONFIG_DIR': str(cfg), 'JUPYTERLAB_SETTINGS_DIR': str(cfg/'lab-settings'),
           'JUPYTERLAB_WORKSPACES_DIR': str(cfg/'lab-workspaces')}
    cmd = [str(BIN/'jupyter-lab'), '--no-browser', '--allow-root', f'--port={port}', '--ip=127.0.0.1', f'--ServerApp.root_dir={root}',
           f'--IdentityProvider.token={token}', '--ServerApp.disable_check_xsrf=True', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    log = open(root/'jupyterlab.log', 'w')
    p = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f'http://127.0.0.1:{port}'
        for _ in range(240):
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except OSError:
                assert p.poll() is None, (root/'jupyterlab.log').read_text()[-3000:]
                time.sleep(0.5)
        yield url, token
    finally:
        p.terminate()
        try: p.wait(20)
        except subprocess.TimeoutExpired: p.kill()
        log.close()

def _nb(cells:list)->str:
    return json.dumps(dict(cells=[dict(cell_type='code', id=f'c{i}', metadata={}, execution_count=None, outputs=[], source=s)
                                  for i, s in enumerate(cells)],
                           metadata={'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}},
                           nbformat=4, nbformat_minor=5))

def _wait_text(page, sel:str, pattern:str, timeout:float)->str:
    "The text of `sel` once it matches regex `pattern`; a failure with the last text seen after `timeout` seconds."
    t, text = time.monotonic(), ''
    while time.monotonic() - t < timeout:
        loc = page.locator(sel)
        text = loc.first.inner_text() if loc.count() else ''
        if re.search(pattern, text, re.S): return text
        time.sleep(0.25)
    raise AssertionError(f'{sel}: {pattern!r} not seen within {timeout:.0f} s; last text: {text!r}')

def test_panel_in_jupyterlab(tmp_path):
    need_chromium()
    t0 = time.perf_counter()
    shots = Path(os.environ.get('MEDTUNE_SCREENSHOTS') or tmp_path/'screenshots'); shots.mkdir(parents=True, exist_ok=True)
    (tmp_path/'panel.ipynb').write_text(_nb(["from medtune.app import app\npanel = app('t4-small', out='runs/browser', every=0.5)\npanel"]))
    with jupyterlab(tmp_path, TINY) as (url, token), chromium(tmp_path, viewport={'width': 1400, 'height': 1800}) as ctx:
        page = ctx.new_page()
        page.goto(f'{url}/lab/tree/panel.ipynb?token={token}', timeout=120_000)
        page.locator('.jp-Notebook .jp-Cell .jp-InputArea-editor').first.wait_for(timeout=120_000)
        page.get_by_text('Python 3 (ipykernel) | Idle').wait_for(timeout=120_000)  # the kernel is up
        page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
        page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()  # the panel appears
        page.locator('.medtune-app').wait_for(timeout=180_000)
        assert 'unsloth/Llama-3.2-1B-Instruct' in page.locator('.medtune-model input').input_value()
        # the CPU demo preset: every control follows it, and the plan is for this CPU
        page.locator('.medtune-preset select').select_option('cpu-demo')
        plan = _wait_text(page, '.medtune-plan', r'smollm2-135m: .*LoRA r=16.*CPU \(no CUDA GPU\): about', 60)
        assert page.locator('.medtune-model input').input_value() == 'embedded:smollm2-135m-instruct'
        # LoRA r: the plan updates
        r = page.locator('.medtune-lora_r input'); r.fill('8'); r.press('Enter')
        plan8 = _wait_text(page, '.medtune-plan', r'LoRA r=8', 30)
        assert plan8 != plan and 'smollm2-135m' in plan8
        page.locator('.medtune-plan').screenshot(path=str(shots/'plan.png'))
        # Train; wait for the live plot to be redrawn at least twice, then Stop
        page.locator('button.medtune-train').click()
        _wait_text(page, '.medtune-status', r'live plot drawn ([2-9]|\d\d+) times', 240)
        plot_png = page.locator('.medtune-plot').screenshot(path=str(shots/'plot.png'))
        page.locator('button.medtune-stop').click()
        stopped = _wait_text(page, '.medtune-status', r'stopped at step \d+ as asked', 120)
        step = int(re.search(r'stopped at step (\d+)', stopped).group(1))
        assert 1 <= step < 6 and 'Resume to continue from step' in stopped, stopped
        page.locator('.medtune-app').screenshot(path=str(shots/'stopped.png'))
        # Resume: the run continues from its checkpoint and ends with the report tab
        page.locator('button.medtune-resume').click()
        _wait_text(page, '.medtune-status', r'^done', 300)
        verdict = _wait_text(page, '.medtune-verdict', r'pubmedqa \(n=2\): base .* → tuned .*: (no significant difference|tuned better|tuned worse)', 60)
        page.locator('.medtune-report').locator('img').first.wait_for(timeout=30_000)
        report_png = page.locator('.medtune-results').screenshot(path=str(shots/'report.png'))
        page.screenshot(path=str(shots/'panel.png'), full_page=True)
    run = tmp_path/'runs'/'browser'
    steps = [json.loads(l)['step'] for l in (run/'metrics.jsonl').read_text().splitlines() if 'loss' in json.loads(l)]
    assert steps == [1, 2, 3, 4, 5, 6], steps  # Stop then Resume: one continuous log
    rep = json.loads((run/'report.json').read_text())
    assert rep['training']['global_step'] == 6 and rep['training']['resumed_from'].endswith(f'checkpoint-{step}')
    assert rep['benchmarks']['pubmedqa']['paired']['verdict'] in verdict
    # the screenshots are not blank: the plot shows its lines (matplotlib's blue loss and green tokens/s), the report its text
    p = png_stats(plot_png)
    assert p['size'][0] > 300 and p['colours'] > 50 and p['top'] < 0.97, p
    assert has_colour(p['image'], (31, 119, 180)) and has_colour(p['image'], (44, 160, 44)), 'no loss / tokens-per-s line in the plot'
    q = png_stats(report_png)
    assert q['colours'] > 20 and q['top'] < 0.99, q
    for f in ('plan.png', 'stopped.png', 'panel.png'): assert png_stats((shots/f).read_bytes())['colours'] > 20, f
    print(f'browser scenario: {time.perf_counter() - t0:.0f} s; screenshots in {shots}')
