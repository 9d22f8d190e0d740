"""How much work one input file may cost the front ends (docs/security.md, Budgets).

Hostile input must end in a finding on the construct that asked too much, with the rest of
the file linted, never in a RecursionError or MemoryError that loses the whole file. Each
limit is far above what a real configuration uses.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

# Nesting of constructs read by recursive code: shell commands (if, for, while, case, { },
# ( ), functions), shell words ($(...), ${...}, `...`), and nft expressions (parentheses).
MAX_NESTING = 100

# Characters one shell word may expand to: X="$X$X" forty times asks for a terabyte. A longer
# value is taken as unknown (one PL050 note at the first such word) and the script read on.
MAX_SHELL_WORD_CHARS = 1_000_000
# Characters all expansions of one script may produce together (a long value used in a loop);
# past it the replay stops with one PL050 note at the word, and the rules so far are linted.
MAX_SHELL_EXPANSION_CHARS = 50_000_000

# Values (words, numbers, braces) one nft file's `$name`s may expand to in total, counting every
# use: define b = { $a, $a } forty times asks for a trillion. A use past it stays unexpanded
# (one PL034 note at the first such use; the rule becomes a may-match) and the file is read on.
MAX_DEFINE_ATOMS = 1_000_000

# Python frames a front end may use beyond where it is called: MAX_NESTING levels of the
# deepest reader (about ten frames a level) with room to spare.
FRONT_END_FRAMES = 3_000


@contextmanager
def recursion_room(frames: int = FRONT_END_FRAMES):
    """Let the code inside use ``frames`` Python frames more than the caller's depth.

    The default limit (1,000 frames in all) is shared with whatever called portlint (a test
    runner uses a hundred); the readers' own nesting limits are what bound the depth.
    """
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    old = sys.getrecursionlimit()
    wanted = depth + frames
    if wanted > old:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        if wanted > old:
            sys.setrecursionlimit(old)
