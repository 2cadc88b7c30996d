"""``Settings.with_jwt_secret``: which secret a server signs with, and the secret file."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from wagerkit.config import Settings, SettingsError, sqlite_file


@pytest.mark.parametrize(
    ("url", "file"),
    [
        ("sqlite:///wagerkit.db", "wagerkit.db"),
        ("sqlite:////srv/data/w.db?timeout=5", "/srv/data/w.db"),
        ("sqlite+aiosqlite:///./x.db", "./x.db"),
        ("sqlite://", ""),
        ("sqlite:///:memory:", ""),
        ("postgresql://u@h/db", None),
        ("not a url", None),
    ],
)
def test_sqlite_file(url: str, file: str | None) -> None:
    assert sqlite_file(url) == file


def _settings(url: str, **kw: object) -> Settings:
    return Settings(database_url=url, _env_file=None, **kw)  # type: ignore[call-arg]


def test_concurrent_first_starts_agree_on_one_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAGERKIT_JWT_SECRET", raising=False)
    settings = _settings(f"sqlite:///{tmp_path / 'w.db'}")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: settings.with_jwt_secret(), range(16)))
    secrets = {s.jwt_secret.get_secret_value() for s, _ in results if s.jwt_secret}
    assert len(secrets) == 1
    assert sum(note is not None for _, note in results) == 1  # one start says it made it
    path = tmp_path / "w.db.jwt-secret"
    assert path.read_text() == f"{secrets.pop()}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.db.jwt-secret"]  # no temp files


def test_configured_wins_memory_is_ephemeral_postgres_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAGERKIT_JWT_SECRET", raising=False)
    configured = _settings(f"sqlite:///{tmp_path / 'w.db'}", jwt_secret="c" * 40)
    assert configured.with_jwt_secret() == (configured, None)
    assert list(tmp_path.iterdir()) == []
    memory, note = _settings("sqlite://").with_jwt_secret()
    assert memory.jwt_secret is not None
    assert len(memory.jwt_secret.get_secret_value()) == 64
    assert note is not None
    assert "in-memory" in note
    with pytest.raises(SettingsError, match="set WAGERKIT_JWT_SECRET"):
        _settings("postgresql://u@h/db").with_jwt_secret()
    with pytest.raises(SettingsError, match="cannot write the JWT secret file"):
        _settings(f"sqlite:///{tmp_path / 'missing' / 'w.db'}").with_jwt_secret()
