"""ufw commands in shell scripts, read the way ufw applies them.

``ufw allow 23/tcp`` in a provisioning script becomes the iptables rules ufw itself loads:
its framework chains (ufw-before-input, ufw-user-input, ufw-after-input, ufw-not-local,
ufw-user-limit...), its default before/after rules and policies, and the user's rules in
the order the script leaves them (insert, prepend, delete by rule and by number). The
script front end (linter/frontends/iptables/script.py, through other_commands.py) hands each ``ufw`` command's words
here and, at the end, loads ``UfwState.restore_lines`` onto its tables like an
iptables-restore --noflush, so the engine and checks see what the kernel would.

Modules: commands (ufw's syntax to operations), profiles (application profiles and
service names, data in rules/ufw/), rules (one rule's iptables lines), framework (ufw's own
chains), state (the script's ufw state), settings (/etc/default/ufw).
"""

from linter.frontends.ufw.commands import UfwError, parse_command
from linter.frontends.ufw.state import UfwState

__all__ = ["UfwError", "UfwState", "parse_command"]
