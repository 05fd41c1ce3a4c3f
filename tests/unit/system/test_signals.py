"""blocked_signals holds SIGINT, SIGTERM and SIGHUP for a step, then lets them through."""

import signal
import threading

from mkcert.system.signals import HANDLED_SIGNALS, blocked_signals


def test_the_handled_signals_are_the_three_that_stop_a_run():
    assert set(HANDLED_SIGNALS) == {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def test_a_signal_in_the_block_is_delivered_when_it_ends():
    received = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: received.append(signum))
    try:
        before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        with blocked_signals() as saved:
            assert saved == before
            assert set(HANDLED_SIGNALS) <= signal.pthread_sigmask(signal.SIG_BLOCK, [])
            # to this thread: the mask is per thread, and pytest-xdist's workers
            # have others, which a process-wide kill may pick
            signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
            assert received == []
        assert received == [signal.SIGHUP]
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_the_mask_comes_back_when_the_block_fails():
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    try:
        with blocked_signals():
            raise ValueError("inside")
    except ValueError:
        pass
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
