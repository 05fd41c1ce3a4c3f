#!/usr/bin/env python3
"""A/B/C timing of variants of our own command, alternated in one run.

For trying a change before proposing it: each variant is a command line
that makes imapd.pem in the same scratch layout as bench/compare.py (use
``env PYTHONPATH=...`` to point one at a modified copy of the package).
Rounds run every variant once, in an order rotated per round.

    python3 bench/variants.py --case openssl-2048 --rounds 30 \\
        --variant "head=/tmp/mkcert-bench-venv/bin/mkimapdcert" \\
        --variant "early=env PYTHONPATH=/tmp/exp /tmp/mkcert-bench-venv/bin/python /tmp/exp/bin/mkimapdcert"
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="openssl-2048", choices=sorted(compare.CASES))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=COMMAND")
    parser.add_argument("--configs", default=compare.CONFIGS)
    parser.add_argument("--nice", type=int, default=-20)
    options = parser.parse_args(argv)
    niceness = compare.raise_priority(options.nice)

    variants = [v.split("=", 1) for v in options.variant]
    layout = compare.Layout(options.case, options.configs)
    env = layout.env()
    wall = {name: [] for name, _ in variants}
    cpu = {name: [] for name, _ in variants}
    others = []
    try:
        for name, command in variants:  # warm-up, untimed
            layout.clean()
            compare.Measurement(command.split(), env, layout.root)
        for index in range(options.rounds):
            shift = index % len(variants)
            share = []
            for name, command in variants[shift:] + variants[:shift]:
                layout.clean()
                run = compare.Measurement(command.split(), env, layout.root)
                compare.check_pem(layout.pem, layout.expected_bits)
                wall[name].append(run.wall)
                cpu[name].append(run.cpu)
                share.append(run.others)
            others.append(max(share))
    finally:
        layout.remove()
    print(f"{options.case}, {options.rounds} rounds, others' share of the machine: "
          f"median {statistics.median(others):.0%}; niceness {niceness}")
    for name, _ in variants:
        print(f"  {name:<12} wall median {statistics.median(wall[name]) * 1000:7.1f} ms "
              f"mean {statistics.mean(wall[name]) * 1000:7.1f} ms   "
              f"CPU median {statistics.median(cpu[name]) * 1000:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
