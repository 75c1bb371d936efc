"""Text the way Telegram sees it: UTF-16 offsets, entities detected in what users type, and the
parse modes (HTML, MarkdownV2, Markdown) turned into plain text plus entities, with Telegram's
"can't parse entities" refusals, so a bot that would fail on the real service fails here too."""

from __future__ import annotations

import re
from html import unescape


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode (Telegram answers 400)."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --- entities Telegram finds in what a user types ---------------------------------------------

_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+|\b(?:www\.)[^\s<>\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


def detect_entities(text: str) -> list[dict]:
    """bot_command, mention, hashtag, url and email entities, sorted by offset, as Telegram adds
    them to incoming messages (CommandHandler relies on the bot_command one)."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, pattern: re.Pattern[str]) -> None:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))

    add("url", _URL)
    add("email", _EMAIL)
    add("bot_command", _COMMAND)
    add("mention", _MENTION)
    add("hashtag", _HASHTAG)
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


# --- parse modes ---------------------------------------------------------------------------

def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict]]:
    """Return (plain text, entities) for ``parse_mode``; raise EntityParseError like Telegram."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlParser(text).parse()
    if mode == "markdownv2":
        return _MarkdownParser(text, v2=True).parse()
    if mode == "markdown":
        return _MarkdownParser(text, v2=False).parse()
    raise EntityParseError(f"Unsupported parse_mode \"{parse_mode}\"")


class _Builder:
    """Plain text accumulated with UTF-16 positions for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0  # in UTF-16 code units
        self.entities: list[dict] = []

    def write(self, s: str) -> None:
        if s:
            self.parts.append(s)
            self.pos += utf16_len(s)

    def entity(self, start: int, kind: str, **extra) -> None:
        length = self.pos - start
        if length > 0:
            ent = {"type": kind, "offset": start, "length": length}
            ent.update({k: v for k, v in extra.items() if v is not None})
            self.entities.append(ent)

    def result(self) -> tuple[str, list[dict]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR = re.compile(r"""\s*([A-Za-z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HTML_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9A-Fa-f]+|lt|gt|amp|quot);")


class _HtmlParser:
    def __init__(self, text: str):
        self.text = text

    def _error(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def parse(self) -> tuple[str, list[dict]]:
        text = self.text
        out = _Builder()
        stack: list[tuple[str, int, dict]] = []
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "&":
                m = _HTML_ENTITY.match(text, i)
                if m:
                    out.write(unescape(m.group(0)))
                    i = m.end()
                else:
                    out.write("&")
                    i += 1
                continue
            if ch != "<":
                j = i
                while j < n and text[j] not in "<&":
                    j += 1
                out.write(text[i:j])
                i = j
                continue
            end = text.find(">", i)
            if end < 0:
                raise self._error(f"Can't find end of the tag at byte offset {_byte_offset(text, i)}")
            body = text[i + 1 : end]
            if body.startswith("/"):
                name = body[1:].strip().lower()
                if not stack:
                    raise self._error(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                open_name, start, attrs = stack.pop()
                if name and name != open_name:
                    raise self._error(
                        f'Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "</{open_name}>", '
                        f'found "</{name}>"'
                    )
                self._close(out, open_name, start, attrs, stack)
            else:
                m = re.match(r"[A-Za-z][A-Za-z0-9-]*", body)
                name = m.group(0).lower() if m else ""
                if name not in _HTML_TAGS:
                    raise self._error(
                        f'Unsupported start tag "{name or body[:10]}" at byte offset {_byte_offset(text, i)}'
                    )
                attrs = {
                    a.group(1).lower(): unescape(a.group(2) or a.group(3) or a.group(4) or "")
                    for a in _ATTR.finditer(body[len(name):])
                    if a.group(1)
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise self._error(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}'
                    )
                stack.append((name, out.pos, attrs))
            i = end + 1
        if stack:
            raise self._error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
        plain, entities = out.result()
        return plain, entities

    @staticmethod
    def _close(out: _Builder, name: str, start: int, attrs: dict, stack: list) -> None:
        kind = _HTML_TAGS[name]
        if kind == "text_link":
            url = attrs.get("href", "")
            m = re.match(r"tg://user\?id=(\d+)$", url)
            if m:
                out.entity(start, "text_mention", user={"id": int(m.group(1)), "is_bot": False, "first_name": ""})
            elif url:
                out.entity(start, "text_link", url=url)
            return
        if kind == "code":
            lang = attrs.get("class", "")
            # <pre><code class="language-x"> is one pre entity with a language, as Telegram makes it.
            if stack and stack[-1][0] == "pre" and stack[-1][1] == start:
                if lang.startswith("language-"):
                    stack[-1][2]["language"] = lang[len("language-"):]
                return
            out.entity(start, "code")
            return
        if kind == "pre":
            out.entity(start, "pre", language=attrs.get("language"))
            return
        if kind == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        if kind == "custom_emoji":
            out.entity(start, kind, custom_emoji_id=attrs.get("emoji-id"))
            return
        out.entity(start, kind)


_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = [("||", "spoiler"), ("__", "underline"), ("*", "bold"), ("_", "italic"), ("~", "strikethrough")]
_MD1_MARKERS = [("*", "bold"), ("_", "italic")]


class _MarkdownParser:
    def __init__(self, text: str, v2: bool):
        self.text = text
        self.v2 = v2

    def parse(self) -> tuple[str, list[dict]]:
        text = self.text
        out = _Builder()
        stack: list[tuple[str, str, int, int]] = []  # marker, kind, start pos, source index
        markers = _MD2_MARKERS if self.v2 else _MD1_MARKERS
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\\" and self.v2 and i + 1 < n:
                out.write(text[i + 1])
                i += 2
                continue
            if ch == "`":
                i = self._code(out, i)
                continue
            if ch == "[":
                i = self._link(out, stack, i)
                continue
            if self.v2 and ch == "]" and stack and stack[-1][0] == "[":
                marker, kind, start, src = stack.pop()
                close = text.find(")", i)
                if i + 1 >= n or text[i + 1] != "(" or close < 0:
                    raise EntityParseError(
                        f"Can't find end of a url at byte offset {_byte_offset(text, i)}"
                    )
                out.entity(start, "text_link", url=text[i + 2 : close].replace("\\)", ")"))
                i = close + 1
                continue
            matched = False
            for marker, kind in markers:
                if text.startswith(marker, i):
                    if stack and stack[-1][0] == marker:
                        _, kind, start, _ = stack.pop()
                        out.entity(start, kind)
                    elif any(m == marker for m, *_ in stack):
                        raise EntityParseError(
                            f"Can't find end of {kind.capitalize()} entity at byte offset {_byte_offset(text, i)}"
                        )
                    else:
                        stack.append((marker, kind, out.pos, i))
                    i += len(marker)
                    matched = True
                    break
            if matched:
                continue
            if self.v2 and ch in _MD2_RESERVED:
                raise EntityParseError(
                    f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
                )
            out.write(ch)
            i += 1
        if stack:
            marker, kind, _, src = stack[-1]
            if self.v2:
                name = "text URL" if marker == "[" else kind.capitalize()
                raise EntityParseError(
                    f"Can't find end of {name} entity at byte offset {_byte_offset(text, src)}"
                )
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, src)}"
            )
        return out.result()

    def _code(self, out: _Builder, i: int) -> int:
        text = self.text
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(self._unclosed("Pre", i))
            body = text[i + 3 : end]
            language = None
            if "\n" in body:
                first, rest = body.split("\n", 1)
                if first and re.fullmatch(r"[\w+#.-]+", first):
                    language, body = first, rest
            start = out.pos
            out.write(self._unescape_code(body))
            out.entity(start, "pre", language=language)
            return end + 3
        end = i + 1
        while end < len(text) and text[end] != "`":
            end += 2 if (self.v2 and text[end] == "\\") else 1
        if end >= len(text):
            raise EntityParseError(self._unclosed("Code", i))
        start = out.pos
        out.write(self._unescape_code(text[i + 1 : end]))
        out.entity(start, "code")
        return end + 1

    def _unescape_code(self, body: str) -> str:
        return re.sub(r"\\([`\\])", r"\1", body) if self.v2 else body

    def _link(self, out: _Builder, stack: list, i: int) -> int:
        text = self.text
        if self.v2:
            stack.append(("[", "text_link", out.pos, i))
            return i + 1
        close = text.find("]", i)
        if close < 0 or close + 1 >= len(text) or text[close + 1] != "(" or text.find(")", close) < 0:
            raise EntityParseError(self._unclosed("", i))
        url_end = text.find(")", close)
        start = out.pos
        out.write(text[i + 1 : close])
        out.entity(start, "text_link", url=text[close + 2 : url_end])
        return url_end + 1

    def _unclosed(self, name: str, i: int) -> str:
        offset = _byte_offset(self.text, i)
        if self.v2:
            return f"Can't find end of {name} entity at byte offset {offset}"
        return f"Can't find end of the entity starting at byte offset {offset}"


