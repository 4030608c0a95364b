"""Synthetic CBC report generator with ground truth, for tests and the OCR benchmark.

Every report is a pure function of its seed: values are drawn physiologically consistent
(Hct ~ RBC x MCV / 10, MCH ~ Hb x 10 / RBC, MCHC ~ Hb x 100 / Hct, differential sums to 100),
printed in one of several layouts, unit systems, naming variants and fonts, then optionally
degraded like a phone photo, a fax or a poor scan.

A page is first laid out as positioned text items in points, then rendered either to a bitmap
(any DPI) or to a PDF with a real text layer, so image and PDF variants share one truth.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

PAGE_W_PT, PAGE_H_PT = 595.0, 842.0  # A4 in points

_FONT_DIRS = (
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype/freefont",
)
_FONT_CANDIDATES = (
    "LiberationSans-Regular.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationMono-Regular.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "DejaVuSans.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansCondensed.ttf",
    "FreeSans.ttf",
    "FreeSerif.ttf",
)


def available_fonts() -> list[Path]:
    """TrueType fonts found on this machine (Liberation and FreeFont are optional extras)."""
    found = []
    for name in _FONT_CANDIDATES:
        for d in _FONT_DIRS:
            p = Path(d) / name
            if p.exists():
                found.append(p)
                break
    return found


def _bold_variant(path: Path) -> Path:
    stem = path.stem
    for a, b in (
        ("-Regular", "-Bold"),
        ("Sans", "Sans-Bold"),
        ("Serif", "Serif-Bold"),
        ("Mono", "Mono-Bold"),
    ):
        if a in stem:
            cand = path.with_name(stem.replace(a, b, 1) + path.suffix)
            if cand.exists():
                return cand
    return path


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class TruthValue:
    """Ground truth for one printed analyte."""

    key: str
    value_canonical: float  # in the canonical unit of mappings.canonical
    printed_value: str
    printed_unit: str
    printed_name: str


def _draw_values(rng: random.Random) -> dict[str, float]:
    """Canonical-unit values, consistent with each other like a real analyser's output."""
    kind = rng.choice(["normal", "normal", "ida", "thal", "macro"])
    sex = rng.choice(["male", "female"])
    if kind == "normal":
        mcv = rng.uniform(82, 98)
        hgb = rng.uniform(13.5, 17) if sex == "male" else rng.uniform(12, 15.5)
        mchc = rng.uniform(32, 35.5)
    elif kind == "ida":
        mcv = rng.uniform(62, 79)
        hgb = rng.uniform(7, 11.5)
        mchc = rng.uniform(28, 32)
    elif kind == "thal":
        mcv = rng.uniform(58, 72)
        hgb = rng.uniform(9.5, 13)
        mchc = rng.uniform(30, 33.5)
    else:
        mcv = rng.uniform(100, 118)
        hgb = rng.uniform(8, 12)
        mchc = rng.uniform(32, 35)
    hct = hgb * 100 / mchc
    rbc = hct * 10 / mcv
    mch = hgb * 10 / rbc
    wbc = rng.uniform(3.5, 13.0)
    pcts = [
        rng.uniform(45, 70),
        rng.uniform(18, 40),
        rng.uniform(2, 9),
        rng.uniform(0.5, 5),
        rng.uniform(0.1, 1.2),
    ]
    s = sum(pcts)
    pcts = [p * 100 / s for p in pcts]
    vals = {
        "hgb": hgb,
        "hct": hct,
        "rbc": rbc,
        "mcv": mcv,
        "mch": mch,
        "mchc": mchc,
        "rdw_cv": rng.uniform(11.5, 19.5),
        "wbc": wbc,
        "plt": rng.uniform(120, 420),
        "neut_pct": pcts[0],
        "lymph_pct": pcts[1],
        "mono_pct": pcts[2],
        "eos_pct": pcts[3],
        "baso_pct": pcts[4],
    }
    for name, p in zip(("neut", "lymph", "mono", "eos", "baso"), pcts, strict=True):
        vals[f"{name}_abs"] = wbc * p / 100
    if rng.random() < 0.5:
        vals["mpv"] = rng.uniform(7.5, 11.5)
    if rng.random() < 0.4:
        vals["pdw"] = rng.uniform(9, 17)
    if rng.random() < 0.4:
        vals["rdw_sd"] = rng.uniform(36, 55)
    if rng.random() < 0.2:
        vals["retic_pct"] = rng.uniform(0.5, 2.5)
    if rng.random() < 0.25:
        vals["hba2"] = rng.uniform(2.0, 5.5)
        vals["hbf"] = rng.uniform(0.2, 2.5)
    if rng.random() < 0.25:
        vals["ferritin"] = rng.uniform(5, 250)
        vals["iron"] = rng.uniform(30, 170)
        vals["tibc"] = rng.uniform(250, 450)
        vals["tsat"] = vals["iron"] * 100 / vals["tibc"]
    vals["_sex"] = 0.0 if sex == "male" else 1.0
    return vals


