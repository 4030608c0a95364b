"""Service configuration (pydantic-settings, env prefix GATEWAY_). Every field is documented in README."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=None, extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the SQLite file, keyring and JWT secret live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/gateway.db. PostgreSQL: postgresql+psycopg://…",
    )
    keyring_file: Path | None = Field(
        None, description="Keyring JSON (0600); default <data_dir>/keyring.json."
    )
    keyring_json: str | None = Field(None, description="Keyring JSON given inline (overrides keyring_file).")
    jwt_secret: str | None = Field(
        None, description="HS256 secret; default: generated into <data_dir>/jwt_secret."
    )
    jwt_issuer: str = Field("cbc-fhir-gateway", description="Required `iss` claim.")
    jwt_audience: str = Field("cbc-fhir-gateway", description="Required `aud` claim.")
    jwt_algorithms: list[str] = Field(["HS256"], description="Accepted algorithms (HS256, RS256, ES256).")
    jwks_url: str | None = Field(None, description="JWKS URL for RS256/ES256 tokens.")
    jwks_file: Path | None = Field(None, description="JWKS file for RS256/ES256 tokens.")
    public_base_url: str | None = Field(
        None, description="Base URL used in fullUrl/Location/links; default: taken from the request."
    )
    max_body_bytes: int = Field(20 * 1024 * 1024, description="Largest request body accepted (413 above).")
    default_page_size: int = Field(20, description="Search page size when _count is absent.")
    max_page_size: int = Field(200, description="Largest _count honoured.")
    request_timeout_seconds: float = Field(120.0, description="Per-request timeout for long operations.")
    log_level: str = Field("INFO", description="Python log level.")
    ocr_workers: int = Field(0, description="OCR worker processes; 0 = one per CPU core.")
    db_threads: int = Field(
        2, description="Threads running database units of work at once (more only contend for the GIL)."
    )
    ocr_bands: int = Field(
        0,
        ge=0,
        le=4,
        description="Cores one page's OCR may use at once (Tesseract bands, recogniser threads); "
        "0 = one per core. Read by the OCR processes from GATEWAY_OCR_BANDS.",
    )
    tesseract_backend: Literal["api", "cli"] | None = Field(
        None,
        description="How Tesseract is run: api = in-process (tesserocr, model loaded once per thread), "
        "cli = a `tesseract` process per image (pytesseract); default: api when available. "
        "Read by the OCR processes from GATEWAY_TESSERACT_BACKEND.",
    )
    ocr_engine: str | None = Field(
        None, description="OCR engine: tesseract, rapidocr or combined; default: best."
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'gateway.db').as_posix()}"

    @property
    def resolved_keyring_file(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
