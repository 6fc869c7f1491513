"""Executors: map a picklable function over items, on this machine or on a Ray cluster.

:meth:`Executor.map` returns one result per item, in the items' order. An item whose call raises
is tried again, up to ``retries`` more times; when it still fails its result is a
:class:`Failure` (the last error as one line and the number of attempts) -- never raised, never
dropped. ``on_result(position, result)`` is called in the calling thread as each item finishes
(in completion order), so a caller can record results at once. ``map`` may be called from several
threads at the same time; each call waits only for its own items.

* :class:`LocalExecutor` ``(workers=1)`` runs the calls inline in the calling thread; with more
  workers it uses a process pool (``spawn`` start method). A worker process that dies (killed,
  out of memory) breaks the pool: it is replaced and the lost items are retried.
* :class:`RayExecutor` sends one Ray task per item. Ray itself re-runs a task whose worker was lost
  (``max_retries=retries``: system failures, not counted in :attr:`Failure.attempts`); an
  exception raised by the function is retried here, like :class:`LocalExecutor` does. Ray is an
  optional dependency (``pip install 'arch2vec[ray]'``), imported only when a RayExecutor is made.

The function goes to the workers pickled once per ``map`` call (not once per item), and each
worker process unpickles it once and keeps it while the executor sends the same function object
again -- so a function holding state (an evaluator with loaded data) is rebuilt once per worker
process, not once per item. Keep it light all the same (a data path, not arrays): it travels with
every task. For the process pool functions and items are pickled (module-level functions, no
lambdas); for Ray the function is pickled with cloudpickle (lambdas and closures work), but what it
refers to by module name must be importable on the workers (give a cluster your code with a Ray
``runtime_env``).
"""

from __future__ import annotations

import os
import pickle
import threading
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from arch2vec.errors import one_line

RAY_MISSING = "install the ray extra: pip install 'arch2vec[ray]'"

OnResult = Callable[[int, Any], None]
_Handle = TypeVar("_Handle", bound=Hashable)  # an executor's handle on one running attempt


@dataclass(frozen=True)
class Failure:
    """The result of an item whose every attempt raised: the last error (one line)."""

    error: str
    attempts: int


# ---------------------------------------------------------------------------------------------
# Shipping a function to worker processes once


_LOADED: OrderedDict[str, Any] = OrderedDict()  # per process: token -> unpickled function
_LOADED_MAX = 8
_LOADED_LOCK = threading.Lock()


class _Shipped:
    """A function pickled once, with a token; a worker process unpickles it once per token."""

    def __init__(
        self, fn: Callable[[Any], Any], dumps: Callable[..., bytes] = pickle.dumps
    ) -> None:
        self.token = uuid.uuid4().hex
        name = getattr(fn, "label", None) or getattr(fn, "__qualname__", type(fn).__name__)
        try:
            self.blob = dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise ValueError(
                f"cannot send {name} to worker processes ({one_line(exc)}); "
                "use a picklable function or the inline executor (1 local worker)"
            ) from None

    def function(self) -> Callable[[Any], Any]:
        with _LOADED_LOCK:
            fn = _LOADED.get(self.token)
            if fn is not None:
                _LOADED.move_to_end(self.token)
                return fn
        fn = pickle.loads(self.blob)
        with _LOADED_LOCK:
            _LOADED[self.token] = fn
            while len(_LOADED) > _LOADED_MAX:
                _LOADED.popitem(last=False)
        return fn


