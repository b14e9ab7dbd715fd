"""Progress bars through the `medtune` command: `medtune data check` shows a bar per source that counts every row.
The data checks show their bars only after a second (fast checks print nothing); the test opens that delay."""
import re, subprocess, sys
from conftest import ROOT, TIMEOUT

NO_DELAY = '''
import sys
import medtune.core as C
_progress = C.progress
C.progress = lambda *a, **kw: _progress(*a, **{**kw, 'delay': 0})  # before the modules that use it are imported
from medtune.cli import main
sys.exit(main(sys.argv[1:]))
'''

def test_data_check_shows_a_bar_per_source():
    rows = sum(1 for _ in open(ROOT/'medtune'/'samples'/'medquad_train.jsonl'))
    args = ['data', 'check', 'sample:medquad', 'sample:pubmedqa', '--no-tokens']
    p = subprocess.run([sys.executable, '-c', NO_DELAY, *args], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr[-3000:]
    assert re.search(rf'checking sample:medquad: {rows}row ', p.stderr), p.stderr[-2000:]
    assert re.search(r'checking sample:pubmedqa: \d+row ', p.stderr), p.stderr[-2000:]
