"""``docker run`` / ``podman run`` in shell scripts: their port publications, read like compose's.

``docker run -d -p 5432:5432 --name db postgres:16`` publishes PostgreSQL on every
interface just as a compose service with ``ports: ["5432:5432"]`` does, so it becomes the
same model (ComposeProject ▸ Service ▸ Publication) and meets the same checks (PL101,
PL201, PL210...) and the Docker-bypass join with the host's firewall (PL220).

Read: ``docker|podman [global options] [container] run|create [options] IMAGE [command]``;
``-p``/``--publish`` in every short-syntax form the compose front end reads (through
linter/frontends/compose/ports.py, the same parser), ``--publish=...``, ``-p=...``,
``-pVALUE`` and clusters (``-dp 80:80``); ``-P``/``--publish-all`` (which ports the image
EXPOSEs is not in the script: a note says the image decides); ``--name``; ``--network``/
``--net`` (host: Docker ignores publications); ``--expose``. The service is named by
``--name``, else by the image; the image names the service behind a port (postgres ->
PostgreSQL) as in compose.

This module knows nothing of shell: the script front end hands it each command's words
(text, or None for a value portlint cannot know) with their spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linter.model import ComposeProject, Publication, Service, Span

ENGINES = ("docker", "podman")
FORMAT = "container-run"
_RUN = ("run", "create")
# Options of `docker run` / `podman run` that take a value (the rest are flags).
_VALUED_LONG = frozenset("""
add-host annotation attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns
cgroup-conf chrootdirs cidfile conmon-pidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period
cpu-rt-runtime cpu-shares cpus cpuset-cpus cpuset-mems decryption-key detach-keys device device-cgroup-rule
device-read-bps device-read-iops device-write-bps device-write-iops dns dns-option dns-opt dns-search
domainname entrypoint env env-file env-merge expose gidmap gpus group-add group-entry health-cmd
health-interval health-retries health-start-period health-start-interval health-timeout health-on-failure
hostname hostuser image-volume init-path io-maxbandwidth io-maxiops ip ip6 ipc isolation
kernel-memory label label-file link link-local-ip log-driver log-opt mac-address memory memory-reservation
memory-swap memory-swappiness mount name network net network-alias net-alias oom-score-adj os passwd-entry
personality pid pidfile pids-limit platform pod pod-id-file preserve-fds publish pull requires restart
runtime sdnotify seccomp-policy secret security-opt shm-size shm-size-systemd stop-signal stop-timeout
storage-opt subgidname subuidname sysctl timeout tmpfs tz uidmap ulimit umask unsetenv user userns uts
variant volume volume-driver volumes-from workdir arch
""".split())
_VALUED_SHORT = frozenset("acehlmpuvw")
# Options of the docker / podman command itself, before the subcommand, that take a value.
_GLOBAL_VALUED = frozenset({"-H", "--host", "-c", "--context", "--config", "--log-level", "-l", "--tlscacert",
                            "--tlscert", "--tlskey", "--connection", "--url", "--identity", "--root", "--runroot",
                            "--storage-driver", "--cgroup-manager", "--events-backend", "--network-cmd-path",
                            "--runtime", "--tmpdir", "--module"})


HINTS = {
    "publish-all": "Publish only the ports needed, bound to an address: -p 127.0.0.1:5432:5432",
    "unknown": "Set the value literally in the script, or lint the compose file or the host's iptables-save output",
}


@dataclass(frozen=True)
class Word:
    """One word of the command: its text (None when portlint cannot know it) and where it is."""

    text: str | None
    span: Span
    written: str = ""  # as written in the script ("$PORT:5432")


@dataclass
class RunCommand:
    """What one run command says about ports: ready to become a compose-like Service."""

    engine: str
    span: Span
    image: Word | None = None
    name: Word | None = None
    network: Word | None = None
    publications: list = field(default_factory=list)
    publish_all: Word | None = None


@dataclass
class Note:
    """Something to tell about a command: ``kind`` "invalid" (Docker refuses it), "port" (a port
    entry it refuses), "unknown" (a value portlint cannot know) or "publish-all" (-P)."""

    kind: str
    message: str
    span: Span


def is_run(words: list[Word]) -> bool:
    """Whether ``docker ... run|create`` (``words`` without the engine name) starts a container."""
    return _subcommand(words) is not None


def _subcommand(words: list[Word]) -> int | None:
    k = 0
    while k < len(words) and words[k].text is not None and words[k].text.startswith("-"):
        text = words[k].text
        k += 2 if text in _GLOBAL_VALUED else 1
    if k < len(words) and words[k].text == "container":
        k += 1
    if k < len(words) and words[k].text in _RUN:
        return k + 1
    return None


def read_run(engine: str, words: list[Word], span: Span) -> tuple[RunCommand | None, list[Note]]:
    """The run command's publications, name, image and network; notes for what is refused or unknown."""
    start = _subcommand(words)
    if start is None:
        return None, []
    command = RunCommand(engine, span)
    notes: list[Note] = []
    k = start
    while k < len(words):
        word = words[k]
        text = word.text
        if text is None:
            notes.append(Note("unknown", f"{word.written or 'an option'} is not known: the {engine} run options "
                                         "after it are not read", word.span))
            return command, notes
        if text == "--":
            k += 1
            break
        if not text.startswith("-") or text == "-":
            break
        if text.startswith("--"):
            name, eq, value = text[2:].partition("=")
            if name in _VALUED_LONG:
                if not eq:
                    k += 1
                    value_word = words[k] if k < len(words) else None
                else:
                    value_word = Word(value, word.span, word.written)
                _option(command, name, value_word, notes, word)
            elif name == "publish-all" and value.lower() not in ("false", "0"):
                command.publish_all = word
            k += 1
            continue
        # a cluster of short flags: the first that takes a value takes the rest of the word, or the next word
        letters = text[1:]
        for index, letter in enumerate(letters):
            if letter == "P":
                command.publish_all = word
            if letter in _VALUED_SHORT:
                rest = letters[index + 1:].removeprefix("=")
                if rest:
                    value_word = Word(rest, word.span, word.written)
                else:
                    k += 1
                    value_word = words[k] if k < len(words) else None
                long_name = {"p": "publish", "e": "env", "v": "volume", "l": "label", "u": "user", "w": "workdir",
                             "h": "hostname", "m": "memory", "a": "attach", "c": "cpu-shares"}[letter]
                _option(command, long_name, value_word, notes, word)
                break
        k += 1
    if any(note.kind == "invalid" for note in notes):
        return None, notes  # the engine refuses the whole command
    if k < len(words):
        command.image = words[k]
    return command, notes


