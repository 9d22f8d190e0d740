"""portlint: lint firewall rules and container port configs for what they really expose."""

# Before any module compiles a pattern: their code comes compiled (regex_code.py).
from linter.regex_code import install as _install_patterns

_install_patterns()

from linter.dataclass_code import install  # noqa: E402

__version__ = "0.1.0"

# Before any module of the package defines a dataclass: their methods come compiled (dataclass_code.py).
install()