# name variants per key (what labs print)
NAMES: dict[str, list[str]] = {
    "hgb": ["Hemoglobin", "Haemoglobin", "Hb", "HGB", "Hemoglobin (Hb)", "Haemoglobin (HB)"],
    "hct": ["Hematocrit", "Haematocrit", "HCT", "PCV", "Packed Cell Volume (PCV)", "Hct"],
    "rbc": ["RBC Count", "RBC", "Red Blood Cell Count", "Total RBC Count", "Erythrocytes", "R.B.C."],
    "mcv": ["MCV", "Mean Corpuscular Volume", "Mean Cell Volume", "MCV (Mean Corpuscular Volume)"],
    "mch": ["MCH", "Mean Corpuscular Hemoglobin", "Mean Cell Haemoglobin"],
    "mchc": ["MCHC", "Mean Corpuscular Hb Concentration", "Mean Cell Hemoglobin Concentration"],
    "rdw_cv": ["RDW-CV", "RDW", "RDW CV", "Red Cell Distribution Width"],
    "rdw_sd": ["RDW-SD", "RDW SD"],
    "wbc": [
        "WBC Count",
        "Total WBC Count",
        "WBC",
        "Total Leucocyte Count",
        "TLC",
        "White Blood Cells",
        "Leukocytes",
    ],
    "plt": ["Platelet Count", "Platelets", "PLT", "Platelet count"],
    "mpv": ["MPV", "Mean Platelet Volume"],
    "pdw": ["PDW", "Platelet Distribution Width"],
    "neut_pct": ["Neutrophils", "Neutrophils %", "NEUT%", "Polymorphs", "Segmented Neutrophils"],
    "lymph_pct": ["Lymphocytes", "Lymphocytes %", "LYMPH%", "Lymphs"],
    "mono_pct": ["Monocytes", "Monocytes %", "MONO%"],
    "eos_pct": ["Eosinophils", "Eosinophils %", "EOS%"],
    "baso_pct": ["Basophils", "Basophils %", "BASO%"],
    "neut_abs": ["Absolute Neutrophil Count", "Neutrophils (Abs)", "NEUT#", "ANC"],
    "lymph_abs": ["Absolute Lymphocyte Count", "Lymphocytes (Abs)", "LYMPH#"],
    "mono_abs": ["Absolute Monocyte Count", "Monocytes (Abs)", "MONO#"],
    "eos_abs": ["Absolute Eosinophil Count", "Eosinophils (Abs)", "EOS#"],
    "baso_abs": ["Absolute Basophil Count", "Basophils (Abs)", "BASO#"],
    "retic_pct": ["Reticulocyte Count", "Reticulocytes", "Retic %"],
    "hba2": ["HbA2", "Hb A2", "Haemoglobin A2"],
    "hbf": ["HbF", "Hb F", "Foetal Haemoglobin", "Fetal Hemoglobin"],
    "ferritin": ["Ferritin", "Serum Ferritin"],
    "iron": ["Serum Iron", "Iron"],
    "tibc": ["TIBC", "Total Iron Binding Capacity"],
    "tsat": ["Transferrin Saturation", "TSAT", "% Saturation"],
}

