"""LaTeX math in a reply shown as readable Unicode: `$x^2 \\times y_1$` becomes `x² × y₁`.

Gemini writes math as LaTeX between `$...$`, `$$...$$`, `\\(...\\)` and `\\[...\\]`. On a terminal that is
hard to read, so the front ends pass the reply through `MathStream` before showing it (the stored reply keeps
the LaTeX; piped output and `--json` are left as written).

The library is pylatexenc (latex2text): measured on the math Gemini writes (tests/render/test_math.py) it
reads every macro we tried (\\le, \\ldots, \\text, \\left/\\right, matrices as `[ a b; c d ]`) where flatlatex
left `\\le`, `\\lim`, `\\text{...}` and environments raw and ran words together (`\\sinx`). What pylatexenc
lacks, done here: sub- and superscripts as Unicode (`x₁`, `β²`, `ℝⁿ`) where every character has a form,
`^(…)` / `_(…)` where not; spaces around operators (LaTeX eats the space after `\\times`); `\\binom`.

Not touched: `$` in prose and prices (`$5 and $10`: an opening `$` needs a non-space after it, a closing one
a non-space before it and no digit after it, and the formula must look like math), and anything inside code
spans or fenced code blocks. Streaming: `MathStream.feed` holds back text from a possible opening delimiter
until its formula closes (or cannot be one: the end of the line for an inline formula, a blank line for a
display one, or too many characters), so a formula split across chunks is converted whole.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Held back at most this long waiting for a formula to close; past it the text is shown as written. An inline
# formula ends on its line and is short, so prose with a price in it ("$5 a month") is held back only briefly.
HOLD_LIMIT = 2_000
INLINE_HOLD_LIMIT = 300

_SUPERSCRIPTS = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWnαβγδεθιφχ′",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂⁿᵅᵝᵞᵟᵋᶿᶥᵠᵡ′",
        strict=True,
    )
)
_SUBSCRIPTS = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ", strict=True))
_OPERATORS = "×·÷±∓=≠≈≡≤≥<>∈∉⊂⊆⊃⊇∪∩→←↔⇒⇐⇔↦∼≅∝"
_SPACED_OPERATOR = re.compile(rf"\s*([{_OPERATORS}+])\s*")
_SPACE_BEFORE_SCRIPT = re.compile(rf" +(?=[{''.join({*_SUPERSCRIPTS.values(), *_SUBSCRIPTS.values()})}]|[_^]\()")
# A script: ^ or _ then a {group} (one level of nested braces), a macro name, or one character.
_SCRIPT = re.compile(r"([\^_])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[^\s{}\\])")
_BINOM = re.compile(r"\\binom\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LOOKS_LIKE_MATH = re.compile(r"[\\^_{}=<>+]|^[A-Za-z]$|^[A-Za-z]'*$")


def latex_to_unicode(latex: str) -> str:
    """One formula (without its delimiters) as readable Unicode text; never raises."""
    try:
        text = _convert(latex.strip())
    except Exception:  # a formula pylatexenc cannot parse is shown as written, never a crash
        return latex
    if "%s" in text:  # a macro missing its arguments (`\frac{`): pylatexenc leaves its template
        return latex
    text = _SPACED_OPERATOR.sub(r" \1 ", text)  # LaTeX ate the spaces after \times, \le...
    text = _SPACE_BEFORE_SCRIPT.sub("", text)  # "lim ₓ" (a function name keeps a space after it)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _convert(latex: str) -> str:
    latex = _BINOM.sub(r"C(\1, \2)", latex)
    latex = _SCRIPT.sub(_script, latex)
    return _latex_to_text()(latex)


def _script(match: re.Match[str]) -> str:
    marker, body = match.groups()
    inner = body[1:-1] if body.startswith("{") else body
    text = _convert(inner) if ("\\" in inner or "{" in inner or "^" in inner or "_" in inner) else inner.strip()
    table = _SUPERSCRIPTS if marker == "^" else _SUBSCRIPTS
    # "{}" ends a macro name before it: `\sum{}ᵢ`, else pylatexenc reads `\sumᵢ` as one unknown macro.
    if text and all(char in table for char in text):
        return "{}" + "".join(table[char] for char in text)
    return "{}" + (f"{marker}{text}" if len(text) == 1 else f"{marker}({text})")


def prepare_math() -> None:
    """Import pylatexenc and build its tables now (a thread of the TUI's, after the first frame): the first
    formula costs 0.2-0.4 s otherwise."""
    _latex_to_text()


@lru_cache(maxsize=1)
def _latex_to_text() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    # Function names keep a space after them, as LaTeX typesets it (`\sin x`, not `sinx`).
    names = ("sin", "cos", "tan", "log", "ln", "exp", "lim", "max", "min", "det", "gcd", "arg", "deg", "dim")
    symbols = {"ne": "≠", "to": "→", "iff": "⇔", "implies": "⇒", "mid": "∣", "lVert": "‖", "rVert": "‖"}
    macros = [MacroTextSpec(name, f"{name} ") for name in names]
    macros += [MacroTextSpec(name, text) for name, text in symbols.items()]
    context.add_context_category("flashchat", prepend=True, macros=macros)
    return LatexNodes2Text(math_mode="text", latex_context=context).latex_to_text


# -- finding formulas in Markdown ------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def render_math(markdown: str) -> str:
    """Every formula in a whole Markdown text converted, code left alone."""
    stream = MathStream()
    return stream.feed(markdown) + stream.flush()


class MathStream:
    """Converts the formulas of a reply as it streams: feed chunks, show what comes back, flush at the end."""

    def __init__(self) -> None:
        self._pending = ""  # text not yet shown: it may hold the start of a formula (or of a fence line)
        self._fence = ""  # the open code fence's marker, "" outside one
        self._at_line_start = True

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        shown, self._pending = self._scan(self._pending, final=False)
        return shown

    def flush(self) -> str:
        shown, self._pending = self._scan(self._pending, final=True)
        return shown + self._pending

    def _scan(self, text: str, *, final: bool) -> tuple[str, str]:
        """(what can be shown now, what must wait for more text)."""
        out: list[str] = []
        i = 0
        while i < len(text):
            if self._at_line_start:
                line_end = text.find("\n", i)
                if line_end < 0 and not final and len(text) - i < 4:
                    break  # could be the start of a fence line: wait
                line = text[i : line_end if line_end >= 0 else len(text)]
                if fence := _FENCE.match(line):
                    marker = fence.group(1)
                    if not self._fence:
                        self._fence = marker
                    elif marker[0] == self._fence[0] and len(marker) >= len(self._fence) and not line.strip(" `~"):
                        self._fence = ""
                if self._fence or fence:
                    if line_end < 0:
                        if not final:
                            break
                        out.append(line)
                        i = len(text)
                        continue
                    out.append(text[i : line_end + 1])
                    i = line_end + 1
                    continue
                self._at_line_start = False
            char = text[i]
            if char == "\n":
                out.append(char)
                self._at_line_start = True
                i += 1
            elif char == "`":
                run = len(text) - len(text[i:].lstrip("`"))
                ticks = text[i : i + run]
                close = text.find(ticks, i + run)
                if close < 0:
                    if not final and len(text) - i < HOLD_LIMIT and "\n\n" not in text[i:]:
                        break  # a code span still open: wait for it
                    out.append(ticks)
                    i += run
                    continue
                out.append(text[i : close + run])
                i = close + run
            elif char in "$\\":
                found = self._formula_at(text, i, final=final)
                if found is None:
                    break  # may become a formula: wait for more text
                end, replacement = found
                out.append(replacement)
                i = end
            else:
                out.append(char)
                i += 1
        return "".join(out), text[i:]

    def _formula_at(self, text: str, i: int, *, final: bool) -> tuple[int, str] | None:
        """(end, what to show) for the text at a `$` or `\\`; None when only more text can tell."""
        rest = text[i:]
        if rest.startswith("\\"):
            if len(rest) < 2:
                return None if not final else (i + 1, "\\")
            opener = rest[:2]
            if opener not in ("\\(", "\\["):
                return i + 1, "\\"
            closer = "\\)" if opener == "\\(" else "\\]"
            return self._closed(text, i, opener, closer, final=final, inline=opener == "\\(")
        if rest.startswith("$$"):
            return self._closed(text, i, "$$", "$$", final=final, inline=False)
        if len(rest) < 2 and not final:
            return None
        if i > 0 and (text[i - 1].isalnum() or text[i - 1] == "\\"):
            return i + 1, "$"  # US$5, \$: not a formula
        return self._closed(text, i, "$", "$", final=final, inline=True)

    def _closed(
        self, text: str, i: int, opener: str, closer: str, *, final: bool, inline: bool
    ) -> tuple[int, str] | None:
        start = i + len(opener)
        not_math = (start, opener)
        if opener == "$" and text[start : start + 1].isspace():
            return not_math
        close = text.find(closer, start)
        end = text.find("\n" if inline else "\n\n", start)
        if close < 0 or (end >= 0 and close > end):
            limit = INLINE_HOLD_LIMIT if inline else HOLD_LIMIT
            may_still_close = not final and end < 0 and len(text) - i <= limit
            return None if may_still_close else not_math
        if opener == "$":
            if close + 1 >= len(text) and not final:
                return None  # whether a digit follows ("$5 and $10") is not known yet
            # Pandoc's rule: a closing `$` has a non-space before it and no digit after it.
            if close == start or text[close - 1].isspace() or text[close + 1 : close + 2].isdigit():
                return not_math
        formula = text[start:close]
        # `\[1\]` is also Markdown's escaped brackets (citation markers are written so): only math converts.
        if (inline or opener == "\\[") and not _LOOKS_LIKE_MATH.search(formula.strip()):
            return not_math
        return close + len(closer), latex_to_unicode(formula)
