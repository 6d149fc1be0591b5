"""Whether the terminal turns OSC 8 escape sequences into links (rich writes them for Markdown links).

A terminal that does not know OSC 8 drops it and shows only the link's label, so the address would be lost;
there rich is told to write `label (address)` instead. Known terminals are recognised by the variables they
set; `FORCE_HYPERLINK=1` / `0` overrides (the convention of the supports-hyperlinks package).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "vscode", "ghostty", "Hyper", "Tabby", "rio"})
_TERMS = ("xterm-kitty", "xterm-ghostty", "foot", "wezterm", "alacritty", "contour")
VTE_WITH_HYPERLINKS = 5000  # GNOME Terminal and other VTE terminals since 0.50


def terminal_supports_hyperlinks(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    forced = env.get("FORCE_HYPERLINK")
    if forced is not None:
        return forced.strip() not in ("0", "", "false")
    if env.get("TERM_PROGRAM") in _PROGRAMS or "KITTY_WINDOW_ID" in env or "WT_SESSION" in env:
        return True
    if "KONSOLE_VERSION" in env or "DOMTERM" in env:
        return True
    vte = env.get("VTE_VERSION", "")
    if vte.isdigit() and int(vte) >= VTE_WITH_HYPERLINKS:
        return True
    return env.get("TERM", "").startswith(_TERMS)