# reference intervals in canonical units (adult; printed only for display)
REFS: dict[str, tuple[float, float]] = {
    "hgb": (12.0, 16.0),
    "hct": (36.0, 46.0),
    "rbc": (4.0, 5.5),
    "mcv": (80.0, 100.0),
    "mch": (27.0, 32.0),
    "mchc": (32.0, 36.0),
    "rdw_cv": (11.5, 14.5),
    "rdw_sd": (39.0, 46.0),
    "wbc": (4.0, 11.0),
    "plt": (150.0, 410.0),
    "mpv": (7.5, 11.5),
    "pdw": (9.0, 17.0),
    "neut_pct": (40.0, 80.0),
    "lymph_pct": (20.0, 40.0),
    "mono_pct": (2.0, 10.0),
    "eos_pct": (1.0, 6.0),
    "baso_pct": (0.0, 2.0),
    "neut_abs": (2.0, 7.0),
    "lymph_abs": (1.0, 3.0),
    "mono_abs": (0.2, 1.0),
    "eos_abs": (0.02, 0.5),
    "baso_abs": (0.0, 0.1),
    "retic_pct": (0.5, 2.5),
    "hba2": (2.0, 3.5),
    "hbf": (0.0, 2.0),
    "ferritin": (15.0, 150.0),
    "iron": (60.0, 170.0),
    "tibc": (250.0, 450.0),
    "tsat": (20.0, 50.0),
}


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """How one unit system prints a key: unit text, factor from canonical, decimals."""

    unit: str
    factor: float
    decimals: int
    indian_grouping: bool = False


_PCT = UnitSpec("%", 1, 1)

UNIT_SYSTEMS: dict[str, dict[str, list[UnitSpec]]] = {
    "us": {
        "hgb": [UnitSpec("g/dL", 1, 1)],
        "hct": [_PCT],
        "rbc": [UnitSpec("10^6/uL", 1, 2), UnitSpec("M/uL", 1, 2)],
        "mcv": [UnitSpec("fL", 1, 1)],
        "mch": [UnitSpec("pg", 1, 1)],
        "mchc": [UnitSpec("g/dL", 1, 1)],
        "wbc": [UnitSpec("10^3/uL", 1, 1), UnitSpec("K/uL", 1, 2)],
        "plt": [UnitSpec("10^3/uL", 1, 0), UnitSpec("K/uL", 1, 0)],
        "abs": [UnitSpec("10^3/uL", 1, 2), UnitSpec("K/uL", 1, 2)],
        "ferritin": [UnitSpec("ng/mL", 1, 0)],
        "iron": [UnitSpec("ug/dL", 1, 0)],
        "tibc": [UnitSpec("ug/dL", 1, 0)],
    },
    "si": {
        "hgb": [UnitSpec("g/L", 10, 0)],
        "hct": [UnitSpec("L/L", 0.01, 3)],
        "rbc": [UnitSpec("x10^12/L", 1, 2)],
        "mcv": [UnitSpec("fL", 1, 1)],
        "mch": [UnitSpec("pg", 1, 1)],
        "mchc": [UnitSpec("g/L", 10, 0)],
        "wbc": [UnitSpec("x10^9/L", 1, 1)],
        "plt": [UnitSpec("x10^9/L", 1, 0)],
        "abs": [UnitSpec("x10^9/L", 1, 2)],
        "ferritin": [UnitSpec("ug/L", 1, 0)],
        "iron": [UnitSpec("umol/L", 0.1791, 1)],
        "tibc": [UnitSpec("umol/L", 0.1791, 1)],
    },
    "indian": {
        "hgb": [UnitSpec("g/dL", 1, 1), UnitSpec("gm/dl", 1, 1)],
        "hct": [_PCT],
        "rbc": [UnitSpec("mill/cumm", 1, 2), UnitSpec("million/cumm", 1, 2)],
        "mcv": [UnitSpec("fl", 1, 1)],
        "mch": [UnitSpec("pg", 1, 1)],
        "mchc": [UnitSpec("g/dL", 1, 1)],
        "wbc": [UnitSpec("/cumm", 1000, 0, True), UnitSpec("cells/cu.mm", 1000, 0, True)],
        "plt": [UnitSpec("lakhs/cumm", 0.01, 2), UnitSpec("/cumm", 1000, 0, True)],
        "abs": [UnitSpec("/cumm", 1000, 0, True), UnitSpec("cells/cumm", 1000, 0, True)],
        "ferritin": [UnitSpec("ng/mL", 1, 1)],
        "iron": [UnitSpec("ug/dL", 1, 0)],
        "tibc": [UnitSpec("ug/dL", 1, 0)],
    },
}
_DEFAULT_SPECS: dict[str, UnitSpec] = {
    "rdw_cv": _PCT,
    "rdw_sd": UnitSpec("fL", 1, 1),
    "mpv": UnitSpec("fL", 1, 1),
    "pdw": UnitSpec("fL", 1, 1),
    "retic_pct": _PCT,
    "hba2": _PCT,
    "hbf": _PCT,
    "tsat": UnitSpec("%", 1, 0),
}


