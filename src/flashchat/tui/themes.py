"""Colour themes from TOML files: the ones shipped with flashchat and the user's own.

A theme file holds the fields of `textual.theme.Theme` (name, primary, background, dark, variables...). The
shipped files live in the repository's top-level `themes/` directory; the wheel carries them as
`flashchat/themes/` (see pyproject.toml), so both places are searched. Files in `config_dir()/themes/` come
last and may replace a shipped theme of the same name.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from textual.color import ColorParseError
from textual.theme import Theme

from flashchat.config import paths

DEFAULT_THEME = "flashchat-dark"


@dataclass(frozen=True)
class ThemeLoadResult:
    themes: list[Theme]
    problems: list[str]  # one line per file that could not be used, for a notification


def shipped_theme_dir() -> Path | None:
    """flashchat/themes in an installed wheel, else <repository>/themes in an editable install."""
    here = Path(__file__).resolve()
    for directory in (here.parent.parent / "themes", here.parents[3] / "themes"):
        if directory.is_dir():
            return directory
    return None


def user_theme_dir() -> Path:
    return paths.config_dir() / "themes"


def load_theme_file(path: Path) -> Theme:
    """A Theme from one TOML file; ValueError with a readable reason when the file is not usable."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    table.setdefault("name", path.stem)
    try:
        theme = Theme(**table)
        theme.to_color_system()  # parses every colour now, not when the theme is first used
    except (TypeError, ValueError, ColorParseError) as error:
        raise ValueError(f"{path}: {error}") from None
    return theme


def load_themes(directories: list[Path] | None = None) -> ThemeLoadResult:
    if directories is None:
        shipped = shipped_theme_dir()
        directories = [*([shipped] if shipped else []), user_theme_dir()]
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in directories:
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
            try:
                theme = load_theme_file(path)
            except ValueError as problem:
                problems.append(str(problem))
                continue
            themes[theme.name] = theme
    return ThemeLoadResult(list(themes.values()), problems)
