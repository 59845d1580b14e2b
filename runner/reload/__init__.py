"""Loading, validating and swapping strategy code at tick boundaries.

The runner uses `Reloader`. The pieces are public so the watcher can validate
a tree once and publish it, and runners can load it without validating twice:

    tree = read_tree(directory)            # bytes read once + hashes -> generation
    open_for_writing(tree.paths)           # files some process still writes (Linux)
    result = validate_tree(tree, timeout)  # static checks + import in a child
    version = load_tree(tree)              # in-process exec into _nbgen_<generation>

With a watcher active, a runner's reloader follows it: `reloader.follow(Published)`
adopts the published generation when the runner's own folder hashes the same
(no second validation), see follow.py.
"""

from runner.reload.gitinfo import git_info
from runner.reload.isolation import Isolation
from runner.reload.loader import load_tree, unload
from runner.reload.model import (
    CodeVersion,
    EventKind,
    Problem,
    Published,
    ReloadEvent,
    Strategy,
    ValidationError,
    ValidationResult,
)
from runner.reload.quarantine import LayeredQuarantine, MemoryQuarantine, Quarantine
from runner.reload.reloader import Reloader
from runner.reload.tree import Tree, make_tree, read_tree, stat_signature
from runner.reload.validate import validate_tree
from runner.reload.writers import Writer, find_writers, open_for_writing, proc_available

__all__ = [
    "CodeVersion",
    "EventKind",
    "Isolation",
    "LayeredQuarantine",
    "MemoryQuarantine",
    "Problem",
    "Published",
    "Quarantine",
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
