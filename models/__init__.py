"""Interpreting a canonical CBC: WHO anaemia rules, morphology, discriminant indices and trained,
calibrated screening classifiers. Screening decision support, not a diagnosis."""

from models.assessment import Assessment
from models.batch import assess_frame
from models.inference import assess

__all__ = ["Assessment", "assess", "assess_frame"]
