/* dutybot sandbox chat: plays one person per tab against the bot through the sandbox.
   Reads: /_chat/state, /_chat/feed (long poll), /_chat/phone (long poll: the provider sandbox's calls
   and SMS to this person). Acts: /_chat/open, the control API (/_sandbox/...), /_chat/phone/decide.
   Message HTML comes from the server already sanitised (only Telegram's tags, text escaped). */
"use strict";

const $ = (id) => document.getElementById(id);
const TZ = "Asia/Shanghai";
const S = {
  state: null,        // /_chat/state
  person: null,       // the person this tab plays
  userId: null,       // their Telegram id in the sandbox
  chat: null,         // {id, type, title} of the open chat
  feedToken: 0,       // bumps on every chat switch: older feed loops stop
  feedAbort: null,
  items: new Map(),   // log item key -> {el, sig}
  reply: null,        // {id, who, text} of the message being replied to
  commands: [],
  keyboard: null,
  hiddenKeyboard: null, // message id of a one-time keyboard already used
  pressed: new Set(),   // callback query ids this tab is waiting answers for
  shownAnswers: new Set(),
  clockOffset: null,
  stick: true,          // the log follows new messages while it is scrolled to the bottom
  activity: {},         // chat id -> the bot's latest message ids there (from the feed)
  seen: JSON.parse(localStorage.getItem("dutybot-seen") || "{}"),  // chat id -> last message id looked at
  phoneToken: 0,        // bumps when another person is chosen: the older phone loop stops
  phoneAbort: null,
  phoneCards: new Map(), // call id -> the ringing card shown (kept across updates, so a click is not lost)
  phoneRang: new Set(),  // call ids already announced with a toast
};

// --- small helpers ------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "html") node.innerHTML = v;          // server-sanitised message HTML only
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}
function colorOf(text) {
  let h = 0;
  for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return "c" + (h % 7);
}
function fmt(ms, opts) { return new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, ...opts }).format(new Date(ms)); }
const hhmm = (sec) => fmt(sec * 1000, { hour: "2-digit", minute: "2-digit", hour12: false });
const dayOf = (sec) => fmt(sec * 1000, { year: "numeric", month: "long", day: "numeric", weekday: "short" });
function sizeText(n) {
  if (!n && n !== 0) return "";
  if (n < 1024) return n + " B";
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
  return (n / 1024 / 1024).toFixed(1) + " MB";
}
let toastTimer = null;
function toast(text, kind = "") {
  const t = $("toast");
  t.textContent = text;
  t.className = "toast " + kind;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, kind === "alert" ? 8000 : 5000);
}
function hideToast(kind) {
  const t = $("toast");
  if (t.classList.contains(kind)) t.hidden = true;
}
async function call(path, body) {
  if (path.startsWith("/_sandbox/")) S.stick = true;
  const init = { method: "POST" };
  if (body instanceof FormData) init.body = body;
  else { init.body = JSON.stringify(body); init.headers = { "Content-Type": "application/json" }; }
  const r = await fetch(path, init);
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok || !data || !data.ok) {
    const why = (data && data.description) || r.statusText;
    toast("沙盒拒绝了这次操作：" + why, "error");
    throw new Error(why);
  }
  return data.result;
}

// --- people and groups --------------------------------------------------------------------------
async function loadState() {
  const r = await fetch("/_chat/state");
  S.state = (await r.json()).result;
  setClock(S.state.clock);
  renderPeople();
  renderGroups();
}

function unread(chatId) {
  const ids = S.activity[String(chatId)] || [];
  const seen = S.seen[String(chatId)] || 0;
  const n = ids.filter((id) => id > seen).length;
  if (!n || (S.chat && S.chat.id === chatId)) return null;
  return el("span", { class: "unread", title: n + " 条新消息", "aria-label": n + " 条新消息" }, n > 99 ? "99+" : String(n));
}

/* Badges updated in place: rebuilding the lists on every message would swallow clicks. */
function renderBadges() {
  for (const entry of document.querySelectorAll(".entry[data-chat]")) {
    const old = entry.querySelector(".unread");
    const fresh = unread(Number(entry.dataset.chat));
    if (old && fresh && old.textContent === fresh.textContent) continue;
    if (old) old.remove();
    if (fresh) entry.append(fresh);
  }
}

