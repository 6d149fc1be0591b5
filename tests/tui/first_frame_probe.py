"""Run the chat headless and report what was imported when its first frame was painted.

    python tests/tui/first_frame_probe.py [CONFIG]                      ->  one JSON line on stdout
    python tests/tui/first_frame_probe.py --open DATABASE CONVERSATION  ->  also when its messages were painted

With --open the app opens that stored conversation as `flashchat --cid` does; the report adds
`painted_monotonic` (the first frame that shows a reply) and `peak_rss_mb` (the process's own VmHWM).

Used by test_startup.py (google.genai must not be imported before the first frame) and by bench/tui.py
(time to first frame). `first_frame_monotonic` is time.monotonic(), one clock for all processes on Linux.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.monotonic()

from textual.app import App  # noqa: E402

from flashchat.config.settings import Settings  # noqa: E402
from flashchat.tui.app import FlashchatApp  # noqa: E402

HEAVY_MODULES = ("google.genai", "flashchat.providers.gemini", "flashchat.store.conversation_store", "httpx2")
report: dict[str, object] = {"started_monotonic": started}
original_display = App._display


def display(self: App, screen, renderable) -> None:
    if "first_frame_monotonic" not in report and renderable is not None:
        report["first_frame_monotonic"] = time.monotonic()
        report["imported_at_first_frame"] = [name for name in HEAVY_MODULES if name in sys.modules]
    if "painted_monotonic" not in report and renderable is not None and self.query("ReplyView"):
        report["painted_monotonic"] = time.monotonic()
    original_display(self, screen, renderable)


App._display = display  # type: ignore[method-assign]


async def wait_for_warm_up(pilot) -> None:
    deadline = time.monotonic() + 20
    while "google.genai" not in sys.modules and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.app.workers.wait_for_complete()
    report["imported_after_warm_up"] = [name for name in HEAVY_MODULES if name in sys.modules]
    pilot.app.exit()


async def wait_for_paint(pilot) -> None:
    deadline = time.monotonic() + 60
    while "painted_monotonic" not in report and time.monotonic() < deadline:
        await pilot.pause(0.005)
    pilot.app.exit()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


if __name__ == "__main__":
    settings = Settings(api_key="probe-key", base_url="http://127.0.0.1:9")
    if sys.argv[1:2] == ["--open"]:
        database, conversation_id = Path(sys.argv[2]), sys.argv[3]

        def open_database():  # as run_tui does: the store module is imported once the first frame is up
            from flashchat.store.conversation_store import open_store

            return open_store(database)

        app = FlashchatApp(
            settings,
            config_path=database.with_name("config.toml"),
            open_store=open_database,
            conversation_id=conversation_id,
            warm_up=False,
        )
        app.run(headless=True, size=(120, 40), auto_pilot=wait_for_paint)
        report["peak_rss_mb"] = peak_rss_mb()
    else:
        config = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/nonexistent/config.toml")
        app = FlashchatApp(settings, config_path=config)
        app.run(headless=True, size=(100, 30), auto_pilot=wait_for_warm_up)
    print(json.dumps(report))
