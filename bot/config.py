"""Settings from the environment and an optional .env file."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import load_dotenv


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment; a bad value stops with a clear message."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SystemExit(f"{name} 应为正数（秒）/ must be a positive number of seconds, got {raw!r}")
    return value


def _networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or networks (127.0.0.1, 10.0.0.0/8); a bad one stops with a clear message."""
    out = []
    for item in os.environ.get(name, "").split(","):
        if item.strip():
            try:
                out.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise SystemExit(f"{name} 中的 {item.strip()!r} 不是 IP 地址或网段 / is not an address or network") from None
    return tuple(out)


def _count(name: str, default: int) -> int:
    """A positive whole number from the environment; a bad value stops with a clear message."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} 应为正整数 / must be a positive whole number, got {raw!r}")
    return int(raw)


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
    # 叫应 by phone and SMS (Alibaba Cloud); no keys: `dutybot run` starts the provider sandbox.
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_voice_endpoint: str = "https://dyvmsapi.aliyuncs.com/"
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    phone_caller_number: str = ""
    phone_call_template: str = ""
    phone_ack_template: str = ""
    phone_notice_template: str = ""
    sms_sign_name: str = ""
    sms_template: str = ""
    sms_notice_template: str = ""
    phone_listen: str = "0.0.0.0:8090"  # receipts and the SMS 收到 link are served here
    public_url: str = ""  # how phones reach phone_listen (the SMS link's base)
    phone_secret: str = ""  # in the receipt address, and the key of the SMS links' MACs
    phone_timeout: float = 10.0  # seconds to wait for the provider's answer before falling back
    paid_broadcast: bool = False  # TELEGRAM_PAID_BROADCAST=1: red warnings' calls may use paid broadcast
    lease_seconds: float = 15.0  # the leader lease (several processes on one database)
    lease_renew_seconds: float = 5.0
    outbox_in_flight: int = 1  # ordinary sends unrecorded at once = the most repeats after a crash
    web_listen: str = "127.0.0.1:8080"  # the web console (bot/web); empty: not served by `dutybot run`
    web_base_url: str = ""  # what sign-in links use; empty: http://WEB_LISTEN
    # Reverse proxies whose X-Forwarded-For names the client (sign-in limit, audit); empty: trust none.
    web_trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def web_url(self) -> str:
        """The console's public base URL, without a trailing slash."""
        return (self.web_base_url or f"http://{self.web_listen}").rstrip("/")

    @classmethod
    def from_env(cls, env_file: str | None = ".env") -> Settings:
        if env_file and Path(env_file).is_file():
            load_dotenv(env_file, override=False)
        data_dir = Path(os.environ.get("DATA_DIR", "data"))
        settings = cls(
            bot_token=os.environ.get("BOT_TOKEN", ""),
            api_base_url=os.environ.get("TELEGRAM_API_BASE_URL", ""),
            file_base_url=os.environ.get("TELEGRAM_FILE_BASE_URL", ""),
            database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'dutybot.db'}",
            duties_file=os.environ.get("DUTIES_FILE", "duties.yaml"),
            data_dir=data_dir,
            tz=os.environ.get("TZ") or "Asia/Shanghai",
            webhook_secret=os.environ.get("WEBHOOK_SECRET", ""),
            aliyun_access_key_id=os.environ.get("ALIYUN_ACCESS_KEY_ID", ""),
            aliyun_access_key_secret=os.environ.get("ALIYUN_ACCESS_KEY_SECRET", ""),
            aliyun_voice_endpoint=os.environ.get("ALIYUN_VOICE_ENDPOINT") or cls.aliyun_voice_endpoint,
            aliyun_sms_endpoint=os.environ.get("ALIYUN_SMS_ENDPOINT") or cls.aliyun_sms_endpoint,
            phone_caller_number=os.environ.get("PHONE_CALLER_NUMBER", ""),
            phone_call_template=os.environ.get("PHONE_CALL_TEMPLATE", ""),
            phone_ack_template=os.environ.get("PHONE_ACK_TEMPLATE", ""),
            phone_notice_template=os.environ.get("PHONE_NOTICE_TEMPLATE", ""),
            sms_sign_name=os.environ.get("SMS_SIGN_NAME", ""),
            sms_template=os.environ.get("SMS_TEMPLATE", ""),
            sms_notice_template=os.environ.get("SMS_NOTICE_TEMPLATE", ""),
            phone_listen=os.environ.get("PHONE_LISTEN") or cls.phone_listen,
            public_url=os.environ.get("PUBLIC_URL", ""),
            phone_secret=os.environ.get("PHONE_SECRET", ""),
            phone_timeout=float(os.environ.get("PHONE_TIMEOUT") or 10.0),
            paid_broadcast=os.environ.get("TELEGRAM_PAID_BROADCAST", "") == "1",
            lease_seconds=_seconds("LEASE_SECONDS", 15.0),
            lease_renew_seconds=_seconds("LEASE_RENEW_SECONDS", 5.0),
            outbox_in_flight=_count("OUTBOX_IN_FLIGHT", 1),
            web_listen=os.environ.get("WEB_LISTEN", "127.0.0.1:8080"),
            web_base_url=os.environ.get("WEB_BASE_URL", ""),
            web_trusted_proxies=_networks("WEB_TRUSTED_PROXIES"),
        )
        if settings.lease_renew_seconds >= settings.lease_seconds:
            raise SystemExit("LEASE_RENEW_SECONDS 须小于 LEASE_SECONDS / must be less than LEASE_SECONDS "
                             f"({settings.lease_renew_seconds:g} >= {settings.lease_seconds:g})")
        return settings

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.tz)
        except Exception:  # TZ may hold a POSIX string like "UTC0"; display in Shanghai time then
            return ZoneInfo("Asia/Shanghai")

    @property
    def phone_enabled(self) -> bool:
        return bool(self.aliyun_access_key_id and self.aliyun_access_key_secret)

    @property
    def uses_real_telegram(self) -> bool:
        return not self.api_base_url or "api.telegram.org" in self.api_base_url
