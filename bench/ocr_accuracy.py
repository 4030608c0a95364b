"""OCR accuracy benchmark over generated reports (not a test; prints figures).

    .venv/bin/python -m bench.ocr_accuracy --n 300            # all engines + baseline
    .venv/bin/python -m bench.ocr_accuracy --n 40 --engines tesseract,combined --steps-off flatten
    .venv/bin/python -m bench.ocr_accuracy --n 100 --only fax,lowres --engines combined --verbose

Per engine: field recall (right key/LOINC and value), precision (share of emitted values that are
right; values marked uncertain are not "emitted", and their count is shown), share of reports
read perfectly, p50/p95 seconds per page; split clean vs degraded, and per degradation.
The baseline is `tesseract IMG stdout` plus a simple regex reader, on the same images.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from bench.synthetic_reports import SyntheticReport, TruthValue, generate

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # same Tesseract threading for every contender


@dataclass
class Score:
    truth: int = 0
    correct: int = 0
    emitted: int = 0
    wrong: int = 0
    uncertain: int = 0
    uncertain_correct: int = 0
    perfect: bool = False
    seconds_per_page: float = 0.0
    wrong_keys: list[str] = field(default_factory=list)
    missed_keys: list[str] = field(default_factory=list)


def _tolerance(t: TruthValue) -> float:
    """Half a unit of the last printed digit, in canonical units."""
    txt = t.printed_value
    decimals = (
        len(re.split(r"[.,]", txt)[-1])
        if re.search(r"[.,]\d{1,3}$", txt) and not re.search(r",\d{2},|,\d{3}$", txt)
        else 0
    )
    printed = float(txt.replace(",", "")) if decimals == 0 else float(txt.replace(",", "."))
    step = 0.5 * 10 ** (-decimals)
    factor = t.value_canonical / printed if printed else 1.0
    return abs(step * factor) + 1e-9


def score(truth: dict[str, TruthValue], found: list[tuple[str, float, bool]]) -> Score:
    """found: (key, canonical value, uncertain)."""
    s = Score(truth=len(truth))
    seen: set[str] = set()
    for key, value, uncertain in found:
        t = truth.get(key)
        ok = t is not None and abs(value - t.value_canonical) <= _tolerance(t)
        if uncertain:
            s.uncertain += 1
            s.uncertain_correct += int(ok)
            continue
        s.emitted += 1
        if ok and key not in seen:
            s.correct += 1
            seen.add(key)
        else:
            s.wrong += 1
            s.wrong_keys.append(key)
    s.missed_keys = [k for k in truth if k not in seen]
    s.perfect = s.correct == s.truth and s.wrong == 0 and s.uncertain == 0
    return s


# --------------------------------------------------------------------------- inputs


def document_for(rep: SyntheticReport) -> tuple[bytes, str, str]:
    """(bytes, content type, kind). Photos travel as JPEG; a few reports as PDFs."""
    r = rep.seed % 20
    if r == 7:
        return rep.to_pdf_bytes(text_layer=True), "application/pdf", "pdf-text"
    if r == 13:
        return rep.to_pdf_bytes(text_layer=False), "application/pdf", "pdf-image"
    if "photo" in rep.degradations:
        return rep.to_image_bytes("JPEG"), "image/jpeg", "image"
    return rep.to_image_bytes("PNG"), "image/png", "image"


# --------------------------------------------------------------------------- contenders


def run_engine(engine: str, data: bytes, ctype: str) -> tuple[list[tuple[str, float, bool]], float, int]:
    from fhir_gateway.ocr import read_report

    t = time.perf_counter()
    rr = read_report(data, ctype, engine=engine)
    dt = time.perf_counter() - t
    found = [(a.key, a.value_canonical, a.status == "uncertain") for a in rr.analytes]
    return found, dt, max(1, rr.page_count)


_BASELINE_NAMES: list[tuple[str, str]] | None = None


def _baseline_names() -> list[tuple[str, str]]:
    global _BASELINE_NAMES
    if _BASELINE_NAMES is None:
        from mappings.catalog import all_analytes

        pairs = [(n.lower(), a.key) for a in all_analytes() for n in (*a.names, *a.abbrev)]
        # longest name first; ties in a fixed order (a set iterates in a per-process hash order)
        _BASELINE_NAMES = sorted(set(pairs), key=lambda p: (-len(p[0]), p))
    return _BASELINE_NAMES


_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([^\s\d(]*)")


def baseline(data: bytes) -> tuple[list[tuple[str, float, bool]], float, int]:
    """Plain `tesseract IMG stdout` and a regex reader: a line that starts with a catalog name
    gives the first number after it, converted if the next token is a known unit."""
    from mappings.units import parse_unit, to_canonical

    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(data)
        f.flush()
        t = time.perf_counter()
        out = subprocess.run(
            ["tesseract", f.name, "stdout"], capture_output=True, text=True, timeout=120
        ).stdout
        dt = time.perf_counter() - t
    found: list[tuple[str, float, bool]] = []
    keys: set[str] = set()
    for line in out.splitlines():
        low = line.strip().lower()
        for name, key in _baseline_names():
            if low.startswith(name) and key not in keys:
                m = _NUMBER.search(low[len(name) :])
                if not m:
                    break
                try:
                    value = float(m.group(1).replace(",", ""))
                except ValueError:
                    break
                try:
                    unit = parse_unit(m.group(2))
                    if unit:
                        value = to_canonical(key, value, unit)
                except Exception:
                    pass
                found.append((key, value, False))
                keys.add(key)
                break
    return found, dt, 1


# --------------------------------------------------------------------------- main


def _summ(scores: list[Score]) -> dict[str, float]:
    if not scores:
        return {}
    truth = sum(s.truth for s in scores)
    correct = sum(s.correct for s in scores)
    emitted = sum(s.emitted for s in scores)
    unc = sum(s.uncertain for s in scores)
    times = sorted(s.seconds_per_page for s in scores)
    return {
        "reports": len(scores),
        "fields": truth,
        "recall": correct / truth if truth else 0.0,
        "precision": correct / emitted if emitted else 1.0,
        "uncertain": unc,
        "uncertain_right": sum(s.uncertain_correct for s in scores),
        "wrong": sum(s.wrong for s in scores),
        "perfect": sum(s.perfect for s in scores) / len(scores),
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
    }


def _record(s: Score) -> dict[str, object]:
    return {
        "truth": s.truth,
        "correct": s.correct,
        "emitted": s.emitted,
        "wrong": s.wrong,
        "uncertain": s.uncertain,
        "uncertain_correct": s.uncertain_correct,
        "perfect": s.perfect,
        "sec": round(s.seconds_per_page, 4),
        "wrong_keys": s.wrong_keys,
        "missed_keys": s.missed_keys,
    }


def _from_record(r: dict[str, object]) -> Score:
    return Score(
        truth=int(r["truth"]),  # type: ignore[arg-type]
        correct=int(r["correct"]),  # type: ignore[arg-type]
        emitted=int(r["emitted"]),  # type: ignore[arg-type]
        wrong=int(r["wrong"]),  # type: ignore[arg-type]
        uncertain=int(r["uncertain"]),  # type: ignore[arg-type]
        uncertain_correct=int(r["uncertain_correct"]),  # type: ignore[arg-type]
        perfect=bool(r["perfect"]),
        seconds_per_page=float(r["sec"]),  # type: ignore[arg-type]
    )


def run(args: argparse.Namespace, engines: list[str]) -> list[dict[str, object]]:
    """Read every report with every contender; one JSON-able record per report."""
    per_report: list[dict[str, object]] = []
    t_start = time.perf_counter()
    only = {d for d in (args.only or "").split(",") if d}
    for i in range(args.n):
        rep = generate(args.start_seed + i)
        if only and not only & set(rep.degradations):
            continue
        data, ctype, kind = document_for(rep)
        row: dict[str, object] = {
            "seed": rep.seed,
            "layout": rep.layout,
            "units": rep.units,
            "kind": kind,
            "degradations": list(rep.degradations),
        }
        for eng in engines:
            if eng == "baseline":
                if kind != "image":
                    continue  # plain tesseract does not read PDFs
                found, dt, pages = baseline(data)
            else:
                try:
                    found, dt, pages = run_engine(eng, data, ctype)
                except Exception as exc:  # a crash counts as a total miss, and is shown
                    print(f"seed {rep.seed} {eng}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    found, dt, pages = [], 0.0, 1
            s = score(rep.truth, found)
            s.seconds_per_page = dt / pages
            row[eng] = _record(s)
            if args.verbose and (s.wrong or s.missed_keys):
                print(
                    f"  seed {rep.seed} {rep.layout}/{rep.units}/{kind}/{row['degradations']} {eng}: "
                    f"wrong={s.wrong_keys} missed={s.missed_keys} unc={s.uncertain}",
                    file=sys.stderr,
                )
        per_report.append(row)
        if (i + 1) % 10 == 0:
            print(
                f"... {i + 1}/{args.n} reports, {time.perf_counter() - t_start:.0f}s",
                file=sys.stderr,
                flush=True,
            )
    return per_report


def summarise(per_report: list[dict[str, object]], engines: list[str]) -> None:
    seeds = sorted({int(r["seed"]) for r in per_report})  # type: ignore[call-overload]
    print(
        f"\nOCR accuracy over {len(seeds)} generated reports (seeds {seeds[0]}..{seeds[-1]}); "
        "each engine's row counts the reports it read"
    )
    hdr = (
        f"{'engine':<11}{'split':<10}{'reports':>8}{'fields':>8}{'recall':>8}{'precis.':>9}{'wrong':>7}"
        f"{'uncert.':>8}{'perfect':>9}{'p50 s/pg':>10}{'p95 s/pg':>10}"
    )
    print(hdr)
    print("-" * len(hdr))
    rows = [
        (r, "degraded" if r["degradations"] else "clean", str(r["kind"]), list(r["degradations"]))  # type: ignore[call-overload]
        for r in per_report
    ]
    for eng in engines:
        for split in ("all", "clean", "degraded", "image-degraded", "pdf-text", "pdf-image"):
            sel = [
                _from_record(r[eng])  # type: ignore[arg-type]
                for r, cat, kind, _ in rows
                if eng in r
                and (
                    split == "all"
                    or cat == split
                    or kind == split
                    or (split == "image-degraded" and cat == "degraded" and kind == "image")
                )
            ]
            m = _summ(sel)
            if not m:
                continue
            print(
                f"{eng:<11}{split:<10}{m['reports']:>8}{m['fields']:>8}{m['recall']:>8.4f}{m['precision']:>9.4f}"
                f"{m['wrong']:>7}{m['uncertain']:>8}{m['perfect']:>9.3f}{m['p50']:>10.2f}{m['p95']:>10.2f}"
            )
    print("\nRecall / precision by degradation (reports with that degradation, any format):")
    degs = sorted({d for _, _, _, ds in rows for d in ds})
    print(f"{'degradation':<12}" + "".join(f"{e:>24}" for e in engines))
    for d in degs:
        cells = []
        for eng in engines:
            m = _summ([_from_record(r[eng]) for r, _, _, ds in rows if d in ds and eng in r])  # type: ignore[arg-type]
            cells.append(f"{m['recall']:.3f}/{m['precision']:.3f} n={m['reports']}" if m else "-")
        print(f"{d:<12}" + "".join(f"{c:>24}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--start-seed", type=int, default=1000)
    ap.add_argument("--engines", default="tesseract,rapidocr,combined,baseline")
    ap.add_argument("--steps-off", default="", help="comma list of preprocessing steps to disable")
    ap.add_argument("--target-px", type=float, default=None)
    ap.add_argument("--json", dest="json_out", default=None, help="write per-report results here")
    ap.add_argument("--summarise", nargs="+", default=None, help="print the tables from earlier --json files")
    ap.add_argument(
        "--only",
        default="",
        help="comma list of degradations: of the --n seeds, read only reports with one of them",
    )
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]

    if args.summarise:
        per_report = [r for path in args.summarise for r in json.load(open(path))]  # noqa: SIM115
        summarise(per_report, engines)
        return 0
    if args.steps_off or args.target_px:
        import fhir_gateway.ocr.preprocess as pp
        import fhir_gateway.ocr.reader as rd

        kw: dict[str, object] = {k: False for k in args.steps_off.split(",") if k}
        if args.target_px:
            kw["target_text_px"] = args.target_px
        steps = pp.DEFAULT_STEPS.without(**kw)  # type: ignore[arg-type]
        rd.read_report.__kwdefaults__["steps"] = steps

    per_report = run(args, engines)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(per_report, f, indent=1)
    summarise(per_report, engines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
