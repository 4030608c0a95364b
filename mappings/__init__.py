"""Analyte catalog, value/unit parsing and CBC consistency rules (pure; no I/O)."""

from mappings.canonical import CANONICAL_KEYS, CANONICAL_UNITS, CanonicalCBC, PatientContext

__all__ = ["CANONICAL_KEYS", "CANONICAL_UNITS", "CanonicalCBC", "PatientContext"]
