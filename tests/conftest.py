"Shared fixtures: offline environment, the `medtune` command, and one real demo run reused by several tests."
import os, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
os.environ.update(HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false', HF_HUB_DISABLE_TELEMETRY='1')
if os.environ.get('PYTEST_XDIST_WORKER'):  # two test processes side by side (pyproject's addopts): one compute thread
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # each, for them and the `medtune` processes they start
# Timeouts catch hangs, not slowness: generous enough for a CPU several times slower than the developers' (2 cores:
# the demo takes ~4 min there, 15 min on a slow one). MEDTUNE_TEST_TIMEOUT changes it.
TIMEOUT = int(os.environ.get('MEDTUNE_TEST_TIMEOUT', 3600))

def medtune(*args, env=None, timeout=TIMEOUT, **kw):
    "Run the installed `medtune` command; returns the CompletedProcess (text output)."
    return subprocess.run([str(BIN/'medtune'), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, **kw)

@pytest.fixture(scope='session')
def demo_run(tmp_path_factory):
    "`medtune demo` on the real embedded model, once per session: (run dir, process, seconds)."
    out = tmp_path_factory.mktemp('demo')/'run'
    t = time.perf_counter()
    p = medtune('demo', '--out', out)
    return out, p, time.perf_counter() - t