def die_with_parent(parent: int) -> None:
    """Make this worker process end when its parent ``parent`` does (a killed search must not
    leave its workers running): Linux's parent-death signal, and a watchdog thread elsewhere."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux

        def watch() -> None:
            import time

            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _call_shipped(shipped: _Shipped, item: Any) -> Any:
    return shipped.function()(item)


# ---------------------------------------------------------------------------------------------
# Executors


class Executor(ABC):
    """Map a function over items with retries; see the module docstring."""

    def __init__(self, retries: int = 2) -> None:
        if int(retries) < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.retries = int(retries)
        self._shipped: OrderedDict[int, tuple[Callable, _Shipped]] = OrderedDict()
        self._ship_lock = threading.Lock()

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many calls can run at the same time (at least 1)."""

    @abstractmethod
    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_result: OnResult | None = None
    ) -> list[Any]:
        """``fn(item)`` for every item, in order; a :class:`Failure` where every attempt raised."""

    def shutdown(self) -> None:  # noqa: B027 (a no-op unless there are workers)
        """Release workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    _dumps: Callable[..., bytes] = staticmethod(pickle.dumps)

    def _ship(self, fn: Callable[[Any], Any]) -> _Shipped:
        """The shipped form of ``fn``, the same object for the same ``fn`` (a few kept)."""
        with self._ship_lock:
            hit = self._shipped.get(id(fn))
            if hit is not None and hit[0] is fn:
                self._shipped.move_to_end(id(fn))
                return hit[1]
            shipped = _Shipped(fn, self._dumps)
            self._shipped[id(fn)] = (fn, shipped)  # keeps fn alive, so its id is not reused
            while len(self._shipped) > _LOADED_MAX:
                self._shipped.popitem(last=False)
            return shipped

    def _drive(
        self,
        count: int,
        submit: Callable[[int], _Handle],
        wait: Callable[[list[_Handle]], Sequence[_Handle]],
        result: Callable[[_Handle], Any],
        on_result: OnResult | None,
    ) -> list[Any]:
        """The retry loop of an asynchronous executor: ``submit(position)`` starts an attempt
        and returns a handle, ``wait(handles)`` returns some finished ones, ``result(handle)``
        returns the value or raises the attempt's error."""
        results: list[Any] = [None] * count
        pending: dict[_Handle, tuple[int, int]] = {}  # handle -> (position, attempts so far)
        for pos in range(count):
            pending[submit(pos)] = (pos, 0)
        while pending:
            for handle in wait(list(pending)):
                pos, attempts = pending.pop(handle)
                attempts += 1
                try:
                    value = result(handle)
                except Exception as exc:
                    if attempts <= self.retries:
                        pending[submit(pos)] = (pos, attempts)
                        continue
                    value = Failure(one_line(exc), attempts)
                results[pos] = value
                if on_result is not None:
                    on_result(pos, value)
        return results


