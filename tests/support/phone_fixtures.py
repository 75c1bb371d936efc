"""The whole bot against both sandboxes: Telegram (bot.sandbox.telegram) and the voice/SMS
provider (bot.sandbox.voice), with a 叫应 policy in seconds whose chain phones and texts.

    pytest_plugins = ["support.harness"]
    from support.phone_fixtures import phone_world, PHONES

`phone_world(url, tmp_path)` starts both, binds everyone to Telegram, points the provider's
receipts at the bot's phone endpoint and returns the Harness with `.voice` (the provider sandbox:
nobody answers unless told, `voice_default="ring"`: calls ring until decided) and `.phone` (the
running PhoneWorker)."""

from __future__ import annotations

from dataclasses import replace

from bot.sandbox.voice import VoiceSandbox
from bot.telegram.context import BotContext
from bot.telegram.handlers.callout import PHONE_KEY
from support.harness import Harness
from support.sandbox_fixtures import eventually

PHONES = {"李分管": "13800000002", "乙部长": "13800000001", "甲部长": "13800000003", "孙安": "13800000009"}
KEY, SECRET = "test-access-key", "test-access-secret"

CATALOG = f"""\
timezone: Asia/Shanghai
units:
  - id: 园区管委会
    children: [甲部, 乙部]
roles:
  分管负责人: 分管负责人
  部门负责人: 部门负责人
  安委办: 安委办
people:
  - {{name: 李分管, unit: 园区管委会, roles: [分管负责人], phone: "{PHONES['李分管']}"}}
  - {{name: 甲部长, unit: 甲部, roles: [部门负责人], superior: 李分管, phone: "{PHONES['甲部长']}"}}
  - {{name: 乙部长, unit: 乙部, roles: [部门负责人], superior: 李分管, phone: "{PHONES['乙部长']}"}}
  - {{name: 孙安, unit: 园区管委会, roles: [安委办], office: true, superior: 李分管, phone: "{PHONES['孙安']}"}}
duties: []
callouts:
  red:
    who: [部门负责人]
    ack_within: 1s
    recall_every: 1s
    recalls: 1
    escalate: [voice, voice, sms+superior, office]
    redial_every: 2s
    report_within: 60s
    summary_within: 3s
  yellow:
    who: [部门负责人]
    ack_within: 1s
    recall_every: 1s
    recalls: 1
    escalate: [voice, voice, sms+superior, office]
    redial_every: 60s
    report_within: 60s
    summary_within: 60s
"""
PEOPLE = ("李分管", "甲部长", "乙部长", "孙安")


async def phone_world(url: str, tmp_path, *, catalog_yaml: str = CATALOG, timeout: float = 10.0,
                      voice_default: str = "no_answer") -> Harness:
    voice = VoiceSandbox(keys={KEY: SECRET}, default=voice_default)
    await voice.start()
    h = Harness(url, tmp_path, catalog_yaml=catalog_yaml, start_bot=False)
    await h.__aenter__()
    h.voice = voice
    h.settings = replace(h.settings, aliyun_access_key_id=KEY, aliyun_access_key_secret=SECRET,
                         aliyun_voice_endpoint=voice.voice_endpoint, aliyun_sms_endpoint=voice.sms_endpoint,
                         phone_caller_number="057100000000", phone_call_template="TTS_CALL",
                         phone_notice_template="TTS_NOTICE", sms_sign_name="安委办", sms_template="SMS_CALL",
                         sms_notice_template="SMS_NOTICE", phone_listen="127.0.0.1:0", phone_secret="receipt-secret",
                         public_url="http://phones.test", phone_timeout=timeout)
    h.ctx = BotContext(h.settings, h.store, h.catalog, h.ctx.schedule)
    await h.start_bot()
    h.tg = {name: await h.bind(name) for name in PEOPLE}
    h.phone = await eventually(lambda: h.app.bot_data.get(PHONE_KEY), what="the phone worker")
    voice.receipt_url = h.phone.receipt_url
    return h


async def close_world(h: Harness) -> None:
    try:
        await h.__aexit__(None, None, None)
    finally:
        await h.voice.stop()
