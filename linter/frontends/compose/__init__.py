"""The docker-compose front end: project (the front end's parse), yaml_reader (YAML with positions
and limits), env (interpolation), ports (port specs), files (which compose files go together).
"""
