from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.synthetic_reports import available_fonts


@pytest.fixture(scope="session")
def text_image() -> Image.Image:
    """A small page with a few printed lines and a black marker in the top-left corner."""
    img = Image.new("L", (900, 400), 255)
    d = ImageDraw.Draw(img)
    fonts = available_fonts()
    font = ImageFont.truetype(str(fonts[0]), 28) if fonts else ImageFont.load_default()
    for i, line in enumerate(["Hemoglobin 13.5 g/dL", "Hematocrit 40.1 %", "Platelet Count 250 10^3/uL"]):
        d.text((60, 80 + 70 * i), line, font=font, fill=0)
    d.rectangle((0, 0, 40, 40), fill=0)
    return img


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()
