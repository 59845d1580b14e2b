"""Loading a tree in-process: compile the bytes we read, exec into fresh modules.

No importlib.reload, no .pyc, no finder caches. Each generation becomes a
package `_nbgen_<generation>` (empty `__path__`, so nothing can be found
through it by accident) whose submodules are the folder's files, executed in
dependency order; relative imports inside the folder resolve through
sys.modules to this very generation. The package stays registered while the
version is in use (lazy `from . import x` inside a function needs it) and is
removed by `unload` when it is neither current nor last-good.

Tracebacks name the file as `<path>@<generation>` and show the source that
actually ran (registered in linecache), not whatever is on disk now.
"""

from __future__ import annotations

import itertools
import linecache
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from importlib.machinery import ModuleSpec
from importlib.util import decode_source
from types import CodeType, MappingProxyType, ModuleType, TracebackType

from runner.reload.contract import check_module
from runner.reload.model import CodeVersion, Problem, Strategy, ValidationError
from runner.reload.scan import TreeScan, scan_tree
from runner.reload.tree import SourceFile, Tree

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "_nbgen_"
_suffixes = itertools.count(2)


def code_filename(source: SourceFile, tag: str) -> str:
    """The filename compiled into a module's code: the real path plus the generation tag."""
    return f"{source.path}@{tag}"


def package_tag(package: str) -> str:
    """`_nbgen_<generation>[_n]` -> `<generation>[_n]`."""
    return package[len(PACKAGE_PREFIX) :]


def compile_tree(tree: Tree, tag: str = "") -> dict[str, CodeType]:
    """Compile every file from its bytes; ValidationError listing every file that fails."""
    codes: dict[str, CodeType] = {}
    problems: list[Problem] = []
    for source in tree.files:
        filename = code_filename(source, tag or tree.generation)
        try:
            codes[source.module] = compile(source.data, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(Problem(source.name, exc.lineno, f"{type(exc).__name__}: {exc.msg}"))
        except ValueError as exc:  # e.g. null bytes
            problems.append(Problem(source.name, None, f"cannot compile: {exc}"))
    if problems:
        raise ValidationError(problems)
    return codes


def load_tree(
    tree: Tree,
    *,
    git_sha: str = "",
    git_dirty: bool = False,
    package_names: Iterable[str] = (),
    progress: Callable[[str], object] | None = None,
) -> CodeVersion:
    """Execute a tree into a fresh versioned package; ValidationError when it breaks the contract.

    Runs the modules' top-level code in this process: validate the tree in a
    child first (validate_tree) unless it was validated elsewhere.
    `progress` is called with each file name just before its code runs.
    """
    scan = scan_tree(tree, package_names)
    if scan.problems:
        raise ValidationError(scan.problems)
    if not tree.files:
        raise ValidationError([Problem("", None, f"{tree.directory} has no .py files")])
    package = _new_package(tree.generation)
    try:
        codes = compile_tree(tree, package_tag(package.__name__))
        strategies = _execute(tree, scan, codes, package, progress)
    except BaseException:
        unload(package.__name__)
        raise
    return CodeVersion(
        generation=tree.generation,
        files=tree.hashes,
        modules=scan.order,
        strategies=MappingProxyType(strategies),
        git_sha=git_sha,
        git_dirty=git_dirty,
        loaded_at=time.time(),
        package=package.__name__,
    )


def _new_package(generation: str) -> ModuleType:
    name = PACKAGE_PREFIX + generation
    while name in sys.modules:  # the same generation loaded twice in one process
        name = f"{PACKAGE_PREFIX}{generation}_{next(_suffixes)}"
    package = ModuleType(name, f"strategies generation {generation}")
    package.__path__ = []
    package.__package__ = name
    package.__spec__ = ModuleSpec(name, None, is_package=True)
    sys.modules[name] = package
    return package


def _execute(
    tree: Tree,
    scan: TreeScan,
    codes: Mapping[str, CodeType],
    package: ModuleType,
    progress: Callable[[str], object] | None,
) -> dict[str, Strategy]:
    sources = {f.module: f for f in tree.files}
    strategies: dict[str, Strategy] = {}
    problems: list[Problem] = []
    for name in scan.order:
        if progress is not None:
            progress(sources[name].name)
        module = _exec_module(package, sources[name], codes[name], tree.files)
        strategy, found = check_module(module, scan.modules[name])
        problems += found
        if strategy is not None:
            strategies[name] = strategy
    if problems:
        raise ValidationError(problems)
    return strategies


def _exec_module(
    package: ModuleType, source: SourceFile, code: CodeType, files: Iterable[SourceFile]
) -> ModuleType:
    fullname = f"{package.__name__}.{source.module}"
    module = ModuleType(fullname)
    module.__file__ = str(source.path)
    module.__package__ = package.__name__
    module.__spec__ = ModuleSpec(fullname, None, origin=str(source.path))
    _remember_source(code.co_filename, source.data)
    sys.modules[fullname] = module  # as the import system does: visible while it runs
    setattr(package, source.module, module)
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        tag = package_tag(package.__name__)
        raise ValidationError([_import_problem(exc, source, files, tag)]) from exc
    return module


def _remember_source(filename: str, data: bytes) -> None:
    text = decode_source(data)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


def _import_problem(
    exc: BaseException, source: SourceFile, files: Iterable[SourceFile], tag: str
) -> Problem:
    """Where in the tree an import failed: the innermost frame that is one of our files."""
    ours = {code_filename(f, tag): f.name for f in files}
    file, line = source.name, None
    tb: TracebackType | None = exc.__traceback__
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename in ours:
            file, line = ours[frame.f_code.co_filename], lineno
    if isinstance(exc, SyntaxError) and exc.filename in ours:
        file, line = ours[exc.filename], exc.lineno
    if isinstance(exc, SystemExit):
        return Problem(file, line, f"called sys.exit({exc.code!r}) while being imported")
    text = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Problem(file, line, f"import failed: {text}")


def unload(package: str) -> int:
    """Forget a generation: its sys.modules entries, linecache sources and loggers.

    Returns how many modules were removed. Code still running keeps working
    (it holds its own references); a lazy relative import inside it would not.
    """
    if not package.startswith(PACKAGE_PREFIX):
        raise ValueError(f"{package!r} is not a strategies generation")
    prefix, tag = package + ".", package_tag(package)
    names = [n for n in list(sys.modules) if n == package or n.startswith(prefix)]
    for name in names:
        filename = getattr(sys.modules.pop(name, None), "__file__", None)
        if filename is not None:
            linecache.cache.pop(f"{filename}@{tag}", None)
    loggers = logging.Logger.manager.loggerDict
    for name in [n for n in list(loggers) if n == package or n.startswith(prefix)]:
        loggers.pop(name, None)
    return len(names)
