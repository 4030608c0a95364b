"""`assess_frame`: the vectorised path for screening batches (one row per CBC, canonical-key columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.artifacts import loaded_models
from models.features import columns_from_frame
from models.flags import Flags
from models.indices import INDICES
from models.interpret import interpret
from models.tasks import TASK_BY_ID

WARNING_SEPARATOR = "; "


def assess_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Keeps the input columns; adds anaemia, severity, morphology, probabilities, screen flags,
    indices and warnings."""
    models = loaded_models()
    raw = columns_from_frame(frame)
    itp = interpret(raw, models)
    out = frame.copy()
    out["anemia"] = itp.anemia.status
    out["anemia_severity"] = itp.anemia.severity
    cut_lo, cut_hi = itp.anemia.cutoff_low, itp.anemia.cutoff_high
    out["who_hb_cutoff"] = np.where(cut_lo == cut_hi, cut_lo, np.nan)
    out["morphology"] = itp.morphology.label
    for task_id, p in itp.probability.items():
        column = TASK_BY_ID[task_id].csv_column
        out[column] = np.round(p, 4)
        out[column.replace("p_", "screen_", 1)] = np.where(
            np.isnan(p), "", np.where(itp.positive[task_id], "1", "0")
        )
    for spec in INDICES:
        out[f"index_{spec.key}"] = np.round(itp.indices[spec.key], 3)
    flags = Flags(len(frame))
    flags.extend(itp.anemia.assumptions)
    flags.extend(itp.warnings)
    out["warnings"] = flags.joined(WARNING_SEPARATOR)
    return out
