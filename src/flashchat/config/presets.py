"""Prompt presets: named instructions for everyday jobs (`--preset review`, `/preset review`, a TUI picker).

The built-in ones can be replaced and more added in the config file's `[presets]` table.
"""

from __future__ import annotations

BUILTIN_PRESETS: dict[str, str] = {
    "review": (
        "Review the code below as a senior engineer would before approving it. Report, most important first: "
        "bugs and wrong behaviour (say what input triggers them), security problems, data loss or race "
        "conditions, error handling that hides failures, and unclear names or needless complexity. For each "
        "finding give the file and line, why it matters, and a concrete fix as a small code change. Say plainly "
        "when something is fine; do not invent problems or restate the code. End with a one-line verdict: "
        "approve, approve with changes, or request changes."
    ),
    "explain": (
        "Explain the code below to an experienced developer who has not seen it: what it is for, how the parts "
        "fit together, the data flow, and anything surprising or easy to get wrong. Quote the lines you refer "
        "to. Be concise."
    ),
    "tests": (
        "Write tests for the code below with the project's test framework (pytest for Python unless the code "
        "shows otherwise). Cover the normal cases, the edges (empty, large, invalid input) and the error paths; "
        "each test asserts behaviour a user would notice, not implementation details. Give the test file whole."
    ),
}