def _spec_for(system: str, key: str, rng: random.Random) -> UnitSpec:
    table = UNIT_SYSTEMS[system]
    if key.endswith("_pct") and key != "retic_pct":
        return _PCT
    group = "abs" if key.endswith("_abs") else key
    if group in table:
        return rng.choice(table[group])
    return _DEFAULT_SPECS[key]


def _group_indian(n: int) -> str:
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    parts = []
    while len(head) > 2:
        parts.insert(0, head[-2:])
        head = head[:-2]
    if head:
        parts.insert(0, head)
    return ",".join([*parts, tail])


def _fmt(value: float, spec: UnitSpec, decimal_comma: bool = False) -> str:
    v = value * spec.factor
    if spec.decimals == 0:
        n = round(v)
        text = _group_indian(n) if spec.indian_grouping and n >= 1000 else str(n)
    else:
        text = f"{v:.{spec.decimals}f}"
        if decimal_comma:
            text = text.replace(".", ",")
    return text


def _printed_to_canonical(text: str, spec: UnitSpec) -> float:
    v = float(text.replace(",", "") if spec.decimals == 0 else text.replace(",", "."))
    return v / spec.factor


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class TextItem:
    x: float  # points from the left
    y: float  # points from the top (baseline-ish top of the text box)
    text: str
    size: float
    bold: bool = False


