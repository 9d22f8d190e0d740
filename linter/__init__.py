"""portlint: lint firewall rules and container port configs for what they really expose."""

from linter.dataclass_code import install

__version__ = "0.1.0"

# Before any module of the package defines a dataclass: their methods come compiled (dataclass_code.py).
install()
