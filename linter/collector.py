"""Pausing Python's cyclic garbage collector around work that builds large acyclic structures.

Front ends build the model (frozen dataclasses, tuples) and the engine builds packet
spaces and paths (tuples, hash-consed): nothing there forms a cycle, so the collector
finds nothing, yet it rescans the growing heap over and over (40% of a 100k-rule nft
parse, 1 s of a 100k-rule exposure summary). Reference counting frees everything as usual
while it is paused; anything cyclic made meanwhile is collected after it resumes.
"""

from __future__ import annotations

import contextlib
import gc


# Objects tracked since the pause began (Python counts them while the collector is off) past
# which resuming would cost a full scan of them: half a second after a 100k-rule file.
FREEZE_ABOVE = 1_000_000


@contextlib.contextmanager
def paused():
    """Run the body with the cyclic collector off (as it was before, afterwards).

    After a large body, what it built is frozen (``gc.freeze``) rather than scanned: the
    first collection after resuming would otherwise walk every object the body made and
    still holds (the model, the engine's spaces). The price is that cyclic garbage made in
    the body is kept to the end of the process: about one object per rule, measured."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] > FREEZE_ABOVE:
                gc.freeze()
            gc.enable()
