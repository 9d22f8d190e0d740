"""Subcommands that answer questions about rulesets: trace and exposure."""
