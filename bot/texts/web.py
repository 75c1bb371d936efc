"""The web console's texts (安委办工作台). Templates read them as `T.NAME`."""

APP_NAME = "安委办工作台"
APP_SUBTITLE = "领导干部安全生产职责清单"

# --- layout -----------------------------------------------------------------------------------
NAV_OVERVIEW = "总览"
NAV_OVERDUE = "未报告"
NAV_EXPORTS = "导出"
NAV_VERIFY = "校验"
MY_RECORD = "我的履职档案"
SIGN_OUT = "退出"
SIGNED_IN_AS = "{name}"
PRINT = "打印"
SKIP = "跳到正文"

# --- errors -----------------------------------------------------------------------------------
ERROR = "出错了"
NOT_FOUND = "没有找到这个页面或记录。请检查链接是否完整。"
FORBIDDEN = "您没有权限查看此页面。"
SERVER_ERROR = "服务器内部错误，已记录（编号 {incident}）。请稍后再试；如果反复出现，请把编号告诉管理员。"
STATUS_TITLES = {400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持的操作", 413: "文件太大",
                 429: "操作太频繁", 500: "服务器错误"}
STATUS_MESSAGES = {404: NOT_FOUND, 405: "此页面不支持这种操作。", 413: "上传的文件太大。",
                   400: "请求有误。"}
REFUSALS = {
    "office_only": "此页面仅限安委办工作人员查看。",
    "not_owner": "您只能查看自己的履职档案和佐证材料。",
    "no_session": "请先登录。",
    "csrf": "表单已失效（缺少或错误的安全校验码）。请刷新页面后重试。",
    "signin_rate_limited": "登录尝试太频繁，请 10 分钟后再试。",
}
BACK_HOME = "返回首页"

# --- sign-in ----------------------------------------------------------------------------------
SIGNIN_TITLE = "登录"
SIGNIN_HOW = "本工作台不使用密码。请在 Telegram 中向机器人发送 /web，点击收到的登录链接（10 分钟内有效，仅可使用一次）。"
SIGNIN_HOW_SERVER = "也可以请管理员在服务器上运行 dutybot web-link 姓名 生成登录链接。"
LOGIN_AS = "以「{name}」身份登录"
LOGIN_CONFIRM = "点击下面的按钮完成登录。此链接仅可使用一次。"
LOGIN_BUTTON = "登录"
LINK_BAD_TITLE = "登录链接无效"
LINK_STATES = {
    "unknown": "这个登录链接无效，请检查链接是否完整。",
    "expired": "这个登录链接已过期（有效期 10 分钟）。",
    "used": "这个登录链接已经使用过（每个链接只能使用一次）。",
    "retired": "此人员已停用，不能登录。",
}
LINK_NEW = "请在 Telegram 中向机器人发送 /web 获取新的登录链接。"
SIGNED_OUT = "您已退出登录。"

# Telegram /web and the CLI
WEB_COMMAND = "登录网页工作台"
WEB_LINK_MESSAGE = "您的网页工作台登录链接（{minutes} 分钟内有效，仅可使用一次，请勿转发）：\n{url}"
WEB_LINK_BUTTON = "打开工作台"

# --- shared -----------------------------------------------------------------------------------
KINDS = {"inspection": "检查", "meeting": "会议", "report": "报告", "study": "学习", "drill": "演练",
         "training": "培训", "other": "其他"}
STATUSES = {"open": "待报告", "done": "已完成", "late": "逾期完成", "missed": "未完成", "excused": "免考核"}
NONE = "—"
ONE_OFF = "一次性任务"
PAGE_OF = "第 {page}/{pages} 页，共 {total} 项"
FIRST = "首页"
PREV = "上一页"
NEXT = "下一页"
LAST = "末页"
FILTER = "筛选"
RESET = "重置"
DOWNLOAD_XLSX = "下载 Excel"
DOWNLOAD_CSV = "下载 CSV"
ALL = "全部"

