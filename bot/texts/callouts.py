"""叫应 (emergency-warning callouts) and ad-hoc campaigns: every string a person sees.

Plain str templates, formatted by bot/services/callouts/ and the callout/campaign handlers.
"""

from __future__ import annotations

LEVEL_NAMES = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEVEL_ICONS = {"red": "🔴", "orange": "🟠", "yellow": "🟡", "blue": "🔵"}
# What a person may type for a level, in /warn and on the command line.
LEVEL_WORDS = {"red": "red", "红": "red", "红色": "red", "orange": "orange", "橙": "orange", "橙色": "orange",
               "yellow": "yellow", "黄": "yellow", "黄色": "yellow", "blue": "blue", "蓝": "blue", "蓝色": "blue"}
HAZARDS = ("暴雨", "台风", "地质灾害", "森林火险", "高温", "寒潮", "大风", "其他")

# One-tap measures of a report (禁/停/撤/疏). "evac" asks for the number of people moved.
MEASURES = {"stop": "已停工", "evac": "已转移", "seal": "已封控", "patrol": "已巡查", "other": "其他"}
MEASURE_EVAC = "已转移 {n} 人"

ALL_UNITS = "全部"

# -- the call --------------------------------------------------------------------------------
CALL = ("{icon}【{level}预警 · 叫应】{hazard}\n\n{text}\n\n"
        "范围：{scope}\n发布：{issuer} {issued}\n\n"
        "请立即点击下方「收到」确认。")
RECALL = ("⚠️ 第{n}次叫应 · 您尚未确认收到以下预警\n\n"
          "{icon}【{level}预警】{hazard}\n\n{text}\n\n"
          "范围：{scope}\n发布：{issuer} {issued}\n\n"
          "请立即点击下方「收到」确认。")
ESCALATION = ("⬆️ 叫应升级 · {icon}{level}预警 {hazard}\n\n"
              "{silent} 未应答。\n请您立即联系落实，并点击「收到」确认。\n\n"
              "预警内容：\n{text}\n\n范围：{scope}\n发布：{issuer} {issued}")
ESCALATION_RECALL = "⚠️ 第{n}次叫应 · 请确认以下升级叫应\n\n"
ESCALATION_NOTICE = ("⬆️ 叫应升级 · {icon}{level}预警 {hazard}\n\n"
                     "{silent} 未应答，请您立即联系落实。")
SILENT_CALLED = "{name}（{position}，已叫应{calls}次）"
SILENT_UNREACHABLE = "{name}（{position}，未绑定或无法送达）"
SILENT_JOIN = "、"
ACK_BUTTON = "✅ 收到"
ACKED = "{body}\n\n✅ 已收到 {clock}"
ACK_ANSWER = "已收到，谢谢！请尽快报告落实情况。"
ACK_AGAIN = "您已于 {clock} 确认收到。"
ACK_NOT_YOURS = "这条叫应不是发给您的。"
ACK_UNKNOWN = "找不到这条叫应。"
ACK_AFTER_LIFT = "已记录收到（预警已于 {clock} 解除）。"
NOTICE_ANSWER = "已收到升级通知。"
ISSUER_UNKNOWN = "安委办"
SCOPE_ALL = "全部单位"

# -- the report ------------------------------------------------------------------------------
REPORT_FORM = ("📝 请报告落实情况（{deadline} 前）\n"
               "{icon}{level}预警 {hazard} · 第 {cid} 号\n\n"
               "点选已采取的措施（禁/停/撤/疏），可直接发送文字或照片补充，完成后点「提交报告」。")
REPORT_FORM_STATE = "\n\n已选：{measures}"
REPORT_FORM_TEXT = "\n补充：{text}"
REPORT_FORM_PHOTOS = "\n照片：{n} 张"
REPORT_SUBMIT_BUTTON = "📤 提交报告"
REPORT_DONE = ("✅ 已报告 {clock}{late}\n{icon}{level}预警 {hazard} · 第 {cid} 号\n\n"
               "措施：{measures}{note}{photos}")
REPORT_LATE_MARK = "（逾期）"
REPORT_ASK_EVAC = "转移了多少人？请回复数字，例如 35。"
REPORT_ASK_EVAC_AGAIN = "请回复转移人数（数字），例如 35。您发的文字已记入报告补充。"
REPORT_ASK_OTHER = "请直接回复文字说明其他措施。"
REPORT_NOTED_TEXT = "已记入报告补充。完成后请点「提交报告」。"
REPORT_NOTED_PHOTO = "照片已收到（{n} 张）。完成后请点「提交报告」。"
REPORT_EMPTY = "请先点选措施或发送文字说明，再提交。"
REPORT_SUBMITTED = "报告已提交，谢谢！"
REPORT_ALREADY = "报告已于 {clock} 提交。"
REPORT_CLOSED = "该预警已解除，无法再修改报告。"
REPORT_NUDGE = ("⏰ 请尽快报告落实情况：{icon}{level}预警 {hazard} · 第 {cid} 号，"
                "报告时限 {deadline} 已过。请在上面的表单中点选措施并提交。")
