"""The other engines, behind one small interface for tests/test_engines_browser.py.

    firefox         Debian's Firefox ESR over WebDriver BiDi (puppeteer-core 24,
                    tests/node/firefox_driver.mjs): real input, the console of
                    every frame
    webkit          WebKitGTK's MiniBrowser through WebKitWebDriver (Selenium):
                    real input, frames; no console (WebKitWebDriver has none)
    webkit-console  a WebKitGTK WebView through python3-gi that writes its
                    console to stdout (tests/drivers/webkit_console.py): the
                    console of every frame; script clicks, no frame access

A Driver: goto(url), eval(js, frame=None), wait(js, frame=None, timeout_ms),
click(selector, frame=None), type(selector, text), errors() -> console errors
since the last call (None where the engine cannot tell), new_page(), close().
`js` is an expression; `frame` the id of an iframe of the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

REPO_ROOT = Path(__file__).resolve().parent.parent
FIREFOX = os.environ.get("FIREFOX", "/usr/bin/firefox-esr")
WEBKIT_DIR = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1")
MINIBROWSER = WEBKIT_DIR / "MiniBrowser"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
# Debian's python3-gi lives with Debian's python3, not in the project's venv.
SYSTEM_PYTHON = "/usr/bin/python3"
START_TIMEOUT_S = 60


class DriverError(AssertionError):
    """A command the engine could not carry out (the test fails with its message)."""


class Driver(Protocol):
    name: str
    version: str
    frames: bool  # can reach into an iframe (eval/click with frame=)

    def goto(self, url: str) -> str: ...
    def eval(self, js: str, frame: str | None = None): ...
    def wait(self, js: str, frame: str | None = None, timeout_ms: int = 10_000) -> None: ...
    def click(self, selector: str, frame: str | None = None) -> None: ...
    def type(self, selector: str, text: str) -> None: ...
    def errors(self) -> list[str] | None: ...
    def new_page(self) -> None: ...
    def close(self) -> None: ...


class LineDriver:
    """A driver process that takes one JSON command a line and answers one a line."""

    def __init__(self, name: str, args: list[str], *, frames: bool, env=None) -> None:
        self.name, self.frames = name, frames
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        self.version = self._answer()

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise DriverError(f"{self.name}: the driver stopped (exit {self.proc.poll()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise DriverError(f"{self.name}: {answer['error']}")
        return answer["value"]

    def call(self, op: str, **args):
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def goto(self, url: str) -> str:
        return self.call("goto", url=url)

    def eval(self, js: str, frame: str | None = None):
        return self.call("eval", js=js, frame=frame)

    def wait(self, js: str, frame: str | None = None, timeout_ms: int = 10_000) -> None:
        self.call("wait", js=js, frame=frame, timeout=timeout_ms)

    def click(self, selector: str, frame: str | None = None) -> None:
        self.call("click", selector=selector, frame=frame)

    def type(self, selector: str, text: str) -> None:
        self.call("type", selector=selector, text=text)

    def errors(self) -> list[str]:
        return self.call("errors")

    def new_page(self) -> None:
        self.call("new_page")

    def close(self) -> None:
        with contextlib.suppress(DriverError, BrokenPipeError, OSError):
            self.call("close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class SeleniumWebKit:
    """MiniBrowser under WebKitWebDriver: WebDriver clicks and keys, frames by id."""

    name, frames = "webkit", True

    def __init__(self, env: dict[str, str]) -> None:
        from selenium import webdriver  # noqa: PLC0415 (only these tests need it)
        from selenium.webdriver.webkitgtk.options import Options  # noqa: PLC0415
        from selenium.webdriver.webkitgtk.service import Service  # noqa: PLC0415

        options = Options()
        options.binary_location = str(MINIBROWSER)
        options.add_argument("--automation")
        service = Service(executable_path=WEBKIT_DRIVER, env=env)
        self.driver = webdriver.WebKitGTK(options=options, service=service)
        self.driver.set_window_size(1280, 1024)  # the desktop layout, as in the others
        self.version = f"webkitgtk/{self.driver.capabilities.get('browserVersion')}"

    def _in(self, frame: str | None, action: Callable):
        from selenium.common.exceptions import WebDriverException  # noqa: PLC0415
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        try:
            if frame:
                self.driver.switch_to.frame(self.driver.find_element(By.ID, frame))
            return action(By)
        except WebDriverException as e:
            raise DriverError(f"webkit: {e.msg or type(e).__name__}") from None
        finally:
            if frame:
                self.driver.switch_to.default_content()

    def goto(self, url: str) -> str:
        self.driver.get(url)
        return self.driver.current_url

    def eval(self, js: str, frame: str | None = None):
        return self._in(frame, lambda _by: self.driver.execute_script(f"return ({js});"))

    def wait(self, js: str, frame: str | None = None, timeout_ms: int = 10_000) -> None:
        from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

        def until(_by):
            WebDriverWait(self.driver, timeout_ms / 1000, poll_frequency=0.1).until(
                lambda d: d.execute_script(f"return !!({js});"), f"waiting for {js}"
            )

        self._in(frame, until)

    def click(self, selector: str, frame: str | None = None) -> None:
        from selenium.webdriver.common.action_chains import ActionChains  # noqa: PLC0415

        def act(by):
            element = self.driver.find_element(by.CSS_SELECTOR, selector)
            # WebDriver scrolls an element to the top edge, under the sticky header;
            # and WebKitWebDriver's element click refuses the footer's links as
            # covered. A pointer press at the element's centre is what a reader does.
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            ActionChains(self.driver).move_to_element(element).click().perform()

        self._in(frame, act)

    def type(self, selector: str, text: str) -> None:
        self._in(
            None, lambda by: self.driver.find_element(by.CSS_SELECTOR, selector).send_keys(text)
        )

    def errors(self) -> None:
        return None  # WebKitWebDriver does not expose the console: see webkit-console

    def new_page(self) -> None:
        self.driver.get("about:blank")

    def close(self) -> None:
        self.driver.quit()


def missing(name: str) -> str | None:
    """Why an engine cannot start here (what to install), or None."""
    needs = {
        "firefox": [FIREFOX, str(REPO_ROOT / "node_modules/puppeteer-core/package.json")],
        "webkit": [str(MINIBROWSER), WEBKIT_DRIVER],
        "webkit-console": [SYSTEM_PYTHON, str(MINIBROWSER)],
    }[name]
    absent = [path for path in needs if not Path(path).exists()]
    return f"{name}: missing {', '.join(absent)}: run `make engines`" if absent else None


def start(name: str, display_env: dict[str, str]) -> Driver:
    """Start one engine (display_env: the environment with an X display for WebKit)."""
    if name == "firefox":
        node = shutil.which("node") or "node"
        script = str(REPO_ROOT / "tests/node/firefox_driver.mjs")
        return LineDriver(name, [node, script, FIREFOX], frames=True)
    if name == "webkit":
        return SeleniumWebKit(display_env)
    if name == "webkit-console":
        script = str(REPO_ROOT / "tests/drivers/webkit_console.py")
        return LineDriver(name, [SYSTEM_PYTHON, script], frames=False, env=display_env)
    raise ValueError(f"unknown engine {name!r}")


if __name__ == "__main__":  # a smoke check by hand: python tests/engines.py NAME URL
    driver = start(sys.argv[1], dict(os.environ))
    print(driver.version, driver.goto(sys.argv[2]), driver.eval("document.title"), driver.errors())
    driver.close()
