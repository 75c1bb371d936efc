"""Alibaba Cloud's voice (dyvmsapi, 2017-05-25) and SMS (dysmsapi, 2017-05-25) APIs, the subset 叫应
needs, called with httpx:

- IvrCall: a call that plays the warning (a TTS template with parameters) and takes key presses;
  MenuKeyMap 1 plays the 已确认 template. The call id comes back as CallId. The key press and the
  call's end come later as receipts (VoiceCallReport with dtmf, VoiceReport).
- SingleCallByTts: a call that only reads (the notices; no answer expected).
- SendSms: the warning (or notice) as a template SMS; BizId back, then an SmsReport receipt.

Every request is signed (bot/phone/signing.py). A refusal (Code other than OK, HTTP 4xx) raises
`ProviderRefused`; 5xx, timeouts and network errors raise `ProviderUnavailable`: the caller
records the attempt as failed and the timeline moves on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from bot.phone import signing

VOICE_VERSION = "2017-05-25"
SMS_VERSION = "2017-05-25"


class ProviderError(Exception):
    pass


class ProviderRefused(ProviderError):
    """The provider said no (bad number, template, signature, quota): retrying will not help."""


class ProviderUnavailable(ProviderError):
    """5xx, a timeout, no connection."""


@dataclass(frozen=True)
class AliyunConfig:
    access_key_id: str
    access_key_secret: str
    voice_endpoint: str = "https://dyvmsapi.aliyuncs.com/"
    sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    caller_number: str = ""  # CalledShowNumber: the dedicated number the calls come from
    call_template: str = ""  # TTS template of the warning call (StartCode)
    ack_template: str = ""  # TTS played after pressing 1 (MenuKeyMap 1)
    notice_template: str = ""  # TTS of a notice call (SingleCallByTts)
    sms_sign: str = ""  # SignName
    sms_template: str = ""  # SMS template of the warning (with its 收到 link)
    sms_notice_template: str = ""  # SMS template of a notice (escalation, release)
    region: str = "cn-hangzhou"
    timeout: float = 10.0


class AliyunClient:
    def __init__(self, config: AliyunConfig, client: httpx.AsyncClient | None = None):
        self.config = config
        self._client = client or httpx.AsyncClient(timeout=config.timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, endpoint: str, action: str, version: str, params: dict[str, str]) -> dict:
        c = self.config
        body = signing.signed_params(action, version, c.access_key_id, c.access_key_secret, params, region=c.region)
        try:
            response = await self._client.post(endpoint, data=body)
        except (httpx.TimeoutException, httpx.TransportError) as err:
            raise ProviderUnavailable(f"{action}: {type(err).__name__}: {err}") from err
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{action}: HTTP {response.status_code} {response.text[:200]}")
        try:
            data = response.json()
        except ValueError:
            raise ProviderUnavailable(f"{action}: HTTP {response.status_code}, not JSON: {response.text[:200]}") from None
        if response.status_code >= 400 or data.get("Code") != "OK":
            raise ProviderRefused(f"{action}: {data.get('Code')}: {data.get('Message')}")
        return data

    async def ivr_call(self, number: str, params: dict, out_id: str) -> str:
        c = self.config
        data = await self._call(c.voice_endpoint, "IvrCall", VOICE_VERSION, {
            "CalledShowNumber": c.caller_number, "CalledNumber": number, "StartCode": c.call_template,
            "StartTtsParams": json.dumps(params, ensure_ascii=False), "PlayTimes": "3", "Timeout": "10000",
            "MenuKeyMap.1.Key": "1", "MenuKeyMap.1.Code": c.ack_template or c.call_template, "OutId": out_id,
        })
        return str(data["CallId"])

    async def tts_call(self, number: str, params: dict, out_id: str) -> str:
        c = self.config
        data = await self._call(c.voice_endpoint, "SingleCallByTts", VOICE_VERSION, {
            "CalledShowNumber": c.caller_number, "CalledNumber": number, "TtsCode": c.notice_template or c.call_template,
            "TtsParam": json.dumps(params, ensure_ascii=False), "PlayTimes": "2", "OutId": out_id,
        })
        return str(data["CallId"])

    async def send_sms(self, number: str, params: dict, out_id: str, notice: bool = False) -> str:
        c = self.config
        data = await self._call(c.sms_endpoint, "SendSms", SMS_VERSION, {
            "PhoneNumbers": number, "SignName": c.sms_sign,
            "TemplateCode": (c.sms_notice_template or c.sms_template) if notice else c.sms_template,
            "TemplateParam": json.dumps(params, ensure_ascii=False), "OutId": out_id,
        })
        return str(data["BizId"])