NONE = "无"

# -- the board -------------------------------------------------------------------------------
BOARD = ("📋 叫应看板 · 第 {cid} 号 {icon}{level}预警 {hazard}\n"
         "发布 {issued} ｜ 应叫应 {total} 人\n\n"
         "已发出 {sent}（送达 {delivered}）｜ 已收到 {acked} ｜ 再叫应中 {recalling} ｜ 已升级 {escalated} ｜ "
         "已报告 {reported}")
BOARD_SILENT = "\n\n未应答（{n}）：{names}"
BOARD_SILENT_MORE = " 等{n}人"
BOARD_SILENT_ITEM = "{name}{note}"
BOARD_NOTE_CALLS = "（第{n}次）"
BOARD_NOTE_ESCALATED = "（已升级→{to}）"
BOARD_NOTE_ESCALATED_NONE = "（已升级，无人可接）"
BOARD_NOTE_UNREACHABLE = "（未绑定）"
BOARD_ALL_ACKED = "\n\n全部已收到 ✅"
BOARD_AS_OF = "\n截至 {clock}"
BOARD_LIFTED = "\n\n已解除 {clock}"

# -- lifting ---------------------------------------------------------------------------------
LIFT = "✅【解除】{icon}{level}预警 {hazard}（第 {cid} 号）已于 {clock} 解除。\n{extra}"
LIFT_EXTRA_REPORT = "尚未提交落实情况报告的，请尽快补报。"
SUMMARY = ("📑 叫应总结 · 第 {cid} 号 {icon}{level}预警 {hazard}\n"
           "发布 {issued} ｜ 解除 {lifted}\n"
           "应叫应 {total} 人：已收到 {acked}，未收到 {silent}；需再叫应 {recalled} 人，升级 {escalated} 人；"
           "已报告 {reported}（逾期 {late}）\n"
           "平均收到用时 {avg}，最长 {max}\n"
           "请于 {summary_due} 前报送书面总结。")
SUMMARY_SECTION = "\n\n{title}\n{lines}"
SUMMARY_ACKS = "收到用时："
SUMMARY_RECALLED = "再叫应 / 升级："
SUMMARY_REPORTS = "落实情况报告："
SUMMARY_SILENT = "始终未收到："
SUMMARY_ACK_LINE = "{name} {took}"
SUMMARY_RECALL_LINE = "{name} 叫应{calls}次{escalated}"
SUMMARY_ESCALATED = "，升级至 {to}"
SUMMARY_REPORT_LINE = "{name} {clock}{late}：{measures}"
SUMMARY_MORE = "……共 {n} 条，完整记录见 dutybot callout status {cid} 或导出的叫应记录。"
SUMMARY_CONTINUED = "（续）"

# -- office commands -------------------------------------------------------------------------
ONLY_OFFICE = "只有安委办人员可以发布预警叫应。"
NOT_BOUND = "请先绑定账号后再使用。"
WARN_START = "发布预警叫应 · 第1步：选择预警级别"
WARN_HAZARD = "第2步：选择灾害类型（{level}预警）"
WARN_UNITS = "第3步：选择影响单位（可多选，选好后点「下一步」）\n已选：{chosen}"
WARN_UNITS_NONE = "请至少选择一个单位，或点「全部」。"
WARN_TEXT = "第4步：请回复预警内容（文字）。"
WARN_TEXT_EMPTY = "预警内容不能为空，请回复文字。"
WARN_FILE = "第5步：如需附图片或文件，请直接发送；不需要请点「跳过」。"
WARN_FILE_GOT = "已附上：{name}"
WARN_FILE_TOO_BIG = "文件超过 20 MB，机器人无法转发。请压缩后重新发送，或点「跳过」。"
WARN_CONFIRM = ("请确认发布：\n{icon}{level}预警 · {hazard}\n范围：{scope}\n叫应 {n} 人：{names}\n"
                "附件：{attachment}\n\n{text}")
