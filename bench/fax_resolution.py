"""Received faxes as fax servers store them (not a test; prints figures).

    .venv/bin/python -m bench.fax_resolution --n 40                 # standard and fine mode
    .venv/bin/python -m bench.fax_resolution --n 40 --as-stored     # without square pixels

A fax is 204 dpi across and 98 (standard mode) or 196 (fine) down; its TIFF says so in the
resolution tags and keeps the non-square pixels. This reads generated reports sent that way
(`SyntheticReport.to_fax_tiff_bytes`) with the default engine and prints field recall and
precision as `bench.ocr_accuracy` counts them. `--as-stored` skips the decoder's square-pixel
step, to show what it is worth. `bench.ocr_accuracy`'s own "fax" degradation is a fax already
stretched back to square pixels by whatever printed or scanned it.
"""

from __future__ import annotations

import argparse
import os
import statistics

from bench.ocr_accuracy import run_engine, score
from bench.synthetic_reports import generate

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--start-seed", type=int, default=9000)
    ap.add_argument("--as-stored", action="store_true", help="do not square the pixels")
    args = ap.parse_args(argv)

    from fhir_gateway.ocr import decode as decode_module
    from fhir_gateway.ocr.reader import DEFAULT_ENGINE

    if args.as_stored:
        decode_module.square_pixels = lambda gray, *_: gray  # type: ignore[assignment]
    print(f"{'mode':<10}{'reports':>8}{'fields':>8}{'recall':>8}{'precis.':>9}{'wrong':>7}{'p50 s':>7}")
    for fine in (False, True):
        fields = correct = emitted = wrong = 0
        seconds: list[float] = []
        for seed in range(args.start_seed, args.start_seed + args.n):
            rep = generate(seed)
            found, dt, pages = run_engine(DEFAULT_ENGINE, rep.to_fax_tiff_bytes(fine=fine), "image/tiff")
            seconds.append(dt / pages)
            s = score(rep.truth, found)
            fields, correct = fields + s.truth, correct + s.correct
            emitted, wrong = emitted + s.emitted, wrong + s.wrong
        mode = "fine" if fine else "standard"
        print(
            f"{mode:<10}{args.n:>8}{fields:>8}{correct / fields:>8.4f}{correct / max(1, emitted):>9.4f}"
            f"{wrong:>7}{statistics.median(seconds):>7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
