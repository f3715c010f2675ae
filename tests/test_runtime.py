"""common.runtime: the malloc settings every entry point applies."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A thread allocates and frees 256 MiB, touching every page; the process's resident memory is read before and after
# the free. Kept for reuse, it stays resident; handed back to the OS, it drops. In a thread's own arena a block
# larger than its 64 MiB heaps is mapped on its own and unmapped when freed, whatever the thresholds.
FREED_IN_A_THREAD = """
import os, sys, threading
import numpy as np
from common.runtime import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
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


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_memory_a_thread_frees_is_kept_for_reuse_not_handed_back():
    assert dropped_mib("default") >= 200  # beyond glibc's default mmap threshold: mapped alone, unmapped when freed
    assert dropped_mib("retain") < 16
