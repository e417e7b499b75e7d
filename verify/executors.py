"""Where sweep tasks run.  Every executor has ``map_unordered(fn, items, keys) -> iterator`` of
``fn(item)`` results in completion order, and is a context manager.

``InProcess``    one after the other in this process (the default: nothing to start).
``ProcessPool``  a local pool of N processes (``concurrent.futures``; spawn start method by
                 default, so each worker imports torch afresh rather than inheriting a forked
                 one).
``Dask``         a Dask distributed cluster: ``Dask.connect("tcp://HOST:PORT")`` submits to a
                 running scheduler, ``Dask.local(N)`` starts a local cluster of N one-thread
                 worker processes.  Tasks are submitted under deterministic keys; when a
                 worker dies the scheduler reruns its tasks on the others (the task functions
                 are pure, so a rerun gives the same result), and results come back to this
                 process, so the workers need the package installed but no shared files.

Dask is the optional extra ``[cluster]`` (``pip install 'simplicity-bias[cluster]'``); asking
for it without it installed, or for a scheduler that cannot be reached, is bad input
(:class:`theory.errors.InputError`, naming the address).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from theory.errors import InputError

CONNECT_TIMEOUT_S = 10


class InProcess:
    """Run tasks one after the other, here."""

    name = "in-process"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map_unordered(self, fn: Callable, items: Iterable, keys=None) -> Iterator:
        for item in items:
            yield fn(item)


class ProcessPool:
    """A local pool of ``workers`` processes, started with ``start`` ("spawn", the default:
    each worker imports torch afresh; "fork": a copy of this process, started in milliseconds
    rather than the seconds an import of torch takes — only for CPU work begun before this
    process ran torch on several threads, see :func:`verify.claim.check_claim`)."""

    def __init__(self, workers: int, start: str = "spawn"):
        if not isinstance(workers, int) or workers < 1:
            raise InputError(f"--workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.start = start
        self.name = f"process pool ({workers})"
        self._pool = None

    def __enter__(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(self.workers,
                                         mp_context=multiprocessing.get_context(self.start))
        return self

    def __exit__(self, *exc):
        self._pool.shutdown(wait=True, cancel_futures=True)
        return False

    def submit(self, fn: Callable, item):
        """Start ``fn(item)`` in the pool; a :class:`concurrent.futures.Future`."""
        return self._pool.submit(fn, item)

    def map_unordered(self, fn: Callable, items: Iterable, keys=None) -> Iterator:
        from concurrent.futures import as_completed

        futures = [self._pool.submit(fn, item) for item in items]
        for fut in as_completed(futures):
            yield fut.result()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("Dask is not installed: pip install 'simplicity-bias[cluster]' "
                         "(or 'dask[distributed]')") from None
    return distributed


def _probe(address: str, timeout: float) -> None:
    """InputError unless ``address`` parses and, for tcp/tls, accepts a TCP connection."""
    import socket

    from distributed.comm import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(address, strict=False)
        host, port = parse_host_port(loc)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{address!r} is not a Dask scheduler address ({exc}); expected "
                         "tcp://HOST:PORT") from None
    if scheme not in ("tcp", "tls"):
        return
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} "
                         f"({exc.strerror or exc})") from None


class Dask:
    """Tasks on a Dask distributed cluster (use :meth:`connect` or :meth:`local`)."""

    def __init__(self, client, cluster=None, name: str = "dask"):
        self.client, self.cluster, self.name = client, cluster, name
        self._local_workers = 0

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT_S) -> "Dask":
        """Connect to the running scheduler at ``address`` (``tcp://HOST:PORT``).  The address
        is checked and the port probed first, so a typo or a dead scheduler is reported at
        once, without a client left behind."""
        distributed = _distributed()
        _probe(address, timeout)
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # OSError, TimeoutError, ValueError for a malformed address
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot reach the Dask scheduler at {address} ({msg})") from None
        return cls(client, None, f"dask scheduler {address}")

    @classmethod
    def local(cls, workers: int) -> "Dask":
        """A local cluster of ``workers`` one-thread worker processes, started when the first
        tasks are submitted (a rerun with every cell done starts nothing)."""
        if not isinstance(workers, int) or workers < 1:
            raise InputError(f"--dask-local must be a positive integer, got {workers!r}")
        _distributed()
        ex = cls(None, None, f"local dask cluster ({workers} workers)")
        ex._local_workers = workers
        return ex

    def _start_local(self) -> None:
        import logging

        distributed = _distributed()
        self.cluster = distributed.LocalCluster(n_workers=self._local_workers,
                                                threads_per_worker=1, processes=True,
                                                dashboard_address=None,
                                                silence_logs=logging.ERROR)
        self.client = distributed.Client(self.cluster, set_as_default=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        return False

    def map_unordered(self, fn: Callable, items: Iterable, keys=None) -> Iterator:
        distributed = _distributed()
        items = list(items)
        if not items:
            return
        if self.client is None:
            self._start_local()
        keys = list(keys) if keys is not None else [None] * len(items)
        futures = [self.client.submit(fn, item, key=k, pure=False) if k else
                   self.client.submit(fn, item, pure=False) for item, k in zip(items, keys)]
        try:
            for fut in distributed.as_completed(futures, loop=self.client.loop):
                yield fut.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])
