"""Validating, loading and swapping strategy code at tick boundaries.

The publisher (runner.publish) validates a tree once and publishes it; every
runner's `Reloader` adopts the published generation when its own folder
hashes the same (no second validation, see adopt.py):

    tree = read_tree(directory)            # bytes read once + hashes -> generation
    open_for_writing(tree.paths)           # files some process still writes (Linux)
    result = validate_tree(tree, timeout)  # the validator: static checks + load in a host
    version = loader.load(tree, ...)       # a runner's: into its strategy host (HostLoader)

`load_tree` (exec into `_nbgen_<generation>` in this interpreter) is what a
strategy host runs inside itself; `InProcessLoader` uses it for the reload
plane's own tests and tools. `Isolation` (a forkserver child) is kept as the
bench's reference for the pre-host path.
"""

from runner.reload.gitinfo import git_info
from runner.reload.isolation import Isolation
from runner.reload.loader import load_tree, unload
from runner.reload.model import (
    CodeVersion,
    EventKind,
    Problem,
    Published,
    Rejected,
    ReloadEvent,
    Strategy,
    ValidationError,
    ValidationResult,
)
from runner.reload.quarantine import (
    LayeredQuarantine,
    MemoryQuarantine,
    Quarantine,
    RedisQuarantine,
)
from runner.reload.reloader import Reloader
from runner.reload.tree import Tree, make_tree, read_tree, stat_signature
from runner.reload.validate import CandidateHost, validate_tree
from runner.reload.writers import Writer, find_writers, open_for_writing, proc_available

__all__ = [
    "CandidateHost",
    "CodeVersion",
    "EventKind",
    "Isolation",
    "LayeredQuarantine",
    "MemoryQuarantine",
    "Problem",
    "Published",
    "Quarantine",
    "RedisQuarantine",
    "Rejected",
    "ReloadEvent",
    "Reloader",
    "Strategy",
    "Tree",
    "ValidationError",
    "ValidationResult",
    "Writer",
    "find_writers",
    "git_info",
    "load_tree",
    "make_tree",
    "open_for_writing",
    "proc_available",
    "read_tree",
    "stat_signature",
    "unload",
    "validate_tree",
]