function markSeen(messages) {
  if (!messages.length) return;
  const last = messages[messages.length - 1].id;
  const key = String(S.chat.id);
  if ((S.seen[key] || 0) >= last) return;
  S.seen[key] = last;
  localStorage.setItem("dutybot-seen", JSON.stringify(S.seen));
}

function personEntry(p) {
  const badges = [];
  if (p.office) badges.push(el("span", { class: "badge office" }, "安委办"));
  else if (p.unit) badges.push(el("span", { class: "badge leader" }, "领导"));
  const sub = [p.unit, p.position].filter(Boolean).join(" · ");
  const active = S.person && S.person.id === p.id;
  return el("li", {},
    el("button", { type: "button", class: "entry" + (active ? " active" : ""), "data-person": p.id,
                   "data-chat": p.user_id || null,
                   "aria-current": active ? "true" : null, onclick: () => choosePerson(p.id) },
      el("div", { class: "avatar " + colorOf(p.name), "aria-hidden": "true" }, p.name.slice(0, 1)),
      el("div", { class: "entry-body" },
        el("div", { class: "entry-name" }, p.name, ...badges),
        el("div", { class: "entry-sub" }, sub)),
      p.user_id ? unread(p.user_id) : null));
}

function renderPeople() {
  const q = $("filter").value.trim();
  const people = (S.state ? S.state.people : []).filter(
    (p) => !q || [p.name, p.unit, p.position].some((v) => (v || "").includes(q)));
  $("people").replaceChildren(...people.map(personEntry));
}

function renderGroups() {
  const groups = S.state ? S.state.groups : [];
  $("groups-title").hidden = !groups.length;
  $("groups").replaceChildren(...groups.map((g) => {
    const active = S.chat && S.chat.id === g.id;
    return el("li", {},
      el("button", { type: "button", class: "entry" + (active ? " active" : ""), "aria-current": active ? "true" : null,
                     "data-chat": g.id, onclick: () => openGroup(g) },
        el("div", { class: "avatar " + colorOf(g.title), "aria-hidden": "true" }, g.title.slice(0, 1)),
        el("div", { class: "entry-body" },
          el("div", { class: "entry-name" }, g.title),
          el("div", { class: "entry-sub" }, "群聊 · 用当前身份发言")),
        unread(g.id)));
  }));
}

async function choosePerson(personId) {
  const person = S.state.people.find((p) => p.id === personId);
  if (!person) return;
  const opened = await call("/_chat/open", { person_id: personId });
  person.user_id = opened.user_id;
  S.person = person;
  S.userId = opened.user_id;
  document.title = person.name + " — dutybot 沙盒";
  openChat({ id: opened.user_id, type: "private", title: S.state.bot.first_name });
  startPhone();
}

function openGroup(group) {
  if (!S.person) { toast("请先在左侧选择一个人，再以他的身份进入群聊。"); return; }
  openChat(group);
}

function openChat(chat) {
  S.chat = chat;
  location.hash = "p=" + encodeURIComponent(S.person.id) + (chat.type === "private" ? "" : "&c=" + chat.id);
  renderPeople();
  renderGroups();
  $("welcome").hidden = true;
  $("conversation").hidden = false;
  document.body.classList.add("in-chat");
  const isPrivate = chat.type === "private";
  const title = isPrivate ? S.state.bot.first_name : chat.title;
  $("chat-name").textContent = title;
  $("chat-avatar").textContent = title.slice(0, 1);
  $("chat-avatar").className = "avatar big " + (isPrivate ? "bot-avatar" : colorOf(title));
  const me = S.person.name + ([S.person.unit, S.person.position].some(Boolean) ? "（" + [S.person.unit, S.person.position].filter(Boolean).join(" ") + "）" : "");
  $("chat-sub").textContent = (isPrivate ? "机器人 @" + S.state.bot.username : "群聊") + " · 你现在是 " + me;
  S.items = new Map();
  $("log").replaceChildren();
  setReply(null);
  S.keyboard = null;
  renderKeyboard();
  startFeed();
  $("input").focus();
}

