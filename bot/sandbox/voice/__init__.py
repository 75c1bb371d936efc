"""A voice-call and SMS provider sandbox: a real HTTP server speaking the subset of Alibaba Cloud's
voice (IvrCall, SingleCallByTts) and SMS (SendSms) RPC APIs that 叫应 uses.

    from bot.sandbox.voice import VoiceSandbox

    sb = VoiceSandbox(keys={"test-key": "test-secret"})
    await sb.start("127.0.0.1", 0)
    # the bot: ALIYUN_VOICE_ENDPOINT=sb.voice_endpoint, ALIYUN_SMS_ENDPOINT=sb.sms_endpoint
    sb.receipt_url = "http://127.0.0.1:8090/phone/receipts/<secret>"   # where receipts go
    sb.set_number("13800000001", "ack")       # ack | answer | no_answer | busy | power_off | ring
    sb.decide(sb.ringing("13800000002")[0]["call_id"], "ack")   # what a person did with a ringing call
    sb.outage = "5xx"                         # or "timeout", None
    await sb.wait_for(lambda: sb.calls_to("13800000001"))
    await sb.stop()

Every request's signature is checked (HMAC-SHA1 over the sorted, percent-encoded parameters, as
the real service does; a reused SignatureNonce is refused too), and every call and SMS is kept
(`calls`, `sms`) with what the person heard or read. After a call the sandbox pushes the receipts
the real service pushes to the configured HTTP address: for a key press a VoiceCallReport
(status 300000, dtmf) and then the VoiceReport at the end of the call; for an SMS an SmsReport.
Receipts are retried a few times when the receiver does not answer 200.

A call goes as its number's behaviour says (`default` for the others) at once, or, with "ring",
it rings (`state` "ringing") until someone decides (`decide`, or the control API below: a test, the
chat page's 电话/短信 panel) or `ring_seconds` pass, when it ends unanswered (`decided_by`
"timeout") as an unanswered call does on a real network; the receipts follow the decision.
`dutybot run` rings every number when the chat page runs (bot/cli/run.py).

The control API (for other processes and the browser chat page): GET /_sandbox/calls,
GET /_sandbox/sms, GET /_sandbox/phone?number=N&after=VERSION&wait=S (one number's calls and SMS;
with `after`, a long poll until `version` moves), POST /_sandbox/calls/{call_id} {"behaviour",
"number"?} (decide a ringing call: 404 unknown or another number's, 409 no longer ringing),
POST /_sandbox/numbers {"number", "behaviour"}, POST /_sandbox/outage {"mode"},
POST /_sandbox/receipt_url {"url"}.
"""

from bot.sandbox.voice.server import BEHAVIOURS, VoiceSandbox

__all__ = ["BEHAVIOURS", "VoiceSandbox"]
