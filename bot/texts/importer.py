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
ERR_UNSUPPORTED = ("不支持的文件类型 “{ext}”：请提供 .txt、.html、.docx、.doc、.wps 或 .pdf"
                   " / unsupported file type; use .txt, .html, .docx, .doc, .wps or .pdf.")
ERR_PDF = "无法打开 PDF 文件 {path}：文件可能已损坏或不是 PDF / cannot open the PDF file."
ERR_PDF_SCANNED = ("PDF 文件 {path} 没有文字层（共 {pages} 页，可能是扫描件）：需要先做文字识别（OCR），"
                   "或向发文单位索取 Word/文字版 / the PDF has no text layer (a scan?): it needs OCR first.")
ERR_DOC_TOOL = ("读取 Word 97-2003 文档 {path} 需要 antiword：请安装 Debian 软件包 antiword"
                "（apt-get install antiword），或将文件另存为 .docx / reading .doc files needs the Debian package "
                "antiword (apt-get install antiword); or save the file as .docx.")
ERR_DOC = ("无法读取 Word 97-2003 文档 {path}：{reason}；请用 Word/WPS 另存为 .docx 后再试"
           " / cannot read the .doc file; save it as .docx and try again.")
ERR_ENCODING = "无法识别文件编码 {path}：请另存为 UTF-8 / cannot decode the file; save it as UTF-8."
ERR_DOCX = "无法打开 Word 文档 {path}：文件可能已损坏或不是 .docx / cannot open the .docx file."
ERR_EMPTY = "文件中没有可读的文字 {path} / the file has no readable text."
ERR_WRITE = "无法写入 {path}：{reason} / cannot write the draft."
WARN_NOTHING = "未找到任何条款：请确认这是职责清单 / no clauses found; is this a responsibility list?"
