"""Keystroke echo latency across the stream, per client, as an SVG (standard library only).

    python bench/plot_echo.py bench/results/compare.json [out.svg]

Reads what `bench/compare.py --out DIR` wrote (compare.json; it also draws this plot itself) and draws one
panel per streaming rate: x is the time in the stream when the key was typed, y the time until the client
echoed it, on a log scale. Every run's samples are drawn; a hollow circle is a key not echoed within 5 s (drawn at
the time it waited); the dashed line is the 16 ms target (one frame at 60 Hz).
"""

from __future__ import annotations

import json
import math
import sys
from html import escape
from pathlib import Path
from typing import Any

COLOURS = {
    "flashchat": "#1f77b4",
    "textual": "#ff7f0e",
    "floor": "#7f7f7f",
    "elia": "#2ca02c",
    "oterm": "#d62728",
}
PANEL_WIDTH, PANEL_HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 40, 45
LOW_MS, HIGH_MS = 0.01, 100_000.0
TARGET_MS = 16.0


def _y(ms: float) -> float:
    span = math.log10(HIGH_MS) - math.log10(LOW_MS)
    clamped = min(max(ms, LOW_MS), HIGH_MS)
    return TOP + PANEL_HEIGHT * (1 - (math.log10(clamped) - math.log10(LOW_MS)) / span)


def _panel(rate: str, by_client: dict[str, list[dict[str, Any]]], x0: float) -> list[str]:
    samples = {name: [s for run in runs for s in run.get("echo_samples", [])] for name, runs in by_client.items()}
    unanswered = {name: [s for run in runs for s in run.get("echo_unanswered", [])] for name, runs in by_client.items()}
    everything = [point for points in [*samples.values(), *unanswered.values()] for point in points]
    longest = max((at for at, _ in everything), default=1.0) or 1.0
    x_max = 10 ** math.ceil(math.log10(longest)) if longest > 0 else 1
    x_max = next(step * x_max / 10 for step in (1, 2, 5, 10) if step * x_max / 10 >= longest)

    def x(at: float) -> float:
        return x0 + LEFT + PANEL_WIDTH * at / x_max

    out = [
        f'<text x="{x0 + LEFT + PANEL_WIDTH / 2}" y="{TOP - 15}" text-anchor="middle" font-weight="bold">'
        f"{escape(rate)} tokens/s</text>",
        f'<rect x="{x0 + LEFT}" y="{TOP}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" fill="none" stroke="#999"/>',
    ]
    exponent = math.log10(LOW_MS)
    while exponent <= math.log10(HIGH_MS):
        ms = 10**exponent
        label = f"{ms:g} ms" if ms < 1000 else f"{ms / 1000:g} s"
        out.append(f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + PANEL_WIDTH}" y1="{_y(ms)}" y2="{_y(ms)}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + LEFT - 6}" y="{_y(ms) + 4}" text-anchor="end" font-size="11">{label}</text>')
        exponent += 1
    for tick in range(6):
        at = x_max * tick / 5
        out.append(
            f'<text x="{x(at)}" y="{TOP + PANEL_HEIGHT + 16}" text-anchor="middle" font-size="11">{at:g} s</text>'
        )
    out.append(
        f'<text x="{x0 + LEFT + PANEL_WIDTH / 2}" y="{TOP + PANEL_HEIGHT + 34}" text-anchor="middle" '
        'font-size="11">time since the first byte was sent, when the key was typed</text>'
    )
    target = _y(TARGET_MS)
    out.append(
        f'<line x1="{x0 + LEFT}" x2="{x0 + LEFT + PANEL_WIDTH}" y1="{target}" y2="{target}" '
        'stroke="#000" stroke-dasharray="4 3"/>'
    )
    for name, points in samples.items():
        colour = COLOURS.get(name, "#9467bd")
        for at, ms in points:
            out.append(f'<circle cx="{x(at):.1f}" cy="{_y(ms):.1f}" r="1.8" fill="{colour}" fill-opacity="0.6"/>')
        for at, ms in unanswered[name]:  # never echoed: the time it waited, a lower bound
            out.append(f'<circle cx="{x(at):.1f}" cy="{_y(ms):.1f}" r="4" fill="none" stroke="{colour}"/>')
    return out


def svg(record: dict[str, Any]) -> str:
    rates = record["runs"]
    width = (PANEL_WIDTH + LEFT + RIGHT) * len(rates)
    height = TOP + PANEL_HEIGHT + BOTTOM + 46
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for index, (rate, by_client) in enumerate(rates.items()):
        parts += _panel(rate, by_client, index * (PANEL_WIDTH + LEFT + RIGHT))
    names = list(next(iter(rates.values()), {}))
    legend_y = height - 28
    for index, name in enumerate(names):
        legend_x = LEFT + index * 110
        parts.append(f'<circle cx="{legend_x}" cy="{legend_y - 4}" r="4" fill="{COLOURS.get(name, "#9467bd")}"/>')
        parts.append(f'<text x="{legend_x + 8}" y="{legend_y}">{escape(name)}</text>')
    parts.append(
        f'<text x="{LEFT}" y="{height - 8}" font-size="11">dashed line: 16 ms (one frame at 60 Hz) · hollow: '
        f"not echoed within 5 s, drawn at the time it waited · {escape(record.get('started', ''))}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_svg(record: dict[str, Any], path: Path) -> None:
    path.write_text(svg(record))


def main() -> None:
    source = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else source.with_name("echo.svg")
    write_svg(json.loads(source.read_text()), target)
    print(target)


if __name__ == "__main__":
    main()
