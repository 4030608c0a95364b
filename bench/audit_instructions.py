"""What auditing costs per FHIR create, in instructions (not a test): the user-space instructions
this process executes per create, audited and not, counted by callgrind (valgrind).

    apt-get install valgrind        # not a dependency of the service or its tests
    .venv/bin/python bench/audit_instructions.py [--creates 150] [--resource Patient|Observation] [--no-pg]

Timings on this machine drift by tens of percent within minutes, so a change that saves a tenth
of the audit's cost cannot be seen in bench/audit_throughput.py. An instruction count does
not drift: two runs of the same code agree to within a fraction of a percent. It counts only
this process (the gateway's Python, SQLAlchemy, the drivers, SQLite's library code), not the
PostgreSQL server's work, the kernel's (SQLite's writes and fsync) or cache misses, and crypto
runs valgrind's generic code paths (no SHA or AES instructions), so its libcrypto share is
overstated. Read it beside the timed benchmark, not instead of it.

Each create runs in-process through the same unit of work as a request (store, audit scope,
commit), without HTTP. Both variants run in one process, after a warm-up, with instrumentation
switched on only around each measured block.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.audit_throughput import BODIES  # noqa: E402

WARM_UP = 100
PHASES = ("off", "on")


def child(backend_url: str, creates: int, resource: str, flags: Path) -> None:
    """Runs under valgrind: warm up, then one measured block per phase, each between two flags."""
    from bench.inprocess_creates import InProcessCreates

    creator = InProcessCreates(backend_url, resource)
    for audited in (False, True) * 2:
        for _ in range(WARM_UP // 2):
            creator.one(audited)
    for phase in (*PHASES, "end"):
        (flags / f"ready_{phase}").touch()
        while not (flags / f"go_{phase}").exists():
            time.sleep(0.05)
        if phase != "end":
            for _ in range(creates):
                creator.one(phase == "on")
    creator.close()


def count(backend_url: str, creates: int, resource: str) -> dict[str, float]:
    """Instructions per create, audit off and on, for one database."""
    with tempfile.TemporaryDirectory() as tmp:
        work, flags = Path(tmp), Path(tmp) / "flags"
        flags.mkdir()
        proc = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={work}/cg.%p",
                sys.executable,
                __file__,
                "--child",
                backend_url,
                str(creates),
                resource,
                str(flags),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(work / "valgrind.log").open("wb"),
        )

        def control(*args: str) -> None:
            subprocess.run(["callgrind_control", *args, str(proc.pid)], check=True, capture_output=True)

        for i, phase in enumerate((*PHASES, "end")):
            while not (flags / f"ready_{phase}").exists():
                if proc.poll() is not None:
                    raise RuntimeError((work / "valgrind.log").read_text()[-2000:])
                time.sleep(0.2)
            if i > 0:  # the previous phase's block is done: stop counting and write its dump
                control("--instr=off")
                control("--dump")
            if phase != "end":
                control("--zero")
                control("--instr=on")
            (flags / f"go_{phase}").touch()
        proc.wait()
        dumps = sorted(work.glob("cg.*.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
        totals = [_total(p) for p in dumps]
    return {phase: total / creates for phase, total in zip(PHASES, totals, strict=True)}


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump.name}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--creates", type=int, default=150, help="measured creates per variant")
    ap.add_argument("--resource", choices=list(BODIES), default="Patient")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    from tests.conftest import create_pg_database, drop_pg_database

    print(
        f"{args.resource} creates in-process, {args.creates} per variant; user-space instructions per create"
    )
    print(f"{'database':<12}{'audit off':>12}{'audit on':>12}{'audit adds':>12}{'share':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/bench.db", None)]
        if not args.no_pg:
            name, url = create_pg_database(args.pg_url)
            targets.append(("postgresql", url, name))
        for backend, url, pg_name in targets:
            try:
                per_create = count(url, args.creates, args.resource)
            finally:
                if pg_name:
                    drop_pg_database(args.pg_url, pg_name)
            off, on = per_create["off"], per_create["on"]
            print(f"{backend:<12}{off:>12,.0f}{on:>12,.0f}{on - off:>12,.0f}{on / off - 1:>8.1%}")


if __name__ == "__main__":
    main()
