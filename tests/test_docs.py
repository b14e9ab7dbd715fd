"""The documentation site, built offline (scripts/build_docs.py) and opened in headless Chromium: one HTML page per notebook
plus the home (README) and troubleshooting pages, every internal link and image resolving, an API entry for every name in
every module's `__all__`, and example cells showing their outputs."""
import ast, re, sys, time
from pathlib import Path
from urllib.parse import urlparse, unquote
from conftest import ROOT
from test_browser import chromium, need_chromium, png_stats

sys.path.insert(0, str(ROOT/'scripts'))
import build_docs

# CI executes these notebooks for their outputs (the whole set: `python scripts/build_docs.py`, about as long as nbdev-test);
# troubleshooting is always executed: its table of errors is an output
EXECUTE = r'^(index|02_env)\.ipynb$'

def _module(nb:Path)->str|None:
    m = re.search(r'#\|\s*default_exp\s+(\w+)', nb.read_text())
    return m and m.group(1)

def _page(nb:Path)->str: return 'index.html' if nb.stem == 'index' else re.sub(r'^\d+[a-z]?_', '', nb.stem) + '.html'

def _all(mod:str)->list:
    "The names in medtune/MOD.py's `__all__`, read from the source."
    tree = ast.parse((ROOT/'medtune'/f'{mod}.py').read_text())
    return next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == '__all__')

def test_docs_site(tmp_path):
    need_chromium()
    t0 = time.perf_counter()
    site = tmp_path/'site'
    pages = build_docs.main(out=str(tmp_path/'md'), readme=str(tmp_path/'README.md'), site=str(site), execute=EXECUTE)
    built = time.perf_counter() - t0
    nbs = sorted((ROOT/'nbs').glob('*.ipynb'))
    # one page per notebook (core.html for 00_core.ipynb, as nbdev names them), the home and troubleshooting among them
    want = {_page(nb) for nb in nbs}
    assert set(pages) == want and {'index.html', 'troubleshooting.html', 'app.html'} <= want, sorted(set(pages) ^ want)
    assert sorted(p.name for p in site.glob('*.html')) == sorted(want | {'search.html'})
    html = {f: (site/f).read_text() for f in want | {'search.html'}}
    ids = {f: set(re.findall(r'\bid="([^"]+)"', h)) for f, h in html.items()}
    # the home page is the README's content; the sidebar lists the pages in notebook order
    readme = (ROOT/'README.md').read_text()
    first = readme.split('\n\n')[2][:80]
    assert 'Two commands' in html['index.html'] and first.split('**')[0][:60] in html['index.html'].replace('\n', ' ')
    side = re.findall(r'<li><a href="([^"]+)"', html['core.html'].split('</nav>')[0])
    assert side[0] == 'index.html' and side.index('core.html') < side.index('config.html') < side.index('app.html') and side[-1] == 'search.html'
    # every exported name has an API entry on its module's page: sum over modules, counted against __all__
    entries = total = 0
    for nb in nbs:
        if not (mod := _module(nb)): continue
        page, names = _page(nb), _all(mod)
        missing = [n for n in names if n.lower() not in ids[page]]
        assert not missing, f'{page}: no API entry for {missing}'
        total += len(names); entries += sum(n.lower() in ids[page] for n in names)
    assert entries == total > 200, (entries, total)
    # internal links and anchors resolve (checked on the files); in the browser every page loads, images decode, outputs show
    bad = []
    for f, h in html.items():
        for href in re.findall(r'href="([^"]+)"', h):
            u = urlparse(href)
            if u.scheme in ('http', 'https', 'mailto', 'data') or href.startswith('//'): continue
            target = f if not u.path else unquote(u.path)
            if target not in html and not (site/target).is_file(): bad.append(f'{f}: {href} (no such page)')
            elif u.fragment and target in ids and unquote(u.fragment) not in ids[target]: bad.append(f'{f}: {href} (no such anchor)')
    assert not bad, bad[:20]
    with chromium(tmp_path, viewport={'width': 1280, 'height': 1000}) as ctx:
        page = ctx.new_page()
        for f in sorted(html):
            page.goto((site/f).as_uri())
            assert page.title().endswith('– medtune') and page.locator('main h1.title').count() == 1, f
            broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
            assert not broken, (f, broken)
            if f == 'index.html': shot = page.screenshot(path=str(tmp_path/'home.png'))
        # example cells show their outputs: the machine check on env.html, the table of every error on troubleshooting.html
        page.goto((site/'env.html').as_uri())
        out = page.locator('.output_area pre').all_inner_texts()
        assert any('backend' in t and 'precision' in t for t in out), out
        page.goto((site/'troubleshooting.html').as_uri())
        assert page.locator('table tr').count() > 150 and 'Out of memory on a T4' in page.inner_text('main')
        assert page.inner_text('main').count('ConfigError') > 50 and 'medtune.workflow' in page.inner_text('main')
        # the search box: a query from any page's sidebar lands on the index, filtered
        page.goto((site/'core.html').as_uri())
        page.fill('nav.sidebar input[name=q]', 'atomic_write_text'); page.press('nav.sidebar input[name=q]', 'Enter')
        page.wait_for_url(re.compile(r'search\.html\?q=atomic_write_text'))
        shown = page.locator('#results li:not(.hidden)')
        assert 1 <= shown.count() < 5 and shown.first.locator('a').get_attribute('href') == 'core.html#atomic_write_text'
    assert png_stats(shot)['colours'] > 20
    print(f'docs: {len(pages)} pages built in {built:.0f} s (executed: {EXECUTE} and troubleshooting); checked in Chromium')
