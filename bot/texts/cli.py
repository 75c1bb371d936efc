"""`dutybot` command line: messages for mistakes every command can meet (paths, periods, ranges)."""

# --- a path the user gave (--out, --file, --duties, import-list FILE) -------------------------------------
OUT_EMPTY = "输出文件名为空 / the output file name is empty"
OUT_IS_DIR = "{path} 是一个目录，请给出文件名（如 {path}/导出.xlsx） / {path} is a folder: give a file name in it"
OUT_NO_PARENT = "目录不存在：{parent}（请先创建） / the folder {parent} does not exist: create it first"
OUT_PARENT_NOT_DIR = "{parent} 不是目录 / {parent} is not a folder"
OUT_NOT_WRITABLE = "无法写入 {path}：{reason} / cannot write {path}: {reason}"
OUT_NOT_FILE = "{path} 不是普通文件，不能覆盖 / {path} is not a regular file: refusing to write over it"
READ_FAILED = "无法读取 {path}：{reason} / cannot read {path}: {reason}"
OS_FAILED = "文件操作失败 {path}：{reason} / {path}: {reason}"

# --- values ---------------------------------------------------------------------------------------------
PERIOD_MALFORMED = ("周期格式错误 “{value}”：{why} / malformed period {value!r}: {why_en}。"
                    "应写成 2026-11、2026-Q4、2026-H1、2026、2026-W07、2026-11-2（旬）、2026-11-15 或任务编号 "
                    "/ expected 2026-11, 2026-Q4, 2026-H1, 2026, 2026-W07, 2026-11-2, 2026-11-15 or a task id")
PERIOD_UNKNOWN = ("没有周期 “{value}” 的职责实例，也不是周期或任务编号 / no instances of {value!r}, and it is neither a "
                  "period (2026-11, 2026-Q4, 2026-H1, 2026, 2026-W07, 2026-11-2, 2026-11-15) nor a task id")
DATE_RANGE = "日期须在 {low} 至 {high} 之间 / dates must be between {low} and {high}: {value!r}"
SPAN_TOO_LONG = "日期范围过长（最多 {years} 年） / the range is too long (at most {years} years)"
ID_OUT_OF_RANGE = "编号超出范围 / id out of range: {value!r}"
NUMBER_OUT_OF_RANGE = "数值须在 {low} 至 {high} 之间 / must be between {low} and {high}: {value!r}"
