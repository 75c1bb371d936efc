"""Cleaning a published list's text: pinyin annotations, traditional characters, web-page chrome.

Pure: text in, lines out. Reading files and HTML/.docx parsing live in bot.importer.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Some government sites inject the pinyin of rarer characters after them: "生產(chǎn)", "檢(jiǎn)查".
# Only a run of pinyin letters directly after a CJK character is removed, so "(领域)", "(1)" and
# "(a)" after Latin text stay.
_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])[(（]\s*"
    r"[a-zA-ZāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿêÊĀÁǍÀĒÉĚÈĪÍǏÌŌÓǑÒŪÚǓÙÜǕǗǙǛ]{1,7}\s*[)）]"
)
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")

# PyYAML refuses these code points even inside quoted scalars; U+2028/2029/0085 are YAML line breaks.
_UNPRINTABLE = re.compile("[^\x09\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200a\u202f\u205f]+")

# Lines of web-page furniture: breadcrumbs, metadata tables, share/print links, footers.
_CHROME_START = re.compile(
    r"^(?:[•·●◆■▪\-*]\s*)?(?:您(?:当前|现在)的?位置|当前位置|首页\s*[>＞»›]|索引号|发文字号|发文机关|主题分类|"
    r"体裁分类|主题词|成文日期|发布日期|公开日期|生效日期|文件标题|发布机构|有效性|信息来源|来源[:：]|浏览次数|"
    r"点击(?:数|量|次数)|访问量|【?\s*(?:打印|关闭|字体|字号)|(?:打印|关闭)\s*(?:本页|窗口)?$|分享到|扫一扫|"
    r"上一篇|下一篇|相关(?:链接|文件|新闻)|网站地图|联系我们|主办单位?[:：]|承办单位?[:：]|技术支持|"
    r"版权所有|Copyright|Produced By|[\[【]\s*(?:打印|关闭|返回顶部))",
    re.IGNORECASE,
)
_CHROME_ANYWHERE = re.compile(r"版权所有|ICP备|公网安备|Produced By|技术支持[:：]|网站标识码", re.IGNORECASE)
# A link in a page's "related articles" box, copied as text: a title and its date on one line, without
# clause numbering or sentence punctuation ("关于开展…的通知 2024-02-26", "[2024-03-12] 某某工作要点").
# Only the numeric dates of site listings: a body line ending in "2024年3月15日" is a signature or a duty.
_DATE = r"[\[【(（]?\s*20\d\d(?:-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2}|\.\d{1,2}\.\d{1,2})\s*[\]】)）]?"
_DATED_TITLE = re.compile(rf"^(?:{_DATE}\s*(?P<after>.+)|(?P<before>.+?)\s*{_DATE})$")
_NOT_A_TITLE = re.compile(r"[，,。；;：:！？!?]|^[（(]?\s*(?:[一二三四五六七八九十]{1,3}|\d{1,3}|[①-⑳])\s*[）)、.．]|^第[一二三四五六七八九十百\d]+条")
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # loading its dictionaries is the library's own business

    return opencc.OpenCC("t2s")


def strip_pinyin(text: str) -> str:
    def keep_or_drop(m: re.Match) -> str:
        inner = m.group(0)
        # Only a syllable with a tone mark is taken for pinyin: "(ppm)" or "(a)" are kept.
        return "" if any(c in _TONE_MARKS for c in inner.lower()) else inner

    return _PINYIN.sub(keep_or_drop, text)


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def printable(text: str) -> str:
    """Text YAML can hold: no control characters, no zero-width marks, one kind of space."""
    text = _ZERO_WIDTH.sub("", text)
    text = _UNPRINTABLE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
                            .replace("\u2029", "\n").replace("\x85", "\n"))
    return text


def is_chrome(line: str) -> bool:
    if len(line) > 90:
        return False
    return bool(_CHROME_START.match(line) or _CHROME_ANYWHERE.search(line) or is_dated_title(line))


def is_dated_title(line: str) -> bool:
    """A listed article: a title with its publication date and nothing else."""
    m = _DATED_TITLE.match(line)
    if not m:
        return False
    title = (m["after"] or m["before"] or "").strip()
    return len(title) >= 4 and not _NOT_A_TITLE.search(title)


def clean_lines(text: str) -> list[str]:
    """Simplified, annotation-free, chrome-free, stripped, non-empty lines, in order."""
    text = to_simplified(strip_pinyin(printable(text)))
    out = []
    for raw in text.split("\n"):
        line = _SPACES.sub(" ", _BOOKMARK.sub("", raw)).strip()
        line = re.sub(r"^[•·●◆■▪]\s*", "", line)
        if line and not is_chrome(line):
            out.append(line)
    return out


def metadata_lines(text: str) -> list[str]:
    """All lines, simplified, chrome included: the metadata (成文日期…) is read from them."""
    text = to_simplified(strip_pinyin(printable(text)))
    return [_SPACES.sub(" ", raw).strip() for raw in text.split("\n") if raw.strip()]