// --- the feed -----------------------------------------------------------------------------------
function startFeed() {
  const token = ++S.feedToken;
  if (S.feedAbort) S.feedAbort.abort();
  S.feedAbort = new AbortController();
  const signal = S.feedAbort.signal;
  (async () => {
    let after = 0;
    let first = true;
    while (token === S.feedToken) {
      try {
        const url = `/_chat/feed?chat_id=${S.chat.id}&user_id=${S.userId}&after=${after}`;
        const r = await fetch(url, { signal });
        const data = (await r.json()).result;
        if (token !== S.feedToken) return;
        renderFeed(data, first);
        first = false;
        after = data.version;
      } catch (e) {
        if (token !== S.feedToken) return;
        await new Promise((res) => setTimeout(res, 1000));  // the bot restarted or the network hiccuped
      }
    }
  })();
}

function renderFeed(data, first) {
  setClock(data.clock);
  S.activity = data.activity || {};
  markSeen(data.messages);
  renderBadges();
  S.commands = data.commands || [];
  S.keyboard = data.keyboard;
  renderKeyboard();
  const log = $("log");
  const items = logItems(data.messages);
  const next = new Map();
  const nodes = [];
  for (const item of items) {
    const old = S.items.get(item.key);
    const node = old && old.sig === item.sig ? old.el : item.build();
    next.set(item.key, { el: node, sig: item.sig });
    nodes.push(node);
  }
  if (!nodes.length) nodes.push(el("div", { class: "empty-chat" }, el("span", {}, "还没有消息。发送 /start 或 /help 开始。")));
  log.replaceChildren(...nodes);
  S.items = next;
  if (first || S.stick) toBottom();
  for (const a of data.answers || []) {
    if (S.pressed.has(a.id) && !S.shownAnswers.has(a.id)) {
      S.shownAnswers.add(a.id);
      S.pressed.delete(a.id);
      if (a.text) toast(a.text, a.show_alert ? "alert" : "");
    }
  }
}

/* Messages grouped the way Telegram draws them: a day separator, an album as one bubble. */
function logItems(messages) {
  const items = [];
  let day = null;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const d = dayOf(m.date);
    if (d !== day) {
      day = d;
      items.push({ key: "day:" + d, sig: d, build: () => el("div", { class: "day" }, el("span", {}, d)) });
    }
    const group = [m];
    while (m.media_group_id && i + 1 < messages.length && messages[i + 1].media_group_id === m.media_group_id) {
      group.push(messages[++i]);
    }
    items.push({ key: "m:" + m.id, sig: JSON.stringify(group), build: () => messageRow(group) });
  }
  return items;
}

function messageRow(group) {
  const m = group[0];
  const photos = group.filter((g) => g.photo);
  const captioned = group.find((g) => g.html) || m;
  const last = group[group.length - 1];
  const rowClass = "row" + (m.mine ? " mine" : "");
  const who = m.from_bot ? S.state.bot.first_name : m.sender;
  const bubble = el("div", { class: "bubble" + (photos.length ? " media" : ""), role: "article",
                             "aria-label": m.mine ? "我发出的消息" : "来自 " + who, "data-message-id": m.id });
  if (!m.mine && S.chat.type !== "private") bubble.append(el("div", { class: "sender" }, who));
  if (m.reply_to) {
    bubble.append(el("div", { class: "quote", onclick: () => highlight(m.reply_to.id) },
      el("b", {}, m.reply_to.sender), el("span", {}, m.reply_to.snippet)));
  }
  if (photos.length) {
    const n = photos.length;
    const grid = el("div", { class: "photos " + (n <= 4 ? "n" + n : "many") });
    for (const p of photos) {
      grid.append(el("a", { href: p.photo.url, target: "_blank", rel: "noopener" },
        el("img", { src: p.photo.url, alt: "图片", width: p.photo.width, height: p.photo.height,
                    onload: () => { if (S.stick) toBottom(); } })));
    }
    bubble.append(grid);
  }
  for (const g of group) {
    if (g.file) {
      bubble.append(el("a", { class: "file", href: g.file.url, download: g.file.name, title: "下载 " + g.file.name },
        el("div", { class: "file-icon", "aria-hidden": "true" }, "⬇"),
        el("div", {}, el("div", { class: "file-name" }, g.file.name), el("div", { class: "file-size" }, sizeText(g.file.size)))));
    }
  }
  const meta = el("span", { class: "meta" }, last.edited || m.edited ? el("span", { class: "edited" }, "已编辑") : null, hhmm(m.date));
  bubble.append(el("div", { class: "meta-line" },
    captioned.html ? el("span", { class: "text", html: captioned.html }) : null, meta));
  bubble.append(el("button", { type: "button", class: "reply-btn", "aria-label": "回复", title: "回复",
                               onclick: () => setReply({ id: m.id, who: m.mine ? S.person.name : who, text: bubble.querySelector(".text")?.textContent || (photos.length ? "[图片]" : "[文件]") }) }, "↩"));
  bubble.addEventListener("dblclick", () => bubble.querySelector(".reply-btn").click());
  const row = el("div", { class: rowClass, "data-id": m.id }, bubble);
  const buttons = group.flatMap((g) => g.buttons.length ? [[g, g.buttons]] : []);
  for (const [owner, rows] of buttons) {
    row.append(el("div", { class: "ikb", role: "group", "aria-label": "消息按钮" }, rows.map((r) =>
      el("div", { class: "ikb-row" }, r.map((b) =>
        el("button", { type: "button", onclick: (ev) => pressButton(owner, b, ev.currentTarget) },
          b.url ? b.text + " ↗" : b.text))))));
  }
  return row;
}

