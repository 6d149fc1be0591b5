"""LaTeX math as Unicode: the math Gemini writes, prose and prices left alone, code untouched, and a formula
split across chunks converted whole."""

from __future__ import annotations

import pytest

from flashchat.render.math import HOLD_LIMIT, INLINE_HOLD_LIMIT, MathStream, latex_to_unicode, render_math

# The math Gemini writes, each with what a reader should see.
FORMULAS = [
    (r"123456789 \times 987654321", "123456789 × 987654321"),
    (r"\sum_{i=1}^n i = \frac{n(n+1)}{2}", "∑ᵢ₌₁ⁿ i = n(n + 1)/2"),
    (r"\alpha + \beta^2 = \gamma", "α + β² = γ"),
    (r"x_1, x_2, \ldots, x_n", "x₁, x₂, …, xₙ"),
    (r"\sqrt{x^2 + y^2}", "√(x² + y²)"),
    (r"\mathbb{R}^n", "ℝⁿ"),
    (r"e^{i\pi} + 1 = 0", "e^(iπ) + 1 = 0"),
    (r"x^{n+1}", "xⁿ⁺¹"),
    (r"a_{ij}", "aᵢⱼ"),
    (r"\int_0^\infty e^{-x} dx", "∫₀^∞ e⁻ˣ dx"),
    (r"\lim_{x \to 0} \frac{\sin x}{x} = 1", "lim_(x → 0) sin x/x = 1"),
    (r"a \le b \ne c \approx d", "a ≤ b ≠ c ≈ d"),
    (r"O(n \log n)", "O(n log n)"),
    (r"\binom{n}{k}", "C(n, k)"),
    (r"\text{if } x > 0", "if x > 0"),
    (r"\mathbf{v} \cdot \mathbf{w}", "𝐯 · 𝐰"),
    (r"\forall x \in A \cup B", "∀x ∈ A ∪ B"),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", "[ a b; c d ]"),  # matrices: a readable fallback
    (r"\left( \frac{1}{2} \right)", "( 1/2 )"),
]


@pytest.mark.parametrize(("latex", "expected"), FORMULAS, ids=[latex for latex, _ in FORMULAS])
def test_formulas_become_readable_unicode(latex: str, expected: str) -> None:
    assert latex_to_unicode(latex) == expected


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("The product is $123456789 \\times 987654321$.", "The product is 123456789 × 987654321."),
        ("$$\\sum_{i=1}^n i$$", "∑ᵢ₌₁ⁿ i"),
        ("Inline \\(\\alpha^2\\) and display \\[\\sqrt{2}\\]", "Inline α² and display √(2)"),
        ("Let $x$ be real.", "Let x be real."),
        # Prose and prices: never a formula.
        ("It costs $5 and $10 today.", "It costs $5 and $10 today."),
        ("Between $ 5 and $ 6.", "Between $ 5 and $ 6."),
        ("Pay US$5 or $x$", "Pay US$5 or x"),
        ("$HOME and $PATH are set", "$HOME and $PATH are set"),
        ("A lone $ sign", "A lone $ sign"),
        ("From $20 to $30 per month", "From $20 to $30 per month"),
        # Code spans and fenced code are left as written.
        ("Write `$x^2$` in LaTeX.", "Write `$x^2$` in LaTeX."),
        ("```latex\n$a^2$\n\\(b_1\\)\n```\nso $a^2$", "```latex\n$a^2$\n\\(b_1\\)\n```\nso a²"),
        ("~~~\n$a^2$\n~~~\n", "~~~\n$a^2$\n~~~\n"),
        # Markdown's escaped brackets (citation markers) are not display math.
        ("Tokyo is cloudy.\\[1\\]\\[2\\]", "Tokyo is cloudy.\\[1\\]\\[2\\]"),
        # A formula does not reach over a paragraph break.
        ("$x^2 is\n\nnot closed$", "$x^2 is\n\nnot closed$"),
        ("$x^2 is\nnot inline$", "$x^2 is\nnot inline$"),
        ("$$a\n+ b$$", "a + b"),
    ],
)
def test_formulas_in_markdown(markdown: str, expected: str) -> None:
    assert render_math(markdown) == expected


@pytest.mark.parametrize(
    "markdown",
    [
        "The product is $123456789 \\times 987654321$, and $$\\frac{a}{b}$$ too.",
        "It costs $5 and $10; `$x$` stays; \\(\\alpha\\) changes.\n```\n$a$\n```\n$b^2$",
    ],
)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_a_formula_split_across_chunks_converts_whole(markdown: str, chunk: int) -> None:
    stream = MathStream()
    shown = "".join(stream.feed(markdown[i : i + chunk]) for i in range(0, len(markdown), chunk)) + stream.flush()
    assert shown == render_math(markdown)


def test_an_unclosed_formula_is_held_back_only_so_long() -> None:
    stream = MathStream()
    assert stream.feed("Price: $5") == "Price: "  # may still close
    assert stream.feed(" a month,") == ""
    assert stream.feed(" and more" * (INLINE_HOLD_LIMIT // 9)).startswith("$5 a month, and more")
    assert stream.feed(" then a line\n").endswith("line\n")  # an inline formula never spans lines
    display = MathStream()
    assert display.feed("$$x" + " more" * 100) == ""
    assert display.feed(" more" * (HOLD_LIMIT // 5)).startswith("$$x more")


def test_a_formula_pylatexenc_cannot_read_is_shown_as_written() -> None:
    assert latex_to_unicode("\\frac{") == "\\frac{"


async def test_math_in_one_shot_and_plain_mode_and_raw_when_piped(fake, cli_env, settings, tmp_path) -> None:
    """One-shot on a terminal and plain mode show Unicode; piped and --json output keep the LaTeX."""
    import json

    from flashchat.testing.fake_gemini import Reply
    from repl_driver import ENTER, ReplDriver
    from support import run_cli, run_in_terminal

    fake.enqueue(*[Reply.text(REPLY, chunks=CHUNKS) for _ in range(4)])
    assert "So x₁ × y² costs $5." in run_in_terminal(["-p", "q"], cli_env)
    assert run_cli(["-p", "q"], cli_env).stdout == REPLY + "\n"
    assert json.loads(run_cli(["-p", "q", "--json"], cli_env).stdout)["text"] == REPLY

    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type("q" + ENTER)
    await driver.wait_for_output("So x₁ × y² costs $5.")
    await driver.quit()


# A reply whose formula arrives in three chunks, as the front-end tests stream it.
REPLY = "So $x_1 \\times y^2$ costs $5."
CHUNKS = ["So $x_", "1 \\ti", "mes y^2$ costs $5."]