@dataclass(frozen=True, slots=True)
class LineItem:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(slots=True)
class SyntheticReport:
    """One generated report: pages of positioned items plus the ground truth."""

    seed: int
    layout: str
    units: str
    font: Path
    pages: list[list[TextItem | LineItem]]
    truth: dict[str, TruthValue]
    sex: str
    age_years: int
    degradations: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)

    # -- rendering -----------------------------------------------------------------------------
    def render_page(self, index: int = 0, dpi: int | None = None) -> Image.Image:
        """Clean bitmap of one page (grayscale)."""
        dpi = dpi or int(self.meta.get("dpi", "200"))
        scale = dpi / 72.0
        img = Image.new("L", (round(PAGE_W_PT * scale), round(PAGE_H_PT * scale)), 255)
        draw = ImageDraw.Draw(img)
        fonts: dict[tuple[float, bool], ImageFont.FreeTypeFont] = {}
        for item in self.pages[index]:
            if isinstance(item, LineItem):
                draw.line(
                    [(item.x0 * scale, item.y0 * scale), (item.x1 * scale, item.y1 * scale)],
                    fill=90,
                    width=max(1, round(scale * 0.6)),
                )
                continue
            fk = (item.size, item.bold)
            if fk not in fonts:
                path = _bold_variant(self.font) if item.bold else self.font
                fonts[fk] = ImageFont.truetype(str(path), round(item.size * scale))
            draw.text((item.x * scale, item.y * scale), item.text, font=fonts[fk], fill=20)
        return img

    def degraded_pages(self) -> list[Image.Image]:
        rng = random.Random(self.seed * 7919 + 1)
        return [degrade(self.render_page(i), self.degradations, rng) for i in range(len(self.pages))]

    def to_image_bytes(self, fmt: str = "PNG") -> bytes:
        """First page (degraded as specified) encoded as PNG/JPEG/WEBP; TIFF keeps all pages."""
        pages = self.degraded_pages()
        buf = io.BytesIO()
        if fmt.upper() == "TIFF":
            pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
        elif fmt.upper() in ("JPEG", "JPG"):
            pages[0].convert("RGB").save(buf, format="JPEG", quality=88)
        else:
            pages[0].save(buf, format=fmt.upper())
        return buf.getvalue()

    def to_fax_tiff_bytes(self, fine: bool = False) -> bytes:
        """All pages as a received fax stores them: 1-bit Group 4 TIFF at the fax's own
        resolution, 204 dpi across and 98 (standard mode) or 196 (fine) down, so the pixels are
        not square unless a reader honours the resolution tags. Degradations are not applied;
        the fax is the degradation."""
        y_dpi = 196 if fine else 98
        nrng = np.random.default_rng(self.seed)
        pages = []
        for i in range(len(self.pages)):
            page = self.render_page(i, dpi=204).convert("L")
            page = page.resize((page.width, round(page.height * y_dpi / 204)), Image.Resampling.BILINEAR)
            arr = np.asarray(page, dtype=np.float32) + nrng.normal(0, 12, (page.height, page.width))
            pages.append(Image.fromarray(np.where(arr > 150, 255, 0).astype(np.uint8)).convert("1"))
        buf = io.BytesIO()
        pages[0].save(
            buf, format="TIFF", save_all=True, append_images=pages[1:], compression="group4", dpi=(204, y_dpi)
        )
        return buf.getvalue()

    def to_pdf_bytes(self, text_layer: bool = True) -> bytes:
        """A PDF with a real text layer, or with each (degraded) page embedded as an image only."""
        from fpdf import FPDF  # dev dependency: only the generator needs it

        pdf = FPDF(unit="pt", format="A4")
        pdf.set_auto_page_break(False)
        pdf.add_font("rep", "", str(self.font))
        pdf.add_font("rep", "B", str(_bold_variant(self.font)))
        images = None if text_layer else self.degraded_pages()
        for i, items in enumerate(self.pages):
            pdf.add_page()
            if images is not None:
                buf = io.BytesIO()
                images[i].save(buf, format="PNG")
                buf.seek(0)
                pdf.image(buf, x=0, y=0, w=PAGE_W_PT, h=PAGE_H_PT)
                continue
            for item in items:
                if isinstance(item, LineItem):
                    pdf.set_line_width(0.5)
                    pdf.line(item.x0, item.y0, item.x1, item.y1)
                    continue
                pdf.set_font("rep", "B" if item.bold else "", item.size)
                # fpdf's text() places the baseline; PIL's draw.text places the top.
                pdf.text(item.x, item.y + item.size * 0.8, item.text)
        return bytes(pdf.output())


FIRST = ["Asha", "Ravi", "Maria", "John", "Fatima", "Chen", "Olga", "Kwame", "Priya", "Lucas"]
LAST = ["Sharma", "Okafor", "Smith", "Garcia", "Khan", "Nguyen", "Ivanova", "Mensah", "Patel", "Rossi"]
LABS = [
    "City Diagnostics Laboratory",
    "Sunrise Pathology Lab",
    "St. Mary Hospital - Clinical Laboratory",
    "MetroLab Reference Services",
    "Apollo Path Labs",
]

LAYOUTS = ("grid", "grid_flags", "dotted", "colon", "two_column", "grid_methods")
DEGRADATIONS = (
    "skew",
    "rotate90",
    "rotate180",
    "rotate270",
    "blur",
    "noise",
    "jpeg",
    "photo",
    "lowres",
    "fax",
)


