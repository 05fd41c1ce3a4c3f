"""What setup.cfg cannot say: its lists are fixed, these follow the tree.

Every file in bin/ is a command (a new one is installed without editing
this file), and every man page in docs/man/ goes to share/man/man8 of the
installation, where man finds it for a command run from that prefix's bin/
(man-db looks for ../share/man beside each PATH entry).  debian/rules lays
the commands out as Courier does and installs the man pages itself.
"""

import glob

from setuptools import setup

setup(
    scripts=sorted(glob.glob("bin/*")),
    data_files=[("share/man/man8", sorted(glob.glob("docs/man/*.8")))],
)
