"""Startup: the first frame is painted before google.genai (0.4 s of imports) is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).with_name("first_frame_probe.py")


def test_first_frame_is_painted_before_google_genai_is_imported(isolated_home: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(PROBE), str(isolated_home / "config.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["imported_at_first_frame"] == []
    # ...and the provider is imported right after, in a thread, so the first send does not wait for it.
    assert "google.genai" in report["imported_after_warm_up"]


def test_the_chat_repaints_up_to_240_times_a_second_unless_the_user_says_otherwise() -> None:
    """A key's echo waits for the next frame; Textual's default of 60 a second made that wait up to 17 ms."""
    probe = "import flashchat.tui.app, textual.constants as c; print(c.MAX_FPS)"
    environment = {key: value for key, value in os.environ.items() if key != "TEXTUAL_FPS"}

    def frame_rate(env: dict[str, str]) -> str:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout

    assert frame_rate(environment).strip() == "240"
    assert frame_rate({**environment, "TEXTUAL_FPS": "30"}).strip() == "30"
