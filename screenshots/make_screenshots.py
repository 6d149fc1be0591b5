"""Regenerate screenshots/*.svg (and *.png where cairosvg is installed) from the fake Gemini server.

    python screenshots/make_screenshots.py

Every picture is the real app, headless, talking to the fake over HTTP; nothing here reaches Google and no
real key is involved. PNGs need `pip install cairosvg` (and the system's libcairo2).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp

HERE = Path(__file__).resolve().parent
SIZE = (110, 36)

QUESTION = "How do I read a large CSV in Python without loading it all into memory?"
THOUGHTS = "**Weighing the options**\n\nThe csv module streams rows; pandas can read in chunks. Show both."
ANSWER = """\
Stream it: `csv.reader` yields one row at a time, so memory stays flat however big the file is.

```python
import csv
from pathlib import Path

def rows(path: Path):
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)

total = sum(float(row["amount"]) for row in rows(Path("sales.csv")))
```

| approach | memory | when |
| --- | --- | --- |
| `csv.DictReader` | one row | plain iteration |
| `pandas.read_csv(chunksize=…)` | one chunk | vectorised maths |

- Pass `newline=""`: the csv module handles line endings itself.
- For numbers, convert per row; do not build a list first.
"""
USAGE = {"prompt": 18_432, "candidates": 212, "thoughts": 96, "cached": 16_384}


async def wait_for_reply(pilot: Pilot) -> None:
    while pilot.app.replying:
        await pilot.pause(0.02)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def ask(pilot: Pilot, text: str) -> None:
    pilot.app.composer.load_text(text)
    await pilot.press("enter")
    await wait_for_reply(pilot)


async def shoot(name: str, settings: Settings, steps: Callable[[Pilot], Awaitable[None]], **options) -> Path:
    home = Path(tempfile.mkdtemp())
    app = FlashchatApp(settings, config_path=home / "config.toml", warm_up=False, **options)
    async with app.run_test(size=SIZE) as pilot:
        app.composer.cursor_blink = False
        await pilot.pause()
        await steps(pilot)
        await pilot.pause(0.2)
        svg = HERE / f"{name}.svg"
        svg.write_text(app.export_screenshot(title=f"flashchat · {name}"), encoding="utf-8")
    return svg


# The SVG asks for "Fira Code, monospace", which a browser resolves; cairosvg takes the whole list as one family
# name, finds no such font and falls back to a proportional one, so text drifts off Textual's character grid
# while the backgrounds of inline code and the table rules stay on it: the spacing looked broken. The PNGs name
# one installed monospace font instead, spaced so that each glyph fills one of the SVG's cells: Textual lays out
# 0.61 em a cell, and cairo draws DejaVu Sans Mono at a whole-pixel advance (12 px at 20 px; a fractional font
# size is rounded away, so the gap is made up with letter-spacing).
PNG_FONT = os.environ.get("FLASHCHAT_SCREENSHOT_FONT", "DejaVu Sans Mono")
PNG_FONT_ADVANCE_EM = float(os.environ.get("FLASHCHAT_SCREENSHOT_FONT_ADVANCE", "0.602"))
TEXTUAL_CELL_EM = 0.61


def png_ready(svg_text: str) -> str:
    """The SVG with the terminal text in `PNG_FONT`, each glyph as wide as one Textual cell."""
    matrix = re.search(r"font-family: Fira Code, monospace;\s*font-size: ([\d.]+)px;", svg_text)
    if matrix is None:
        return svg_text
    size = float(matrix[1])
    spacing = size * TEXTUAL_CELL_EM - round(size * PNG_FONT_ADVANCE_EM)
    font = f'font-family: "{PNG_FONT}";\n        font-size: {size:g}px;\n        letter-spacing: {spacing:.2f}px;'
    return svg_text[: matrix.start()] + font + svg_text[matrix.end() :]


def to_png(svg: Path) -> None:
    try:
        import cairosvg
    except ImportError:
        return
    png_svg = png_ready(svg.read_text(encoding="utf-8"))
    cairosvg.svg2png(bytestring=png_svg.encode("utf-8"), write_to=str(svg.with_suffix(".png")), output_width=1600)


async def main() -> None:
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp())
    with FakeGemini() as fake:
        settings = Settings(api_key=fake.api_key, base_url=fake.url, show_thoughts=True)

        async def chat(pilot: Pilot) -> None:
            fake.enqueue(Reply.text(ANSWER, thoughts=THOUGHTS, chunk_chars=12, usage=USAGE))
            await ask(pilot, QUESTION)

        async def usage(pilot: Pilot) -> None:
            await chat(pilot)
            await pilot.press("ctrl+u")

        async def levels(pilot: Pilot) -> None:
            await chat(pilot)
            await pilot.press("ctrl+p", *"thinking level")
            await pilot.pause(0.3)

        async def rate_limited(pilot: Pilot) -> None:
            fake.enqueue(Reply.rate_limited(retry_delay="30s"))
            pilot.app.composer.load_text("Summarise the release notes")
            await pilot.press("enter")
            while not pilot.app.query("ErrorNotice"):
                await pilot.pause(0.02)

        async def setup(pilot: Pilot) -> None:
            await pilot.pause(0.1)

        async def history(pilot: Pilot) -> None:
            for question in ("Plan a three-day trip to Lisbon", "Explain Rust lifetimes with an example"):
                await ask(pilot, question)
                await pilot.press("ctrl+n")
            await chat(pilot)
            await pilot.press("ctrl+b")

        shots = [
            await shoot("chat", settings, chat),
            await shoot("usage", settings, usage),
            await shoot("levels", settings, levels),
            await shoot("rate-limited", settings, rate_limited),
            await shoot("setup", Settings(api_key=""), setup),
        ]
        from flashchat.store.conversation_store import open_store

        store = open_store(Path(tempfile.mkdtemp()) / "history.db")
        shots.append(await shoot("history", settings, history, store=store))
        store.close()
    for svg in shots:
        to_png(svg)
        print(svg.relative_to(HERE.parent), file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
