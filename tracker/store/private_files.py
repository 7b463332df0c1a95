"""Files that hold personal data (letters, subject access responses, the calendar feed): owner-only, whole.

Each is written to a temporary file in the same folder, created 0600 whatever the umask (`mkstemp`), flushed
to disk, then renamed over its path: a reader sees the old file or the new one, never half of one, and no
one else can read either. Kept beside the store because every layer above it writes such files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def private_temporary(path: Path, content: bytes) -> Path:
    """`content` in a new owner-only file beside `path`, flushed to disk; returns its path.

    The caller renames it over `path` (`os.replace`) or removes it. Raises OSError (nothing is left behind).
    """
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to `path` atomically, readable by its owner only (0600), replacing a file there."""
    temporary = private_temporary(path, content)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