def _header(rng: random.Random, sex: str, age: int, font_size: float) -> tuple[list[TextItem], float]:
    items: list[TextItem] = []
    y = 36.0
    items.append(TextItem(150, y, rng.choice(LABS), font_size + 5, True))
    y += font_size * 3
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    sex_txt = rng.choice([sex.capitalize(), sex[0].upper()])
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    date = rng.choice(
        [f"{day:02d}/{month:02d}/2025", f"2025-{month:02d}-{day:02d}", f"{day:02d}-{month:02d}-2025"]
    )
    left = [
        f"Patient Name: {name}",
        rng.choice([f"Age/Sex: {age} Y / {sex_txt}", f"Age: {age} Years   Sex: {sex_txt}"]),
        f"Patient ID: MRN{rng.randint(100000, 999999)}",
    ]
    right = [f"Collected: {date}", f"Reported: {date}", f"Ref. By: Dr. {rng.choice(LAST)}"]
    for lt, rt in zip(left, right, strict=True):
        items.append(TextItem(40, y, lt, font_size))
        items.append(TextItem(330, y, rt, font_size))
        y += font_size * 1.6
    y += font_size
    items.append(
        TextItem(
            200,
            y,
            rng.choice(["COMPLETE BLOOD COUNT (CBC)", "HAEMATOLOGY REPORT", "Complete Blood Count"]),
            font_size + 2,
            True,
        )
    )
    y += font_size * 2.4
    return items, y


def _flag(key: str, value: float, rng: random.Random, style: str) -> str:
    lo, hi = REFS[key]
    if lo <= value <= hi:
        return ""
    low = value < lo
    return {
        "letter": "L" if low else "H",
        "word": "Low" if low else "High",
        "paren": "(L)" if low else "(H)",
        "star": "*",
        "arrow": "↓" if low else "↑",
    }[style]


def _ref_text(key: str, spec: UnitSpec, rng: random.Random) -> str:
    lo, hi = REFS[key]
    a, b = _fmt(lo, spec), _fmt(hi, spec)
    if lo == 0 and rng.random() < 0.5:
        return f"< {b}" if rng.random() < 0.5 else f"up to {b}"
    return rng.choice([f"{a} - {b}", f"{a}-{b}", f"{a} – {b}"])


