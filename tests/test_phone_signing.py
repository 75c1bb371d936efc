"""Alibaba Cloud RPC signing against the documented example (SendSms over GET, signature version 1.0)."""

from bot.phone import signing

DOC_EXAMPLE = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_documented_signature():
    assert signing.signature("testSecret", "GET", DOC_EXAMPLE) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_follows_rfc3986():
    assert signing.encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_signed_params_verify_and_any_change_breaks_them():
    params = signing.signed_params("IvrCall", "2017-05-25", "k", "s", {"CalledNumber": "13800000001"})
    assert signing.verify("s", "POST", params)
    assert not signing.verify("other", "POST", params)
    assert not signing.verify("s", "POST", {**params, "CalledNumber": "13800000002"})
    assert not signing.verify("s", "POST", {k: v for k, v in params.items() if k != "Signature"})
