"""A WebKitGTK WebView that writes its console out, driven like
tests/node/firefox_driver.mjs: one JSON command a line on stdin, one JSON
answer a line on stdout. WebKitWebDriver does not expose the console; this
WebView does (enable-write-console-messages-to-stdout, to its stderr), for the same engine
and version as Selenium's MiniBrowser.

    /usr/bin/python3 tests/drivers/webkit_console.py      (Debian's python3-gi)

Commands: goto {url} | eval {js} | wait {js, timeout} | click {selector} |
type {selector, text} | errors | new_page | close. `click` and `type` are
script events (element.click(), an input event): real pointer and key events
are Selenium's part (tests/engines.py). No frame access: the console of every
frame is written all the same. "errors" gives (and forgets) the console lines
of level error since the last call, CSP violations included.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402 (after require_version)

# "CONSOLE ERROR", "CONSOLE SECURITY ERROR" (CSP), "CONSOLE JS ERROR" ...
ERROR_LINE = re.compile(r"CONSOLE (?:\w+ )?ERROR")
MARK = "@@webkit-console-mark"

# The WebProcess writes the console to the stderr it inherits (whatever the
# setting's name says): make that a pipe read here; the rest goes on to stderr.
answers = os.fdopen(os.dup(1), "w", buffering=1)
stderr = os.fdopen(os.dup(2), "w", buffering=1)
read_end, write_end = os.pipe()
os.dup2(write_end, 2)
os.close(write_end)
lines: list[str] = []
lines_lock = threading.Condition()


def read_console() -> None:
    with os.fdopen(read_end, errors="replace") as pipe:
        for line in pipe:
            if "CONSOLE " not in line:
                stderr.write(line)
                continue
            with lines_lock:
                lines.append(line.rstrip("\n"))
                lines_lock.notify_all()


threading.Thread(target=read_console, daemon=True).start()

window = Gtk.OffscreenWindow()
window.set_default_size(1280, 1024)
view = None


def new_view() -> None:
    global view  # noqa: PLW0603 (the one view of this process)
    if view is not None:
        window.remove(view)
        view.destroy()
    view = WebKit2.WebView()
    view.get_settings().set_enable_write_console_messages_to_stdout(True)
    window.add(view)
    window.show_all()


def reply(ok: bool, value=None) -> None:
    answers.write(json.dumps({"ok": ok, "value" if ok else "error": value}) + "\n")


def evaluate(js: str, done) -> None:
    """done(ok, value): the expression's value, through JSON."""

    def finished(source, result):
        try:
            value = source.evaluate_javascript_finish(result)
            done(True, json.loads(value.to_string()) if not value.is_undefined() else None)
        except GLib.Error as e:
            done(False, e.message)

    view.evaluate_javascript(f"JSON.stringify(({js}))", -1, None, None, None, finished)


def op_goto(cmd, done):
    handlers = []

    def changed(_view, event):
        if event == WebKit2.LoadEvent.FINISHED:
            for h in handlers:
                view.disconnect(h)
            done(True, view.get_uri())

    def failed(_view, _event, uri, error):
        for h in handlers:
            view.disconnect(h)
        done(False, f"{uri}: {error.message}")
        return True

    handlers += [view.connect("load-changed", changed), view.connect("load-failed", failed)]
    view.load_uri(cmd["url"])


def op_wait(cmd, done):
    deadline = time.monotonic() + cmd.get("timeout", 10_000) / 1000

    def poll():
        def check(ok, value):
            if ok and value:
                done(True, None)
            elif time.monotonic() > deadline:
                done(False, f"timed out waiting for {cmd['js']}" + ("" if ok else f": {value}"))
            else:
                GLib.timeout_add(100, poll)

        evaluate(cmd["js"], check)
        return False

    poll()


def op_click(cmd, done):
    sel = json.dumps(cmd["selector"])
    evaluate(f"(() => {{ document.querySelector({sel}).click(); return true; }})()", done)


def op_type(cmd, done):
    sel, text = json.dumps(cmd["selector"]), json.dumps(cmd["text"])
    evaluate(
        f"""(() => {{ const el = document.querySelector({sel}); el.focus(); el.value = {text};
        el.dispatchEvent(new Event("input", {{bubbles: true}}));
        el.dispatchEvent(new KeyboardEvent("keyup", {{bubbles: true}})); return true; }})()""",
        done,
    )


def op_errors(_cmd, done):
    mark = f"{MARK} {time.monotonic_ns()}"

    def marked(_ok, _value):
        # The page's process writes the mark after every message before it.
        with lines_lock:
            lines_lock.wait_for(lambda: any(mark in line for line in lines), timeout=2)
            seen = [line for line in lines if ERROR_LINE.search(line)]
            lines.clear()
        done(True, seen)

    evaluate(f"console.log({json.dumps(mark)})", marked)


def op_new_page(_cmd, done):
    new_view()
    done(True, None)


def op_close(_cmd, done):
    done(True, None)
    Gtk.main_quit()


OPS = {
    "goto": op_goto,
    "eval": lambda cmd, done: evaluate(cmd["js"], done),
    "wait": op_wait,
    "click": op_click,
    "type": op_type,
    "errors": op_errors,
    "new_page": op_new_page,
    "close": op_close,
}


def handle(line: str) -> bool:
    try:
        cmd = json.loads(line)
        if cmd.get("frame"):
            raise ValueError("this WebView cannot reach into frames")
        OPS[cmd["op"]](cmd, reply)
    except (KeyError, ValueError, TypeError) as e:
        reply(False, f"{type(e).__name__}: {e}")
    return False


def read_commands() -> None:
    for line in sys.stdin:
        GLib.idle_add(handle, line)
    GLib.idle_add(Gtk.main_quit)


new_view()
version = ".".join(
    str(n)
    for n in (
        WebKit2.get_major_version(),
        WebKit2.get_minor_version(),
        WebKit2.get_micro_version(),
    )
)
reply(True, f"webkitgtk/{version}")
threading.Thread(target=read_commands, daemon=True).start()
Gtk.main()
