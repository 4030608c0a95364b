"""Decoding every accepted format, and the guards against hostile or broken input."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bench.synthetic_reports import generate
from fhir_gateway.ocr.decode import decode, square_pixels
from fhir_gateway.ocr.errors import DocumentTooLarge, UnreadableDocument, UnsupportedMediaType
from fhir_gateway.ocr.limits import Limits
from tests.ocr.conftest import encode


def _marker_corner(gray: np.ndarray) -> str:
    h, w = gray.shape
    corners = {
        "tl": gray[:20, :20],
        "tr": gray[:20, w - 20 :],
        "bl": gray[h - 20 :, :20],
        "br": gray[h - 20 :, w - 20 :],
    }
    return min(corners, key=lambda k: corners[k].mean())


def test_png(text_image: Image.Image) -> None:
    pages = decode(encode(text_image, "PNG"), "image/png")
    assert len(pages) == 1
    assert pages[0].image is not None and pages[0].image.shape == (400, 900)
    assert pages[0].image.dtype == np.uint8


def test_png_with_alpha_becomes_white_paper(text_image: Image.Image) -> None:
    rgba = text_image.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 0))  # fully transparent
    page = decode(encode(rgba, "PNG"), "image/png")[0]
    assert page.image is not None and page.image.mean() > 250


def test_jpeg_exif_orientation_is_applied(text_image: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encode(text_image.convert("RGB"), "JPEG", exif=exif.tobytes(), quality=90)
    page = decode(data, "image/jpeg")[0]
    assert page.image is not None
    assert page.image.shape == (900, 400)  # portrait after applying EXIF
    assert _marker_corner(page.image) == "tr"  # top-left marker moved to top-right


def test_multipage_tiff_keeps_all_pages(text_image: Image.Image) -> None:
    frames = [text_image, text_image.rotate(180), text_image]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    pages = decode(data, "image/tiff")
    assert [p.index for p in pages] == [0, 1, 2]
    assert pages[1].image is not None and _marker_corner(pages[1].image) == "br"


def test_fax_resolution_is_squared(text_image: Image.Image) -> None:
    # a standard-mode fax: 204 dpi across, 98 down; the letters are half as tall as printed
    fax = text_image.resize((900, 192)).convert("1")
    pages = decode(encode(fax, "TIFF", compression="group4", dpi=(204, 98)), "image/tiff")
    assert pages[0].image is not None and pages[0].image.shape == (400, 900)
    assert set(np.unique(pages[0].image)) <= {0, 255}  # still a fax: no invented grey
    fine = decode(encode(fax, "TIFF", dpi=(204, 196)), "image/tiff")[0].image
    assert fine is not None and fine.shape == (192, 900)  # 4% apart: left as it is


def test_squaring_a_fax_never_outgrows_the_pixel_limit() -> None:
    page = np.zeros((100, 200), np.uint8)
    assert square_pixels(page, (204, 98)).shape == (208, 200)
    assert square_pixels(page, (204, 98), max_pixels=25_000).shape == (100, 96)  # narrower instead


@pytest.mark.parametrize("dpi", [None, (300, 300), (0, 98), (204, 10), ("x", 98), (72,)])
def test_pages_without_a_usable_resolution_are_left_alone(dpi: object) -> None:
    page = np.zeros((10, 20), np.uint8)
    assert square_pixels(page, dpi) is page


def test_webp(text_image: Image.Image) -> None:
    pages = decode(encode(text_image, "WEBP", lossless=True), "image/webp")
    assert pages[0].image is not None and pages[0].image.shape == (400, 900)


def test_heic(text_image: Image.Image) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    try:
        data = encode(text_image.convert("RGB"), "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:  # pragma: no cover - encoder missing in the wheel
        pytest.skip(f"pillow-heif cannot encode here: {exc}")
    pages = decode(data, "image/heic")
    assert pages[0].image is not None and pages[0].image.shape == (400, 900)


def test_mislabelled_content_type_is_sniffed(text_image: Image.Image) -> None:
    pages = decode(encode(text_image, "PNG"), "image/jpeg")
    assert pages[0].image is not None


def test_pdf_text_layer_is_read_without_ocr() -> None:
    rep = generate(3, degraded=False)
    pages = decode(rep.to_pdf_bytes(text_layer=True), "application/pdf")
    assert all(p.source == "pdf-text" and p.rows for p in pages)
    text = "\n".join(r.text for p in pages for r in p.rows or [])
    hgb = rep.truth["hgb"]
    assert hgb.printed_value in text and hgb.printed_name in text


def test_image_only_pdf_is_rasterised() -> None:
    rep = generate(4, degraded=False)
    pages = decode(rep.to_pdf_bytes(text_layer=False), "application/pdf", Limits(pdf_dpi=100))
    assert pages[0].source == "pdf-image" and pages[0].image is not None
    assert pages[0].image.shape[0] > pages[0].image.shape[1]  # A4 portrait


# --------------------------------------------------------------------------- guards


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: the classic decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_pixel_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(DocumentTooLarge) as exc:
        decode(_png_header_only(100_000, 100_000), "image/png")
    assert exc.value.http_status == 413


def test_byte_limit(text_image: Image.Image) -> None:
    with pytest.raises(DocumentTooLarge):
        decode(encode(text_image, "PNG"), "image/png", Limits(max_bytes=100))


def test_page_limit_tiff(text_image: Image.Image) -> None:
    data = encode(text_image, "TIFF", save_all=True, append_images=[text_image] * 4)
    with pytest.raises(DocumentTooLarge):
        decode(data, "image/tiff", Limits(max_pages=3))


def test_page_limit_pdf() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(4):
        pdf.add_page()
    with pytest.raises(DocumentTooLarge):
        decode(bytes(pdf.output()), "application/pdf", Limits(max_pages=3))


def test_unsupported_media_type() -> None:
    with pytest.raises(UnsupportedMediaType) as exc:
        decode(b"just some text, not a report", "text/plain")
    assert exc.value.http_status == 415


@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\nbroken", b"\xff\xd8\xff\xe0garbage", b"%PDF-1.4 nonsense"]
)
def test_corrupt_documents_are_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableDocument) as exc:
        decode(data, "application/octet-stream")
    assert exc.value.http_status == 422


def test_empty_document() -> None:
    with pytest.raises(UnreadableDocument):
        decode(b"", "image/png")
