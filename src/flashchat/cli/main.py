"""Command line entry point. Imports stay light: `--help` and `--version` never load google.genai."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from flashchat import __version__
from flashchat.config.settings import (
    GEMINI_APIS,
    NO_KEY_MESSAGE,
    OPTIONS,
    THINKING_LEVELS,
    ConfigError,
    Settings,
    key_file_is_exposed,
    load_settings,
    mask_secret,
    needs_api_key,
    parse_command_line_value,
    update_config_file,
)
from flashchat.core.errors import EXIT_API_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, StoreError
from flashchat.render.safe_text import stderr_line, terminal_safe

if TYPE_CHECKING:
    from flashchat.core.conversation import Conversation
    from flashchat.core.costs import SendEstimate
    from flashchat.core.media import MediaAttachment
    from flashchat.core.prompt import PreparedPrompt
    from flashchat.core.session import ChatSession
    from flashchat.store.conversation_store import ConversationStore


EXAMPLES = """\
examples:
  flashchat -p "Explain Python's GIL in three sentences."
  git diff | flashchat -p "Review this change" --thinking high
  flashchat -p "Summarise" --json < notes.txt | jq -r .text
  flashchat -c -p "And what about asyncio?"      # continue the last conversation
  flashchat history search "GIL"
  flashchat config set thinking_level low
  flashchat --endpoint local -p "hi"              # an [endpoints.local] table in the config file

keys: GEMINI_API_KEY (or GOOGLE_API_KEY), else api_key in the config file; for provider "openai",
  OPENAI_API_KEY (a variable named by api_key_env comes first), else api_key, else none (local servers).
exit codes: 0 ok, 1 API or network error, 2 usage or config error, 3 the reply does not match --schema,
  130 interrupted.