WARN_NO_ATTACHMENT = "无"
WARN_ISSUED = "已发布叫应第 {cid} 号，叫应 {n} 人。看板将实时更新。"
WARN_CANCELLED = "已取消发布。"
WARN_EXPIRED = "这个发布流程已结束，请重新发送 /warn。"
WARN_NO_POLICY = "职责目录没有{level}预警的叫应策略（callouts），无法发布。"
WARN_NO_RECIPIENTS = "按所选范围没有叫应对象，请重新选择单位。"
BTN_NEXT = "下一步 ▶"
BTN_SKIP = "跳过"
BTN_CONFIRM = "✅ 确认发布"
BTN_CANCEL = "取消"
BTN_ALL = "全部"
LIST_HEADER = "正在进行的叫应："
LIST_LINE = "第 {cid} 号 {icon}{level}预警 {hazard} · 发布 {issued} · 收到 {acked}/{total} · 报告 {reported}"
LIST_NONE = "当前没有正在进行的叫应。"
LIFT_CHOOSE = "选择要解除的预警："
LIFT_BUTTON = "解除 第{cid}号 {level}{hazard}"
LIFT_CONFIRM = "确认解除第 {cid} 号预警？解除后将通知全部叫应对象，并向您发送叫应总结。"
LIFT_YES = "✅ 确认解除"
LIFT_CANCELLED = "未解除。"
LIFT_DONE = "已解除第 {cid} 号预警，已通知全部叫应对象。"
LIFT_ALREADY = "第 {cid} 号预警已于 {clock} 解除。"

# -- errors (services and CLI) ---------------------------------------------------------------
ERR_LEVEL = "未知预警级别 “{value}”，可用 red/orange/yellow/blue 或 红/橙/黄/蓝 / unknown warning level"
ERR_UNIT = "未知单位 “{value}” / unknown unit"
ERR_TEXT = "预警内容不能为空 / the warning text is empty"
ERR_NO_POLICY = "职责目录没有 {level} 级叫应策略 / duties.yaml has no callout policy for {level}"
ERR_NO_RECIPIENTS = ("按所选级别和单位没有叫应对象（数据库里没有人员时请先运行 dutybot sync）"
                     " / no recipients for this level and these units (run `dutybot sync` first?)")
ERR_NOT_FOUND = "找不到第 {cid} 号叫应 / no callout {cid}"
ERR_LIFTED = "第 {cid} 号叫应已于 {clock} 解除 / callout {cid} was lifted already"
ERR_FILE = "找不到文件 {value} / file not found"
ERR_PERSON = "未知人员 “{value}” / unknown person"
ERR_NOT_OFFICE = "{value} 不是安委办人员，不能发布预警 / only office staff can issue warnings"

# -- campaigns -------------------------------------------------------------------------------
CAMPAIGN_TITLES = ("举一反三隐患排查", "事故防范检查", "重点时段检查")
CAMPAIGN_START = "部署专项检查 · 第1步：选择或回复检查名称"
CAMPAIGN_ROLES = "第2步：选择对象角色（可多选，选好后点「下一步」）\n已选：{chosen}"
CAMPAIGN_UNITS = "第3步：选择单位（可多选，选好后点「下一步」）\n已选：{chosen}"
CAMPAIGN_DEADLINE = "第4步：选择完成期限，或回复日期（如 2026-06-30 或 6月30日）。"
CAMPAIGN_DEADLINE_BAD = "看不懂这个日期，请回复如 2026-06-30 或 6月30日，且须晚于今天。"
CAMPAIGN_NOTE = "第5步：如需补充要求，请回复文字；不需要请点「跳过」。"
CAMPAIGN_CONFIRM = "请确认部署：\n{title}\n对象：{roles} · {units}\n期限：{deadline}\n共 {n} 人：{names}{note}"
CAMPAIGN_LAUNCHED = "已部署“{title}”，{n} 人，期限 {deadline}。"
CAMPAIGN_NO_PEOPLE = "按所选角色和单位没有人员，请重新选择。"
CAMPAIGN_ONLY_OFFICE = "只有安委办人员可以部署专项检查。"
CAMPAIGN_CANCELLED = "已取消部署。"
CAMPAIGN_ALL_ROLES = "全部角色"
CAMPAIGN_DAYS = "{n}天"
CAMPAIGN_SOURCE = "安委办临时部署"
CAMPAIGN_NOTE_LINE = "\n要求：{note}"
ERR_CAMPAIGN_TITLE = "检查名称不能为空 / the campaign needs a title"
ERR_CAMPAIGN_DEADLINE = "期限须晚于现在 / the deadline must be in the future"
ERR_CAMPAIGN_ROLE = "未知角色 “{value}” / unknown role"
ERR_CAMPAIGN_PEOPLE = "按所选角色和单位没有人员 / nobody matches these roles and units"
CAMPAIGN_LEAD = "【专项检查】{issuer}部署了专项检查，请按期完成并上传检查记录"
CAMPAIGN_REMIND_LEAD = "【专项检查提醒】临近截止，请尽快完成并上传检查记录"
