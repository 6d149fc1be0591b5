"""Every chat action in one table: it feeds the key bindings, the footer, the command palette and F1 help."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ChatAction:
    action: str  # the app's action_<name>
    title: str  # as listed in the command palette and the help screen
    help: str
    key: str = ""  # "" for palette-only actions
    footer: str = ""  # short footer label; "" keeps the key out of the footer
    priority: bool = False  # True where the composer (a TextArea) would otherwise take the key


@dataclass(frozen=True)
class ToolToggle:
    setting: str  # the Settings field it switches
    title: str
    badge: str  # its name in the status bar while it is on
    help: str


TOOL_TOGGLES: tuple[ToolToggle, ...] = (
    ToolToggle("google_search", "Google Search", "search", "Let the model search Google and cite its sources."),
    ToolToggle("url_context", "URL context", "url", "Let the model fetch and read URLs given in the prompt."),
    ToolToggle("code_execution", "code execution", "code", "Let the model run Python on Google's servers."),
    ToolToggle("local_tools", "local tools", "files", "Let the model read files here; each call asks you first."),
)

CHAT_ACTIONS: tuple[ChatAction, ...] = (
    ChatAction("stop", "Stop the reply", "Stop the reply that is streaming; the partial text stays.", "escape", "Stop"),
    ChatAction(
        "cycle_level",
        "Next thinking level",
        "Cycle minimal → low → medium → high; applies from the next request.",
        "ctrl+t",
        "Thinking",
        priority=True,
    ),
    ChatAction(
        "toggle_usage",
        "Show or hide token usage",
        "Last turn, conversation totals, context window and cost.",
        "ctrl+u",
        "Usage",
        priority=True,
    ),
    ChatAction(
        "toggle_history",
        "Show or hide history",
        "Recent conversations: open, search, rename, delete.",
        "ctrl+b",
        "History",
        priority=True,
    ),
    ChatAction("new_chat", "New chat", "Start a new conversation.", "ctrl+n", "New", priority=True),
    ChatAction(
        "regenerate",
        "Regenerate the last reply",
        "Ask again for the last prompt (also retries a reply that failed).",
        "ctrl+r",
        "Regenerate",
        priority=True,
    ),
    ChatAction(
        "edit_last",
        "Edit the last prompt",
        "Put the last prompt back in the composer and drop its reply.",
        "ctrl+l",
        priority=True,
    ),
    ChatAction(
        "copy_reply", "Copy the last reply", "Copy the last reply's Markdown to the clipboard.", "ctrl+g", priority=True
    ),
    ChatAction(
        "copy_code",
        "Copy a code block",
        "Pick a code block from the recent replies and copy it.",
        "ctrl+o",
        priority=True,
    ),
    ChatAction("pick_model", "Choose the model", "Pick a model from the API's list (for this session).", "f2"),
    ChatAction("pick_theme", "Choose the theme", "Pick a colour theme; the choice is saved in the config file.", "f3"),
    ChatAction(
        "pick_endpoint",
        "Switch endpoint",
        "Use another [endpoints.NAME] from the config file, or the default; the chat carries on.",
        "f5",
    ),
    ChatAction(
        "pick_preset",
        "Insert a preset prompt",
        "Put a preset (review, explain, tests…) into the composer.",
        "f6",
        priority=True,  # TextArea selects a line on F6
    ),
    ChatAction(
        "pick_tool",
        "Switch tools on or off",
        "Google Search, URL context, code execution, local file tools.",
        "f7",
        priority=True,  # TextArea selects all on F7
    ),
    *(ChatAction(f"toggle_tool('{tool.setting}')", f"Turn {tool.title} on or off", tool.help) for tool in TOOL_TOGGLES),
    ChatAction("set_api_key", "Set the API key", "Save a Gemini API key to the config file (mode 0600).", "f4"),
    ChatAction("toggle_thoughts", "Show or hide thoughts", "Ask for thought summaries from the next request on."),
    ChatAction("help", "Help", "Every key and action.", "f1", "Help"),
)

THINKING_ACTION_TITLE = "Thinking level: {level}"


def bindings() -> list[Binding]:
    return [
        Binding(
            chat_action.key,
            chat_action.action,
            chat_action.footer or chat_action.title,
            show=bool(chat_action.footer),
            priority=chat_action.priority,
            id=chat_action.action,
        )
        for chat_action in CHAT_ACTIONS
        if chat_action.key
    ]
