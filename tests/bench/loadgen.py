"""A small closed-loop HTTP load generator for the load benchmark (no third-party package).

Each concurrent client is its own process (no GIL shared between clients, so one client's parsing
does not delay another's timestamps) running `http.client` requests back to back on loopback:
a new request as soon as the previous answer has been read in full. gunicorn's sync workers close
the connection after every answer, so every request opens a fresh TCP connection, as a browser
behind the reverse proxy would not; on loopback that costs well under a millisecond.
"""
import http.client
import multiprocessing
import re
import signal
import time
import urllib.parse
from dataclasses import dataclass, field

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


class Session:
    """Cookies of one signed-in browser, kept by hand (only the session cookie matters here)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            all_headers = {"Cookie": self.header(), "Accept-Language": "zh"} if self.cookies else {}
            all_headers.update(headers or {})
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if "expires=Thu, 01 Jan 1970" in value or cookie_value == "":
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = cookie_value
            return response.status, data, response.getheaders()
        finally:
            conn.close()

    def login(self, username: str, password: str) -> None:
        status, body, _ = self.request("GET", "/login")
        match = CSRF.search(body.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise RuntimeError(f"login page: HTTP {status}, csrf token found: {bool(match)}")
        token = match.group(1) or match.group(2)
        form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password, "next": ""})
        status, body, headers = self.request(
            "POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 303:
            raise RuntimeError(f"login of {username}: HTTP {status} (expected 303)")


@dataclass
class Result:
    """What one client measured: latency of every request, status counts, error examples."""

    latencies: list[float] = field(default_factory=list)  # seconds, successful (200) requests only
    error_latencies: list[float] = field(default_factory=list)
    statuses: dict = field(default_factory=dict)  # status (or exception name) -> count
    started: float = 0.0
    finished: float = 0.0

    def merge(self, other: "Result") -> None:
        self.latencies += other.latencies
        self.error_latencies += other.error_latencies
        for key, count in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + count
        self.started = min(self.started or other.started, other.started)
        self.finished = max(self.finished, other.finished)

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.error_latencies)

    @property
    def errors(self) -> int:
        return len(self.error_latencies)

    @property
    def rate(self) -> float:
        elapsed = self.finished - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile over all requests (errors included), in ms."""
        values = sorted(self.latencies + self.error_latencies)
        if not values:
            return float("nan")
        rank = max(1, min(len(values), int(-(-p * len(values) // 100))))
        return values[rank - 1] * 1000


def _send(host: str, port: int, method: str, path: str, headers: dict, body: str | None = None) -> object:
    """One request on a fresh connection, the answer read in full: its status, or the exception's name."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status
    except Exception as error:  # noqa: BLE001 - counted and reported as an error
        return type(error).__name__


def _client(args) -> Result:
    host, port, cookies, paths, start_at, seconds = args
    session = Session(host, port)
    session.cookies = dict(cookies)
    cookie = session.header()
    headers = {"Cookie": cookie, "Accept-Language": "zh"} if cookie else {}
    result = Result()
    while time.time() < start_at:
        time.sleep(0.001)
    result.started = time.perf_counter()
    end = result.started + seconds
    i = 0
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        path = paths[i % len(paths)]
        i += 1
        status = _send(host, port, "GET", path, headers)
        took = time.perf_counter() - now
        (result.latencies if status == 200 else result.error_latencies).append(took)
        key = status if status == 200 else f"{status} {path}"
        result.statuses[key] = result.statuses.get(key, 0) + 1
    result.finished = time.perf_counter()
    return result


def _writer(args) -> Result:
    """One signed-in user posting `body` to `path` every `interval` seconds for `seconds` (a 303 is success)."""
    host, port, cookies, path, body, interval, seconds = args
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Accept-Language": "zh",
               "Content-Type": "application/x-www-form-urlencoded"}
    result = Result()
    result.started = time.perf_counter()
    end = result.started + seconds
    next_at = result.started
    while next_at < end:
        time.sleep(max(0.0, next_at - time.perf_counter()))
        now = time.perf_counter()
        status = _send(host, port, "POST", path, headers, body)
        took = time.perf_counter() - now
        (result.latencies if status == 303 else result.error_latencies).append(took)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        next_at += interval
    result.finished = time.perf_counter()
    return result


def start_writer(host: str, port: int, cookies: dict, path: str, body: str, interval: float, seconds: float, pool):
    """_writer in one of the pool's processes, at once; `.get()` on the returned handle gives its Result."""
    return pool.apply_async(_writer, ((host, port, cookies, path, body, interval, seconds),))


def drive(host: str, port: int, clients: list[tuple[dict, list[str]]], seconds: float, pool) -> Result:
    """Run every client (cookies, paths to cycle through) for `seconds` at once; merged result."""
    start_at = time.time() + 0.3
    jobs = [(host, port, cookies, paths, start_at, seconds) for cookies, paths in clients]
    total = Result()
    for part in pool.map(_client, jobs, chunksize=1):
        total.merge(part)
    return total


def _quiet_child() -> None:
    """Ctrl-C and SIGTERM are for the parent, which stops the pool and gunicorn itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def make_pool(size: int):
    return multiprocessing.get_context("fork").Pool(size, initializer=_quiet_child)