function toBottom() {
  const log = $("log");
  log.scrollTop = log.scrollHeight;
  S.stick = true;
}

function highlight(messageId) {
  const row = $("log").querySelector(`.row[data-id="${messageId}"]`);
  if (!row) return;
  row.scrollIntoView({ block: "center", behavior: "smooth" });
  row.classList.add("highlight");
  setTimeout(() => row.classList.remove("highlight"), 1200);
}

// --- the 电话/短信 panel: the provider sandbox's calls and SMS to this person's phone ---------------
const OUTCOMES = {  // how a call ended (the provider sandbox's behaviour) -> [label, class]
  ack: ["已接听并按 1（收到）", "ok"], answer: ["已接听，未按键", "miss"], no_answer: ["未接听", "miss"],
  busy: ["忙线", "miss"], power_off: ["关机", "miss"],
};
const DECISIONS = [  // what the person may do with a ringing call: [behaviour, label, class]
  ["ack", "接听并按1", "answer"], ["answer", "接听不按键", "answer plain"], ["no_answer", "不接", "refuse"],
  ["busy", "忙", "refuse"], ["power_off", "关机", "refuse"],
];

function startPhone() {
  const token = ++S.phoneToken;
  if (S.phoneAbort) S.phoneAbort.abort();
  S.phoneAbort = new AbortController();
  const signal = S.phoneAbort.signal;
  const personId = S.person.id;
  S.phoneCards = new Map();
  $("phone").hidden = false;
  $("phone-number").textContent = "";
  $("phone-ringing").replaceChildren();
  $("phone-log").replaceChildren();
  (async () => {
    let after = 0;
    while (token === S.phoneToken) {
      try {
        const r = await fetch(`/_chat/phone?person_id=${encodeURIComponent(personId)}&after=${after}`, { signal });
        const body = await r.json();
        if (token !== S.phoneToken) return;
        if (!body.ok) throw new Error(body.description);
        renderPhone(body.result);
        if (!body.result.available) return;  // nothing can ring here (no provider sandbox, or no phone)
        after = body.result.version;
      } catch (e) {
        if (token !== S.phoneToken) return;
        await new Promise((res) => setTimeout(res, 1000));  // the provider sandbox restarted, the network hiccuped
      }
    }
  })();
}

