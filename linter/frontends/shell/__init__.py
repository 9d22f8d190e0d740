"""Reading shell scripts without running them.

syntax_tree, scanner and parser read a script into a tree (parser.py says why it is
hand-written); values, expansion and evaluation walk that tree symbolically. What a
command does is decided by a subclass of ShellEvaluator (linter/frontends/iptables/script.py).
"""
