"""Run the real service (`fhir-gateway serve`) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    proc: subprocess.Popen[bytes]
    base_url: str  # http://127.0.0.1:PORT
    log_path: Path

    @property
    def fhir_url(self) -> str:
        return f"{self.base_url}/fhir"

    verify: ssl.SSLContext | bool = True

    @classmethod
    def start(
        cls,
        data_dir: Path,
        database_url: str,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
        extra_args: list[str] | None = None,
        scheme: str = "http",
        verify: ssl.SSLContext | bool = True,
        module: str = "fhir_gateway.cli",  # a bench may start a patched copy of the CLI
    ) -> LiveServer:
        port = free_port()
        env = {
            **os.environ,
            "GATEWAY_DATA_DIR": str(data_dir),
            "GATEWAY_DATABASE_URL": database_url,
            **(extra_env or {}),
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = data_dir / "server.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                *(extra_args or []),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = cls(proc, f"{scheme}://127.0.0.1:{port}", log_path, verify)
        server.wait_ready()
        return server

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0, verify=self.verify).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
