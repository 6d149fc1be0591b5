"""Every user action in one table, for every front end.

The TUI's key bindings, footer, command palette and F1 help, the plain REPL's slash commands, their Tab
completion and `/help`, and the one-shot flags all come from `ACTIONS`. An action a front end cannot offer
names the reason in `unavailable`, which that front end's help shows; a test walks the table and fails when a
front end lacks an action it does not explain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

FRONT_ENDS = ("tui", "repl", "oneshot")


@dataclass(frozen=True)
class TuiBinding:
    action: str  # the app's action_<name>, with arguments where it takes some: "toggle_tool('google_search')"
    key: str = ""  # "" for palette-only actions
    footer: str = ""  # short footer label; "" keeps the key out of the footer
    priority: bool = False  # True where the composer (a TextArea) would otherwise take the key


@dataclass(frozen=True)
class UserAction:
    name: str
    title: str  # as listed in the command palette and the help
    help: str  # one line: what it does
    tui: TuiBinding | None = None
    command: str = ""  # the REPL's slash command, without the slash
    arguments: str = ""  # its arguments, as shown in /help: "LEVEL", "[NAME]"
    flag: str = ""  # the one-shot option that does this for one run
    # Front end -> why the action is not there (shown in that front end's help).
    unavailable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    setting: str = ""  # for tool switches: the Settings field it turns on and off


@dataclass(frozen=True)
class ToolSwitch:
    setting: str  # the Settings field it switches
    title: str
    badge: str  # its name in the TUI's status bar while it is on
    help: str
    command: str  # the REPL's slash command
    flag: str  # the one-shot flag


TOOL_SWITCHES: tuple[ToolSwitch, ...] = (
    ToolSwitch(
        "google_search", "Google Search", "search", "Let the model search Google and cite its sources.", "search",
        "--search",
    ),
    ToolSwitch(
        "url_context", "URL context", "url", "Let the model fetch and read URLs given in the prompt.", "url",
        "--url-context",
    ),
    ToolSwitch(
        "code_execution", "code execution", "code", "Let the model run Python on Google's servers.", "code",
        "--code-execution",
    ),
    ToolSwitch(
        "local_tools", "local tools", "files", "Let the model read files here; each call asks you first.", "tools",
        "--allow-tools",
    ),
)  # fmt: skip

_NO_SCREEN = "one-shot mode has no screen to pick from"


def _unavailable(**reasons: str) -> Mapping[str, str]:
    return MappingProxyType(reasons)


ACTIONS: tuple[UserAction, ...] = (
    UserAction(
        "stop",
        "Stop the reply",
        "Stop the reply that is streaming; the partial text stays.",
        TuiBinding("stop", "escape", "Stop"),
        unavailable=_unavailable(repl="Ctrl-C stops a reply", oneshot="Ctrl-C stops the reply and keeps it"),
    ),
    UserAction(
        "interrupt",
        "Stop the reply, or quit",
        "Ctrl+C stops a streaming reply; pressed again (nothing else in between), or when idle twice, it quits.",
        TuiBinding("interrupt", "ctrl+c", priority=True),  # with text selected in the composer, Ctrl+C copies
        unavailable=_unavailable(
            repl="Ctrl-C stops a reply; Ctrl-D quits", oneshot="Ctrl-C stops the reply and keeps it"
        ),
    ),
    *(
        UserAction(
            f"scroll_{where}",
            title,
            f"Works from the composer, while you type.{note}",
            TuiBinding(f"scroll_conversation('{where}')", key, priority=True),
            unavailable=_unavailable(repl="the terminal's own scrollback", oneshot=_NO_SCREEN),
        )
        for where, title, key, note in (
            ("page_up", "Scroll the conversation up a page", "pageup", ""),
            ("page_down", "Scroll the conversation down a page", "pagedown", ""),
            (
                "top",
                "Scroll to the start of the conversation",
                "ctrl+home,home",
                " Home does it when the composer is empty; in text it moves the cursor.",
            ),
            (
                "bottom",
                "Scroll to the end of the conversation",
                "ctrl+end,end",
                " End does it when the composer is empty; in text it moves the cursor.",
            ),
        )
    ),
    UserAction(
        "thinking",
        "Next thinking level",
        "Set or cycle minimal → low → medium → high; applies from the next request.",
        TuiBinding("cycle_level", "ctrl+t", "Thinking", priority=True),
        command="thinking",
        arguments="LEVEL",
        flag="--thinking",
    ),
    UserAction(
        "usage",
        "Show or hide token usage",
        "Every reply and the totals (tokens, first token, time, cost), and the context window.",
        TuiBinding("toggle_usage", "ctrl+u", "Usage", priority=True),
        command="usage",
        flag="--usage",
    ),
    UserAction(
        "history",
        "Show or hide history",
        "Recent conversations: open, search, rename, delete.",
        TuiBinding("toggle_history", "ctrl+b", "History", priority=True),
        command="history",
        unavailable=_unavailable(
            oneshot="use `flashchat history` (list, show, search, rename, export, import, delete)"
        ),
    ),
    UserAction(
        "open",
        "Open a stored conversation",
        "Continue a conversation from the history, signatures and all.",
        TuiBinding("open_conversation_picker"),
        command="open",
        arguments="ID",
        flag="--cid",
    ),
    UserAction(
        "rename",
        "Rename the conversation",
        "Give this conversation a new title (in the history sidebar, r renames the highlighted one).",
        TuiBinding("rename_conversation"),
        command="rename",
        arguments="TITLE",
        unavailable=_unavailable(oneshot="use `flashchat history rename ID TITLE`"),
    ),
    UserAction(
        "new_chat",
        "New chat",
        "Start a new conversation.",
        TuiBinding("new_chat", "ctrl+n", "New", priority=True),
        command="new",
        unavailable=_unavailable(oneshot="every run without -c or --cid starts a new conversation"),
    ),
    UserAction(
        "regenerate",
        "Regenerate the last reply",
        "Ask again for the last prompt (also retries a reply that failed).",
        TuiBinding("regenerate", "ctrl+r", "Regenerate", priority=True),
        command="retry",
        unavailable=_unavailable(oneshot="run it again, or continue with -c"),
    ),
    UserAction(
        "edit_last",
        "Edit the last prompt",
        "Put the last prompt back to edit and resend; its reply is dropped.",
        TuiBinding("edit_last", "ctrl+l", priority=True),
        command="edit",
        unavailable=_unavailable(oneshot="there is no prompt to edit in; run it again"),
    ),
    UserAction(
        "copy_reply",
        "Copy the last reply",
        "Copy the last reply's Markdown to the clipboard (OSC 52).",
        TuiBinding("copy_reply", "ctrl+g", priority=True),
        command="copy",
        unavailable=_unavailable(oneshot="the reply is what goes to stdout: pipe it (`| pbcopy`, `| wl-copy`)"),
    ),
    UserAction(
        "copy_code",
        "Copy a code block",
        "Pick a code block from the recent replies and copy it (OSC 52).",
        TuiBinding("copy_code", "ctrl+o", priority=True),
        command="copycode",
        arguments="[N]",
        unavailable=_unavailable(oneshot=_NO_SCREEN),
    ),
    UserAction(
        "model",
        "Choose the model",
        "Pick a model from the API's list, for this session.",
        TuiBinding("pick_model", "f2"),
        command="model",
        arguments="[NAME]",
        flag="--model",
    ),
    UserAction(
        "theme",
        "Choose the theme",
        "Pick a colour theme; the choice is saved in the config file.",
        TuiBinding("pick_theme", "f3"),
        unavailable=_unavailable(
            repl="plain mode uses the terminal's own colours", oneshot="one-shot mode uses the terminal's own colours"
        ),
    ),
    UserAction(
        "endpoint",
        "Switch endpoint",
        "Use another [endpoints.NAME] from the config file, or the default; the chat carries on.",
        TuiBinding("pick_endpoint", "f5"),
        command="endpoint",
        arguments="[NAME|default]",
        flag="--endpoint",
    ),
    UserAction(
        "preset",
        "Insert a preset prompt",
        "A preset (review, explain, tests, yours) goes before what you type.",
        TuiBinding("pick_preset", "f6", priority=True),  # TextArea selects a line on F6
        command="preset",
        arguments="NAME [TEXT]",
        flag="--preset",
    ),
    UserAction(
        "tools",
        "Switch tools on or off",
        "Google Search, URL context, code execution, local file tools.",
        TuiBinding("pick_tool", "f7", priority=True),  # TextArea selects all on F7
        command="tools",
        arguments="[on|off]",
        unavailable=_unavailable(oneshot="give --search, --url-context, --code-execution or --allow-tools"),
    ),
    *(
        UserAction(
            f"tool_{switch.setting}",
            f"Turn {switch.title} on or off",
            switch.help,
            TuiBinding(f"toggle_tool('{switch.setting}')"),
            # `/tools on|off` is the local tools' switch, and `/tools` alone lists every switch.
            command=switch.command if switch.command != "tools" else "",
            arguments="[on|off]",
            flag=switch.flag,
            setting=switch.setting,
            unavailable=_unavailable(repl="/tools on|off") if switch.command == "tools" else _unavailable(),
        )
        for switch in TOOL_SWITCHES
    ),
    UserAction(
        "thoughts",
        "Show or hide thoughts",
        "Ask for thought summaries from the next request on.",
        TuiBinding("toggle_thoughts"),
        command="thoughts",
        arguments="[on|off]",
        flag="--show-thoughts",
    ),
    UserAction(
        "api",
        "Switch the Gemini API",
        "generateContent (history sent every turn) or Interactions (the server keeps the chat when store = true).",
        TuiBinding("toggle_api"),
        command="api",
        arguments="[generate|interactions]",
        flag="--api",
    ),
    UserAction(
        "system",
        "Set the system prompt",
        "Show or change the system instruction of this conversation (it is stored with it).",
        TuiBinding("edit_system_prompt"),
        command="system",
        arguments="[TEXT|clear]",
        flag="--system",
    ),
    UserAction(
        "export",
        "Export the conversation",
        "Write this conversation to a file: Markdown, or lossless JSON for .json.",
        TuiBinding("export_conversation"),
        command="export",
        arguments="md|json PATH",
        unavailable=_unavailable(oneshot="use `flashchat history export ID --format md|json`"),
    ),
    UserAction(
        "schema",
        "Ask for JSON that matches a schema",
        "Structured output: the reply is JSON checked against a JSON Schema (a file, or the schema as JSON).",
        flag="--schema",
        unavailable=_unavailable(
            tui="structured output is for scripts: use flashchat -p --schema FILE",
            repl="structured output is for scripts: use flashchat -p --schema FILE",
        ),
    ),
    UserAction(
        "api_key",
        "Set the API key",
        "Save a Gemini API key to the config file (mode 0600).",
        TuiBinding("set_api_key", "f4"),
        command="key",
        unavailable=_unavailable(oneshot="use `flashchat config set api_key -` or GEMINI_API_KEY"),
    ),
    UserAction(
        "attach_file",
        "Attach a file",
        "Attach a file to the next prompt: text, an image, a PDF, audio or video (also: @path, or paste its path).",
        TuiBinding("attach_file"),
        command="attach",
        arguments="PATH",
        flag="-f",
    ),
    UserAction(
        "paste_image",
        "Paste an image",
        "Attach the clipboard's image to the next prompt (wl-paste, xclip or pngpaste).",
        TuiBinding("paste_image", "f8", priority=True),
        command="paste",
        unavailable=_unavailable(oneshot="pipe it: `wl-paste | flashchat -p 'describe'`"),
    ),
    UserAction(
        "cycle_media_resolution",
        "Media resolution",
        "Change the media_resolution of the last attached image, PDF or video (default, low, medium, high, "
        "ultra_high); click a chip for another.",
        TuiBinding("cycle_media_resolution", "f10", priority=True),
        command="resolution",
        arguments="LEVEL [NAME]",
        unavailable=_unavailable(oneshot="one-shot mode sends the model's default media_resolution"),
    ),
    UserAction(
        "open_attachment",
        "Show the attached image",
        "Show the last image of the conversation full size (Esc closes it).",
        TuiBinding("open_attachment", "f9"),
        unavailable=_unavailable(
            repl="the terminal's scrollback shows no pictures; open the file itself", oneshot=_NO_SCREEN
        ),
    ),
    UserAction(
        "help",
        "Help",
        "Every key and action.",
        TuiBinding("help", "f1", "Help"),
        command="help",
        flag="--help",
    ),
    UserAction(
        "quit",
        "Quit",
        "Leave flashchat; everything is already saved.",
        TuiBinding("quit"),
        command="quit",
        unavailable=_unavailable(oneshot="one-shot mode ends when the reply does"),
    ),
)

THINKING_ACTION_TITLE = "Thinking level: {level}"


def api_switch_text(settings: Any) -> str:
    """One line saying which Gemini API the next request uses and what that means for the history."""
    if settings.provider != "gemini":
        return f"Gemini API: {settings.api} (used with the gemini provider; this endpoint is {settings.provider})."
    if settings.api == "generate":
        return "Gemini API: generateContent from the next request (the whole history is sent every turn)."
    if settings.store:
        return (
            "Gemini API: Interactions from the next request; store is on, so Google keeps this chat "
            "(1 day on the free tier, 55 days on paid ones) and each turn sends only what is new."
        )
    return "Gemini API: Interactions from the next request; store is off, so the whole history is sent every turn."


def slash_commands() -> tuple[UserAction, ...]:
    """The REPL's commands, in table order."""
    return tuple(action for action in ACTIONS if action.command)


def action_for_command(command: str) -> UserAction | None:
    """The action behind `/command` (`/exit` is `/quit`)."""
    command = "quit" if command == "exit" else command
    return next((action for action in ACTIONS if action.command == command), None)


def not_offered(front_end: str) -> list[tuple[UserAction, str]]:
    """Actions `front_end` leaves out, each with the reason its help gives."""
    return [(action, action.unavailable[front_end]) for action in ACTIONS if front_end in action.unavailable]
