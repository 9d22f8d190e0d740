"""Profile one portlint command with cProfile and print where the time went.

``python -m cProfile -m linter ...`` writes nothing: ``linter.launch.run`` ends the process with
``os._exit`` (freeing a 100k-rule model object by object took seconds), so the profile is never
dumped (and the file is not called profile.py: that would hide the standard library's module
cProfile imports). This runs ``cli.main`` itself under the profiler instead.

    python benchmarks/profile_check.py OUT.prof check --jobs 1 -q FILE
    python benchmarks/profile_check.py OUT.prof --top 40 --sort tottime check --jobs 1 -q FILE
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Profile ``portlint ARGS...``, dump the stats to OUT and print the top entries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="where the cProfile stats go (read them later with pstats)")
    parser.add_argument("--top", type=int, default=30, help="how many entries to print (0: none)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ncalls...)")
    options, args = parser.parse_known_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from linter.cli import main as portlint

    sys.argv = ["portlint", *args]
    profile = cProfile.Profile()
    try:
        profile.runcall(portlint, standalone_mode=True)
    except SystemExit:
        pass  # the command's exit code is the linted files' verdict, not the profiler's
    profile.dump_stats(options.out)
    if options.top:
        pstats.Stats(options.out, stream=sys.stderr).sort_stats(options.sort).print_stats(options.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
