"""`fhir-gateway` with the audit append replaced by a no-op, for bench/audit_throughput.py
only. Auditing cannot be switched off in the product; this module is never imported by it.

    python -m bench.unaudited_server serve --port 8001
"""

from __future__ import annotations

from fhir_gateway import auditing, runtime
from fhir_gateway.cli import app


def _skip(*_args: object, **_kwargs: object) -> None:
    return None


# The store's queued rows then flush at commit, as they would with no append to ride in.
runtime.append_success = _skip
runtime.take_pending_params = _skip
auditing.append = _skip

if __name__ == "__main__":
    app()
