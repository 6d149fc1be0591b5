"""Themes: the shipped TOML files, the user's own, Textual's built-ins, and saving the choice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flashchat.config import paths
from flashchat.config.settings import load_settings
from flashchat.tui.themes import load_themes, shipped_theme_dir

SHIPPED = {"flashchat-dark", "flashchat-light", "flashchat-high-contrast"}


def test_shipped_themes_load_without_problems() -> None:
    result = load_themes([shipped_theme_dir()])
    assert {theme.name for theme in result.themes} == SHIPPED
    assert result.problems == []


async def test_user_theme_from_the_config_dir_is_offered_and_broken_files_are_reported(make_app, settings) -> None:
    themes = paths.config_dir() / "themes"
    themes.mkdir(parents=True)
    (themes / "sunset.toml").write_text('primary = "#ff7f50"\nbackground = "#201010"\ndark = true\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    app = make_app(settings=dataclasses.replace(settings, theme="sunset"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "sunset"
        assert set(app.available_themes) >= SHIPPED
        assert any("broken.toml" in notification.message for notification in app._notifications)


async def test_textual_builtin_theme_and_unknown_theme(make_app, settings) -> None:
    app = make_app(settings=dataclasses.replace(settings, theme="nord"))
    async with app.run_test():
        assert app.theme == "nord"
    app = make_app(settings=dataclasses.replace(settings, theme="no-such-theme"))
    async with app.run_test():
        assert app.theme == "flashchat-dark"


async def test_a_picked_theme_is_saved_in_the_config_file(make_app, config_path: Path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        app.theme = "flashchat-light"
        await pilot.pause()
    assert load_settings(config_path, environ={}).theme == "flashchat-light"
