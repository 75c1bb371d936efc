"""Settings from the environment and an optional .env file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import load_dotenv


@dataclass(frozen=True)
class Settings:
    bot_token: str = ""
    api_base_url: str = ""  # PTB base_url form, e.g. http://127.0.0.1:8081/bot; empty: api.telegram.org
    file_base_url: str = ""
    database_url: str = ""
    duties_file: str = "duties.yaml"
    data_dir: Path = field(default_factory=lambda: Path("data"))
    tz: str = "Asia/Shanghai"
    webhook_secret: str = ""
    lease_seconds: float = 15.0  # the leader lease (several processes on one database)
    lease_renew_seconds: float = 5.0
    web_listen: str = "127.0.0.1:8080"  # the web console (bot/web); empty: not served by `dutybot run`
    web_base_url: str = ""  # what sign-in links use; empty: http://WEB_LISTEN

    @property
    def web_url(self) -> str:
        """The console's public base URL, without a trailing slash."""
        return (self.web_base_url or f"http://{self.web_listen}").rstrip("/")

    @classmethod
    def from_env(cls, env_file: str | None = ".env") -> Settings:
        if env_file and Path(env_file).is_file():
            load_dotenv(env_file, override=False)
        data_dir = Path(os.environ.get("DATA_DIR", "data"))
        return cls(
            bot_token=os.environ.get("BOT_TOKEN", ""),
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL", ""),
            file_base_url=os.environ.get("TELEGRAM_FILE_BASE_URL", ""),
            database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'dutybot.db'}",
            duties_file=os.environ.get("DUTIES_FILE", "duties.yaml"),
            data_dir=data_dir,
            tz=os.environ.get("TZ") or "Asia/Shanghai",
            webhook_secret=os.environ.get("WEBHOOK_SECRET", ""),
            lease_seconds=float(os.environ.get("LEASE_SECONDS") or 15),
            lease_renew_seconds=float(os.environ.get("LEASE_RENEW_SECONDS") or 5),
            web_listen=os.environ.get("WEB_LISTEN", "127.0.0.1:8080"),
            web_base_url=os.environ.get("WEB_BASE_URL", ""),
        )

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz)
        except Exception:  # TZ may hold a POSIX string like "UTC0"; display in Shanghai time then
            return ZoneInfo("Asia/Shanghai")

    @property
    def uses_real_telegram(self) -> bool:
        return not self.api_base_url or "api.telegram.org" in self.api_base_url
