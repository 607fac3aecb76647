"""HTML to PDF with WeasyPrint: a fetcher that reads only allowed files, a time limit, shared caches.

Templates reference files by two URL schemes only:
  static:css/print/documents.css     a file under the project's static folder
  upload:company/<name>.png          an uploaded file the caller allowed for this record (logo, seal)
Anything else (http, file:, data:, paths outside those folders) is refused, and WeasyPrint leaves the
resource out with a warning.
"""
from __future__ import annotations

import ctypes
import logging
import mimetypes
import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, g, has_request_context

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds per document; PORTAL_DOCUMENT_RENDER_TIMEOUT overrides it
STYLESHEET = "css/print/documents.css"


class RenderTimeout(Exception):
    """Rendering took longer than the time limit and was stopped."""


class FetchRefused(ValueError):
    """A document asked for a URL it may not load."""


@dataclass
class Rendered:
    pdf: bytes
    pages: int


def _under(folder: Path, relative: str) -> Path:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise FetchRefused(f"refused: {relative}")
    return path


def make_fetcher(static_folder: str, uploads: dict[str, Path] | None = None):
    """A WeasyPrint url_fetcher serving static files and exactly the uploads named in `uploads`."""
    allowed = dict(uploads or {})
    static = Path(static_folder)

    def fetch(url: str, timeout=10, ssl_context=None, http_headers=None):
        if url.startswith("static:"):
            path = _under(static, url.removeprefix("static:"))
        elif url in allowed:
            path = allowed[url]
            if not path.is_file():
                raise FetchRefused(f"missing upload: {url}")
        else:
            raise FetchRefused(f"refused: {url[:200]}")
        return {"string": path.read_bytes(), "mime_type": mimetypes.guess_type(path.name)[0],
                "redirected_url": url}

    return fetch


class time_limit:
    """Raise RenderTimeout in this thread if the block runs longer than `seconds`.

    WeasyPrint has no time limit of its own and a thread cannot be killed, so a timer raises an
    exception asynchronously in the rendering thread (PyThreadState_SetAsyncExc): it lands at the
    next Python bytecode, and WeasyPrint's layout is Python. Works in any thread (requests, workers).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._inside = False

    def _fire(self):
        with self._lock:
            if self._inside:
                self._fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread), ctypes.py_object(RenderTimeout))

    def __enter__(self):
        self._thread = threading.get_ident()
        self._inside = True
        self._fired = False
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, exc_type, exc, traceback):
        with self._lock:
            self._inside = False
            self._timer.cancel()
        if self._fired and exc_type is None:
            # the exception landed inside a library's own `except Exception` and was swallowed there (seen
            # under load): the block ran past its limit all the same, and its result is refused
            raise RenderTimeout()
        return False


_cache = threading.local()


def _shared():
    """Per-thread FontConfiguration and parsed print stylesheet (parsing them each time costs ~50 ms)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    key = current_app.static_folder
    if getattr(_cache, "key", None) != key:
        _cache.font_config = FontConfiguration()
        _cache.stylesheet = CSS(filename=str(Path(key) / STYLESHEET), font_config=_cache.font_config)
        _cache.key = key
    return _cache.font_config, _cache.stylesheet


def _libc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim this way
        return None


_MALLOC_TRIM = _libc_trim()


def release_memory_after_rendering(_error=None) -> None:
    """At the end of a request that laid out a document: give the C heap's free pages back to the system.

    A rendering allocates ~40 MB in pango, harfbuzz and cairo and frees it; glibc keeps freed pages below a
    live allocation, so a worker's resident memory stepped up by ~40 MB at some rendering and stayed there (the
    soak run at 100,000 orders: one worker in four, at a random moment). malloc_trim(0) returns them (~4 ms
    against 300–2,000 ms for the rendering). Registered as a teardown of every request; does nothing unless
    render_document ran."""
    if _MALLOC_TRIM is not None and g.pop("laid_out_document", False):
        _MALLOC_TRIM(0)


def render_document(html: str, uploads: dict[str, Path] | None = None):
    """A laid-out WeasyPrint Document (pages) for `html`, within the time limit."""
    from weasyprint import HTML

    if has_request_context():
        g.laid_out_document = True  # release_memory_after_rendering

    font_config, stylesheet = _shared()
    fetcher = make_fetcher(current_app.static_folder, uploads)
    seconds = float(current_app.config.get("DOCUMENT_RENDER_TIMEOUT") or DEFAULT_TIMEOUT)
    with time_limit(seconds):
        return HTML(string=html, base_url="static:", url_fetcher=fetcher).render(
            stylesheets=[stylesheet], font_config=font_config)


def write_pdf(documents) -> Rendered:
    """One PDF of the pages of `documents` (each keeps its own page numbers); fonts subset once."""
    documents = list(documents)
    pages = [page for document in documents for page in document.pages]
    seconds = float(current_app.config.get("DOCUMENT_RENDER_TIMEOUT") or DEFAULT_TIMEOUT)
    with time_limit(seconds):
        pdf = documents[0].copy(pages).write_pdf()
    return Rendered(pdf, len(pages))


def html_to_pdf(html: str, uploads: dict[str, Path] | None = None) -> Rendered:
    return write_pdf([render_document(html, uploads)])


# Batches of drafts: with two or more cores, the second half is laid out in a forked child process
# while this process does the first half (WeasyPrint's layout is Python: one core per process).
PARALLEL_FROM = 10


def _pdf_of(static_folder: str, seconds: float, items: list[tuple[str, dict]]) -> bytes:
    """HTML to one PDF without the app (usable in a child process): own fonts and stylesheet."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    stylesheet = CSS(filename=str(Path(static_folder) / STYLESHEET), font_config=font_config)
    with time_limit(seconds * len(items)):
        documents = [HTML(string=html, base_url="static:", url_fetcher=make_fetcher(static_folder, uploads))
                     .render(stylesheets=[stylesheet], font_config=font_config) for html, uploads in items]
        return documents[0].copy([page for d in documents for page in d.pages]).write_pdf()


def _child(connection, static_folder: str, seconds: float, items) -> None:
    try:
        connection.send_bytes(_pdf_of(static_folder, seconds, items))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which renders the part itself
        connection.send_bytes(b"ERROR " + repr(error).encode()[:500])
    finally:
        connection.close()


def pdfs_of_drafts(items: list[tuple[str, dict]]) -> list[bytes]:
    """PDF parts for the drafts `items` ((html, uploads) each), in order. Uses a second core when there is
    one and the batch is large enough; if the child fails or hangs, this process renders its part too."""
    seconds = float(current_app.config.get("DOCUMENT_RENDER_TIMEOUT") or DEFAULT_TIMEOUT)
    if len(items) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        return [write_pdf([render_document(html, uploads) for html, uploads in items]).pdf]
    half = len(items) // 2
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_child, args=(sender, current_app.static_folder, seconds, items[half:]), daemon=True)
    child.start()
    sender.close()
    try:
        first = write_pdf([render_document(html, uploads) for html, uploads in items[:half]]).pdf
        second = None
        if receiver.poll(seconds * (len(items) - half) + 5):
            data = receiver.recv_bytes()
            if data.startswith(b"ERROR "):
                log.warning("batch child failed: %s", data[6:].decode(errors="replace"))
            else:
                second = data
        else:
            log.warning("batch child gave no result in time; rendering its part here")
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if second is None:
        second = write_pdf([render_document(html, uploads) for html, uploads in items[half:]]).pdf
    return [first, second]
