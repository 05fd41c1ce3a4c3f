"""Child processes that never outlive the run.

Key searches (:mod:`mkcert.keys`) and safe-prime searches
(:mod:`mkcert.dhparams`) run in child processes.  Ordinary exits and the
signals a run handles stop them explicitly; a parent killed with SIGKILL
runs no code at all, so each child asks the kernel to kill it then.
"""

import os
import signal

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid):
    """In a child: be SIGKILLed by the kernel when the parent dies, even by SIGKILL."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