class LocalExecutor(Executor):
    """Inline calls (``workers=1``) or a ``spawn`` process pool of ``workers`` processes."""

    def __init__(self, workers: int | None = 1, retries: int = 2) -> None:
        super().__init__(retries)
        self.workers = max(1, int(workers if workers is not None else os.cpu_count() or 1))
        self._pool = None
        self._pool_lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self.workers

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_result: OnResult | None = None
    ) -> list[Any]:
        items = list(items)
        if self.workers == 1:
            return self._map_inline(fn, items, on_result)
        from concurrent.futures import FIRST_COMPLETED, Future
        from concurrent.futures import wait as wait_futures

        shipped = self._ship(fn)

        def wait(handles: list[Future[Any]]) -> Sequence[Future[Any]]:
            return list(wait_futures(handles, return_when=FIRST_COMPLETED).done)

        def result(future: Any) -> Any:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return future.result()
            except BrokenProcessPool:
                self._replace_pool(future.pool)
                raise

        return self._drive(
            len(items), lambda pos: self._submit(shipped, items[pos]), wait, result, on_result
        )

    def _map_inline(
        self, fn: Callable[[Any], Any], items: list[Any], on_result: OnResult | None
    ) -> list[Any]:
        results = []
        for pos, item in enumerate(items):
            for attempt in range(1, self.retries + 2):
                try:
                    value = fn(item)
                    break
                except Exception as exc:
                    value = Failure(one_line(exc), attempt)
            results.append(value)
            if on_result is not None:
                on_result(pos, value)
        return results

    def _get_pool(self):
        with self._pool_lock:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                from arch2vec import threads

                threads.worker_environment()  # the workers already share the cores
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=die_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _replace_pool(self, broken: Any) -> None:
        """Drop ``broken`` (a pool a worker died in) so the next submit starts a fresh one."""
        with self._pool_lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def _submit(self, shipped: _Shipped, item: Any) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        for _ in range(3):
            pool = self._get_pool()
            try:
                future = pool.submit(_call_shipped, shipped, item)
            except BrokenProcessPool:
                self._replace_pool(pool)
                continue
            future.pool = pool  # which pool to replace if this attempt finds it broken
            return future
        raise RuntimeError("the local process pool keeps breaking")

    def shutdown(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError(RAY_MISSING) from None
    return ray


class RayExecutor(Executor):
    """One Ray task per item, on the cluster at ``address`` (None: a new local instance, unless
    Ray is already initialised in this process, which is then used as it is).

    ``num_cpus``, ``num_gpus`` and ``resources`` are what each task requires (Ray's defaults:
    one CPU, no GPU); ``init`` holds further ``ray.init`` keyword arguments (for a new local
    instance e.g. ``{"num_cpus": 4}``). :meth:`shutdown`
    disconnects only if this executor connected.
    """

    def __init__(
        self,
        address: str | None = None,
        retries: int = 2,
        num_cpus: float | None = None,
        resources: dict[str, float] | None = None,
        num_gpus: float | None = None,
        init: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(retries)
        ray = _import_ray()
        self.address = address
        self._connected = False
        if not ray.is_initialized():
            ray.init(address=address, ignore_reinit_error=True, **(init or {}))
            self._connected = True
        options: dict[str, Any] = {"max_retries": self.retries}
        if num_cpus is not None:
            options["num_cpus"] = num_cpus
        if num_gpus is not None:
            options["num_gpus"] = num_gpus
        if resources:
            options["resources"] = dict(resources)
        self._task_needs = {
            "CPU": 1.0 if num_cpus is None else float(num_cpus),
            "GPU": float(num_gpus or 0.0),
            **{k: float(v) for k, v in (resources or {}).items()},
        }
        self._remote = ray.remote(**options)(_call_shipped)
        self._dumps = ray.cloudpickle.dumps  # lambdas and closures travel too
        self._refs: OrderedDict[str, Any] = OrderedDict()  # shipped token -> object ref

    @property
    def capacity(self) -> int:
        """Tasks the cluster can run at once, from its total resources."""
        ray = _import_ray()
        total = ray.cluster_resources()
        fits = [total.get(k, 0.0) / need for k, need in self._task_needs.items() if need > 0]
        return max(1, int(min(fits))) if fits else max(1, int(total.get("CPU", 1)))

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_result: OnResult | None = None
    ) -> list[Any]:
        ray = _import_ray()
        items = list(items)
        shipped = self._ship(fn)
        with self._ship_lock:
            ref = self._refs.get(shipped.token)
            if ref is None:
                ref = self._refs[shipped.token] = ray.put(shipped)
                while len(self._refs) > _LOADED_MAX:
                    self._refs.popitem(last=False)

        def wait(handles: list[Hashable]) -> Sequence[Hashable]:
            ready, _ = ray.wait(handles, num_returns=1)
            return ready

        return self._drive(
            len(items), lambda pos: self._remote.remote(ref, items[pos]), wait, ray.get, on_result
        )

    def shutdown(self) -> None:
        self._refs.clear()
        if self._connected:
            ray = _import_ray()
            ray.shutdown()
            self._connected = False


def make_executor(
    name: str = "local",
    workers: int | None = None,
    address: str | None = None,
    retries: int = 2,
    **options: Any,
) -> Executor:
    """``"local"`` (:class:`LocalExecutor` with ``workers``, default 1) or ``"ray"``
    (:class:`RayExecutor` at ``address``; ``options`` go to it)."""
    if name == "local":
        if address is not None:
            raise ValueError("an address is only for the ray executor")
        return LocalExecutor(1 if workers is None else workers, retries=retries)
    if name == "ray":
        return RayExecutor(address=address, retries=retries, **options)
    raise ValueError(f"unknown executor {name!r}; expected 'local' or 'ray'")


__all__ = [
    "RAY_MISSING",
    "Executor",
    "Failure",
    "LocalExecutor",
    "RayExecutor",
    "make_executor",
    "one_line",
]
