"""The colours of a rendered reply, taken from the Textual theme as plain Rich styles for `render.markdown_lines`.

The specs are those of Textual's Markdown widget (its DEFAULT_CSS and highlight themes), which replies were
drawn with before, so a reply keeps its look in every theme, the user's own included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.highlight import ANSIDarkHighlightTheme, ANSILightHighlightTheme, HighlightTheme
from textual.markup import parse_style
from textual.style import Style as TextualStyle

if TYPE_CHECKING:  # imported where the styles are built: markdown-it comes with it (the warm-up thread's job)
    from flashchat.render.markdown_lines import MarkdownStyles

_cache: dict[tuple[object, ...], MarkdownStyles] = {}


def _dark(ansi: bool) -> dict[str, str]:
    code = "$text-warning 95%" if ansi else "$text-warning 95% on $warning 10%"
    return {
        "markdown.code": code,
        "markdown.item.bullet": "$text-primary",
        "markdown.item.number": "$text-primary",
        "markdown.block_quote.border": "$text-primary 50%",
    }


def _light(ansi: bool) -> dict[str, str]:
    code = "$text-error 95%" if ansi else "$text-error 95% on $error 5%"
    return {
        "markdown.code": code,
        "markdown.item.bullet": "$text-secondary",
        "markdown.item.number": "$text-secondary",
        "markdown.block_quote.border": "$text-secondary",
    }


def reply_styles(app: App, background: Color) -> MarkdownStyles:
    """The styles for a reply drawn on `background` in the app's current theme (kept per theme)."""
    return prepare_reply_styles(app, background)()


def prepare_reply_styles(app: App, background: Color) -> Callable[[], MarkdownStyles]:
    """Read the theme now, on the app's thread; build (or find) its styles when the result is called, in any
    thread. Building takes tens of milliseconds (each spec goes through Textual's CSS tokenizer): the app's
    warm-up does it before the first reply, which would otherwise pay for it between its first byte and the
    screen (bench/tui.py, first-token)."""
    theme = app.current_theme
    ansi = app.native_ansi_color
    key = (theme.name, theme.dark, ansi, tuple(background))
    variables = app.theme_variables

    def styles() -> MarkdownStyles:
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = _build(variables, background, dark=theme.dark, ansi=ansi, key=str(key))
        return found

    return styles


def _build(variables: dict[str, str], background: Color, *, dark: bool, ansi: bool, key: str) -> MarkdownStyles:
    from flashchat.render.markdown_lines import MarkdownStyles

    base = TextualStyle(background=background, foreground=Color.parse(variables.get("foreground", "white")))

    def resolve(spec: str, under: TextualStyle = base) -> Style:
        parsed = parse_style(spec, variables)
        rich = (under + parsed).rich_style
        # A background only where the spec asks for one: elsewhere the widget's own shows (and a selection's).
        keep_background = parsed.background is not None or under is not base
        return Style(
            color=rich.color,
            bgcolor=rich.bgcolor if keep_background else None,
            bold=rich.bold,
            italic=rich.italic,
            underline=rich.underline,
            strike=rich.strike,
        )

    specs = {
        "markdown.em": "italic",
        "markdown.strong": "bold",
        "markdown.s": "strike",
        "markdown.link": "$text-primary underline",
        "markdown.link_url": "$text-muted",
        "markdown.block_quote": "on $boost",
        "markdown.hr": "$secondary",
        "markdown.table.border": "$foreground 20%",
        "markdown.table.header": "$primary",
        "markdown.kbd": "bold",
        **(_dark(ansi) if dark else _light(ansi)),
    }
    for level in range(1, 7):
        color, text_style = (
            variables.get(f"markdown-h{level}-color", ""),
            variables.get(f"markdown-h{level}-text-style", ""),
        )
        heading_background = variables.get(f"markdown-h{level}-background", "transparent")
        on = f" on {heading_background}" if heading_background not in ("", "transparent") else ""
        specs[f"markdown.h{level}"] = f"{color} {text_style}{on}".strip()
    styles = {name: resolve(spec) for name, spec in specs.items()}
    if ansi:
        fence = TextualStyle()
        styles["markdown.code_block"] = Style()
        highlight = ANSIDarkHighlightTheme if dark else ANSILightHighlightTheme
    else:
        fence_background = "black 10%" if dark else "white 30%"
        fence_colour = "rgb(210,210,210)" if dark else "$foreground"
        fence = base + parse_style(f"{fence_colour} on {fence_background}", variables)
        styles["markdown.code_block"] = resolve(f"{fence_colour} on {fence_background}")
        highlight = HighlightTheme
    code = {token_type: resolve(spec, fence) for token_type, spec in highlight.STYLES.items() if spec}
    return MarkdownStyles(key, styles, code)
