"""Markdown rendered to lines of Rich segments at a width, a top-level block at a time, for the TUI's replies.

A reply segment (about 2 KB of Markdown) is parsed whole on every streamed flush: markdown-it reads 2 KB in
about a millisecond. Each top-level block (a paragraph, a heading, a whole list, a table, a fence) is then
rendered on its own and kept by its source text, so a flush renders only the block that grew, the last one.

The look follows Textual's Markdown widget, which replies used before (see `BLOCK_MARGINS`): headings in the
theme's heading colours, fences padded on a darker background, bullets that change with the nesting depth,
ordered lists that keep their start number. Colours come in as `MarkdownStyles`, plain Rich styles the
front end builds from its theme; nothing here knows the toolkit.

An open code fence (its closing line has not arrived) is drawn as plain text while the reply streams, and
highlighted once it closes: both are wrapped the same way, so highlighting never changes the height.
Links are drawn as `label (address)` and never become OSC 8 hyperlinks: model output must not hand the
terminal something to open. The text must already be terminal-safe (`render.safe_text`): it goes out as is.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Token as PygmentsToken
from pygments.token import _TokenType
from pygments.util import ClassNotFound
from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import (
    BlockQuote,
    Markdown,
    MarkdownContext,
    MarkdownElement,
    TableElement,
    TextElement,
)
from rich.markdown import ListItem as RichListItem
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

Line = list[Segment]  # one rendered line, exactly the render width in cells

TAB_SIZE = 8
BULLETS = ("• ", "▪ ", "‣ ", "⭑ ", "◦ ")  # by nesting depth, as Textual's Markdown draws them
FENCE_PADDING = (1, 2)  # lines above and below, cells left and right
# Blank lines above and below each kind of top-level block: Textual's margins for its Markdown blocks, so a
# reply reads as it did. Between two blocks the larger of the two margins applies (CSS margins collapse).
BLOCK_MARGINS = {
    "h1": (2, 1),
    "h2": (2, 1),
    "heading": (1, 1),
    "fence": (1, 1),
    "blockquote": (1, 1),
    "other": (0, 1),
}

# The names `MarkdownStyles.styles` may set; anything left out renders unstyled.
STYLE_NAMES = (
    "markdown.paragraph",
    "markdown.h1",
    "markdown.h2",
    "markdown.h3",
    "markdown.h4",
    "markdown.h5",
    "markdown.h6",
    "markdown.em",
    "markdown.strong",
    "markdown.s",
    "markdown.code",
    "markdown.code_block",
    "markdown.link",
    "markdown.link_url",
    "markdown.block_quote",
    "markdown.block_quote.border",
    "markdown.hr",
    "markdown.item",
    "markdown.item.bullet",
    "markdown.item.number",
    "markdown.table.border",
    "markdown.table.header",
    "markdown.kbd",
)


@dataclass(frozen=True, eq=False)  # hashed by identity: the caches below are keyed by it
class MarkdownStyles:
    """The colours of rendered Markdown: Rich styles by name (see `STYLE_NAMES`) and, for highlighted code,
    by Pygments token type (a type without an entry takes its parent's). `key` names the set for caches."""

    key: str
    styles: Mapping[str, Style] = field(default_factory=dict)
    code: Mapping[tuple[str, ...], Style] = field(default_factory=dict)  # pygments token types are tuples

    @functools.cached_property
    def theme(self) -> Theme:
        defaults = dict.fromkeys(STYLE_NAMES, Style.null())
        # Rich's own defaults stay for what Table and Rule use; every markdown.* name is ours.
        return Theme({**defaults, **self.styles})

    @functools.cached_property
    def _code_cache(self) -> dict[_TokenType, Style]:
        return {}

    def code_style(self, token_type: _TokenType) -> Style:
        cache = self._code_cache
        style = cache.get(token_type)
        if style is None:
            found: _TokenType | None = token_type
            while found is not None and found not in self.code:
                found = found.parent
            style = cache[token_type] = self.code[found] if found is not None else Style.null()
        return style


PLAIN_STYLES = MarkdownStyles(
    "plain",
    {
        "markdown.h1": Style(bold=True),
        "markdown.h2": Style(underline=True),
        "markdown.h3": Style(bold=True),
        "markdown.h4": Style(bold=True, underline=True),
        "markdown.h5": Style(bold=True),
        "markdown.h6": Style(bold=True),
        "markdown.em": Style(italic=True),
        "markdown.strong": Style(bold=True),
        "markdown.s": Style(strike=True),
        "markdown.code": Style(bold=True),
        "markdown.link": Style(underline=True),
        "markdown.table.header": Style(bold=True),
        "markdown.kbd": Style(bold=True),
    },
    {PygmentsToken.Keyword: Style(bold=True), PygmentsToken.Comment: Style(italic=True)},
)


# -- splitting a segment into top-level blocks ----------------------------------------------------------


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")  # what Textual's Markdown widget parses with


def fence_is_open(token: Token) -> bool:
    """True for a ``` fence whose closing line has not arrived yet.

    markdown-it runs an unclosed fence to the end of the text, so its line span is the opening line plus the
    content lines; a closed fence spans one more line, the closing marker.
    """
    if token.type != "fence" or token.map is None:
        return False
    content = token.content
    content_lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    return token.map[1] - token.map[0] < content_lines + 2


@dataclass(frozen=True)
class Block:
    """One top-level Markdown block: its source lines, its tokens, and the margins it keeps."""

    source: str
    tokens: list[Token]
    margins: tuple[int, int]
    open_fence: bool


def split_blocks(text: str) -> list[Block]:
    """`text`'s top-level blocks, in order (a whole list, however loose, is one block)."""
    tokens = _parser().parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = [_image_as_text(child) if child.type == "image" else child for child in token.children]
    lines = text.split("\n")
    blocks: list[Block] = []
    index = 0
    while index < len(tokens):
        first = tokens[index]
        end = index + 1
        if first.nesting == 1:
            depth = 1
            while end < len(tokens) and depth:
                depth += tokens[end].nesting
                end += 1
        start_line, end_line = first.map if first.map is not None else (0, 0)
        source = "\n".join(lines[start_line:end_line])
        blocks.append(Block(source, tokens[index:end], _margins(first), fence_is_open(first)))
        index = end
    return blocks


def _image_as_text(image: Token) -> Token:
    """An image as its description and address, in the line (Rich would draw it before the paragraph)."""
    alt = "".join(child.content for child in image.children or [])
    return Token(
        "text", "", 0, content=f"🖼 {alt} ({image.attrs.get('src', '')})" if alt else f"🖼 ({image.attrs.get('src', '')})"
    )


def _margins(token: Token) -> tuple[int, int]:
    if token.type == "heading_open":
        return BLOCK_MARGINS.get(token.tag, BLOCK_MARGINS["heading"])
    if token.type in ("fence", "code_block"):
        return BLOCK_MARGINS["fence"]
    if token.type == "blockquote_open":
        return BLOCK_MARGINS["blockquote"]
    return BLOCK_MARGINS["other"]


# -- rendering ----------------------------------------------------------------------------------------


class MarkdownLines:
    """Renders segments of Markdown to lines, keeping each block's lines until the width or styles change.

    One instance per segment: `clear` (or dropping the instance) frees everything it keeps.
    """

    def __init__(self, styles: MarkdownStyles = PLAIN_STYLES) -> None:
        self.styles = styles
        self._width = 0
        self._blocks: dict[tuple[str, bool], list[Line]] = {}
        self._last: tuple[str, int, bool, list[Line]] | None = None
        self._code: dict[str, list[Line]] = {}  # an open fence's lines, by their text

    def clear(self) -> None:
        self._blocks, self._code = {}, {}
        self._last = None

    def render(self, text: str, width: int, *, streaming: bool = False) -> list[Line]:
        """`text` as lines of exactly `width` cells (an open fence unhighlighted while `streaming`)."""
        width = max(width, 1)
        last = self._last
        if last is not None and last[:3] == (text, width, streaming):
            return last[3]
        if width != self._width:
            self._width, self._blocks, self._code = width, {}, {}
        kept, self._blocks = self._blocks, {}
        blank = [Segment(" " * width)]
        lines: list[Line] = []
        below = 0
        for block in split_blocks(text):
            plain = streaming and block.open_fence
            key = (block.source, plain)
            rendered = kept.get(key)
            if rendered is None and plain and block.tokens[0].type == "fence":
                rendered = self._open_fence(block.tokens[0], width)
            elif rendered is None:
                rendered = _render_block(block, width, self.styles, plain=plain)
            self._blocks[key] = rendered
            above, next_below = block.margins
            lines.extend(blank for _ in range(max(above, below) if lines else above))
            lines.extend(rendered)
            below = next_below
        if lines:
            lines.extend(blank for _ in range(below))
        self._last = (text, width, streaming, lines)
        return lines

    def _open_fence(self, token: Token, width: int) -> list[Line]:
        """A streaming fence, past Rich: it grows on every flush, and only its last line is new each time."""
        background = self.styles.theme.styles.get("markdown.code_block") or Style.null()
        kept, self._code = self._code, {}
        lines: list[Line] = []
        for code_line in token.content.split("\n")[:-1] if token.content.endswith("\n") else token.content.split("\n"):
            rendered = kept.get(code_line)
            if rendered is None:
                expanded = code_line.expandtabs(TAB_SIZE)
                rendered = _fence_lines([[Segment(expanded)] if expanded else []], width, background)[1:-1]
            self._code[code_line] = rendered
            lines += rendered
        vertical = FENCE_PADDING[0]
        blank = [Segment(" " * width, background)]
        return [blank] * vertical + lines + [blank] * vertical


def render_markdown(text: str, width: int, styles: MarkdownStyles = PLAIN_STYLES) -> list[Line]:
    """A finished text's lines (what a segment shows once its reply is complete)."""
    return MarkdownLines(styles).render(text, width)


def _render_block(block: Block, width: int, styles: MarkdownStyles, *, plain: bool) -> list[Line]:
    console = _console(styles)
    markdown = _BlockMarkdown(block.tokens, plain_fences=plain, code_styles=styles)
    return console.render_lines(markdown, console.options.update_width(width), pad=True)


@functools.lru_cache(maxsize=8)
def _console(styles: MarkdownStyles) -> Console:
    return Console(
        file=io.StringIO(),
        width=80,
        height=25,  # with both set, Rich never asks the terminal for its size
        theme=styles.theme,
        color_system="truecolor",
        force_terminal=True,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )


class _BlockMarkdown(Markdown):
    """Rich's Markdown over tokens parsed already (one block of the segment's parse), with our elements."""

    def __init__(self, tokens: list[Token], *, plain_fences: bool, code_styles: MarkdownStyles) -> None:
        # Not Markdown.__init__: it would parse the text again, with other parser settings.
        self.markup = ""
        self.parsed = tokens
        self.code_theme = "none"
        self.justify = None
        self.style = "none"
        self.hyperlinks = False  # links as `label (address)`, never OSC 8
        self.inline_code_lexer = None
        self.inline_code_theme = "none"
        self.plain_fences = plain_fences
        self.code_styles = code_styles

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Rich separates a top-level element from the one before with a newline, and counts a list's last
        # paragraph as one before it: one block has nothing before it, its margins are added by the caller.
        started = False
        for output in super().__rich_console__(console, options):
            if not started and isinstance(output, Segment) and output.text == "\n":
                continue
            started = True
            yield output


class _Fence(TextElement):
    """A code block: padded on its background, long lines folded, highlighted unless the fence is open."""

    style_name = "markdown.code_block"

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> MarkdownElement:
        assert isinstance(markdown, _BlockMarkdown)
        plain = markdown.plain_fences and fence_is_open(token)
        return cls(token.info.partition(" ")[0], None if plain else markdown.code_styles)

    def __init__(self, language: str, styles: MarkdownStyles | None) -> None:
        self.language = language
        self.styles = styles

    def on_enter(self, context: MarkdownContext) -> None:
        super().on_enter(context)
        self.code = ""

    def on_text(self, context: MarkdownContext, text: object) -> None:
        if isinstance(text, str):
            self.code += text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        background = console.get_style("markdown.code_block")
        code = self.code[:-1] if self.code.endswith("\n") else self.code
        new_line = Segment.line()
        for line in _fence_lines(_code_lines(code, self.language, self.styles, console), options.max_width, background):
            yield from line
            yield new_line


def _fence_lines(code_lines: Iterable[Line], width: int, background: Style) -> list[Line]:
    """Code lines padded on the fence's background, long lines folded (code is not word-wrapped)."""
    vertical, horizontal = FENCE_PADDING
    inner = max(width - 2 * horizontal, 1)
    blank = [Segment(" " * width, background)]
    margin = Segment(" " * horizontal, background)
    lines = [blank] * vertical
    for line in code_lines:
        for piece in _fold(line, inner):
            used = sum(segment.cell_length for segment in piece)
            padding = Segment(" " * (width - horizontal - used), background)
            lines.append([margin, *Segment.apply_style(piece, background), padding])
    lines += [blank] * vertical
    return lines


def _code_lines(code: str, language: str, styles: MarkdownStyles | None, console: Console) -> Iterable[Line]:
    if styles is None:
        # Unstyled (an open fence, re-rendered on every flush while it streams): no Text to build.
        yield from ([Segment(line.expandtabs(TAB_SIZE))] if line else [] for line in code.split("\n"))
        return
    highlighted = Text()
    for token_type, value in _lexer(language).get_tokens(code):
        highlighted.append(value, styles.code_style(token_type))
    if highlighted.plain.endswith("\n") and not code.endswith("\n"):
        highlighted.right_crop(1)  # the lexer ends the text with a newline (ensurenl)
    for text in highlighted.split("\n", allow_blank=True):
        text.expand_tabs(TAB_SIZE)
        text.end = ""
        yield [segment for segment in text.render(console) if segment.text]


def _fold(line: Line, width: int) -> list[Line]:
    """A code line cut into pieces of at most `width` cells (code is not word-wrapped)."""
    length = sum(segment.cell_length for segment in line)
    if length <= width:
        return [line]
    return [list(piece) for piece in Segment.divide(line, range(width, length + width, width))]


@functools.lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer:
    try:
        return get_lexer_by_name(language or "text", stripnl=False, ensurenl=True, tabsize=TAB_SIZE)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=TAB_SIZE)


