"""Where the suite's time goes: the per-file table of tests/README.md, from a pytest log.

Run the suite with every duration reported, then read its log:

    .venv/bin/python -m pytest -n 2 --durations=0 | tee build/suite.log
    .venv/bin/python tests/suite_time.py build/suite.log

Each file's figure is the sum of its items' setup, call and teardown times (a shared fixture's
work counts where it is first set up), so with two xdist workers the figures add up to about
twice the wall time.  The last lines give the run's own summary (passed, wall time).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

DURATION = re.compile(r"^(?P<s>\d+(?:\.\d+)?)s (?P<when>setup|call|teardown)\s+(?P<node>\S+)")
SUMMARY = re.compile(r"^=+ (?P<text>\d+ (passed|failed).* in [\d.]+s.*) =+$")


def per_file(lines: list[str]) -> dict[str, float]:
    """Seconds per test file (or notebook), summed over its items' phases."""
    seconds: dict[str, float] = defaultdict(float)
    for line in lines:
        match = DURATION.match(line.strip())
        if match:
            seconds[match["node"].split("::")[0]] += float(match["s"])
    return dict(seconds)


def table(seconds: dict[str, float]) -> str:
    total = sum(seconds.values()) or 1.0
    rows = ["| file | s | share |", "| --- | --- | --- |"]
    for name, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        rows.append(f"| `{name}` | {s:.0f} | {100 * s / total:.0f} % |")
    rows.append(f"| all items | {total:.0f} | 100 % |")
    return "\n".join(rows)


def slowest(lines: list[str], count: int = 30) -> list[str]:
    found = [line.strip() for line in lines if DURATION.match(line.strip())]
    return sorted(found, key=lambda line: -float(DURATION.match(line)["s"]))[:count]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print("usage: suite_time.py PYTEST_LOG (a run with --durations=0)", file=sys.stderr)
        return 2
    lines = Path(argv[0]).read_text(encoding="utf-8", errors="replace").splitlines()
    seconds = per_file(lines)
    if not seconds:
        print(f"{argv[0]}: no durations found (run pytest with --durations=0)", file=sys.stderr)
        return 1
    print(table(seconds))
    print("\nslowest items:")
    print("\n".join(slowest(lines)))
    print("\n".join(m["text"] for line in lines if (m := SUMMARY.match(line.strip()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
