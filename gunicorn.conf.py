"""gunicorn reads this file from the working directory (`make serve`, the benchmarks, the multi-worker tests).

Settings stay on the command line; this file adds what a worker does once it has loaded the app: a warning the
log would otherwise not give, and the garbage collector's tuning."""
import gc
import os

# Python's cyclic garbage collector runs a young-generation pass every 700 net new container objects: a page
# allocates thousands (ORM rows, template frames), so a worker collected ~0.8 times a request, and now and then
# walked every object it holds, the app and its caches included. A worker frees almost everything by reference
# counting; collecting every GC_THRESHOLD objects, with the app's own objects frozen out of the walk (gc.freeze),
# cut the mean CPU per request by ~9 % over the load benchmark's pages (docs/benchmarks.md, session 7).
# PORTAL_GC_THRESHOLD=0 keeps Python's defaults.
GC_THRESHOLD = int(os.environ.get("PORTAL_GC_THRESHOLD", "50000"))


def post_worker_init(worker):
    tune_garbage_collector(GC_THRESHOLD)
    warn_if_limits_count_per_worker(worker)


def tune_garbage_collector(threshold: int) -> None:
    """Freeze what the worker holds after loading the app and collect young objects every `threshold`."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, gen1, gen2)


def warn_if_limits_count_per_worker(worker):
    """Warn once (first worker) when several workers would each count sign-in failures on their own."""
    if worker.age != 1 or worker.cfg.workers < 2:
        return
    config = getattr(worker.wsgi, "config", {})
    uri = config.get("RATELIMIT_STORAGE_URI", "")
    if uri.startswith("memory://"):
        worker.log.warning(
            "%d workers with PORTAL_RATELIMIT_STORAGE_URI=memory://: each worker counts failed sign-ins on its own, "
            "so the limits allow %d times the attempts. Set PORTAL_RATELIMIT_STORAGE_URI=redis://host:6379/0 "
            "(see docs/deployment.md).", worker.cfg.workers, worker.cfg.workers)