# --- entities back to HTML, for the chat page ------------------------------------------------

# The only tags the chat page ever shows: Telegram's own formatting. Text is escaped and links
# keep only safe schemes, so whatever a bot sends cannot inject markup or script into the page.
_TAGS = {
    "bold": ("<b>", "</b>"), "italic": ("<i>", "</i>"), "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"), "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"), "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
    "mention": ('<span class="tg-mention">', "</span>"), "hashtag": ('<span class="tg-mention">', "</span>"),
    "text_mention": ('<span class="tg-mention">', "</span>"),
}
_SAFE_LINK = re.compile(r"^(https?://|tg://|mailto:)", re.IGNORECASE)


def _attr(value: str) -> str:
    from html import escape

    return escape(value, quote=True)


def _open_tag(entity: dict, text: str) -> tuple[str, str]:
    kind = entity.get("type")
    if kind in _TAGS:
        return _TAGS[kind]
    if kind == "pre":
        language = entity.get("language")
        code = f'<code class="language-{_attr(language)}">' if language else "<code>"
        return f"<pre>{code}", "</code></pre>"
    if kind in ("url", "text_link", "email"):
        href = entity.get("url") if kind == "text_link" else text
        if kind == "email":
            href = f"mailto:{text}"
        elif kind == "url" and not _SAFE_LINK.match(href or ""):
            href = f"http://{href}"
        if href and _SAFE_LINK.match(href):
            return f'<a href="{_attr(href)}" target="_blank" rel="noopener noreferrer">', "</a>"
        return "", ""
    if kind == "bot_command":  # Telegram clients send a command when it is tapped
        return f'<a href="#" class="tg-command" data-command="{_attr(text)}">', "</a>"
    return "", ""  # custom_emoji, cashtag, phone_number…: shown as plain text


