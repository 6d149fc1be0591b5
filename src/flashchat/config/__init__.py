"""Settings (defaults, the TOML file, environment, command-line overrides), where files live, and the log file."""
