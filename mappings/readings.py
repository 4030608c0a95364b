"""Result types of reading a report (re-exported by ``mappings.extract``).

Kept apart from the extraction logic so ``consistency`` can use them without an import cycle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from mappings.canonical import CANONICAL_UNITS, CanonicalCBC, PatientContext, Sex

Status = Literal["ok", "uncertain", "repaired", "assumed"]


@dataclass
class AnalyteReading:
    """One analyte read from a report.

    ``value``, ``unit``, ``ref_low`` and ``ref_high`` are as printed (unit as UCUM);
    ``value_canonical`` is in ``unit_canonical``. ``flag`` is a FHIR interpretation code.
    """

    key: str
    loinc: str
    display: str
    value: float
    unit: str
    value_canonical: float
    unit_canonical: str
    ref_low: float | None = None
    ref_high: float | None = None
    flag: str | None = None  # H, L, HH, LL, A
    confidence: float = 1.0
    source_text: str = ""
    status: Status = "ok"
    notes: list[str] = field(default_factory=list)


@dataclass
class HeaderContext:
    """Patient and report context printed above the results. Name/identifier are PHI."""

    sex: Sex | None = None
    age_years: float | None = None
    pregnant: bool | None = None
    trimester: int | None = None
    collected: dt.date | None = None
    reported: dt.date | None = None
    patient_name: str | None = None
    patient_identifier: str | None = None
    lab_name: str | None = None

    def to_patient_context(self) -> PatientContext:
        return PatientContext(
            sex=self.sex, age_years=self.age_years, pregnant=self.pregnant, trimester=self.trimester
        )


@dataclass
class ReadingWarning:
    """Something the caller should surface (OperationOutcome). ``message`` never contains PHI."""

    code: str
    message: str
    key: str | None = None


@dataclass
class Extraction:
    analytes: list[AnalyteReading] = field(default_factory=list)
    context: HeaderContext = field(default_factory=HeaderContext)
    warnings: list[ReadingWarning] = field(default_factory=list)

    def to_canonical_cbc(self, *, include_uncertain: bool = False) -> CanonicalCBC:
        """The canonical CBC for the models: contract keys only, uncertain values left out."""
        values = {
            r.key: r.value_canonical
            for r in self.analytes
            if r.key in CANONICAL_UNITS and (include_uncertain or r.status != "uncertain")
        }
        return CanonicalCBC(values)