def entities_to_html(text: str, entities: list[dict] | None) -> str:
    """Plain text + entities (UTF-16 offsets) as HTML with only Telegram's formatting tags.
    Entities nest as Telegram sends them; one that overlaps another is closed and reopened."""
    from html import escape

    units = text.encode("utf-16-le")
    size = len(units) // 2

    def piece(start: int, end: int) -> str:
        return units[2 * start:2 * end].decode("utf-16-le", errors="replace")

    spans = []
    for order, ent in enumerate(entities or []):
        try:
            start, length = int(ent["offset"]), int(ent["length"])
        except (KeyError, TypeError, ValueError):
            continue
        end = min(start + length, size)
        if 0 <= start < end:
            spans.append((start, end, order, _open_tag(ent, piece(start, end))))
    spans.sort(key=lambda s: (s[0], -s[1], s[2]))
    bounds = sorted({0, size, *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, int, tuple[str, str]]] = []
    pending = list(spans)
    for i, pos in enumerate(bounds):
        closing = [s for s in stack if s[1] <= pos]
        if closing:
            # Close down to the deepest one that ends here; reopen those still running.
            depth = min(stack.index(s) for s in closing)
            reopen = [s for s in stack[depth:] if s[1] > pos]
            for s in reversed(stack[depth:]):
                out.append(s[3][1])
            del stack[depth:]
            for s in reopen:
                out.append(s[3][0])
                stack.append(s)
        while pending and pending[0][0] == pos:
            s = pending.pop(0)
            out.append(s[3][0])
            stack.append(s)
        if i + 1 < len(bounds):
            out.append(escape(piece(pos, bounds[i + 1]), quote=False))
    for s in reversed(stack):
        out.append(s[3][1])
    return "".join(out)
