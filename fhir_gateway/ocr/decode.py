"""Bytes -> pages. Images become grayscale numpy pages; PDFs yield text-layer rows directly
where they have them, and bitmaps only for image-only pages.

Format is decided by magic bytes, not by the declared content type alone: clients mislabel
files often, and a wrong label must not route bytes to the wrong decoder.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fhir_gateway.ocr.errors import DocumentTooLarge, UnreadableDocument, UnsupportedMediaType
from fhir_gateway.ocr.limits import DEFAULT_LIMITS, Limits
from mappings.rows import TextRow

log = logging.getLogger(__name__)

SUPPORTED_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/tiff": "tiff",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heic",
    "application/pdf": "pdf",
}


@dataclass(slots=True)
class Page:
    """One page: either a grayscale bitmap to OCR, or rows already read from a PDF text layer."""

    index: int
    image: np.ndarray | None = None
    rows: list[TextRow] | None = None
    source: str = "image"  # "image" | "pdf-text" | "pdf-image"


def sniff(data: bytes) -> str | None:
    """Format from magic bytes."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
        return "heic"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


def media_kind(data: bytes, content_type: str | None) -> str:
    declared = (content_type or "").split(";")[0].strip().lower()
    kind = sniff(data)
    if kind is None:
        if declared in SUPPORTED_TYPES or declared.startswith("image/"):
            raise UnreadableDocument(f"content is not a valid {declared or 'document'}")
        raise UnsupportedMediaType(f"unsupported media type {declared or 'unknown'}")
    return kind


def decode(data: bytes, content_type: str | None, limits: Limits = DEFAULT_LIMITS) -> list[Page]:
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(f"document is {len(data)} bytes; limit {limits.max_bytes}")
    if not data:
        raise UnreadableDocument("empty document")
    kind = media_kind(data, content_type)
    if kind == "pdf":
        from fhir_gateway.ocr.pdf import decode_pdf

        return decode_pdf(data, limits)
    return _decode_image(data, kind, limits)


def _decode_image(data: bytes, kind: str, limits: Limits) -> list[Page]:
    if kind == "heic":
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
        except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
            raise UnsupportedMediaType("HEIC support is not installed") from exc
    # Pillow's own bomb check warns at max/2 and raises at 2*max; we enforce our limit ourselves
    # from the header size *before* any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            n_frames = getattr(img, "n_frames", 1)
            if n_frames > limits.max_pages:
                raise DocumentTooLarge(f"document has {n_frames} pages; limit {limits.max_pages}")
            pages: list[Page] = []
            total = 0
            for i in range(n_frames if kind == "tiff" else 1):
                img.seek(i)
                w, h = img.size
                total += w * h
                if w * h > limits.max_pixels or total > limits.max_pixels * max(1, limits.max_pages // 4):
                    raise DocumentTooLarge(f"page {i + 1} is {w}x{h} pixels; limit {limits.max_pixels}")
                frame = ImageOps.exif_transpose(img) if i == 0 else img  # phones store rotation in EXIF
                pages.append(
                    Page(
                        index=i,
                        image=square_pixels(_to_gray(frame), img.info.get("dpi"), limits.max_pixels),
                        source="image",
                    )
                )
    except (DocumentTooLarge, UnsupportedMediaType):
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        log.info("image decode failed: %s", type(exc).__name__)
        raise UnreadableDocument(f"cannot decode {kind} image") from exc
    if not pages:
        raise UnreadableDocument("no pages")
    return pages


# Beyond this the resolution tag is more likely wrong than the image that lopsided.
_MAX_ASPECT = 4.0


def square_pixels(gray: np.ndarray, dpi: object, max_pixels: int | None = None) -> np.ndarray:
    """A page whose pixels are not square, stretched along its coarser axis until they are.
    Fax images keep the fax's own resolution: standard mode is 204 x 98 dpi, so the letters come
    out half as tall as they are wide (`bench/fax_resolution.py`: recall 0.75 read as stored,
    0.91 squared). Only a resolution tag (TIFF, PNG pHYs, JPEG JFIF) tells; images without one
    are left alone. Nearest-neighbour keeps a fax bilevel, which the clean-up recognises it by.
    A page that would outgrow `max_pixels` is squared by shrinking its finer axis instead."""
    try:
        x_dpi, y_dpi = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return gray
    if not (x_dpi > 0 and y_dpi > 0) or not 1 / _MAX_ASPECT <= x_dpi / y_dpi <= _MAX_ASPECT:
        return gray
    fx, fy = max(1.0, y_dpi / x_dpi), max(1.0, x_dpi / y_dpi)
    if max(fx, fy) < 1.1:
        return gray
    import cv2

    h, w = gray.shape
    if max_pixels is not None and w * fx * h * fy > max_pixels:
        fx, fy = 1 / fy, 1 / fx
        return cv2.resize(gray, (round(w * fx), round(h * fy)), interpolation=cv2.INTER_AREA)
    return cv2.resize(gray, (round(w * fx), round(h * fy)), interpolation=cv2.INTER_NEAREST)


def _to_gray(img: Image.Image) -> np.ndarray:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # transparent background would become black; composite onto white paper first
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    if img.mode in ("I;16", "I;16B", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        return ((arr - lo) * (255.0 / max(hi - lo, 1e-6))).astype(np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8).copy()