def generate(
    seed: int,
    *,
    degraded: bool | None = None,
    layout: str | None = None,
    units: str | None = None,
    degradations: tuple[str, ...] | None = None,
) -> SyntheticReport:
    """Deterministic report for `seed`. `degraded=None` lets the seed decide (about 2/3 degraded)."""
    rng = random.Random(seed)
    fonts = available_fonts()
    font = rng.choice(fonts) if fonts else Path(ImageFont.__file__)
    vals = _draw_values(rng)
    sex = "female" if vals.pop("_sex") else "male"
    age = rng.randint(18, 80)
    layout = layout or rng.choice(LAYOUTS)
    units = units or rng.choice(("us", "si", "indian"))
    size = rng.choice([9.0, 10.0, 10.0, 11.0, 12.0])
    flag_style = rng.choice(["letter", "word", "paren", "star", "arrow", "none"])
    decimal_comma = units == "si" and rng.random() < 0.3
    items, y = _header(rng, sex, age, size)
    # names must fit their column (real lab software truncates or wraps; we pick a shorter variant)
    name_room = {"grid_flags": 160.0, "two_column": 130.0, "dotted": 185.0}.get(layout, 165.0)
    measure = ImageFont.truetype(str(font), round(size)) if fonts else ImageFont.load_default()  # 1 px = 1 pt
    truth: dict[str, TruthValue] = {}
    rows: list[tuple[str, str, str, str, str, str]] = []  # key, name, value, unit, ref, flag
    for key, canon in vals.items():
        spec = _spec_for(units, key, rng)
        text = _fmt(canon, spec, decimal_comma and spec.decimals > 0)
        fitting = [n for n in NAMES[key] if measure.getlength(n) < name_room] or [min(NAMES[key], key=len)]
        name = rng.choice(fitting)
        flag = _flag(key, canon, rng, flag_style) if flag_style != "none" else ""
        ref = _ref_text(key, spec, rng)
        truth[key] = TruthValue(key, _printed_to_canonical(text, spec), text, spec.unit, name)
        rows.append((key, name, text, spec.unit, ref, flag))

    line_h = size * rng.uniform(1.6, 2.1)
    # one page per report image: tighten the line pitch rather than overflow (PNG/JPEG carry one page)
    n_lines = (len(rows) + 1) // 2 if layout == "two_column" else len(rows)
    extra = 5 * size * 1.3 if layout == "grid_methods" else 0.0
    room = PAGE_H_PT - 90 - y - 2 * line_h - extra
    if n_lines * line_h > room:
        line_h = max(room / n_lines, size * 1.35)
    pages: list[list[TextItem | LineItem]] = [items]
    cur = items

    def newline(h: float) -> None:
        nonlocal y, cur
        y += h
        if y > PAGE_H_PT - 70:  # overflow onto a new page; headers repeat like real lab software
            cur = []
            pages.append(cur)
            y = 50.0

    if layout in ("grid", "grid_flags", "grid_methods"):
        cols = [40, 215, 300, 390] if layout != "grid_flags" else [40, 210, 280, 340, 440]
        heads = [
            rng.choice(["Test", "Investigation", "Test Name", "Parameter"]),
            rng.choice(["Result", "Observed Value", "Value"]),
            rng.choice(["Unit", "Units"]),
            rng.choice(["Reference Range", "Biological Ref. Interval", "Normal Range"]),
        ]
        if layout == "grid_flags":
            heads = [heads[0], heads[1], "Flag", heads[2], heads[3]]
        for x, h in zip(cols, heads, strict=True):
            cur.append(TextItem(x, y, h, size, True))
        draw_lines = rng.random() < 0.5
        if draw_lines:
            cur.append(LineItem(36, y + size * 1.4, 560, y + size * 1.4))
        newline(line_h + 2)
        for key, name, text, unit, ref, flag in rows:
            if layout == "grid_flags":
                cells = [name, text, flag, unit, ref]
            else:
                glued = rng.random() < 0.5
                value = f"{text}{flag}" if glued else (f"{text} {flag}" if flag else text)
                cells = [name, value, unit, ref]
            for x, c in zip(cols, cells, strict=True):
                if c:
                    cur.append(TextItem(x, y, c, size, bool(flag) and c.startswith(text)))
            if layout == "grid_methods" and key in ("hgb", "rbc", "wbc", "plt", "hct"):
                newline(size * 1.3)
                method = {
                    "hgb": "SLS-Hb, photometric",
                    "rbc": "Electrical impedance",
                    "wbc": "Flow cytometry",
                    "plt": "Impedance",
                    "hct": "Calculated",
                }[key]
                cur.append(TextItem(48, y, f"Method: {method}", size - 2))
            newline(line_h)
            if draw_lines:
                cur.append(LineItem(36, y - line_h * 0.25, 560, y - line_h * 0.25))
    elif layout in ("dotted", "colon"):
        for _key, name, text, unit, ref, flag in rows:
            if layout == "dotted":
                cur.append(TextItem(40, y, name, size))
                dots_x = 40 + measure.getlength(name) + 6
                n_dots = max(3, int((252 - dots_x) / max(1.0, measure.getlength("."))))
                cur.append(TextItem(dots_x, y, "." * n_dots, size))
                line = f"{text} {flag} {unit}".replace("  ", " ")
                cur.append(TextItem(260, y, line, size))
                cur.append(TextItem(400, y, f"({ref})" if rng.random() < 0.5 else ref, size))
            else:
                flag_txt = f" {flag}" if flag else ""
                cur.append(TextItem(40, y, f"{name}: {text}{flag_txt} {unit}   ({ref})", size))
            newline(line_h)
    else:  # two_column: analytes split into two side-by-side blocks
        half = (len(rows) + 1) // 2
        y0 = y
        for col, chunk in enumerate((rows[:half], rows[half:])):
            y = y0
            x = 40 + col * 280
            for _key, name, text, unit, _ref, flag in chunk:
                cur.append(TextItem(x, y, name, size))
                cur.append(TextItem(x + 140, y, f"{text}{(' ' + flag) if flag else ''}", size))
                cur.append(TextItem(x + 200, y, unit, size))
                y += line_h
        y = y0 + half * line_h
    newline(line_h)
    cur.append(
        TextItem(40, y, "Note: Results relate only to the sample tested. *** End of Report ***", size - 1)
    )
    cur.append(TextItem(400, y + line_h * 2, "Pathologist", size))

    if degradations is None:
        if degraded is None:
            degraded = rng.random() < 0.67
        if degraded:
            n = rng.choice([1, 1, 2])
            degradations = tuple(sorted(set(rng.sample(DEGRADATIONS, n)), key=DEGRADATIONS.index))
            rot = [d for d in degradations if d.startswith("rotate")]
            if len(rot) > 1:
                degradations = tuple(d for d in degradations if d not in rot[1:])
        else:
            degradations = ()
    dpi = rng.choice([150, 200, 200, 300]) if "lowres" not in degradations else 200
    return SyntheticReport(
        seed=seed,
        layout=layout,
        units=units,
        font=font,
        pages=pages,
        truth=truth,
        sex=sex,
        age_years=age,
        degradations=degradations,
        meta={"dpi": str(dpi)},
    )


