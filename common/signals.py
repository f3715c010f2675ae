"""Signals, handled the same way by every entry point: raised where the program is, held, or deferred.

- ``raising(signums)``: within the block each signal raises an exception where the main thread is
  (SIGTERM as ``Interrupted``, a KeyboardInterrupt, so it stops a run as Ctrl-C does), and again at
  each safe point (the ``check`` it yields) if something swallowed it.
- ``DeferredSignals``: signals are only noted, and raised as ``Interrupted`` at the next safe point
  (``check()``), never in the middle of, say, a database write.
- ``held(signums)``: within the block (a write that must not be cut short) signals are noted; after it
  each is delivered again, to the handlers in place outside the block.

A process stopped by signal N reports the shell's exit code 128 + N (``exit_code``): 130 for Ctrl-C,
143 for SIGTERM.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A signal handled as Ctrl-C is; ``exit_code`` is 128 + the signal's number."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def exit_code(interrupt: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM: what a shell reports for a process stopped by that signal."""
    return getattr(interrupt, "exit_code", 128 + signal.SIGINT)


@contextmanager
def raising(
    signums=(signal.SIGTERM,), error: Callable[[int], BaseException] = Interrupted
) -> Iterator[Callable[[], None]]:
    """Within the block, each of ``signums`` raises ``error(signum)`` in the main thread (default: SIGTERM
    raises Interrupted, so it stops the program as Ctrl-C does). Yields ``check``, a safe point that raises
    the first one again, at every later check, once one was raised: an exception raised inside a library
    (an import, say) can be swallowed there."""
    raised: list[int] = []

    def raise_error(signum, frame):
        raised.append(signum)
        raise error(signum)

    def check() -> None:
        if raised:
            raise error(raised[0])

    previous = {signum: signal.signal(signum, raise_error) for signum in signums}
    try:
        yield check
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class DeferredSignals:
    """Signals noted while ``active`` and raised as Interrupted at the next ``check()``, a safe point."""

    def __init__(self, signums=STOP_SIGNALS):
        self.signums = tuple(signums)
        self.pending: list[int] = []
        self.previous: dict = {}

    def note(self, signum, frame=None) -> None:
        """Note ``signum`` as its handler does (a handler of one's own may call it, then act on the signal)."""
        self.pending.append(signum)

    def start(self) -> DeferredSignals:
        """Note the signals from now on instead of acting on them."""
        self.previous = {signum: signal.signal(signum, self.note) for signum in self.signums}
        return self

    def check(self, *_) -> None:
        """A safe point: raise Interrupted for the first signal noted (takes and ignores hook arguments)."""
        if self.pending:
            raise Interrupted(self.pending[0])

    def stop(self) -> list[int]:
        """Give the signals back to the handlers they had before ``start``; -> the signals noted meanwhile."""
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        noted, self.pending, self.previous = self.pending, [], {}
        return noted

    def __enter__(self) -> DeferredSignals:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def held(signums=STOP_SIGNALS) -> Iterator[None]:
    """Within the block, ``signums`` are noted, not acted on; after it, each noted one is raised again
    (once), for the handlers in place outside the block: nothing cuts the block short, nothing is lost."""
    deferred = DeferredSignals(signums).start()
    try:
        yield
    finally:
        noted = deferred.stop()
        for signum in dict.fromkeys(noted):
            signal.raise_signal(signum)
