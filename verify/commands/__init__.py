"""One module per ``sbias`` subcommand; each exposes ``register(subparsers)``."""
