"""Preloaded by the validation forkserver: import the parent's main module there, once.

multiprocessing re-runs the parent's main script in every child it starts
(to rebuild `__mp_main__`), unless the process it forks from already did.
The forkserver's own `__main__` preload never does (on CPython 3.11 it looks
for a `main_path` key that the preparation data does not carry), so every
validation child would re-import the whole application: ~150 ms per
validation under `neverblink`, ~6 ms with this. Isolation puts the parent's
main (as a child would rebuild it) in the environment before the server
starts; importing this module in the server loads it once, and every forked
child finds it already there.

Importing it anywhere but in the forkserver does nothing.
"""

from __future__ import annotations

import os
import sys
from multiprocessing import spawn

from runner.reload.isolation import MAIN_ENV


def _in_forkserver() -> bool:
    """The server runs as `python -c ...`: its __main__ has neither a file nor a spec."""
    main = sys.modules.get("__main__")
    return getattr(main, "__file__", None) is None and getattr(main, "__spec__", None) is None


def _load_main(spec: str) -> None:
    kind, _, value = spec.partition(":")
    if kind == "path" and value:
        spawn.import_main_path(value)
    elif kind == "name" and value and not value.endswith(".__main__"):
        fixup = getattr(spawn, "_fixup_main_from_name", None)
        if fixup is not None:
            fixup(value)


if _in_forkserver() and os.environ.get(MAIN_ENV):
    try:
        _load_main(os.environ[MAIN_ENV])
    except Exception as exc:  # the server must survive; children then rebuild main themselves
        print(f"neverblink forkserver: could not preload main: {exc!r}", file=sys.stderr)