"""


def _elsewhere() -> str:
    """What the chat offers and one-shot mode does not, from the one action table, with where to find it."""
    from flashchat.core.commands import not_offered

    lines = [f"  {action.title}: {reason}" for action, reason in not_offered("oneshot")]
    return "\nactions that have no one-shot flag, and what to do instead:\n" + "\n".join(lines) + "\n"


class _OneLineErrors(argparse.ArgumentParser):
    """A usage error is one line, like every other: argparse's own prints the usage block too, and quotes the
    bad argument raw (an argument can hold escape sequences)."""

    def error(self, message: str) -> NoReturn:
        _error(f"{message} (see {self.prog} --help)")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(
        prog="flashchat",
        description="A terminal chat assistant for Gemini 3.5 Flash.",
        epilog=EXAMPLES + _elsewhere(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flashchat {__version__}")
    parser.add_argument(
        "-p", "--prompt", metavar="TEXT", nargs="?", const="", help="ask once and print the reply (stdin is appended)"
    )
    parser.add_argument(
        "-f", "--file", metavar="PATH", action="append", dest="files", help="attach a file or glob (repeatable)"
    )
    parser.add_argument("--preset", metavar="NAME", help="start the prompt with a preset: review, explain, tests...")
    parser.add_argument("--search", action="store_true", default=None, help="let the model search Google, with sources")
    parser.add_argument("--url-context", action="store_true", default=None, help="let the model read URLs you give")
    parser.add_argument("--code-execution", action="store_true", default=None, help="let the model run Python")
    parser.add_argument(
        "--allow-tools", action="store_true", help="let the model read files here (one-shot: every call allowed)"
    )
    parser.add_argument("--thinking", choices=THINKING_LEVELS, help="thinking level for this request")
    parser.add_argument("--model", metavar="NAME", help="model to use (default from config: gemini-3.5-flash)")
    parser.add_argument("--endpoint", metavar="NAME", help="use the [endpoints.NAME] table of the config file")
    parser.add_argument(
        "--api", choices=GEMINI_APIS, help="Gemini API: generate (default) or interactions (server keeps the chat)"
    )
    parser.add_argument("--system", metavar="TEXT", help="system instruction for this request")
    parser.add_argument("--show-thoughts", action="store_true", default=None, help="show thought summaries")
    parser.add_argument("--usage", action="store_true", help="print a token-usage line on stderr")
    parser.add_argument("--json", action="store_true", help="print one JSON object with text, usage and status")
    parser.add_argument(
        "--schema",
        metavar="FILE_OR_JSON",
        help="reply with JSON matching this JSON Schema (a file, or inline JSON); printed once checked",
    )
    parser.add_argument("-c", "--continue", dest="continue_last", action="store_true", help="continue the last chat")
    parser.add_argument("--cid", metavar="ID", help="continue the conversation with this id (see flashchat history)")
    parser.add_argument("--no-save", action="store_true", help="do not keep this exchange in the history")
    parser.add_argument("--plain", action="store_true", help="line-mode chat in the terminal's scrollback")
    parser.add_argument("--no-color", action="store_true", help="plain text instead of rendered Markdown")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="show or change settings", description="Show or change settings.")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("show", help="effective settings and where each comes from (key masked)")
    config_commands.add_parser("path", help="print the config file's path")
    setter = config_commands.add_parser(
        "set", help="set a key in the config file", epilog="keys: " + ", ".join(OPTIONS)
    )
    setter.add_argument("key", metavar="KEY")
    setter.add_argument("value", metavar="VALUE", help="the value; for api_key, '-' reads it from stdin")
    unsetter = config_commands.add_parser("unset", help="remove a key from the config file")
    unsetter.add_argument("key", metavar="KEY")
    history = commands.add_parser("history", help="stored conversations", description="Stored conversations.")
    history.add_argument("-n", "--limit", type=int, default=30, help="how many to list (default 30)")
    history_commands = history.add_subparsers(dest="history_command", metavar="ACTION")
    shower = history_commands.add_parser("show", help="print one conversation")
    shower.add_argument("id", metavar="ID")
    searcher = history_commands.add_parser("search", help="full-text search, best matches first")
    searcher.add_argument("text", metavar="TEXT", nargs="+")
    searcher.add_argument("-n", "--limit", type=int, default=20)
    renamer = history_commands.add_parser("rename", help="give a conversation a new title")
    renamer.add_argument("id", metavar="ID")
    renamer.add_argument("title", metavar="TITLE", nargs="+")
    exporter = history_commands.add_parser("export", help="write a conversation as Markdown or lossless JSON")
    exporter.add_argument("id", metavar="ID")
    exporter.add_argument("--format", choices=("md", "json"), default="md")
    exporter.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    importer = history_commands.add_parser("import", help="store a conversation exported as JSON")
    importer.add_argument("file", metavar="FILE", help="the JSON export, or - for stdin")
    deleter = history_commands.add_parser("delete", help="delete a conversation")
    deleter.add_argument("id", metavar="ID")
    deleter.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _error(text: str) -> None:
    """One line on stderr. Messages quote config values, file names and store contents, none of them trusted:
    the line is terminal-safe and bounded whatever they hold."""
    sys.stderr.write(stderr_line(text))
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ConfigError as error:
        _error(str(error))
        return EXIT_USAGE
    except StoreError as error:
        _error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_API_ERROR


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    config_path = _config_path()
    if args.command == "config":
        return _config_command(args, config_path)
    if args.command == "history":
        return _history_command(args)

    settings = load_settings(config_path, endpoint=args.endpoint).with_overrides(
        "--option",
        model=args.model,
        thinking_level=args.thinking,
        show_thoughts=args.show_thoughts,
        google_search=args.search,
        url_context=args.url_context,
        code_execution=args.code_execution,
        api=args.api,
    )
    if args.system is not None:
        settings = settings.with_overrides("--system", system_prompt=args.system)
    key_in_file = settings.origins.get("api_key", "").startswith(("config", "[endpoints."))
    if settings.api_key and key_in_file and key_file_is_exposed(config_path):
        _error(f"warning: {config_path} holds an API key but others can read it; run chmod 600 on it.")

    if (unoffered := _unoffered_tool_flag(args, settings)) is not None:
        _error(unoffered)
        return EXIT_USAGE
    if args.preset is not None and args.preset not in settings.presets:
        _error(f"unknown preset {args.preset!r}; presets: {', '.join(settings.presets)} (add more under [presets])")
        return EXIT_USAGE
    asked_once = args.prompt is not None or args.files or args.preset is not None
    if args.schema is not None and (args.plain or (not asked_once and sys.stdin.isatty())):
        _error("--schema is for one-shot mode: give the prompt with -p TEXT (or on stdin).")
        return EXIT_USAGE
    if args.plain:
        if not sys.stdin.isatty():
            # Lines read from a pipe would be sent with nobody there to answer a tool approval or a y/N; the
            # one-shot mode is the piped form, and it says where each message went.
            _error(
                "--plain is a chat for a terminal and stdin is not one: to send piped text, use "
                "`... | flashchat -p` (or `flashchat -p TEXT`)."
            )
            return EXIT_USAGE
        return _plain_repl(args, settings)
    if not asked_once and sys.stdin.isatty():
        if not sys.stdout.isatty():
            _error("no prompt: use -p TEXT or pipe text on stdin (the chat needs a terminal; see flashchat --help).")
            return EXIT_USAGE
        from flashchat.tui.app import CONTINUE_LATEST, run_tui

        conversation_id = args.cid or (CONTINUE_LATEST if args.continue_last else None)
        return run_tui(settings, config_path=config_path, conversation_id=conversation_id)

    stdin_input: str | MediaAttachment | None = None
    if not sys.stdin.isatty():
        from flashchat.core.attachments import AttachmentError
        from flashchat.core.prompt import read_stdin

        try:
            stdin_input = read_stdin(sys.stdin.buffer, lambda text: _error(f"warning: {text}"))
        except AttachmentError as error:  # a binary of no type flashchat sends: never as U+FFFD text
            _error(str(error))
            return EXIT_USAGE
    if not asked_once and stdin_input is None:
        _error("no prompt: use -p TEXT or pipe text on stdin (see flashchat --help).")
        return EXIT_USAGE
    return _one_shot(args, settings, stdin_input)


def _unoffered_tool_flag(args: argparse.Namespace, settings: Settings) -> str | None:
    """A tool flag the active provider would ignore is refused, not silently dropped."""
    from flashchat.core.commands import TOOL_SWITCHES
    from flashchat.providers import capabilities_for

    capabilities = capabilities_for(settings)
    for switch in TOOL_SWITCHES:
        if getattr(args, switch.flag.removeprefix("--").replace("-", "_"), None) and not capabilities.offers(
            switch.setting
        ):
            where = f"[endpoints.{settings.endpoint}]" if settings.endpoint else f"provider {settings.provider!r}"
            return (
                f"{switch.flag}: {switch.title} is not offered by {where}; leave the flag out or use another endpoint."
            )
    return None


def _config_path() -> Path:
    from flashchat.config import paths

    return paths.config_file()


def _one_shot(args: argparse.Namespace, settings: Settings, stdin_input: str | MediaAttachment | None) -> int:
    from flashchat.cli.oneshot import OneShot
    from flashchat.store.conversation_store import ConversationStore, open_store

    stdin_text = stdin_input if isinstance(stdin_input, str) else None
    stdin_media = None if isinstance(stdin_input, str) else stdin_input
    nothing_piped = not (stdin_text or "").strip() and stdin_media is None
    if not (args.prompt or "").strip() and nothing_piped and not args.files and not args.preset:
        _error("the prompt is empty: give text with -p or on stdin.")
        return EXIT_USAGE
    # Local tools in one-shot mode only with --allow-tools: there may be nobody to ask.
    settings = settings.with_overrides("--allow-tools", local_tools=bool(args.allow_tools))
    if args.schema is not None:
        from flashchat.cli.schema_output import load_schema

        settings = settings.with_response_schema(load_schema(args.schema))  # a bad one: ConfigError, exit 2
    if not settings.api_key and needs_api_key(settings):
        _error(NO_KEY_MESSAGE)
        return EXIT_USAGE
    store = ConversationStore.in_memory() if args.no_save else open_store()
    if store.warning:
        _error(f"warning: {store.warning}")
    conversation = _conversation_to_continue(args, store)
    if conversation is not None:
        import gc

        # Kept until this process ends: the collections while the SDK is imported need not walk it again and again
        # (~40 ms of CPU for a 2,000-message conversation, bench/huge_history.py).
        gc.freeze()
    runner = OneShot(
        settings,
        store=store,
        conversation=conversation,
        show_usage=args.usage,
        as_json=args.json,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    preset = settings.presets[args.preset] if args.preset else ""

    async def prepare(session: ChatSession) -> PreparedPrompt | None:
        """The shared prompt preparation and its guard, before anything is sent."""
        from flashchat.core.attachments import AttachmentError
        from flashchat.core.prompt import prepare_prompt

        try:
            prepared = await prepare_prompt(
                session, args.prompt or "", files=args.files or [], stdin_text=stdin_text, stdin_media=stdin_media,
                preset=preset, mentions=False, root=Path.cwd(),
            )  # fmt: skip
        except AttachmentError as error:
            _error(str(error))
            return None
        if prepared.refusal:
            _error(prepared.refusal)
            return None
        if prepared.warning and not await _confirm_send(prepared.warning):
            return None
        if prepared.estimate is not None and not await _confirm_large_request(prepared.estimate):
            return None
        return prepared

    try:
        return runner.run(prepare)
    finally:
        store.close()


async def _confirm_send(warning: str) -> bool:
    """Over attach_warn_tokens: ask when someone is there to answer, else say so and send."""
    return await _ask_or_tell(f"{warning} Send them?", f"{warning} Sending anyway.")


async def _confirm_large_request(estimate: SendEstimate) -> bool:
    """Over large_request_tokens: show the size and cost and ask on a terminal; a script is told, and it sends."""
    summary = f"this request is large: {estimate.summary()} ({estimate.detail()})."
    return await _ask_or_tell(f"{summary} Send it?", f"{summary} Sending (large_request_tokens = 0 turns this off).")


async def _ask_or_tell(question: str, piped_note: str) -> bool:
    """y/N on a terminal (False: not sent); with nobody there to answer, a warning line on stderr and True."""
    if sys.stdin.isatty() and sys.stderr.isatty():
        import asyncio

        answer = await asyncio.to_thread(input, f"flashchat: {question} [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            _error("not sent.")
            return False
        return True
    _error(f"warning: {piped_note}")
    return True


def _conversation_to_continue(args: argparse.Namespace, store: ConversationStore) -> Conversation | None:
    """The conversation -c/--cid asks for (None for a new one); the session restores its system prompt and model."""
    if not (args.continue_last or args.cid):
        return None
    wanted = args.cid or store.latest_id()
    if wanted is None:
        raise StoreError("no earlier conversation to continue (see flashchat history).")
    return store.load(store.resolve_id(wanted))


def _plain_repl(args: argparse.Namespace, settings: Settings) -> int:
    from flashchat.config.logs import route_library_output_to_log_file
    from flashchat.repl.plain_repl import colour_wanted, run_repl
    from flashchat.store.conversation_store import ConversationStore, open_store

    # The SDK warns about unknown enum values quoting the server's string raw (a finish reason with ESC in
    # it): in the terminal's own scrollback that would be an escape sequence acted on.
    route_library_output_to_log_file()

    if not settings.api_key and needs_api_key(settings):
        _error(NO_KEY_MESSAGE)
        return EXIT_USAGE
    store = ConversationStore.in_memory() if args.no_save else open_store()
    try:
        conversation = _conversation_to_continue(args, store)
        return run_repl(settings, store, colour=colour_wanted(args.no_color), conversation=conversation)
    finally:
        store.close()


def _history_command(args: argparse.Namespace) -> int:
    from flashchat.cli import history_commands as commands
    from flashchat.store.conversation_store import open_store

    store = open_store()
    if store.warning:
        _error(f"warning: {store.warning}")
    out = sys.stdout
    try:
        match args.history_command:
            case None:
                return commands.list_conversations(store, args.limit, out)
            case "show":
                return commands.show(store, args.id, out)
            case "search":
                return commands.search(store, " ".join(args.text), args.limit, out)
            case "rename":
                return commands.rename(store, args.id, " ".join(args.title), out)
            case "export":
                return commands.export(store, args.id, args.format, args.output, out)
            case "import":
                return commands.import_file(store, args.file, out)
            case _:
                return commands.delete(store, args.id, args.yes, out)
    finally:
        store.close()


def _config_command(args: argparse.Namespace, path: Path) -> int:
    if args.config_command == "path":
        print(path)
        return EXIT_OK
    if args.config_command == "show":
        _show_settings(load_settings(path, endpoint=args.endpoint), path)
        return EXIT_OK
    if args.config_command == "unset":
        if args.key not in OPTIONS:
            raise ConfigError(f"unknown key '{args.key}'; known keys: {', '.join(OPTIONS)}")
        update_config_file(path, args.key, None)
        print(f"{args.key} removed from {path}")
        return EXIT_OK
    value = _read_secret() if args.key == "api_key" and args.value == "-" else args.value
    update_config_file(path, args.key, parse_command_line_value(args.key, value))
    shown = mask_secret(value) if OPTIONS[args.key].secret else repr(value)
    print(f"{args.key} = {shown} written to {path}")
    if args.key == "api_key" and any(os.environ.get(name) for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY")):
        print("note: GEMINI_API_KEY / GOOGLE_API_KEY is set in this shell and takes precedence.")
    return EXIT_OK


def _read_secret() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("API key: ").strip()
    return sys.stdin.readline().strip()


def _show_settings(settings: Settings, path: Path) -> None:
    import tomlkit

    print(f"# {path}{'' if path.exists() else ' (does not exist yet)'}")
    for key, option in OPTIONS.items():
        value: Any = getattr(settings, key)
        origin = settings.origins.get(key, "default")
        if value is None:
            print(f"# {key} is unset  ({option.help})")
            continue
        if option.secret:
            value = mask_secret(value) if value else "(not set)"
        # TOML escapes C0 controls but not DEL, C1 or bidi controls, and config values are not trusted.
        line = terminal_safe(tomlkit.dumps({key: value}).strip())
        print(f"{line}  # {origin}")
    for name, table in settings.endpoints.items():
        shown = {key: mask_secret(value) if OPTIONS[key].secret else value for key, value in table.items()}
        print(f"\n{terminal_safe(tomlkit.dumps({'endpoints': {name: shown}}).strip())}")
