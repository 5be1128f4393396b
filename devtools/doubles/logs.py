"""A log package that looks like what CodeArts Check returns, for triage tests and the demo.

The story it tells: of five tools, `secbrella` timed out on one file and its licence check
failed, `cppcheck` found a null dereference, and the C build (logged in Chinese, GB18030) did
not find a header. By the built-in pattern it holds exactly `PROBLEM_LINES` problem lines, plus
lines that look alarming but are not whole words (`0 errors`, `error_count=0`,
`failed_tools`, `java.lang.NullPointerException`).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta

PROBLEM_LINES = 8
"""Problem lines in `realistic_log_package` by the built-in triage pattern."""
MAIN_LOG_LINES = 267
_STAMP = (2026, 2, 3, 10, 10, 0)
_START = datetime(2026, 2, 3, 10, 0, 0)
_TOOLS = ("secbrella", "cppcheck", "pclint", "fossbot", "codemars")


def realistic_log_package(sub_job_id: str) -> bytes:
    """The ZIP (deflated, deterministic, about 4 KiB; 20 KiB of logs) for `sub_job_id`."""
    members = {
        f"{sub_job_id}/codecheck.log": _main_log(sub_job_id).encode(),
        f"{sub_job_id}/summary.json": _summary(sub_job_id).encode(),
        f"{sub_job_id}/tools/secbrella.log": _secbrella_log().encode(),
        f"{sub_job_id}/tools/cppcheck.log": _cppcheck_log().encode(),
        f"{sub_job_id}/tools/编译构建.log": _build_log().encode("gb18030"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            # A ZipInfo keeps its own method (stored by default), whatever the archive's is.
            info = zipfile.ZipInfo(name, _STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _at(seconds: float) -> str:
    return (_START + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _main_log(sub_job_id: str) -> str:
    lines = [
        f"{_at(0)} INFO  [main] CodeArts Check engine 3.2.1 starting sub-job {sub_job_id}",
        f"{_at(0.12)} INFO  [main] workspace /opt/cloud/workspace/{sub_job_id}",
        f"{_at(0.4)} INFO  [config] rule set 'default' (1,204 rules), languages: C, C++",
        f"{_at(0.5)} DEBUG [config] failOnError=false, incremental=false",
    ]
    for batch in range(1, 121):
        second = 2 + batch * 2
        lines.append(f"{_at(second)} INFO  [scheduler] dispatch batch {batch}/120 (42 files)")
        tool = _TOOLS[batch % len(_TOOLS)]
        lines.append(f"{_at(second + 0.8)} INFO  [{tool}] batch {batch} done in 0.8 s")
        if batch == 61:
            lines += [
                f"{_at(second + 0.9)} ERROR [secbrella] analysis of src/net/socket.c failed: "
                "timeout after 600 s",
                f"{_at(second + 0.95)} WARN  [secbrella] retrying src/net/socket.c with the "
                "reduced rule set",
            ]
        if batch == 90:
            lines += [
                f"{_at(second + 0.9)} ERROR [rule-engine] Exception in worker thread 3",
                "java.lang.IllegalStateException: rule engine not initialised",
                "\tat com.huawei.codecheck.engine.Worker.run(Worker.java:214)",
                "Caused by: java.lang.NullPointerException",
                "\tat com.huawei.codecheck.engine.RuleCache.get(RuleCache.java:88)",
            ]
    lines += [
        f"{_at(250)} INFO  [report] module net: 0 errors, 3 warnings, 7 defects",
        f"{_at(250.1)} INFO  [report] error_count=0 warning_count=3 defect_count=12",
    ]
    lines += [f"{_at(251 + i)} INFO  [upload] result part {i + 1}/12 sent" for i in range(12)]
    lines += [
        f"{_at(290)} INFO  [main] 2 of 5 tools failed; results are partial",
        f"{_at(290.2)} INFO  [main] sub-job {sub_job_id} finished with status FAILED",
    ]
    return "\n".join(lines) + "\n"


def _summary(sub_job_id: str) -> str:
    summary = {
        "sub_job_id": sub_job_id,
        "status": "completed",
        "tools_total": len(_TOOLS),
        "failed_tools": 2,
        "error_count": 0,
        "defects": {"critical": 1, "major": 4, "minor": 7},
    }
    return json.dumps(summary, indent=2) + "\n"


def _secbrella_log() -> str:
    return (
        "secbrella 2.4.0 scanning 118 files\n"
        + "".join(f"rule SEC-C-{n:04d}: 0 findings\n" for n in range(1, 31))
        + "rule scan complete: 3 defects, errors: 0\n"
        + "FATAL: licence check failed for module crypto\n"
    )


def _cppcheck_log() -> str:
    files = ("src/net/socket.c", "src/util/str.c", "src/main.c")
    return (
        "".join(f"Checking {path} ...\n" for path in files)
        + "src/net/socket.c:88:5: error: Null pointer dereference: conn [nullPointer]\n"
        + "src/util/str.c:12:9: style: Variable 'n' is assigned a value that is never used. "
        "[unreadVariable]\n"
        + "nofile:0:0: information: Unmatched suppression: missingInclude [unmatchedSuppression]\n"
    )


def _build_log() -> str:
    return (
        "2026-02-03 10:01:00 信息 开始编译 (gcc 10.3.1)\n"
        "2026-02-03 10:01:42 信息 编译进度 50%\n"
        "2026-02-03 10:02:30 错误 编译失败: 找不到头文件 openssl/ssl.h\n"
        "2026-02-03 10:02:31 信息 构建进程异常退出 (退出码 2)\n"
        "2026-02-03 10:02:31 信息 已生成编译数据库 compile_commands.json\n"
    )
