"""Startup: the first frame is painted before google.genai (0.4 s of imports) is loaded."""

from __future__ import annotations

import json
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