def _option(command: RunCommand, name: str, value: Word | None, notes: list[Note], option: Word) -> None:
    if value is None:
        notes.append(Note("invalid", f"{option.text} needs a value: {command.engine} refuses the command",
                          option.span))
        return
    if name == "publish":
        command.publications.append(value)
    elif name == "expose":
        command.publications.append(("expose", value))
    elif name == "name":
        command.name = value
    elif name in ("network", "net"):
        command.network = value


def service_of(command: RunCommand, notes: list[Note]) -> Service | None:
    """The run command as a compose-like Service (None without an image)."""
    if command.image is None or command.image.text is None:
        if command.image is None:
            notes.append(Note("invalid", f"{command.engine} run names no image: it refuses the command",
                              command.span))
        return None
    from linter.frontends.compose.host_scope import host_address
    from linter.frontends.compose.ports import PortSpecError, parse_expose, parse_short  # imports Lark

    image = command.image.text
    name = command.name.text if command.name is not None and command.name.text else _image_name(image)
    publications = []
    for entry in command.publications:
        exposed = isinstance(entry, tuple)
        word = entry[1] if exposed else entry
        if word.text is None:
            notes.append(Note("unknown", f"{word.written} is not known: this publication is not read", word.span))
            continue
        try:
            spec = parse_expose(word.text) if exposed else parse_short(word.text)
        except PortSpecError as exc:
            flag = "--expose" if exposed else "-p"
            notes.append(Note("port", f"Invalid {flag} {word.text!r} of {command.engine} run: {exc}", word.span))
            continue
        publications.append(Publication(target=spec.target, published=spec.published, host_ip=spec.host_ip,
                                        protocol=spec.protocol, span=word.span, exposed_only=exposed,
                                        text=word.text, host=host_address(spec.host_ip)))
    network = command.network.text if command.network is not None else None
    # host, none and container:NAME replace the container's own network (Docker then publishes nothing);
    # any other value names a user-defined network, which compose would not call a network_mode
    special = network is not None and (network in ("host", "none") or network.startswith("container:"))
    return Service(name=name, publications=tuple(publications), span=command.span,
                   network_mode=network if special else None, image=image,
                   network_mode_span=command.network.span if command.network is not None else None)


def _image_name(image: str) -> str:
    """A service name from an image reference: registry.example.com/team/postgres:16 -> postgres."""
    base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return base or image


def publish_all_note(command: RunCommand) -> Note | None:
    """-P / --publish-all: every port the image EXPOSEs is published on all interfaces."""
    if command.publish_all is None:
        return None
    image = command.image.text if command.image is not None and command.image.text else "the image"
    return Note("publish-all", f"{command.publish_all.text} publishes every port {image} EXPOSEs on all interfaces, "
                               "on ports Docker picks; which ports is decided by the image, not by this script",
                command.publish_all.span)


def project(path: str, services: list[Service]) -> ComposeProject:
    """The run commands of one script as one project (services named twice keep both)."""
    return ComposeProject(path=path, services=tuple(services), format=FORMAT)
