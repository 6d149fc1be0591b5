"""The one action table: every front end offers each action, or its help says why not."""

from __future__ import annotations

import re

import pytest

from flashchat.cli.main import build_parser
from flashchat.core.commands import ACTIONS, FRONT_ENDS, action_for_command, not_offered, slash_commands
from flashchat.repl.plain_repl import PlainRepl
from flashchat.tui.app import FlashchatApp


def one_shot_flags() -> set[str]:
    return {flag for action in build_parser()._actions for flag in action.option_strings}


def offered(action, front_end: str) -> bool:
    if front_end == "tui":
        if action.tui is None:
            return False
        method = re.match(r"\w+", action.tui.action)[0]
        return callable(getattr(FlashchatApp, f"action_{method}", None))
    if front_end == "repl":
        return bool(action.command) and callable(getattr(PlainRepl, f"_command_{action.command}", None))
    return bool(action.flag) and action.flag in one_shot_flags()


@pytest.mark.parametrize("front_end", FRONT_ENDS)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_every_action_is_offered_or_explained(action, front_end: str) -> None:
    if front_end in action.unavailable:
        assert action.unavailable[front_end].strip(), "the reason is shown in that front end's help"
        assert not offered(action, front_end) or front_end == "repl", (
            f"{action.name} is offered in {front_end} yet marked unavailable there"
        )
    else:
        assert offered(action, front_end), f"{action.name} is missing from {front_end} and its help says nothing"


def test_every_repl_command_comes_from_the_table() -> None:
    handlers = {name.removeprefix("_command_") for name in dir(PlainRepl) if name.startswith("_command_")}
    assert handlers == {action.command for action in slash_commands()}
    assert action_for_command("exit") is action_for_command("quit")


def test_every_tui_key_binding_comes_from_the_table() -> None:
    table_keys = {action.tui.key for action in ACTIONS if action.tui and action.tui.key}
    app_keys = {binding.key for binding in FlashchatApp.BINDINGS}  # type: ignore[union-attr]
    assert app_keys == table_keys


async def test_help_in_each_front_end_lists_what_it_leaves_out(settings, tmp_path) -> None:
    from repl_driver import ENTER, ReplDriver

    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type(f"/help{ENTER}")
    output = await driver.wait_for_output("Not in plain mode:")
    for action, reason in not_offered("repl"):
        assert f"{action.title}: {reason}" in output
    for action in slash_commands():
        assert f"/{action.command}" in output
    await driver.quit()

    from flashchat.tui.screens.help_screen import key_table

    rows = "\n".join(text for _, text in key_table())
    for _action, reason in not_offered("tui"):
        assert reason in rows
    epilog = build_parser().format_help()
    for action, reason in not_offered("oneshot"):
        assert f"{action.title}: {reason}" in epilog
