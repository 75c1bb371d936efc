"""Reminder, snooze and office digest texts (scheduler side)."""

# The first line of a reminder depends on which of the duty's reminders it is.
LEAD_OPEN = "【职责提醒】新的履职周期已开始"
LEAD_BEFORE_DAYS = "【职责提醒】距截止还有 {days} 天"
LEAD_DUE_TODAY = "【职责提醒】今天截止"
LEAD_OVERDUE_DAYS = "【逾期提醒】已超过截止时间 {days} 天，请尽快补报"
LEAD_BEFORE_HOURS = "【职责提醒】距截止还有 {hours} 小时"
LEAD_OVERDUE_HOURS = "【逾期提醒】已超过截止时间 {hours} 小时，请尽快补报"
LEAD_SNOOZED = "【稍后提醒】"
LEAD_NUDGE = "【安委办督办】请尽快报告履职情况"

REMINDER = (
    "{lead}\n\n"
    "职责：{title}\n"
    "依据：{source}\n"
    "周期：{period}\n"
    "截止：{due}\n"
    "进度：已报告 {done}/{required} 次"
)
SOURCE = "《{document}》{excerpt}"

BUTTON_DONE = "报告完成"
BUTTON_UPLOAD = "上传佐证"
BUTTON_SNOOZE = "稍后提醒"
BUTTON_CLAUSE = "查看条款"

SNOOZE_OK = "好的，{when} 再提醒您。"
SNOOZE_NOT_OPEN = "这项职责本期已不需要报告，无需再提醒。"
CLAUSE = "【条款原文】{title}\n\n《{document}》\n{clause}"
CLAUSE_NONE = "【条款原文】{title}\n\n（目录中没有登记条款原文）"
NOT_YOURS = "这条提醒不属于您的账号。"

# Office digest, the morning after periods close.
DIGEST = "【安委办日报】{day}\n以下职责已过期限仍未报告（共 {count} 项）：\n{lines}"
DIGEST_LINE = "• {unit} {person}：{title}（{period}，截止 {due}）"
DIGEST_MORE = "……另有 {more} 项，详见 /overdue 或 `dutybot status`。"
