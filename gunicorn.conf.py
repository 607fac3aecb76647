"""gunicorn reads this file from the working directory (`make serve`, the benchmarks, the multi-worker tests).

Settings stay on the command line; this file only adds a warning the log would otherwise not give."""


def post_worker_init(worker):
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
