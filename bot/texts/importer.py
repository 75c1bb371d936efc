"""`dutybot import-list`: the summary printed after drafting and the messages for unreadable files."""

SUMMARY_HEADER = "已起草 / drafted: {out}"
SUMMARY_LIST = "清单 / list: {title}（{year}年{year_note}）"
YEAR_GUESSED = "，文件未写年份"
SUMMARY_CLAUSES = "读取条款 / clauses read: {n}"
SUMMARY_SCHEDULED = "定期职责 / scheduled duties: {n}{by_period}"
SUMMARY_UNSCHEDULED = "无频次职责（仅记录）/ duties without a frequency (kept, not scheduled): {n}"
SUMMARY_TASKS = "任务 / tasks: {tasks}；节前检查 / holiday checks: {checks}"
SUMMARY_ROLES = "角色 / roles: {roles}"
SUMMARY_REVIEW = "待核 / to review: {n} 项（YAML 中标记为 “# 待核”）"
SUMMARY_REVIEW_ITEM = "  - {ref}: {reason} — {text}"
SUMMARY_REVIEW_MORE = "  …… 另有 {n} 项，见草稿开头的待核清单 / {n} more, see the list at the top of the draft"
SUMMARY_NEXT = "下一步 / next: 核对草稿，补全人员后运行 `dutybot check {out}`"
STDOUT = "标准输出 / stdout"
PERIOD_NAMES = {"day": "每日", "week": "每周", "xun": "每旬", "halfmonth": "每半月", "month": "每月",
                "quarter": "每季度", "half": "每半年", "year": "每年"}

ERR_NOT_FOUND = "找不到文件 {path} / file not found."
ERR_UNREADABLE = "无法读取文件 {path}：{reason} / cannot read the file."
ERR_UNSUPPORTED = ("不支持的文件类型 “{ext}”：请提供 .txt、.html 或 .docx（.doc/.pdf 请先另存为 .docx 或 .txt）"
                   " / unsupported file type; use .txt, .html or .docx.")
ERR_ENCODING = "无法识别文件编码 {path}：请另存为 UTF-8 / cannot decode the file; save it as UTF-8."
ERR_DOCX = "无法打开 Word 文档 {path}：文件可能已损坏或不是 .docx / cannot open the .docx file."
ERR_EMPTY = "文件中没有可读的文字 {path} / the file has no readable text."
ERR_WRITE = "无法写入 {path}：{reason} / cannot write the draft."
WARN_NOTHING = "未找到任何条款：请确认这是职责清单 / no clauses found; is this a responsibility list?"
