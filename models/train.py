"""`python -m models.train`: fit every task model on its training split, save the versioned skops
artifact, then evaluate on the held-out split and write MODEL_CARD.md.

Deterministic: fixed split seed (models.datasets), fixed model/fold seeds (models.training), and
single-threaded so results do not depend on the machine's core count.
"""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

from models.artifacts import save_bundle
from models.datasets import load_task_data
from models.task_model import TaskModel
from models.tasks import TASKS
from models.training import fit_task_model


def train_all() -> dict[str, TaskModel]:
    models: dict[str, TaskModel] = {}
    for task in TASKS:
        start = time.perf_counter()
        data = load_task_data(task)
        model = fit_task_model(task, data.train)
        info = dict(model.info)
        info["excluded"] = data.excluded
        models[task.task_id] = TaskModel(**{**model.__dict__, "info": info})
        print(
            f"{task.task_id:<24} n={len(data.train):>6} pos={int(data.train.y.sum()):>4} "
            f"OOF AUC={model.cv_auc['all inputs']:.3f} threshold={model.threshold:.4f} "
            f"({time.perf_counter() - start:.1f}s)",
            flush=True,
        )
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-evaluate", action="store_true", help="skip evaluation and the model card")
    args = parser.parse_args()
    with threadpool_limits(1):
        models = train_all()
        path = save_bundle(models)
        print(f"saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
        if not args.no_evaluate:
            from models.evaluate import run_evaluation

            run_evaluation(write_card=True, models=models)


if __name__ == "__main__":
    main()
