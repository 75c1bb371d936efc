"""Texts every area shares: access refusals, binding (/start), /help basics, the run banner."""

# --- access -----------------------------------------------------------------------------------
NOT_BOUND = (
    "您好！本机器人仅供已登记的领导干部使用，您的 Telegram 账号尚未绑定。\n"
    "请向安委办索取专属邀请链接，点击后即可完成绑定。"
)
NOT_BOUND_ALERT = "您的账号尚未绑定，请向安委办索取邀请链接。"
OFFICE_ONLY = "此功能仅限安委办工作人员使用。"

# --- binding ----------------------------------------------------------------------------------
BOUND = (
    "{name}，您好！账号已绑定（{unit} {position}）。\n"
    "到期的职责我会提前提醒您；收到提醒后，直接发送现场照片和文字说明即可报告履职。\n"
    "发送 /help 查看全部功能。"
)
ALREADY_BOUND = "{name}，您好！您的账号已绑定，无需重复操作。发送 /help 查看全部功能。"
INVITE_UNKNOWN = "邀请链接无效。请核对链接是否完整，或向安委办重新索取。"
INVITE_EXPIRED = "邀请链接已过期（有效期 7 天）。请向安委办重新索取。"
INVITE_USED = "该邀请链接已被使用过。如需重新绑定，请向安委办重新索取。"
INVITE_OTHER_PERSON = "您的 Telegram 账号已绑定为「{name}」，不能再绑定其他人员。如有疑问请联系安委办。"
INVITE_PERSON_RETIRED = "该邀请对应的人员已停用。请联系安委办。"

START_NO_TOKEN_BOUND = ALREADY_BOUND

# --- /help (used only when no other module registers /help) -----------------------------------
HELP = (
    "领导干部安全生产职责提醒机器人\n\n"
    "• 职责到期前我会提醒您，点「报告完成」或直接发送照片和文字即可报告履职；\n"
    "• 相册（多张照片）会作为一次报告；\n"
    "• 点「稍后提醒」两小时后再提醒，点「查看条款」查看职责原文。\n\n"
    "{commands}"
)
HELP_COMMAND_LINE = "/{command} — {description}"

# Command menu (setMyCommands) for what this area provides.
COMMAND_START = "绑定账号 / 开始使用"
COMMAND_HELP = "使用说明"

# --- `dutybot run` ------------------------------------------------------------------------------
RUN_VOICE_SANDBOX_BANNER = (
    "未设置 ALIYUN_ACCESS_KEY_ID：叫应电话和短信发往本地语音/短信沙盒 / no provider keys: 叫应 calls and SMS go to "
    "the local provider sandbox\n  Provider:    {url}  (calls: {url}/_sandbox/calls, SMS: {url}/_sandbox/sms)")
RUN_VOICE_SANDBOX_PAGE_BANNER = (
    "未设置 ALIYUN_ACCESS_KEY_ID：叫应电话和短信发往本地语音/短信沙盒，来电在聊天页右侧的“电话/短信”里响铃，由你决定接不接 / "
    "no provider keys: 叫应 calls and SMS go to the local provider sandbox; calls ring in the chat page's "
    "电话/短信 panel until you answer them there (unanswered after 60 s)\n"
    "  Provider:    {url}  (calls: {url}/_sandbox/calls, SMS: {url}/_sandbox/sms)")
RUN_SANDBOX_BANNER = (
    "在浏览器中打开 / open in a browser:  {page_url}\n"
    "  未设置 BOT_TOKEN：机器人正连接本地 Telegram 沙盒，在网页里选一个人即可以他的身份聊天（不会发送任何真实消息）。\n"
    "  No BOT_TOKEN set: the bot runs against the local Telegram sandbox; choose a person on the page to chat as them.\n"
    "  Bot API:     {base_url}\n"
    "  控制 control: {control_url}  (for scripts; see bot/sandbox/telegram/__init__.py)"
)
SANDBOX_OFFICE_GROUP = "安委办工作群"
SANDBOX_BOT_NAME = "安全生产履职助手"
RUN_READY = "dutybot 已启动 / ready: {mode}, {jobs} 个调度任务 scheduler jobs, 数据库 database {db}"
RUN_WEB = "网页工作台 / web console: {url}（登录链接使用 / sign-in links use {base}）"
RUN_WEB_FAILED = ("网页工作台无法监听 / the web console cannot listen on WEB_LISTEN={listen}: {error}；"
                  "机器人照常运行 / the bot runs without it")
RUN_STOPPING = "dutybot 正在停止 / stopping…"

# --- buttons whose data no handler takes (an old message, a modified client) -------------------------
BUTTON_STALE = "此按钮已失效，请发送 /help 查看可用功能。"