function renderPhone(data) {
  const note = $("phone-note");
  if (!data.available) {
    $("phone-number").textContent = "";
    note.textContent = data.reason === "no_phone"
      ? "duties.yaml 没有给 " + S.person.name + " 填写 phone：叫应不会给他打电话或发短信。"
      : "电话沙盒没有运行（已配置真实的语音/短信服务），这里不会有来电。";
    note.hidden = false;
    return;
  }
  $("phone-number").textContent = "手机 " + data.number;
  const ringing = data.calls.filter((c) => c.state === "ringing");
  const cards = new Map();
  for (const c of ringing) cards.set(c.call_id, S.phoneCards.get(c.call_id) || ringingCard(c));
  S.phoneCards = cards;
  $("phone-ringing").replaceChildren(...cards.values());
  $("phone").classList.toggle("has-ringing", ringing.length > 0);
  for (const c of ringing) {
    if (S.phoneRang.has(c.call_id)) continue;
    S.phoneRang.add(c.call_id);
    toast("☎ " + (c.caller || "未知号码") + " 来电：在右侧“电话/短信”接听", "call");
  }
  if (!ringing.length) hideToast("call");  // answered or hung up: the call's toast is stale
  const items = [
    ...data.calls.filter((c) => c.state !== "ringing").map((c) => ({ at: c.ended_at || c.at, build: () => callItem(c) })),
    ...data.sms.map((m) => ({ at: m.at, build: () => smsItem(m) })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  $("phone-log").replaceChildren(...items.map((i) => i.build()));
  note.textContent = "还没有来电或短信。";
  note.hidden = items.length + ringing.length > 0;
}

/* What the call says or the SMS reads, from the template's parameters (the provider renders the
   template itself; the sandbox only knows its parameters). */
function phoneText(p) {
  const head = [p.level && p.level + "预警", p.hazard].filter(Boolean).join(" · ");
  return (head ? "【" + head + "】" : "") + (p.text || "") + (p.silent ? "（未应答：" + p.silent + "）" : "");
}
const timeOf = (iso) => fmt(Date.parse(iso), { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

function ringingCard(c) {
  const ivr = c.action === "IvrCall";
  const card = el("div", { class: "ringing", role: "group", "aria-label": "来电 " + (c.caller || ""), "data-call": c.call_id });
  const buttons = DECISIONS.filter(([b]) => ivr || b !== "ack").map(([behaviour, label, cls]) =>
    el("button", { type: "button", class: cls, onclick: () => decide(c, behaviour, card) },
      !ivr && behaviour === "answer" ? "接听" : label));
  card.append(
    el("div", { class: "ringing-title" }, "☎ " + (c.caller || "未知号码") + " 来电"),
    el("div", { class: "ringing-sub" }, (ivr ? "叫应电话" : "通知电话") + " · 响铃中（" + timeOf(c.at) + " 起）",
      ivr ? el("br") : null, ivr ? "接听后按 1 表示“收到”" : null),
    el("div", { class: "ringing-actions" }, buttons));
  return card;
}

async function decide(c, behaviour, card) {
  const buttons = [...card.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await call("/_chat/phone/decide", { person_id: S.person.id, call_id: c.call_id, behaviour });
  } catch (e) {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function callItem(c) {
  const [label, cls] = OUTCOMES[c.behaviour] || [c.behaviour, ""];
  const why = c.decided_by === "timeout" ? "（无人接听，自动挂断）" : c.decided_by === "rule" ? "（沙盒规则）" : "";
  return el("li", { class: "phone-item", "data-call": c.call_id },
    el("div", { class: "what" }, el("span", {}, c.action === "IvrCall" ? "☎ 叫应电话" : "☎ 通知电话"),
      el("span", { class: "when" }, timeOf(c.at))),
    el("div", {}, el("span", { class: "outcome " + cls }, label), why),
    el("div", { class: "body" }, (c.heard ? "听到：" : "内容：") + phoneText(c.params)));
}

function smsItem(m) {
  return el("li", { class: "phone-item" },
    el("div", { class: "what" }, el("span", {}, "✉ 短信" + (m.sign ? "【" + m.sign + "】" : "")),
      el("span", { class: "when" }, timeOf(m.at))),
    el("div", { class: "body" }, phoneText(m.params)),
    m.params.link ? el("div", {}, el("a", { href: m.params.link, target: "_blank", rel: "noopener" }, "打开短信里的“收到”链接")) : null,
    m.delivered ? null : el("div", { class: "outcome miss" }, "未送达（关机）"));
}

// --- acting -------------------------------------------------------------------------------------
function target() {
  const t = { user_id: S.userId };
  if (S.chat.type !== "private") t.chat_id = S.chat.id;
  if (S.reply) t.reply_to_message_id = S.reply.id;
  return t;
}

async function sendText(text) {
  text = text.trim();
  if (!text || !S.chat) return;
  await call("/_sandbox/text", { ...target(), text });
  setReply(null);
}

async function pressButton(message, button, node) {
  if (button.url) { window.open(button.url, "_blank", "noopener"); return; }
  node.classList.add("busy");
  try {
    const body = { user_id: S.userId, message_id: message.id, callback_data: button.data };
    if (S.chat.type !== "private") body.chat_id = S.chat.id;
    const r = await call("/_sandbox/press", body);
    S.pressed.add(r.callback_query_id);
  } finally {
    node.classList.remove("busy");
  }
}

async function sendPhotos(blobs) {
  if (!blobs.length || !S.chat) return;
  const caption = $("input").value.trim();
  for (let i = 0; i < blobs.length; i += 10) {  // Telegram's albums hold at most 10
    const chunk = blobs.slice(i, i + 10);
    const form = new FormData();
    for (const [k, v] of Object.entries(target())) form.append(k, String(v));
    if (caption && i === 0) form.append("caption", caption);
    chunk.forEach((b, j) => form.append("photo", b, b.name || `photo-${i + j + 1}.jpg`));
    await call(chunk.length > 1 ? "/_sandbox/album" : "/_sandbox/photo", form);
  }
  if (caption) $("input").value = "";
  setReply(null);
}

async function sendDocument(file) {
  if (!file || !S.chat) return;
  const form = new FormData();
  for (const [k, v] of Object.entries(target())) form.append(k, String(v));
  const caption = $("input").value.trim();
  if (caption) form.append("caption", caption);
  form.append("document", file, file.name);
  await call("/_sandbox/document", form);
  if (caption) $("input").value = "";
  setReply(null);
}

/* A photo drawn here: a site sketch with the person, the bot's time and a serial, as a JPEG. */
function testPhoto() {
  const c = document.createElement("canvas");
  c.width = 1024; c.height = 768;
  const g = c.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, 768);
  sky.addColorStop(0, "#8ec5fc"); sky.addColorStop(1, "#e0f0ff");
  g.fillStyle = sky; g.fillRect(0, 0, 1024, 768);
  g.fillStyle = "#6b8f4e"; g.fillRect(0, 520, 1024, 248);
  g.fillStyle = "#9aa5b1"; g.fillRect(140, 300, 320, 230);
  g.fillStyle = "#c9d1d9"; g.fillRect(520, 220, 380, 310);
  g.fillStyle = "#f5c542"; g.fillRect(560, 260, 60, 50); g.fillRect(660, 260, 60, 50); g.fillRect(760, 260, 60, 50);
  g.fillStyle = "#e03131"; g.beginPath(); g.moveTo(600, 560); g.lineTo(640, 480); g.lineTo(680, 560); g.fill();
  g.fillStyle = "rgba(0,0,0,.55)"; g.fillRect(0, 0, 1024, 110);
  g.fillStyle = "#fff";
  g.font = "bold 44px 'WenQuanYi Micro Hei', sans-serif";
  g.fillText("测试照片 · 安全检查现场", 30, 62);
  g.font = "28px 'WenQuanYi Micro Hei', sans-serif";
  const now = S.clockOffset !== null ? Date.now() + S.clockOffset : Date.now();
  const when = fmt(now, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  g.fillText(`${S.person ? S.person.name : ""}  ${when}`, 30, 100);
  return new Promise((res) => c.toBlob((b) => { b.name = "test-photo.jpg"; res(b); }, "image/jpeg", 0.85));
}

function setReply(reply) {
  S.reply = reply;
  $("replybar").hidden = !reply;
  if (reply) {
    $("replybar-who").textContent = "回复 " + reply.who;
    $("replybar-text").textContent = reply.text;
    $("input").focus();
  }
}

// --- menus and keyboards ------------------------------------------------------------------------
function renderCommandMenu(filter) {
  const menu = $("cmdmenu");
  const list = S.commands.filter((c) => !filter || ("/" + c.command).startsWith(filter));
  if (!list.length) { menu.hidden = true; return; }
  menu.replaceChildren(...list.map((c) =>
    el("button", { type: "button", class: "menuitem", role: "menuitem", onclick: () => { menu.hidden = true; $("input").value = ""; sendText("/" + c.command); } },
      el("span", { class: "cmd" }, "/" + c.command), el("span", { class: "desc" }, c.description))));
  menu.hidden = false;
}

function renderKeyboard() {
  const kb = $("keyboard");
  const k = S.keyboard;
  if (!k || S.hiddenKeyboard === k.message_id) { kb.hidden = true; kb.replaceChildren(); return; }
  kb.replaceChildren(...k.rows.map((row) => el("div", { class: "kb-row" }, row.map((text) =>
    el("button", { type: "button", onclick: () => { if (k.one_time) S.hiddenKeyboard = k.message_id; sendText(text); renderKeyboard(); } }, text)))));
  kb.hidden = false;
  if (k.placeholder) $("input").placeholder = k.placeholder;
}

// --- the clock ----------------------------------------------------------------------------------
function setClock(clock) {
  if (!clock) { $("clock").hidden = true; S.clockOffset = null; return; }
  S.clockOffset = clock.now - Date.now();
  $("clock").hidden = false;
  tickClock();
}
function tickClock() {
  if (S.clockOffset === null) return;
  const now = Date.now() + S.clockOffset;
  $("clock-time").textContent = fmt(now, { month: "long", day: "numeric", weekday: "short" }) + " " +
    fmt(now, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}
setInterval(tickClock, 1000);

// --- wiring -------------------------------------------------------------------------------------
$("composer-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("input").value;
  $("input").value = "";
  $("cmdmenu").hidden = true;
  sendText(text).catch(() => { $("input").value = text; });
});
$("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("composer-form").requestSubmit();
  } else if (ev.key === "Escape") {
    $("cmdmenu").hidden = true;
    setReply(null);
  }
});
$("input").addEventListener("input", () => {
  const v = $("input").value;
  if (/^\/\w*$/.test(v)) renderCommandMenu(v); else $("cmdmenu").hidden = true;
});
$("menu-btn").addEventListener("click", () => {
  $("attachmenu").hidden = true;
  if ($("cmdmenu").hidden) renderCommandMenu(""); else $("cmdmenu").hidden = true;
  if (!S.commands.length) toast("机器人还没有设置命令菜单。");
});
$("attach-btn").addEventListener("click", () => {
  $("cmdmenu").hidden = true;
  $("attachmenu").hidden = !$("attachmenu").hidden;
});
for (const label of document.querySelectorAll("label.menuitem")) {
  label.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); label.querySelector("input").click(); } });
}
$("photo-input").addEventListener("change", async (ev) => {
  $("attachmenu").hidden = true;
  const files = [...ev.target.files];
  ev.target.value = "";
  await sendPhotos(files);
});
$("file-input").addEventListener("change", async (ev) => {
  $("attachmenu").hidden = true;
  const file = ev.target.files[0];
  ev.target.value = "";
  await sendDocument(file);
});
$("test-photo").addEventListener("click", async () => {
  $("attachmenu").hidden = true;
  await sendPhotos([await testPhoto()]);
});
$("replybar-cancel").addEventListener("click", () => setReply(null));
$("back-btn").addEventListener("click", () => document.body.classList.remove("in-chat"));
$("log").addEventListener("scroll", () => {
  const log = $("log");
  S.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
});
$("filter").addEventListener("input", renderPeople);
$("log").addEventListener("click", (ev) => {
  const cmd = ev.target.closest("a.tg-command");
  if (cmd) { ev.preventDefault(); sendText(cmd.dataset.command); return; }
  const spoiler = ev.target.closest(".tg-spoiler");
  if (spoiler) spoiler.classList.add("shown");
});
document.addEventListener("click", (ev) => {
  if (!ev.target.closest(".popup, #menu-btn, #attach-btn, #input")) {
    $("cmdmenu").hidden = true;
    $("attachmenu").hidden = true;
  }
});

(async function start() {
  await loadState();
  const hash = new URLSearchParams(location.hash.slice(1));
  const personId = hash.get("p");
  if (personId && S.state.people.some((p) => p.id === personId)) {
    await choosePerson(personId);
    const groupId = Number(hash.get("c"));
    const group = S.state.groups.find((g) => g.id === groupId);
    if (group) openChat(group);
  }
  // New group chats and people bound elsewhere show up without a reload.
  setInterval(() => loadState().catch(() => {}), 15000);
})();
