"""common.signals: a signal raised where the program is, deferred to a safe point, or held over a critical section."""

import os
import signal

import pytest

from common.signals import DeferredSignals, Interrupted, exit_code, held, raising


def send(signum: int) -> None:
    """Deliver signum to this process, as kill(1) would."""
    os.kill(os.getpid(), signum)


def test_sigterm_raises_interrupted_with_the_shells_exit_code_and_the_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as caught, raising():
        send(signal.SIGTERM)
    assert isinstance(caught.value, Interrupted) and str(caught.value) == "SIGTERM"
    assert exit_code(caught.value) == 143 and exit_code(KeyboardInterrupt()) == 130
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_swallowed_where_it_was_raised_is_raised_again_at_the_next_check():
    with pytest.raises(Interrupted) as caught, raising() as check:
        check()  # nothing raised yet: nothing to do
        try:
            send(signal.SIGTERM)
        except KeyboardInterrupt:  # as a library's broad except (an import, say) may swallow it
            pass
        check()
    assert caught.value.exit_code == 143


def test_deferred_signals_wait_for_the_safe_point():
    before = signal.getsignal(signal.SIGINT)
    deferred = DeferredSignals().start()
    try:
        send(signal.SIGINT)
        send(signal.SIGTERM)
        with pytest.raises(Interrupted) as caught:
            deferred.check()
        assert caught.value.exit_code == 130  # the first one noted
    finally:
        assert deferred.stop() == [signal.SIGINT, signal.SIGTERM]
    deferred.check()  # nothing pending once stopped
    assert signal.getsignal(signal.SIGINT) is before


def test_a_held_signal_is_delivered_after_the_block_once():
    finished = []
    with pytest.raises(Interrupted) as caught, raising(), held():
        send(signal.SIGTERM)
        send(signal.SIGTERM)
        finished.append(True)  # not cut short
    assert finished == [True] and caught.value.exit_code == 143
    with held():
        pass  # nothing noted: nothing delivered
