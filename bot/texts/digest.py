"""The reminder digest (one message per person and moment), /settings and /mine's groups."""

# -- the digest -------------------------------------------------------------------------------
HEAD = "📋 今日待办 {count} 项{parts}"
HEAD_PARTS = "（{parts}）"
HEAD_OVERDUE = "已逾期 {count} 项"
HEAD_SOON = "即将到期 {count} 项"
HEAD_CONTINUED = "📋 今日待办（续 {page}/{pages}）"
SECTION_OVERDUE = "⚠️ 已逾期"
SECTION_SOON = "⏰ 即将到期"
SECTION_LATER = "🗓 稍后到期"
LINE = "{n}. {title}{period}{when} · 已报 {done}/{required}"
LINE_WHEN = " · {when}"
HEAD_COMMON_DUE = "，均于 {month}月{day}日截止"
PERIOD = "（{period}）"
WHEN_OVERDUE = "已逾期 {days} 天"
WHEN_TODAY = "今天 {clock} 截止"
WHEN_TOMORROW = "明天 {clock} 截止"
WHEN_DUE = "{month}月{day}日截止"
FOOT = "点下方编号报告对应职责；也可以直接回复本消息发送照片或说明。"
BTN_NUMBER = "报告 {n}"
BTN_ALL = "📋 全部待办"
SOON_DAYS = 3  # due within this many days: 即将到期

# -- /settings ----------------------------------------------------------------------------------
SETTINGS = (
    "⚙️ 提醒方式\n\n"
    "当前：{current}\n\n"
    "· 每日汇总：每天 {at} 把当天要办的职责合成一条消息发给您（截止前几小时的提醒仍会及时发送）。\n"
    "· 随到随发：每条提醒到点就发（同一时刻的多项仍合成一条）。"
)
MODE_NAMES = {"daily": "每日汇总（{at}）", "each": "随到随发"}
BTN_DAILY = "每日汇总（{at}）"
BTN_EACH = "随到随发"
BTN_CHOSEN = "✅ {label}"
SETTINGS_SAVED = "已改为：{mode}"
SETTINGS_SAME = "未改变"
COMMAND_SETTINGS = "提醒方式设置"
