"""Timing of `models.assess` (single CBC, in-process) and `models.assess_frame` (batch).

Run: `python -m bench.assess_speed [--single N] [--batch ROWS]`. Targets: single p50 <= 2 ms,
batch >= 50,000 CBCs/s. Inputs are synthetic but realistic CBCs (mixed complete/incomplete).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from mappings.canonical import CanonicalCBC, PatientContext
from models import assess, assess_frame
from models.artifacts import loaded_models

SINGLE_TARGET_MS = 2.0
BATCH_TARGET_PER_S = 50_000


def synthetic_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rbc = rng.normal(4.6, 0.6, rows).clip(2.0, 7.5)
    mcv = rng.normal(84, 9, rows).clip(55, 115)
    mch = (mcv * rng.normal(0.33, 0.02, rows)).round(1)
    hgb = (mch * rbc / 10).round(1)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["M", "F"], rows),
            "age": rng.integers(1, 80, rows),
            "pregnant": 0,
            "hgb": hgb,
            "rbc": rbc.round(2),
            "mcv": mcv.round(1),
            "mch": mch,
            "mchc": (100 * hgb / (mcv * rbc / 10)).round(1),
            "rdw_cv": rng.normal(14, 1.8, rows).round(1),
            "wbc": rng.normal(7, 2, rows).round(1),
            "plt": rng.normal(260, 60, rows).round(0),
        }
    )
    frame.loc[rng.random(rows) < 0.3, "rdw_cv"] = np.nan  # reports often lack RDW
    return frame


def bench_single(n: int) -> tuple[list[float], list[float]]:
    """Per-call milliseconds by wall clock and by this process's CPU time."""
    frame = synthetic_frame(n, seed=1)
    keys = ("hgb", "rbc", "mcv", "mch", "mchc", "rdw_cv", "wbc", "plt")
    cases = [
        (
            CanonicalCBC({k: float(r[k]) for k in keys if not pd.isna(r[k])}),
            PatientContext(sex="male" if r["sex"] == "M" else "female", age_years=float(r["age"])),
        )
        for r in frame.to_dict("records")
    ]
    assess(*cases[0])  # warm-up outside the timing
    wall, cpu = [], []
    for cbc, ctx in cases:
        start, start_cpu = time.perf_counter(), time.process_time()
        assess(cbc, ctx)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def bench_batch(rows: int, repeats: int = 3) -> tuple[float, float]:
    """Best-of-N throughput by wall clock and by this process's CPU time (the machine may be shared)."""
    frame = synthetic_frame(rows)
    assess_frame(frame.head(100))
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        assess_frame(frame)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return rows / min(wall), rows / min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=2000, help="number of single assessments")
    parser.add_argument("--batch", type=int, default=100_000, help="rows in the batch run")
    args = parser.parse_args()
    load_start = time.perf_counter()
    loaded_models()
    print(f"model load (once per process): {(time.perf_counter() - load_start) * 1000:.0f} ms")
    times, cpu_times = bench_single(args.single)
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    print(
        f"single assess: n={len(times)} p50={p50:.3f} ms p95={p95:.3f} ms wall, "
        f"p50={statistics.median(cpu_times):.3f} ms CPU "
        f"(target p50 <= {SINGLE_TARGET_MS} ms: {'met' if p50 <= SINGLE_TARGET_MS else 'MISSED'})"
    )
    rate, cpu_rate = bench_batch(args.batch)
    print(
        f"batch assess_frame: {args.batch} rows, {rate:,.0f} CBCs/s wall ({cpu_rate:,.0f}/s per CPU-second), "
        "best of 3 "
        f"(target >= {BATCH_TARGET_PER_S:,}: {'met' if rate >= BATCH_TARGET_PER_S else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
