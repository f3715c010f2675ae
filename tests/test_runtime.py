"""common.runtime: the malloc settings every entry point applies."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A thread allocates and frees 256 MiB, touching every page; the process's resident memory is read before and after
# the free. Kept for reuse, it stays resident; handed back to the OS, it drops.
FREED_IN_A_THREAD = """
import sys, threading
import numpy as np
from common.runtime import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
out = {}
def work():
    block = np.ones(256 << 20, dtype=np.uint8)
    out["held"] = rss()
    del block
    out["freed"] = rss()
thread = threading.Thread(target=work)
thread.start()
thread.join()
print((out["held"] - out["freed"]) >> 20)
"""


def dropped_mib(setting: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", FREED_IN_A_THREAD, setting], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_memory_a_thread_frees_is_kept_for_reuse_not_handed_back():
    assert dropped_mib("default") >= 200  # glibc maps it afresh in the thread's arena and unmaps it when freed
    assert dropped_mib("retain") < 16