# --- 总览 -------------------------------------------------------------------------------------
OVERVIEW_TITLE = "总览"
OVERVIEW_RATE = "总体完成率"
OVERVIEW_OVERDUE = "已逾期未报告"
OVERVIEW_OPEN = "待报告"
OVERVIEW_PERIODS = "当前报告期"
OVERVIEW_UNITS = "各单位完成情况（当前各期）"
OVERVIEW_TREND = "近 12 个月完成率"
OVERVIEW_COUNTED = "统计于 {at}（每 30 秒更新）"
OVERVIEW_TASKS = "重点工作及节前检查"
OVERVIEW_NO_PERIODS = "当前没有处于报告期内的职责。"
OVERVIEW_PERIOD_ROW = "{period}：{count} 项，已完成 {completed}"
CALLOUT_BANNER = "{level}预警 · {hazard} · 已发出 {since}：{acked}/{total} 人已收到"
CALLOUT_VIEW = "查看"
LEVELS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEGEND = {"done": "已完成", "late": "逾期完成", "missed": "未完成", "open": "待报告", "excused": "免考核"}

# --- 未报告 -----------------------------------------------------------------------------------
OVERDUE_TITLE = "未报告"
F_UNIT = "单位"
F_PERIOD = "期间"
F_KIND = "类别"
F_STATUS = "状态"
PERIOD_NOW = "当前报告期"
PERIOD_HINT = "当前报告期，或 2026-11、2026-Q4、2026-H2、2026"
STATUS_FILTERS = {"unreported": "未报告（待报告+未完成）", "overdue": "已逾期待报告", "open": "待报告",
                  "missed": "未完成", "late": "逾期完成", "done": "已完成", "excused": "免考核", "all": "全部"}
COL_PERSON = "姓名"
COL_UNIT = "单位"
COL_DUTY = "职责"
COL_KIND = "类别"
COL_PERIOD = "期间"
COL_DUE = "截止"
COL_PROGRESS = "进度"
COL_STATUS = "状态"
COL_OVERDUE = "逾期"
COL_ACTION = "操作"
DAYS_OVERDUE = "{days} 天"
NUDGE = "催报"
NUDGE_ALL = "催报全部筛选结果（{count} 项）"
NUDGED = "已催报"
NUDGED_SENT = "已催报（已送达）"
NUDGE_UNBOUND = "未绑定"
NUDGE_DONE = "已催报 {queued} 项{already}{unbound}。"
NUDGE_ALREADY = "，{already} 项今天已催报过"
NUDGE_UNBOUND_N = "，{unbound} 项负责人未绑定 Telegram"
NUDGE_LATER = "夜间免打扰，将于 {when} 送达。"
OVERDUE_EMPTY = "没有符合条件的记录。"
BAD_UNIT = "单位“{value}”不存在。"
BAD_PERIOD = "期间“{value}”无法识别：请写 2026-11（月）、2026-Q4（季度）、2026-H2（半年）或 2026（年）。"
BAD_KIND = "类别“{value}”不存在。"
BAD_STATUS = "状态“{value}”不存在。"
BAD_SORT = "排序字段“{value}”不存在。"
BAD_PAGE = "页码“{value}”无效。"
BAD_ID = "编号“{value}”无效。"
SORTS = {"due": COL_DUE, "person": COL_PERSON, "unit": COL_UNIT, "duty": COL_DUTY, "period": COL_PERIOD,
         "status": COL_STATUS}
EXPORT_SHEET = "未报告"

