"""The safety office's views: /overdue, /nudge, /stats, and `dutybot status`."""

# -- /overdue ----------------------------------------------------------------------------------
OVERDUE_HEAD = "【未报告名单】{scope}截至 {now}：{people} 人 {count} 项尚未报告，其中已逾期 {late} 项。"
OVERDUE_UNIT = "\n▌{unit}（{count} 项）"
OVERDUE_LINE = "· {person}「{title}」（{period}）{done}/{required}，截止 {due}，{when}"
OVERDUE_DAYS = "已逾期 {days} 天"
OVERDUE_TODAY = "今天截止"
OVERDUE_LEFT = "还有 {days} 天"
OVERDUE_NONE = "【未报告名单】{scope}截至 {now}：本期职责均已报告。👍"
OVERDUE_SCOPE_ALL = ""
OVERDUE_SCOPE_UNIT = "{unit} "
OVERDUE_HINT = "\n发送 /nudge{unit} 一键催报。"
CONTINUED = "（续 {n}）"

UNIT_UNKNOWN = "没有找到单位“{text}”。可用单位：{units}"
UNIT_AMBIGUOUS = "“{text}”对应多个单位：{units}，请写全称。"

# -- /nudge ------------------------------------------------------------------------------------
NUDGE_CONFIRM = "将向 {people} 人发送催报提醒，共 {count} 项未报告职责{scope}。\n同一项职责每天最多催报一次。确认发送吗？"
NUDGE_SCOPE_UNIT = "（{unit}）"
NUDGE_NOBODY = "当前没有需要催报的职责。👍"
BTN_NUDGE = "确认催报"
BTN_CANCEL = "取消"
NUDGE_DONE = "已催报：{queued} 项提醒已发出{already}{unbound}。{later}"
NUDGE_LATER = "现在是夜间免打扰时段，提醒将于 {when} 送达。"
NUDGE_ALREADY = "，{already} 项今天已催报过（未重复发送）"
NUDGE_UNBOUND = "，{unbound} 项的负责人尚未绑定账号（无法发送）"
NUDGE_TOAST = "已催报 {queued} 项"
NUDGE_CANCELLED = "已取消催报。"
NUDGE_CANCELLED_TOAST = "已取消"

# -- /stats ------------------------------------------------------------------------------------
STATS_HEAD = "【完成率】当前各期职责（截至 {now}）\n总计：{line}"
STATS_LINE = "{completed}/{counted} 完成 {rate}（逾期完成 {late}，未完成 {missed}，待报告 {open}）"
STATS_LINE_SHORT = "{completed}/{counted} {rate}"
STATS_UNITS = "\n按单位："
STATS_KINDS = "\n按职责类别："
STATS_ROW = "· {name}：{line}"
STATS_NONE = "【完成率】当前没有处于报告期内的职责。"
RATE_NONE = "—"
KIND_NAMES = {
    "inspection": "检查", "meeting": "会议", "report": "汇报", "study": "学习", "drill": "演练",
    "training": "培训", "other": "其他",
}

# -- `dutybot status` --------------------------------------------------------------------------
STATUS_HEADERS = ["单位", "人员", "职责", "标题", "周期", "截止", "进度", "状态"]
STATUS_TOTAL = "共 {count} 项：已完成 {done}，逾期完成 {late}，待报告 {open}，未完成 {missed}，已免除 {excused}"
UNFILED_HEAD = "未归档佐证 / unfiled evidence（发送超过 24 小时仍未归入任何职责，共 {count} 份）："
UNFILED_HEADERS = ["单位", "姓名", "发送时间", "说明", "文件", "SHA-256"]
STATUS_EMPTY = "没有符合条件的职责实例 / no duty instances match"
SYSTEM_HEADERS = ("项目 / field", "值 / value")
SYSTEM_NO_LEADER = "无（租约已过期，等待接管）/ none (lease expired, a follower takes over)"
SYSTEM_FIELDS = {
    "leader": "主进程 / leader",
    "epoch": "任期 / epoch",
    "lease_expires_at": "租约到期 / lease expires",
    "outbox_pending": "待发消息 / outbox pending",
    "inbox_pending": "待处理更新 / inbox pending",
    "outbox_claims": "发送中 / sending: {holder}",
    "inbox_claims": "处理中 / handling: {holder}",
}
STATUS_NAMES = {"open": "待报告", "done": "已完成", "late": "逾期完成", "missed": "未完成", "excused": "已免除"}

# -- the command menu (setMyCommands, office people) ---------------------------------------------------
COMMAND_OVERDUE = "未报告名单，可加单位名"
COMMAND_NUDGE = "一键催报未报告的人"
COMMAND_STATS = "本期完成率统计"
