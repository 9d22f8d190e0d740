"""The iptables front ends: iptables-save (and `iptables -S`) files, and shell scripts that run iptables.

Modules: options (iptables' option tables), tokens (the line grammar and its fast path), values
(addresses, ports), rule_options and rule_reader (one rule's options into model matches), tables
(the table store commands change), save (the iptables-save front end), script (replaying a
shell script's iptables commands, on the shell evaluator of linter/frontends/shell/).
"""