# --- 履职档案 ---------------------------------------------------------------------------------
RECORD_TITLE = "履职档案"
RECORD_YEAR = "年度"
RECORD_ZIP = "下载履职档案（zip，含原始照片）"
RECORD_INSTANCES = "职责与履职记录"
RECORD_NO_INSTANCES = "本年度没有职责。"
RECORD_CHECKIN = "{at} 报告"
RECORD_NO_CHECKIN = "尚无履职报告"
RECORD_FILE = "附件"
RECORD_CORRECTED = {"withdraw": "已撤回，不计入", "move": "已改为其他职责"}
RECORD_UNFILED = "未归档佐证"
RECORD_UNFILED_NOTE = "领导发送后未归入任何职责的照片和文件（原件已存档）。"
RECORD_UNFILED_LINE = "{at} 发送"
RECORD_EXEMPTIONS = "免考核申请"
RECORD_NO_EXEMPTIONS = "没有免考核申请。"
RECORD_CALLOUTS = "叫应记录"
RECORD_NO_CALLOUTS = "本年度没有叫应记录。"
RECORD_ACKED = "{at} 收到（用时 {seconds}）"
RECORD_NOT_ACKED = "未收到"
RECORD_REPORT = "{at} 报告：{measures} {text}"
RECORD_ESCALATED = "已升级给：{people}"
EXEMPTION_STATES = {"pending": "待审批", "approved": "已批准", "refused": "未批准", "revoked": "已撤销"}
EXEMPTION_LINE = "{kind}：{reason}（{dates}）"
PERSON_NOT_FOUND = "没有这个人员。"
EVIDENCE_NOT_FOUND = "没有这个佐证材料。"
EVIDENCE_MISSING = "佐证文件不在服务器上（可运行 dutybot verify 检查）。"
BAD_YEAR = "年度“{value}”无效。"
INFO_UNIT = "单位"
INFO_POSITION = "职务"
INFO_RATE = "本年度完成率"

# --- 导出 -------------------------------------------------------------------------------------
EXPORTS_TITLE = "导出"
EXPORT_ASSESSMENT = "考核表（履职记录）"
EXPORT_ASSESSMENT_HINT = "汇总、明细、叫应记录、排名四张表（xlsx），按截止日期选取范围。一年的数据约需一两分钟。"
EXPORT_PERSON = "个人履职档案"
EXPORT_PERSON_HINT = "一人的履职记录表和全部原始照片（zip）。"
EXPORT_FROM = "起"
EXPORT_TO = "止"
EXPORT_START_ASSESSMENT = "开始导出考核表"
EXPORT_START_PERSON = "开始导出履职档案"
EXPORT_JOBS = "导出任务（保留 7 天）"
EXPORT_WHAT = "内容"
EXPORT_RANGE = "范围"
EXPORT_PROGRESS = "进度"
EXPORT_CREATED = "发起"
EXPORT_FILE = "文件"
EXPORT_ROWS = "{done} / {total} 行"
EXPORT_STATES = {"queued": "排队中", "running": "导出中", "done": "已完成", "failed": "失败"}
EXPORT_DOWNLOAD = "下载 {name}（{mb} MB）"
EXPORT_KEPT = "保留至 {until}"
EXPORT_NONE = "还没有导出任务。"
EXPORT_NOT_READY = "这个导出文件不存在或尚未完成（文件保留 7 天）。"
BAD_DATE = "{label}日期“{value}”无效，请写 2026-01-31 这样的日期。"
EXPORT_BAD_KIND = "未知的导出类型“{value}”。"
EXPORT_BAD_RANGE = "结束日期早于开始日期。"
EXPORT_TOO_LONG = "导出范围不能超过三年。"
EXPORT_BAD_PERSON = "没有这个人员“{value}”。"

# --- 校验 -------------------------------------------------------------------------------------
VERIFY_TITLE = "校验履职记录"
VERIFY_HINT = "校验账本哈希链、记录与证据文件是否被篡改（与 dutybot verify 相同）。链头可记下备查：此后任何改动都会被发现。"
VERIFY_HEAD = "当前链头"
VERIFY_AT = "时间"
VERIFY_EMPTY = "账本还没有记录。"
VERIFY_LAST = "上次校验"
VERIFY_OK = "记录完整：账本 {records} 条，证据文件 {files} 个均未被改动。"
VERIFY_FAILED = "发现篡改：{problem}（此前 {records} 条记录完好）"
VERIFY_WHEN = "{at} · {via}"
VERIFY_VIA = {"web": "网页工作台", "cli": "命令行 dutybot verify"}
VERIFY_NEVER = "还没有校验过。"
VERIFY_RUNNING = "正在校验……页面会自动更新。"
VERIFY_AGAIN = "重新校验"

