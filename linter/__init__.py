"""portlint: lint firewall rules and container port configs for what they really expose."""

__version__ = "0.1.0"