# --------------------------------------------------------------------------- degradations


def degrade(img: Image.Image, degradations: tuple[str, ...], rng: random.Random) -> Image.Image:
    """Apply degradations in a fixed, realistic order (paper first, camera/scanner next, codec last)."""
    out = img.convert("L")
    d = set(degradations)
    if "skew" in d:
        angle = rng.choice([-1, 1]) * rng.uniform(0.7, 4.0)
        out = out.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if "photo" in d:
        out = _photo(out, rng)
    if "lowres" in d:
        f = rng.uniform(0.45, 0.6)
        out = out.resize((int(out.width * f), int(out.height * f)), Image.Resampling.BILINEAR)
    if "fax" in d:
        w, h = out.size
        out = out.resize((w, int(h * 0.5)), Image.Resampling.BILINEAR).resize(
            (w, h), Image.Resampling.NEAREST
        )
        arr = np.asarray(out, dtype=np.float32)
        arr += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 12, arr.shape)
        out = Image.fromarray(np.where(arr > 150, 255, 0).astype(np.uint8))
    if "blur" in d:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 1.4)))
    if "noise" in d:
        arr = np.asarray(out, dtype=np.float32)
        nrng = np.random.default_rng(rng.randint(0, 2**31))
        arr += nrng.normal(0, rng.uniform(10, 22), arr.shape)
        sp = nrng.random(arr.shape)
        arr[sp < 0.002] = 0
        arr[sp > 0.998] = 255
        out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    for r in ("rotate90", "rotate180", "rotate270"):
        if r in d:
            out = out.rotate(int(r[6:]), expand=True)
    if "jpeg" in d:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=rng.randint(18, 35))
        buf.seek(0)
        out = Image.open(buf).convert("L")
    return out


def _photo(img: Image.Image, rng: random.Random) -> Image.Image:
    """Paper photographed on a desk: perspective, darker background, uneven light, slight blur."""
    import cv2

    src = np.asarray(img)
    h, w = src.shape
    pad = int(0.12 * max(w, h))
    cw, ch = w + 2 * pad, h + 2 * pad
    j = lambda s: rng.uniform(-s, s) * w  # noqa: E731 - tiny local jitter helper
    dst = np.float32(
        [
            [pad + j(0.04), pad + j(0.04)],
            [pad + w + j(0.04), pad + j(0.04)],
            [pad + w + j(0.04), pad + h + j(0.04)],
            [pad + j(0.04), pad + h + j(0.04)],
        ]
    )
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), dst)
    bg = rng.randint(40, 110)
    warped = cv2.warpPerspective(src, m, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=bg)
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    grad = np.cos(ang) * xx / cw + np.sin(ang) * yy / ch
    shade = 1.0 - rng.uniform(0.15, 0.4) * (grad - grad.min()) / (np.ptp(grad) + 1e-6)
    out = np.clip(warped.astype(np.float32) * shade, 0, 255).astype(np.uint8)
    out = cv2.GaussianBlur(out, (3, 3), 0.8)
    scale = rng.uniform(0.7, 0.9)  # phones rarely frame the page at full scanner resolution
    out = cv2.resize(out, (int(cw * scale), int(ch * scale)), interpolation=cv2.INTER_AREA)
    return Image.fromarray(out)


def generate_many(n: int, start_seed: int = 1000) -> list[SyntheticReport]:
    return [generate(start_seed + i) for i in range(n)]
