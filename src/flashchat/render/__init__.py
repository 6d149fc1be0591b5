"""The terminal boundary: every string that reaches a terminal passes through `render.safe_text`; streaming
Markdown splitting, transcripts and number formats live here too. No UI toolkit (rich only renders)."""
