"""The command line: argument parsing, one-shot mode (`-p`) and `history` / `config` subcommands.

It starts the other front ends (`--plain`, the full-screen chat) but never the other way round."""
