"""A separate OS process appending audit records.

    python -m tests.audit.writer_process URL PREFIX COUNT BARRIER_DIR PARTIES

Once connected, it drops a file in BARRIER_DIR and waits until PARTIES files are there, so all
writer processes start appending together (uneven interpreter start-up would otherwise
serialise them). It prints its first and last append times so the test can check the writers
really overlapped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from sqlalchemy import MetaData

from audit import append, define_audit_tables
from tests.audit.support import fixed_keys, make_engine, sample_record


def wait_for_all(barrier: Path, parties: int, timeout: float = 60.0) -> None:
    (barrier / f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("*.ready"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError("other writer processes did not start")
        time.sleep(0.005)


def main(url: str, prefix: str, count: int, barrier: Path, parties: int) -> None:
    engine = make_engine(url)
    tables = define_audit_tables(MetaData(), prefix)
    keys = fixed_keys()
    with engine.connect():  # connect before the start line
        pass
    wait_for_all(barrier, parties)
    started = time.time()
    for i in range(count):
        with engine.begin() as conn:
            append(conn, sample_record(i), keys, tables)
    print(json.dumps({"start": started, "end": time.time()}))
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
