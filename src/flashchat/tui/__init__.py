"""The full-screen Textual chat. Import `flashchat.tui.app.run_tui`; nothing here imports google.genai."""

import os

# Textual repaints at most TEXTUAL_FPS times a second (60 by default), so a key pressed just after a frame
# waited up to 17 ms before its echo could be drawn. At 240 the wait is at most 4 ms, and nothing repaints
# more often than something changes: keystroke echo p95 while a reply streams at 400 tokens/s went from
# about 50 to 36 ms, at the same CPU share (bench/tui.py, paced run). Textual reads it once, when it is first
# imported, so this package must be imported first; a value the user set wins.
os.environ.setdefault("TEXTUAL_FPS", "240")
