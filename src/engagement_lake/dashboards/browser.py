"""Headless Chromium over the DevTools protocol, to check what a dashboard page shows.

A page can build without error and still draw nothing (a spec Vega rejects, a script that
fails), or quietly reach for the network. This opens each page in a real browser and reports
what a person would see: the marks each chart drew, every request the page made, and a
screenshot. Chromium is driven through ``--remote-debugging-pipe`` (DevTools messages on file
descriptors 3 and 4, each ended by a NUL byte), so no websocket client or browser driver package
is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
"""Request schemes that never leave the machine; any other request is a network request."""
WINDOW = (1400, 1000)
PAGE_TIMEOUT_SECONDS = 60.0

_MARKS_JS = """
(() => {
  const counts = {};
  for (const id of Object.keys(window.dashboardViews || {})) {
    counts[id] = document.querySelectorAll('#vis-' + id + ' g.role-mark > *').length;
  }
  return {ready: window.dashboardReady === true, error: window.dashboardError || null,
          charts: Array.from(document.querySelectorAll('div.vis')).map(d => d.id.slice(4)),
          marks: counts};
})()
"""
"""Per chart, the SVG items Vega drew for its data marks (``g.role-mark`` children; axes, legends
and titles have other roles), and every chart container on the page."""

_COLOURS_JS = """
(async () => {
  const image = new Image();
  image.src = 'data:image/png;base64,%s';
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length && seen.size < 1000; i += 4 * 97) {
    seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return seen.size;
})()
"""
"""Distinct colours in a PNG (sampled, up to 1000), decoded by the browser's own canvas."""


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or a page did not answer in time."""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageCheck:
    url: str
    charts: list[str]
    """The chart containers on the page."""
    marks: dict[str, int]
    """Data marks drawn per chart."""
    requests: list[str]
    """Every URL the page requested, in order."""
    error: str | None
    screenshot: Path | None = None
    colours: int = 0
    """Distinct colours sampled from the screenshot (1 means a blank page)."""
    seconds: float = 0.0
    console_errors: list[str] = field(default_factory=list)

    @property
    def network_requests(self) -> list[str]:
        """Requests that would leave the machine."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


class Chromium:
    """One headless Chromium and its DevTools pipe; use ``launch``."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self._process = process
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    # -- protocol
    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self._out, data)
            data = data[written:]
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise BrowserError(f"Chromium exited (code {self._process.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = PAGE_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Send one command and wait for its answer, keeping the events that arrive meanwhile."""
        ident = self._send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for(self, method: str, session: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self._events.pop(i)
            message = self._receive(deadline)
            if "method" in message:
                self._events.append(message)

    def take_events(self, session: str) -> list[dict[str, Any]]:
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return mine

    def evaluate(self, session: str, expression: str, timeout: float = 30.0) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=session,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"page script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    # -- pages
    def check_page(
        self,
        page: Path,
        *,
        screenshot: Path | None = None,
        scale: float = 1.0,
        timeout: float = PAGE_TIMEOUT_SECONDS,
    ) -> PageCheck:
        """Open ``page``, wait until its charts are drawn, and report what it shows."""
        started = time.monotonic()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            for domain in ("Network", "Page", "Runtime"):
                self.call(f"{domain}.enable", session=session)
            width, height = WINDOW
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            url = Path(page).resolve().as_uri()
            self.call("Page.navigate", {"url": url}, session=session)
            self.wait_for("Page.loadEventFired", session, timeout)
            deadline = time.monotonic() + timeout
            state = self.evaluate(session, _MARKS_JS)
            while not state["ready"] and not state["error"] and state["charts"]:
                if time.monotonic() > deadline:
                    raise BrowserError(f"{page.name}: charts not drawn in {timeout:.0f} s")
                time.sleep(0.1)
                state = self.evaluate(session, _MARKS_JS)
            check = PageCheck(url, state["charts"], state["marks"], [], state["error"])
            for event in self.take_events(session):  # before our own check loads a data: URL
                if event["method"] == "Network.requestWillBeSent":
                    check.requests.append(event["params"]["request"]["url"][:200])
                elif event["method"] == "Runtime.exceptionThrown":
                    details = event["params"]["exceptionDetails"]
                    check.console_errors.append(str(details.get("text")))
            if screenshot is not None:
                size = self.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
                shot = self.call(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {
                            "x": 0,
                            "y": 0,
                            "width": size["width"],
                            "height": size["height"],
                            "scale": scale,
                        },
                    },
                    session=session,
                )["data"]
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot))
                check.screenshot = screenshot
                check.colours = int(self.evaluate(session, _COLOURS_JS % shot))
                self.take_events(session)
            check.seconds = time.monotonic() - started
            return check
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        with suppress(BrowserError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._out, self._in):
            os.close(fd)


@contextmanager
def launch(executable: str | None = None) -> Iterator[Chromium]:
    """A headless Chromium with a throw-away profile, closed on exit.

    Background networking (updates, safe browsing, metrics) is off, so any request seen is the
    page's own. ``--no-sandbox`` because CI runs as root, where Chromium's sandbox refuses to
    start.
    """
    executable = executable or find_chromium()
    if executable is None:
        raise BrowserError("Chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="engagement-lake-chromium-")
    to_read, to_write = os.pipe()  # we write, Chromium reads on fd 3
    from_read, from_write = os.pipe()  # Chromium writes on fd 4, we read

    def _child_fds() -> None:
        high_in = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10)
        high_out = fcntl.fcntl(from_write, fcntl.F_DUPFD, 10)
        os.dup2(high_in, 3)
        os.dup2(high_out, 4)

    args = [
        executable,
        "--headless",
        "--remote-debugging-pipe",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--disable-extensions",
        "--metrics-recording-only",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "about:blank",
    ]
    process = subprocess.Popen(  # a fixed argument list, no shell
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_child_fds,  # fds 3 and 4 are set before exec
        pass_fds=(3, 4),
    )
    os.close(to_read)
    os.close(from_write)
    browser = Chromium(process, to_write, from_read)
    try:
        browser.call("Browser.getVersion", timeout=30)
        yield browser
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)
