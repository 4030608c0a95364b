"""Input limits. Defaults suit a phone photo or a multi-page scanned report; a deployment can
pass its own `Limits` to `read_report`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 25 * 1024 * 1024
    # 60 MP covers a 12 MP phone photo and an A4 page at 600 DPI (35 MP) with headroom,
    # while refusing the classic 1-kB PNG that inflates to gigapixels.
    max_pixels: int = 60_000_000
    max_pages: int = 20
    # PDF pages are rasterised at this DPI when they have no text layer.
    pdf_dpi: int = 250


DEFAULT_LIMITS = Limits()
