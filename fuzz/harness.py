"""What both atheris harnesses share: replaying a corpus, or fuzzing.

Without atheris (or with --replay) each corpus file is run once, which is
how CI keeps the harnesses and their corpora working.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def replay(test_one_input, paths):
    count = 0
    for path in paths:
        files = ([os.path.join(path, n) for n in sorted(os.listdir(path))]
                 if os.path.isdir(path) else [path])
        for file in files:
            with open(file, "rb") as handle:
                test_one_input(handle.read())
            count += 1
    return count


def main(test_one_input, corpus, atheris):
    """Replay ``fuzz/corpus/CORPUS`` (or the paths given), or fuzz with atheris."""
    if atheris is None or "--replay" in sys.argv:
        paths = [a for a in sys.argv[1:] if not a.startswith("-")] or [
            os.path.join(HERE, "corpus", corpus)]
        count = replay(test_one_input, paths)
        print(f"replayed {count} inputs" + ("" if atheris else " (atheris not installed)"))
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
