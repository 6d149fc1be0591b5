"""Real recorded Gemini API traffic, copied from ../shared/wire into tests/wire so the tests need nothing
outside the checkout. Six recordings over 200 KB (image and video uploads) were left out."""

from __future__ import annotations

import json
from pathlib import Path

WIRE = Path(__file__).parent / "wire"
SHARED_WIRE = Path(__file__).resolve().parents[2] / "shared" / "wire"
MAX_COPIED_BYTES = 200 * 1024

RECORDINGS = sorted(WIRE.glob("*/*.json"))
SSE_RECORDINGS = [p for p in RECORDINGS if json.loads(p.read_text())["request"]["query"].get("alt") == "sse"]
