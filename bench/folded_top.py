#!/usr/bin/env python3
"""The functions that take the most of a server's user-space time, from a folded profile
(bench/flamegraph.sh writes bench/logs/ENDPOINT.folded): each stack's samples go to its leaf,
stacks that pass through a system call or an interrupt are left out, and the shares are of the
user-space samples. With --through, the share of all the samples (kernel included) whose stack
has a frame containing each PATTERN (a thread's name is its stack's first frame).

    python3 bench/folded_top.py bench/logs/debug_token.folded [N]
    python3 bench/folded_top.py bench/logs/exchange.folded --through sqlite-writer store_token
"""
import collections
import sys


def through(path: str, patterns: list) -> None:
    total = 0
    hits: collections.Counter = collections.Counter()
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            total += int(count)
            for p in patterns:
                if p in stack:
                    hits[p] += int(count)
    if not total:
        sys.exit("no samples")
    for p in patterns:
        print(f"{hits[p] / total * 100:6.2f}%  {p}")


def main() -> None:
    path = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--through":
        through(path, sys.argv[3:])
        return
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    total = user = 0
    leaves: collections.Counter = collections.Counter()
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            weight = int(count)
            total += weight
            frames = stack.split(";")
            if any(fr.startswith(("entry_SYSCALL", "asm_")) for fr in frames):
                continue
            user += weight
            leaves[frames[-1]] += weight
    if not user:
        sys.exit("no user-space samples")
    print(f"user space: {user / total * 100:.1f}% of the samples")
    for name, weight in leaves.most_common(n):
        print(f"{weight / user * 100:6.2f}%  {name[:120]}")


if __name__ == "__main__":
    main()
