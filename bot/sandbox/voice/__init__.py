"""A voice-call and SMS provider sandbox: a real HTTP server speaking the subset of Alibaba Cloud's
voice (IvrCall, SingleCallByTts) and SMS (SendSms) RPC APIs that 叫应 uses.

    from bot.sandbox.voice import VoiceSandbox

    sb = VoiceSandbox(keys={"test-key": "test-secret"})
    await sb.start("127.0.0.1", 0)
    # the bot: ALIYUN_VOICE_ENDPOINT=sb.voice_endpoint, ALIYUN_SMS_ENDPOINT=sb.sms_endpoint
    sb.receipt_url = "http://127.0.0.1:8090/phone/receipts/<secret>"   # where receipts go
    sb.set_number("13800000001", "ack")       # ack | answer | no_answer | busy | power_off
    sb.outage = "5xx"                         # or "timeout", None
    await sb.wait_for(lambda: sb.calls_to("13800000001"))
    await sb.stop()

Every request's signature is checked (HMAC-SHA1 over the sorted, percent-encoded parameters, as
the real service does; a reused SignatureNonce is refused too), and every call and SMS is kept
(`calls`, `sms`) with what the person heard or read. After a call the sandbox pushes the receipts
the real service pushes to the configured HTTP address: for a key press a VoiceCallReport
(status 300000, dtmf) and then the VoiceReport at the end of the call; for an SMS an SmsReport.
Receipts are retried a few times when the receiver does not answer 200.

The control API (for other processes and the browser chat page): GET /_sandbox/calls,
GET /_sandbox/sms, POST /_sandbox/numbers {"number", "behaviour"}, POST /_sandbox/outage
{"mode"}, POST /_sandbox/receipt_url {"url"}.
"""

from bot.sandbox.voice.server import BEHAVIOURS, VoiceSandbox

__all__ = ["BEHAVIOURS", "VoiceSandbox"]