class _List(MarkdownElement):
    """A bullet or ordered list: bullets by depth, numbers right-aligned from the list's start number."""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> MarkdownElement:
        start = token.attrs.get("start", 1)
        return cls(ordered=token.type == "ordered_list_open", start=int(start), depth=token.level // 2)

    def __init__(self, *, ordered: bool, start: int, depth: int) -> None:
        self.items: list[RichListItem] = []
        self.ordered = ordered
        self.start = start
        self.depth = depth

    def on_child_close(self, context: MarkdownContext, child: MarkdownElement) -> bool:
        assert isinstance(child, RichListItem)
        self.items.append(child)
        return False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.ordered:
            labels = [f"{number}. " for number in range(self.start, self.start + len(self.items))]
            size = max(map(len, labels), default=0) + 1
            labels = [label.rjust(size) for label in labels]
            label_style = console.get_style("markdown.item.number")
        else:
            labels = [BULLETS[self.depth % len(BULLETS)]] * len(self.items)
            label_style = console.get_style("markdown.item.bullet")
        new_line = Segment.line()
        for item, label in zip(self.items, labels, strict=True):
            indent = len(label)
            lines = console.render_lines(item.elements, options.update_width(max(options.max_width - indent, 1)))
            for number, line in enumerate(lines):
                yield Segment(label, label_style) if number == 0 else Segment(" " * indent)
                yield from line
                yield new_line


class _Rule(MarkdownElement):
    new_line = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text()
        yield Rule(style=console.get_style("markdown.hr"), characters="─")


class _Quote(BlockQuote):
    """A block quote with a bar in its own colour beside the quoted blocks."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(
            self.elements, options.update_width(max(options.max_width - 2, 1)), style=self.style
        )
        bar = Segment("▌ ", console.get_style("markdown.block_quote.border"))
        new_line = Segment.line()
        for line in lines:
            yield bar
            yield from line
            yield new_line


class _Table(TableElement):
    """A table drawn with lines around every cell, as Textual draws Markdown tables."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=box.SQUARE, show_lines=True, border_style="markdown.table.border", expand=True)
        if self.header is not None and self.header.row is not None:
            for column in self.header.row.cells:
                heading = column.content.copy()
                heading.stylize("markdown.table.header")
                table.add_column(heading)
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(cell.content for cell in row.cells))
        yield table


class _Html(TextElement):
    """Raw HTML is shown as the text it is (Rich would drop it)."""

    style_name = "markdown.paragraph"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.text.rstrip()
        yield self.text


_BlockMarkdown.elements = {
    **Markdown.elements,
    "fence": _Fence,
    "code_block": _Fence,
    "bullet_list_open": _List,
    "ordered_list_open": _List,
    "hr": _Rule,
    "blockquote_open": _Quote,
    "table_open": _Table,
    "html_block": _Html,
}
