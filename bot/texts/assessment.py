"""Assessment texts: exemptions (免考核), rankings, exports and the integrity check."""

# --- exemptions (免考核申请) -------------------------------------------------------------------
KINDS = ("请假", "出差", "因公")
EXEMPT_BUTTON = "申请免考核"
CANCEL_BUTTON = "取消"
APPROVE_BUTTON = "批准"
REFUSE_BUTTON = "驳回"

EXEMPT_CHOOSE_KIND = "申请免于考核：请选择事由类型。{item}"
EXEMPT_FOR_ITEM = "\n事项：{title}（{period}）"
EXEMPT_ASK_DETAILS = (
    "【{kind}】请直接回复事由和日期，例如：\n“参加市安委会会议 6月3日-6月5日”\n{hint}"
)
EXEMPT_HINT_ITEM = "不写日期则只申请“{title}”（{period}）这一项。"
EXEMPT_HINT_DATES = "日期必填：一天写“6月3日”，几天写“6月3日-6月5日”。"
EXEMPT_CANCELLED = "已取消免考核申请。"
EXEMPT_SUBMITTED = "已提交免考核申请（{kind}，{dates}），等待安委办审批，结果会通知你。"
EXEMPT_NO_OFFICE = "已提交免考核申请（{kind}，{dates}），但安委办尚无人绑定机器人，请当面告知安委办。"
EXEMPT_OFFICE = (
    "【免考核申请】{name}（{unit}）\n类型：{kind}\n日期：{dates}\n事由：{reason}{item}\n申请时间：{at}"
)
EXEMPT_OFFICE_ITEM = "\n事项：{title}（{period}）"
EXEMPT_DECIDED_SUFFIX = "\n\n—— 已{verdict}：{by}，{at}"
EXEMPT_APPROVED = (
    "你的免考核申请（{kind}，{dates}）已批准。\n审批：{by}，{at}\n免于考核 {n} 项{items}"
)
EXEMPT_REFUSED = "你的免考核申请（{kind}，{dates}）未获批准（{by}，{at}）。请按期完成，或与安委办联系。"
EXEMPT_ALREADY = "该申请已由{by}{verdict}。"
EXEMPT_DONE_ANSWER = "已{verdict}"
VERDICT = {"approved": "批准", "refused": "驳回", "revoked": "撤销"}
EXEMPT_REVOKED = (
    "你的免考核（{kind}，{dates}）已被安委办撤销（{by}，{at}）。\n撤销理由：{reason}\n"
    "相关 {n} 项职责恢复考核，请按期完成。"
)
EXEMPT_NOT_APPROVED = "只能撤销已批准的免考核（这条申请现在不是“已批准”） / only an approved exemption can be revoked."
ERR_REVOKE_REASON = "请写明撤销理由 / please give the reason for revoking."
EXEMPT_NOT_FOUND = "没有找到这条申请 / request not found."
EXEMPT_NOT_YOURS = "这不是你的申请 / this request is not yours."
EXEMPT_INSTANCE_GONE = "这项职责不存在或不是你的 / this duty is not yours."
EXEMPT_USAGE = (
    "用法 / usage: /leave 类型 日期 事由\n例：/leave 出差 6月3日-6月5日 赴省厅参加培训\n类型：请假、出差、因公"
)

# Input mistakes: the request is not saved, the leader is told what to fix.
ERR_KIND = "类型应为 请假、出差 或 因公 / kind must be 请假, 出差 or 因公."
ERR_REASON = "请写明事由 / please give a reason."
ERR_REASON_LONG = "事由太长（最多 {n} 字） / reason too long (at most {n} characters)."
ERR_DATES = "请写明日期，如 6月3日 或 6月3日-6月5日 / please give the dates, e.g. 6月3日-6月5日."
ERR_DATE_BAD = "看不懂的日期 “{text}” / cannot read the date {text!r}."
ERR_DATE_ORDER = "结束日期早于开始日期 / the end date is before the start date."
ERR_DATE_SPAN = "一次最多申请 {n} 天 / at most {n} days per request."
ERR_DATE_PAST = "开始日期过早（最多补报 {n} 天前） / the start is more than {n} days ago."
ERR_DATE_FUTURE = "开始日期太远（最多提前 {n} 天） / the start is more than {n} days ahead."

# --- ranking (季度考核排名) -------------------------------------------------------------------
RANK_TITLE = "【{quarter}单位履职排名】（{start}—{end}，截至 {now}）"
RANK_LINE = "{rank}. {name}  {rate}（应考核{required}：按时{done} 逾期{late} 未完成{missed}{excused}）{mark}"
RANK_EXCUSED = " 免考核{n}"
RANK_TOP = " 👍通报表扬"
RANK_BOTTOM = " ⚠️后{bottom}位·连续{streak}次：{action}"
RANK_BY = "（约谈人：{names}）"
RANK_OPEN = "另有 {n} 项尚未截止，不计入。"
RANK_UNRANKED = "无可考核事项：{names}"
RANK_EMPTY = "{quarter}没有可考核的事项。"
RANK_OTHER_BUTTON = "看{quarter}"
RANK_USAGE = "用法 / usage: /rank [2026-Q3]"

# --- export ---------------------------------------------------------------------------------
EXPORT_USAGE = (
    "用法 / usage:\n/export — 本年至今\n/export 2026-01-01 2026-06-30\n/export 姓名 [起 止] — 个人履职档案（zip）"
)
EXPORT_WORKING = "正在生成 {what}（{start}—{end}），稍候……"
EXPORT_CAPTION = "{what} {start}—{end}\n账本链头 #{seq} {head}"
EXPORT_FAILED = "导出失败：{error}"
EXPORT_TOO_BIG = (
    "{what}已生成，但有 {mb} MB，超过 Telegram 50 MB 的发送上限。文件在服务器上：{path}\n"
    "可缩短日期范围，或在服务器上运行 dutybot export。"
)
EXPORT_UNKNOWN_PERSON = "未知人员 “{name}” / unknown person."
EXPORT_BAD_DATE = "日期应为 YYYY-MM-DD / dates must be YYYY-MM-DD: {text}"
EXPORT_WHAT_ALL = "履职记录"
EXPORT_WHAT_PERSON = "{name}履职档案"

# --- command menu ---------------------------------------------------------------------------
COMMAND_LEAVE = "申请免考核（请假/出差/因公）"
COMMAND_RANK = "季度考核排名"
COMMAND_EXPORT = "导出考核表 / 个人履职档案"

# --- access -----------------------------------------------------------------------------------
OFFICE_ONLY = "仅安委办可用 / office staff only."

# --- sheet headers (export) -----------------------------------------------------------------
STATUS = {"done": "按时完成", "late": "逾期完成", "missed": "未完成", "excused": "免考核", "open": "未截止"}
KIND = {"inspection": "检查", "meeting": "会议", "report": "报告", "study": "学习", "drill": "演练",
        "training": "培训", "other": "其他"}
