"""`portlint diff`: what a change to a ruleset opens and closes, computed on accepted spaces."""
