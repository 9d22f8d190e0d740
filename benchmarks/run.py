#!/usr/bin/env python3
"""portlint against the reference tools, on the same generated files, in one run.

    sudo python benchmarks/run.py                      # 1k, 10k and 100k rules (takes a while)
    sudo python benchmarks/run.py --sizes 1000,10000   # quicker
    sudo python benchmarks/run.py --only shapes --shape-sizes 1000,10000,100000   # issue 14's shapes
    python benchmarks/run.py --json results.json       # also keep the figures

What is measured (every command in its own process, so start-up counts):

* ``portlint check FILE`` (lint: every check, text report to /dev/null) and
  ``portlint exposure FILE`` on kube-proxy style iptables-save files
  (benchmarks/generate.py iptables N), against ``iptables-restore --test`` loading the
  same file inside a throwaway network namespace: wall and CPU seconds, peak memory
  (the child's maximum resident set, from wait4), the ratio portlint / reference;
* ``portlint check`` on nft rulesets (generate.py nft N) against ``nft -c -f``;
* the front ends alone (read and parse, in a subprocess, CPU seconds), to show where
  the time goes;
* the scaling curve: time per rule at each size and the exponent of a least-squares fit
  of log(time) against log(rules) (1.0 is linear);
* the shapes of issue 14 (``--only shapes``, ``--shapes`` to pick): blocklist, allow-list,
  country blocks, an nft set blocklist, a random mix, a Docker host, ufw, an nft vmap and the
  nft versions of blocklist, allow-list, country and mix (generate.py), each at
  ``--shape-sizes`` (the mixes at ``--mix-sizes``): ``portlint check`` and ``portlint
  exposure`` against ``iptables-restore --test`` / ``nft -c -f``, peak memory, the ratio of
  CPU seconds check / reference, and the growth exponent between the two largest sizes
  (log(t2 / t1) / log(n2 / n1) on CPU seconds);
* one small file end to end (the pre-commit case): median wall time of 10 runs, with
  bytecode cached as in an installed package, and without any bytecode;
* many small files (200 copies of the samples): one process (--jobs 1) against the
  default pool, wall and CPU seconds; CPU/wall above 1 means more than one core worked.

The machine (CPU model, cores, Python, kernel, tool versions, date, load average) is
printed first: other work on the machine shows in wall times, less in CPU times.
The reference tools need root, ip(8), iptables-restore and nft; without them those
columns are left empty. This is a benchmark, not a test: nothing under tests/ runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "benchmarks"))

import generate  # noqa: E402


@dataclass
class Run:
    wall: float | None  # seconds; None when the command timed out or failed
    cpu: float | None  # user + system seconds of the child
    rss_mb: float | None  # peak resident set of the child
    code: int | None = None
    note: str = ""


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(command: list[str], env: dict | None = None, timeout: float = 1800, stdin=None) -> Run:
    """Run ``command`` with output discarded; its wall time, CPU time and peak memory.

    The peak memory comes from GNU time when it is installed: a child forked from this
    Python process starts with this process's pages resident, and the kernel's maximum
    resident set of the child would count them. Without GNU time it comes from wait4
    (then small figures are this process's size, not the command's).
    """
    report = None
    if GNU_TIME:
        report = tempfile.NamedTemporaryFile("r", prefix="portlint-bench-time-", delete=False)
        command = [GNU_TIME, "-q", "-f", "%U %S %M", "-o", report.name, *command]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=stdin, env=env,
                               start_new_session=True)  # a group of its own: a timeout kills the whole of it

    def kill() -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    process.stderr.close()
    # ru_maxrss and time's %M are KiB: peaks are reported in MiB (2**20 bytes).
    cpu, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    if report is not None:
        try:
            fields = Path(report.name).read_text().split()
            if len(fields) >= 3 and not fields[0].startswith("Command"):
                cpu, rss = float(fields[-3]) + float(fields[-2]), int(fields[-1]) / 1024
            elif "signal" in " ".join(fields):
                code = -9
        finally:
            report.close()
            os.unlink(report.name)
    if code < 0 or (GNU_TIME and wall >= timeout):
        return Run(None, None, None, code, f"killed after {timeout:.0f} s" if wall >= timeout else f"signal {-code}")
    return Run(wall, cpu, rss, code, error.strip()[-300:])


def best(runs: list[Run]) -> Run:
    done = [r for r in runs if r.wall is not None]
    return min(done, key=lambda r: r.wall) if done else runs[-1]


def portlint_env(pycache: str | None) -> dict:
    """The environment of a portlint run: this checkout on the path; bytecode cached in ``pycache``
    (as an installed package has it) or not written at all (None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = str(PROJECT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def portlint(*args: str) -> list[str]:
    return [sys.executable, "-m", "linter", *args]


FRONT_END = """
import sys, time
from linter.source import read_source
from linter.frontends import parse_source
started = time.process_time()
source = read_source(sys.argv[1])
result = parse_source(source, sys.argv[2])
rules = sum(len(c.rules) for t in result.document.tables for c in t.chains)
print(rules, len(result.diagnostics), time.process_time() - started)
"""


def front_end(path: Path, fmt: str, env: dict, timeout: float) -> tuple[Run, int]:
    command = [sys.executable, "-c", FRONT_END, str(path), fmt]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return Run(None, None, None, done.returncode, done.stderr[-300:]), 0
    rules, _, cpu = done.stdout.split()
    return Run(wall, float(cpu), None, 0), int(rules)


class Namespace:
    """A throwaway network namespace for the reference tools (created here, deleted on exit)."""

    def __init__(self) -> None:
        self.name = f"portlint-bench-{os.getpid()}"
        self.ok = False

    def __enter__(self):
        if os.geteuid() == 0 and shutil.which("ip"):
            self.ok = subprocess.run(["ip", "netns", "add", self.name], capture_output=True).returncode == 0
        return self

    def __exit__(self, *exc) -> None:
        if self.ok:
            subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)

    def command(self, *args: str) -> list[str] | None:
        if not self.ok or not shutil.which(args[0]):
            return None
        return ["ip", "netns", "exec", self.name, *args]


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()

    def version(*command):
        try:
            return subprocess.run(command, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return None

    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model, "cores": cores, "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "iptables": version("iptables", "--version"), "nft": version("nft", "--version"),
        "load_average_start": os.getloadavg(),
    }


def fit_exponent(points: list[tuple[int, float]]) -> float | None:
    """The slope of the least-squares line through (log n, log t)."""
    points = [(n, t) for n, t in points if t and t > 0]
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def fmt_s(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def ratio(a: Run, b: Run | None) -> float | None:
    if b is None or a.wall is None or b.wall is None or b.wall == 0:
        return None
    return a.wall / b.wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="rule counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement below 50k rules (best kept)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is given up")
    parser.add_argument("--skip-nft", action="store_true", help="leave out the nft rulesets")
    parser.add_argument("--skip-exposure", action="store_true", help="leave out portlint exposure")
    parser.add_argument("--files", type=int, default=200, help="small files in the many-files run")
    parser.add_argument("--only", default="iptables,nft,shapes,small,many",
                        help="parts to run, comma-separated: iptables, nft, shapes, small, many")
    parser.add_argument("--shape-sizes", default="1000,10000,100000",
                        help="rule counts for the blocklist-like shapes, comma-separated")
    parser.add_argument("--mix-sizes", default="1000,10000,100000",
                        help="rule counts for the random mixes (mix, nft-mix), comma-separated")
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help=f"which shapes, comma-separated (of {', '.join(SHAPES)})")
    parser.add_argument("--json", type=Path, help="write every figure here too")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    parts = set(args.only.split(","))
    if args.skip_nft:
        parts.discard("nft")
    results: dict = {"machine": machine(), "iptables": [], "nft": [], "shapes": {}, "small": {}, "many": {}}
    print(json.dumps(results["machine"], indent=2))

    with tempfile.TemporaryDirectory(prefix="portlint-bench-") as tmp, Namespace() as ns:
        tmp_path = Path(tmp)
        pycache = str(tmp_path / "pycache")
        warm = portlint_env(pycache)
        cold = portlint_env(None)
        subprocess.run(portlint("rules"), env=warm, capture_output=True)  # fill the bytecode cache

        def repeat_for(n: int) -> int:
            return args.repeat if n < 50_000 else 1

        # --- iptables-save
        if "iptables" in parts:
            print("\n== iptables-save (kube-proxy style) ==")
            print(f"{'rules':>8} {'restore s':>9} {'MiB':>6} | {'front end s':>11} | {'check s':>8} {'cpu s':>7} {'MiB':>6} "
                  f"{'ratio':>6} | {'exposure s':>10} {'MiB':>6} {'ratio':>6}")
        for n in sizes if "iptables" in parts else ():
            path = tmp_path / f"kube-{n}.rules"
            path.write_text(generate.iptables(n))
            reference = None
            restore = ns.command("iptables-restore", "--test", str(path))
            if restore:
                reference = best([run(restore, timeout=args.timeout) for _ in range(repeat_for(n))])
                if reference.code:
                    reference = Run(None, None, None, reference.code, reference.note)
            fe, rules = front_end(path, "iptables-save", warm, args.timeout)
            check = best([run(portlint("check", str(path), "--isolated"), warm, args.timeout)
                          for _ in range(repeat_for(n))])
            exposure = None
            if not args.skip_exposure:
                exposure = best([run(portlint("exposure", str(path)), warm, args.timeout)
                                 for _ in range(repeat_for(n))])
            row = {"n": n, "rules": rules, "reference": asdict(reference) if reference else None,
                   "front_end": asdict(fe), "check": asdict(check), "exposure": asdict(exposure) if exposure else None,
                   "check_ratio": ratio(check, reference),
                   "exposure_ratio": ratio(exposure, reference) if exposure else None}
            results["iptables"].append(row)
            print(f"{rules:>8} {fmt_s(reference.wall if reference else None):>9} "
                  f"{fmt_s(reference.rss_mb if reference else None):>6} | {fmt_s(fe.cpu):>11} | "
                  f"{fmt_s(check.wall):>8} {fmt_s(check.cpu):>7} {fmt_s(check.rss_mb):>6} "
                  f"{fmt_s(row['check_ratio']):>6} | {fmt_s(exposure.wall if exposure else None):>10} "
                  f"{fmt_s(exposure.rss_mb if exposure else None):>6} {fmt_s(row['exposure_ratio']):>6}"
                  + (f"  ({check.note})" if check.wall is None else ""), flush=True)

        # --- nftables
        if "nft" in parts:
            print("\n== nftables (kube-proxy layout) ==")
            print(f"{'n':>8} {'rules':>8} {'nft -c s':>9} {'MiB':>6} | {'front end s':>11} | {'check s':>8} "
                  f"{'cpu s':>7} {'MiB':>6} {'ratio':>6}")
            for n in sizes:
                path = tmp_path / f"kube-{n}.nft"
                path.write_text(generate.nft(n))
                reference = None
                checker = ns.command("nft", "-c", "-f", str(path))
                if checker:
                    reference = best([run(checker, timeout=args.timeout) for _ in range(repeat_for(n))])
                    if reference.code:
                        reference = Run(None, None, None, reference.code, reference.note)
                fe, rules = front_end(path, "nftables", warm, args.timeout)
                check = best([run(portlint("check", str(path), "--isolated"), warm, args.timeout)
                              for _ in range(repeat_for(n))])
                row = {"n": n, "rules": rules, "reference": asdict(reference) if reference else None,
                       "front_end": asdict(fe), "check": asdict(check), "check_ratio": ratio(check, reference)}
                results["nft"].append(row)
                print(f"{n:>8} {rules:>8} {fmt_s(reference.wall if reference else None):>9} "
                      f"{fmt_s(reference.rss_mb if reference else None):>6} | {fmt_s(fe.cpu):>11} | "
                      f"{fmt_s(check.wall):>8} {fmt_s(check.cpu):>7} {fmt_s(check.rss_mb):>6} "
                      f"{fmt_s(row['check_ratio']):>6}" + (f"  ({check.note})" if check.wall is None else ""),
                      flush=True)

        # --- scaling
        if results["iptables"] or results["nft"]:
            print("\n== scaling: time per rule, exponent of time ~ rules^k ==")
        scaling = {}
        for kind, rows in (("iptables", results["iptables"]), ("nft", results["nft"])):
            for measure in ("front_end", "check", "exposure", "reference"):
                key = "cpu" if measure == "front_end" else "wall"
                points = [(row["rules"] or row["n"], (row.get(measure) or {}).get(key)) for row in rows]
                points = [(n, t) for n, t in points if t]
                if not points:
                    continue
                exponent = fit_exponent(points)
                per_rule = ", ".join(f"{n}: {t / n * 1e6:.0f} us" for n, t in points)
                scaling[f"{kind} {measure}"] = {"exponent": exponent, "per_rule_us": {n: t / n * 1e6 for n, t in points}}
                print(f"{kind + ' ' + measure:<22} exponent {fmt_s(exponent):>5}   per rule: {per_rule}")
        results["scaling"] = scaling

        if "shapes" in parts:
            shapes(tmp_path, ns, warm, args, results)

        # --- one small file, end to end
        if "small" in parts:
            small_file(tmp_path, warm, cold, results)
        if "many" in parts:
            many_files(tmp_path, warm, args, results)

    results["machine"]["load_average_end"] = os.getloadavg()
    print(f"\nload average at the end: {results['machine']['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


# Shapes of issue 14: (generator, file suffix, reference tool command before the file).
SHAPES = {
    "blocklist": (generate.blocklist, "rules", ("iptables-restore", "--test")),
    "allowlist": (generate.allowlist, "rules", ("iptables-restore", "--test")),
    "country": (generate.country, "rules", ("iptables-restore", "--test")),
    "nftset": (generate.nftset, "nft", ("nft", "-c", "-f")),
    "mix": (generate.mix, "rules", ("iptables-restore", "--test")),
    "docker": (generate.docker, "rules", ("iptables-restore", "--test")),
    "ufw": (generate.ufw, "rules", ("iptables-restore", "--test")),
    "nft-blocklist": (generate.nft_blocklist, "nft", ("nft", "-c", "-f")),
    "nft-allowlist": (generate.nft_allowlist, "nft", ("nft", "-c", "-f")),
    "nft-country": (generate.nft_country, "nft", ("nft", "-c", "-f")),
    "nft-mix": (generate.nft_mix, "nft", ("nft", "-c", "-f")),
    "nft-vmap": (generate.nft_vmap, "nft", ("nft", "-c", "-f")),
}
MIX_SHAPES = ("mix", "nft-mix")


def growth(rows: list[dict], measure: str) -> tuple[int, int, float] | None:
    """(n1, n2, exponent) of the growth between the two largest sizes (10k and 100k rules by
    default): log(t2 / t1) / log(n2 / n1) on CPU seconds, which a busy machine disturbs less
    than wall seconds; None without two sizes measured."""
    points = sorted((row["n"], (row.get(measure) or {}).get("cpu")) for row in rows)
    points = [(n, t) for n, t in points if t]
    if len(points) < 2:
        return None
    (n1, t1), (n2, t2) = points[-2:]
    return n1, n2, math.log(t2 / t1) / math.log(n2 / n1)


def shapes(tmp_path: Path, ns: Namespace, warm: dict, args, results: dict) -> None:
    """Each shape at each size: the reference tool, portlint check and exposure."""
    print("\n== shapes (issue 14): wall s / CPU s / peak MiB ==")
    print(f"{'shape':<13} {'rules':>7} | {'reference':>17} | {'check':>21} | {'exposure':>21} | ratio (CPU)")
    for name in args.shapes.split(","):
        make, suffix, tool = SHAPES[name]
        sizes = [int(s) for s in (args.mix_sizes if name in MIX_SHAPES else args.shape_sizes).split(",") if s]
        rows = results["shapes"][name] = []
        for n in sizes:
            path = tmp_path / f"{name}-{n}.{suffix}"
            path.write_text(make(n))
            reference = None
            command = ns.command(*tool, str(path))
            if command:
                reference = run(command, timeout=args.timeout)
                if reference.code:
                    reference = Run(None, None, None, reference.code, reference.note)
            check = run(portlint("check", str(path), "--isolated"), warm, args.timeout)
            exposure = None
            if not args.skip_exposure:
                exposure = run(portlint("exposure", str(path)), warm, args.timeout)
            rows.append({"n": n, "reference": asdict(reference) if reference else None, "check": asdict(check),
                         "exposure": asdict(exposure) if exposure else None})

            def cell(r: Run | None) -> str:
                return "-" if r is None or r.wall is None else f"{r.wall:6.2f} {r.cpu:6.2f} {r.rss_mb:5.0f}"
            ratio = "-"
            if reference is not None and reference.cpu and check.cpu:
                ratio = f"{check.cpu / reference.cpu:.1f}x"
            print(f"{name:<13} {n:>7} | {cell(reference):>17} | {cell(check):>21} | {cell(exposure):>21} | {ratio}"
                  + (f"  ({check.note})" if check.wall is None else ""), flush=True)
        exponents = {measure: growth(rows, measure) for measure in ("check", "exposure")}
        results["shapes"][name + " growth"] = exponents
        if exponents["check"]:
            n1, n2, _ = exponents["check"]
            print(f"{name:<13} growth {n1} -> {n2} rules: " + ", ".join(
                f"{measure} {fmt_s(value[2] if value else None)}" for measure, value in exponents.items()), flush=True)


def small_file(tmp_path: Path, warm: dict, cold: dict, results: dict) -> None:
    """One small file end to end, 10 times, with and without bytecode; and Python doing nothing."""
    small = tmp_path / "small" / "rules.v4"
    small.parent.mkdir()
    small.write_bytes((PROJECT / "samples" / "hardened.rules").read_bytes())
    for label, env in (("bytecode cached", warm), ("no bytecode", cold)):
        runs = [run(portlint("check", str(small), "--isolated"), env, 60) for _ in range(10)]
        walls = [r.wall for r in runs if r.wall is not None]
        results["small"][label] = {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
                                   "cpu_median": statistics.median(r.cpu for r in runs if r.cpu is not None),
                                   "rss_mb": max(r.rss_mb for r in runs if r.rss_mb)}
    python_only = [run([sys.executable, "-c", "pass"], warm, 60).wall for _ in range(10)]
    results["small"]["bare python"] = {"median": statistics.median(python_only)}
    print("\n== one small file (samples/hardened.rules), wall seconds, median of 10 ==")
    for label, row in results["small"].items():
        print(f"{label:<16} {row['median']:.3f}" + (f" (min {row['min']:.3f}, max {row['max']:.3f}, cpu "
                                                   f"{row['cpu_median']:.3f}, {row['rss_mb']:.0f} MiB)"
                                                   if "min" in row else ""))


def many_files(tmp_path: Path, warm: dict, args, results: dict) -> None:
    """Many small files in one process, then with the default pool."""
    many = tmp_path / "many"
    many.mkdir()
    samples = sorted((PROJECT / "samples").glob("*.rules"))
    for index in range(args.files):
        source = samples[index % len(samples)]
        (many / f"host{index:03d}-{source.name}").write_bytes(source.read_bytes())
    print(f"\n== {args.files} small files (copies of samples/*.rules) ==")
    for label, extra in (("--jobs 1", ["--jobs", "1"]), ("default (pool)", [])):
        runs = [run(portlint("check", str(many), "--isolated", *extra), warm, args.timeout) for _ in range(3)]
        chosen = best(runs)
        results["many"][label] = asdict(chosen)
        print(f"{label:<15} wall {fmt_s(chosen.wall)} s  cpu {fmt_s(chosen.cpu)} s  "
              f"cpu/wall {chosen.cpu / chosen.wall:.2f}  peak {chosen.rss_mb:.0f} MiB (largest process)")
    one, pool = results["many"]["--jobs 1"], results["many"]["default (pool)"]
    if one["wall"] and pool["wall"]:
        results["many"]["speedup"] = one["wall"] / pool["wall"]
        print(f"speed-up {results['many']['speedup']:.2f}x on {results['machine']['cores']} cores")


if __name__ == "__main__":
    sys.exit(main())
