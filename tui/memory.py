"""Keep Python's garbage collector from stalling the UI.

A full ("generation 2") collection walks every object Python tracks; once the TUI has started that is some
150,000 objects (the imported modules, Textual's styles, the rule packs), and a collection took 30 to 110 ms
on the development machine: now and then, long enough to stall a keystroke or the opening of a case. The
objects made while starting up live as long as the app, so once the first cases are on the screen they are
collected once and then frozen (`gc.freeze`): later collections walk only what was made since.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_startup_objects() -> None:
    """Collect once, then leave the surviving objects out of later collections (once per process)."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
