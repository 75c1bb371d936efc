"""Check-ins and the leader's own views (/mine, /history, /help)."""

# -- buttons (the reminder's own buttons are in texts/reminders.py) ----------------------------
BTN_CONFIRM_ONLY = "仅确认完成"
BTN_CANCEL = "取消"
BTN_PICK = "{title}（{period}）"
BTN_PICK_ONE = "是，提交到「{title}」"

# -- from a reminder's buttons ------------------------------------------------------------------
ASK_REPORT = (
    "请报告「{title}」（{period}）的履职情况：\n"
    "· 发送现场照片（可多张，可在图片说明里写一句话），或\n"
    "· 直接回复一句文字说明，或\n"
    "· 点击「仅确认完成」。"
)
ASK_UPLOAD = "请现在发送「{title}」（{period}）的佐证照片或文件（可多张，可附一句说明）。"
ASKED_TOAST = "请发送照片或文字"
CLAUSE_TOAST = "条款原文已发送"
NOT_OPEN = "「{title}」（{period}）已不在报告期内（{status}），无需再报告。"
NOT_OPEN_TOAST = "该职责已不在报告期内"
NOT_YOURS_TOAST = "这不是您的职责"
UNKNOWN_TOAST = "该职责不存在或已删除"

STATUS_NAMES = {"open": "待报告", "done": "已完成", "late": "逾期完成", "missed": "未完成", "excused": "已免除"}

# -- photos without context ----------------------------------------------------------------------
ASK_WHICH = "收到您发送的{what}。请问是哪项职责的报告？"
ASK_GUESSED = "\n（按您的说明，最可能的排在前面）"
ROUTED_REPLY = "\n（按您回复的提醒归入此项）"
ROUTED_CAPTION = "\n（按您的说明归入此项；不对请点「改为其他职责」）"
BTN_MOVE = "🔀 改为其他职责"
MOVE_WHICH = "改为哪项职责？（原报告保留在记录中，并注明已更正）"
MOVE_NONE = "您目前没有其他可以报告的职责。"
MOVE_SAME = "已经是这项职责"
MOVE_ASKED_TOAST = "请选择职责"
MOVED = "\n（由「{old}」改为此项，原报告保留并注明更正）"
MOVED_TOAST = "已改为其他职责"
WITHDRAWN = "↩️ 已撤回「{title}」（{period}）的这次报告（原记录保留并注明撤回）。现在：{status}，{done}/{required}。"
WITHDRAWN_TOAST = "已撤回"
WITHDRAW_SURE = "确定撤回 {at} 对「{title}」（{period}）的报告吗？撤回后不计入完成，原记录保留并注明撤回。"
BTN_WITHDRAW_SURE = "确定撤回"
WITHDRAW_ASKED_TOAST = "请确认撤回"
CORRECTED_ALREADY = "这次报告已更正过"
CORRECT_TOO_LATE = "超过 24 小时，不能再撤回或更改；请联系安委办"
BTN_WITHDRAW = "↩️ 撤回"
ASK_WHICH_ONE = "收到您发送的{what}。是否作为「{title}」（{period}）的报告提交？"
WHAT_PHOTOS = "照片"
WHAT_FILES = "文件"
WHAT_MIXED = "照片和文件"
WHAT_TEXT = "说明"
NO_OPEN_DUTY = "收到您发送的{what}，已保存。您目前没有需要报告的职责，因此未计入履职记录。"
UNFILED = (
    "📎 您在 {when} 发送的{what}（{count} 份）{text}还没有归入任何职责。\n"
    "文件已妥善保存。请点选它属于哪项职责；不点选则作为未归档佐证留存，安委办可以看到。"
)
UNFILED_TEXT = "「{text}」"
PICKED = "已提交到「{title}」（{period}）。"
DROPPED = "已取消，这些内容不会计入履职记录。"
DROPPED_TOAST = "已取消"
ALREADY_TOAST = "已处理过"

# -- confirmation ------------------------------------------------------------------------------
CONFIRM_DONE = (
    "✅ 「{title}」（{period}）已完成。\n"
    "报告 {done}/{required} 次{late}；本次{files}。\n"
    "谢谢！"
)
CONFIRM_PROGRESS = (
    "已记录「{title}」（{period}）的第 {done} 次报告（{done}/{required}），还需 {left} 次，截止 {due}。\n"
    "本次{files}。"
)
CONFIRM_LATE = "（超过截止时间，记为逾期完成）"
FILES_NONE = "无照片"
FILES_SOME = "照片/文件 {count} 份（原件自动存档）"
CHECKIN_TOAST = "已记录"

# -- what the bot cannot take ----------------------------------------------------------------------
TOO_BIG = "文件“{name}”有 {size} MB，超过 20 MB，机器人无法接收。请压缩后重新发送，或改为发送照片。"
UNSUPPORTED = "暂不支持{what}。请发送现场照片、文件或一句文字说明。"
UNSUPPORTED_KINDS = {
    "sticker": "贴纸", "voice": "语音", "video_note": "视频消息（圆形视频）", "location": "位置",
    "venue": "地点", "contact": "名片", "poll": "投票", "dice": "骰子", "audio": "音频",
    "animation": "动图", "game": "游戏", "story": "动态",
}
UNSUPPORTED_OTHER = "此类消息"
HELP_SHORT = "没有理解您的意思。报告履职请发送照片或点击提醒消息下方的按钮；/mine 查看待办职责，/help 查看帮助。"

# -- leader commands ---------------------------------------------------------------------------
MINE_HEAD = "📋 您的待办职责 {count} 项 · 本期已完成 {done} 项"
MINE_GROUP = "{head}（{count}）"
MINE_OVERDUE_HEAD = "⚠️ 已逾期"
MINE_WEEK_HEAD = "📅 本周到期"
MINE_LATER_HEAD = "🗓 以后"
MINE_FOOT = "点编号报告对应职责。"
MINE_NONE = "您目前没有待报告的职责。👍"
MINE_NONE_DONE = "您目前没有待报告的职责，本期已完成 {done} 项。👍"
MINE_MORE = "……另有 {count} 项未列出。"

HISTORY_HEAD = "您最近的履职报告："
HISTORY_LINE = "· {at} 「{title}」（{period}）{files}{text}"
HISTORY_FILES = "，照片/文件 {count} 份"
HISTORY_TEXT = "：{text}"
HISTORY_CORRECTED = {"withdraw": "（已撤回）", "move": "（已改为其他职责）"}
HISTORY_NONE = "您还没有履职报告记录。"
HISTORY_UNKNOWN_DUTY = "（已删除的职责）"

HELP = (
    "安全生产履职助手\n"
    "· 收到提醒后，点击「报告完成」或「上传佐证」，再发送现场照片或一句话说明。\n"
    "· 也可以随时直接发送照片（可多张，作为一次报告），机器人会询问属于哪项职责。\n"
    "· 「稍后提醒」两小时后再提醒；「查看条款」查看职责依据原文。\n"
    "· 单个文件不能超过 20 MB。\n\n"
    "命令：\n{commands}"
)
HELP_OFFICE = "\n\n安委办命令：\n{commands}"
HELP_LINE = "/{command} {description}"

# -- the command menu (setMyCommands) ---------------------------------------------------------------
COMMAND_MINE = "我的待办职责"
COMMAND_HISTORY = "我的报告记录"
COMMAND_HELP = "使用帮助"
BAD_BUTTON = "按钮已失效"
