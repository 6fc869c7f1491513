"""Registries of plugins: one per kind (spaces, benchmarks, evaluators, strategies).

A :class:`Registry` maps names to objects (a class, a factory, a record). Built-in entries are
registered as ``"module:attribute"`` strings and imported on first use, so listing names (the
CLI's ``--help``) imports nothing heavy. Third-party packages add entries through the entry-point
group ``arch2vec.plugins``: each entry point names a module or a callable; the module is imported
(and the callable called with no arguments) the first time any registry is read, in every process
-- the CLI, and the worker processes a search starts -- so a plugin space, benchmark, evaluator or
strategy works from the plain ``arch2vec`` command. For example, in a plugin's ``pyproject.toml``::

    [project.entry-points."arch2vec.plugins"]
    my_space = "my_package.arch2vec_plugin:register"

Entries registered at run time from Python (not by a plugin) exist in this process only; a search
sends its objects (space, strategy class, evaluator) to worker processes itself.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ENTRY_POINT_GROUP = "arch2vec.plugins"

_log = logging.getLogger(__name__)
_plugins_loaded = False
_plugins_lock = threading.RLock()
_plugin_errors: list[str] = []
_loading = threading.local()  # .active: plugins are being loaded (their entries are not "user")


def _loading_plugins() -> bool:
    return getattr(_loading, "active", False)


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    obj = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


def load_plugins(force: bool = False) -> list[str]:
    """Import every ``arch2vec.plugins`` entry point once per process; returns the plugins that
    failed to load (``NAME (module:function): Error: message``), which are skipped. Each failure
    is logged once as a warning (``plugin 'NAME' (module:function) failed to load: ...``), with
    its traceback at debug level."""
    global _plugins_loaded
    with _plugins_lock:
        if _plugins_loaded and not force:
            return list(_plugin_errors)
        _plugins_loaded = True  # set first: a plugin that reads a registry must not recurse
        _loading.active = True
        try:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    obj = ep.load()
                    if callable(obj) and not isinstance(obj, type):
                        obj()
                except Exception as exc:  # a broken plugin must not break arch2vec
                    why = " ".join(f"{type(exc).__name__}: {exc}".split())
                    _plugin_errors.append(f"{ep.name} ({ep.value}): {why}")
                    _log.warning("plugin %r (%s) failed to load: %s", ep.name, ep.value, why)
                    _log.debug("plugin %r failed to load", ep.name, exc_info=True)
        finally:
            _loading.active = False
        return list(_plugin_errors)


class Registry(Mapping[str, T], Generic[T]):
    """Name -> object for one kind of plugin (see the module docstring)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Any] = {}  # name -> object or "module:attribute"
        self._user: set[str] = set()  # registered at run time from Python

    def register(
        self, name: str, obj: Any = None, *, replace: bool = False, builtin: bool = False
    ) -> Any:
        """Register ``obj`` under ``name`` (usable as a decorator when ``obj`` is omitted).

        ``obj`` may be a ``"module:attribute"`` string, imported on first use. A name that is
        taken raises ``ValueError`` unless ``replace=True``.
        """
        if obj is None:
            return lambda target: self.register(name, target, replace=replace, builtin=builtin)
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True)")
        self._entries[name] = obj
        if builtin or _loading_plugins():
            self._user.discard(name)
        else:
            self._user.add(name)
        return obj

    def shared(self, name: str) -> bool:
        """Whether ``name`` is a built-in or plugin entry (which every process has)."""
        return name in self and name not in self._user

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)
        self._user.discard(name)

    def __setitem__(self, name: str, obj: Any) -> None:
        """Replace an entry, keeping whether it is built-in (e.g. ``monkeypatch.setitem``)."""
        shared = name in self._entries and name not in self._user
        self.register(name, obj, replace=True, builtin=shared)

    __delitem__ = unregister

    def __getitem__(self, name: str) -> T:
        if name not in self._entries:
            load_plugins()
        try:
            obj = self._entries[name]
        except KeyError:
            failed = "; ".join(_plugin_errors)
            raise ValueError(
                f"unknown {self.kind} {name!r}; expected one of {', '.join(self)}"
                + (f" (plugins that failed to load: {failed})" if failed else "")
            ) from None
        if isinstance(obj, str):
            obj = self._entries[name] = _resolve(obj)
        return obj

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get would swallow ValueError
        return self[name] if name in self else default

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        load_plugins()
        return iter(list(self._entries))

    def __len__(self) -> int:
        load_plugins()
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"


def lazy_attributes(module: str, targets: Mapping[str, str]) -> Any:
    """A module ``__getattr__`` that imports ``name`` from its ``"module:attribute"`` target on
    first use (a package's public names without importing torch at ``import arch2vec``)."""

    def __getattr__(name: str) -> Any:
        if name not in targets:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return _resolve(targets[name])

    return __getattr__
