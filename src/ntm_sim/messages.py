"""One catalogue of the texts the dashboard shows, in Vietnamese (default) and English.

Texts are looked up by key and filled with :meth:`str.format` fields
(``Catalogue("en")("run.done", name=…)``); a key missing in a language falls back to
Vietnamese, and a key missing altogether is an error (a test checks both languages hold
the same keys and fields). Problems found in a planner's files
(:class:`ntm_sim.errors.Problem`, written in English by the readers) are shown in the
page's language by :meth:`Catalogue.problem`: where (file, sheet, row, column), what was
expected and what was found in the reader's words, and the most common messages
translated (:data:`PROBLEM_VI`; others stay as the reader wrote them). Times are shown
in Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from ntm_sim.errors import Problem
from ntm_sim.text import format_number_vi

Lang = Literal["vi", "en"]
LANGS: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
MAX_ITEMS = 30  # problems listed on a page; the rest counted (a blank template has thousands)
GROUP_FROM = 4  # this many problems with one message in one column are shown as one line

MESSAGES: dict[str, dict[str, str]] = {
    # page
    "page.title": {"vi": "ntm-sim · So sánh kịch bản", "en": "ntm-sim · Scenario comparison"},
    "page.heading": {"vi": "ntm-sim · So sánh kịch bản xây dựng nông thôn mới",
                     "en": "ntm-sim · New Rural Development scenarios side by side"},
    "page.root": {"vi": "Thư mục kết quả: {root}", "en": "Results folder: {root}"},
    "page.lang": {"vi": "Ngôn ngữ", "en": "Language"},
    "page.disconnect": {"vi": "Mất kết nối với máy chủ (có thể do tệp tải lên quá lớn): hãy tải lại trang. Các kết "
                              "quả đã xong vẫn được giữ.",
                        "en": "Lost the connection to the server (perhaps a file too large was uploaded): reload the "
                              "page. Finished results are kept."},
    "section.indicators": {"vi": "Chỉ tiêu chính", "en": "Headline indicators"},
    "section.progress": {"vi": "Tiến độ", "en": "Progress year by year"},
    "section.baselines": {"vi": "So với cách phân bổ thông thường (cùng các lần thử mô phỏng)",
                          "en": "Against the usual allocation rules (same simulation draws)"},
    "section.risk": {"vi": "Rủi ro (mô phỏng Monte Carlo)", "en": "Risk (Monte Carlo simulation)"},
    "section.communes": {"vi": "Ưu tiên theo xã", "en": "Commune priorities"},
    "section.provenance": {"vi": "Nguồn gốc số liệu", "en": "Where the figures come from"},
    "section.new_run": {"vi": "Thử một kịch bản vốn mới", "en": "Try a new budget scenario"},
    # comparison
    "choose.label": {"vi": "Kịch bản", "en": "Scenarios"},
    "which.label": {"vi": "Ưu tiên theo xã của kịch bản", "en": "Commune priorities of scenario"},
    "download.report": {"vi": "Tải báo cáo cho Ban Chỉ đạo (HTML, dùng được khi không có mạng)",
                        "en": "Download the steering committee's report (HTML, works offline)"},
    "report.none": {"vi": "chọn ít nhất một kịch bản", "en": "tick at least one scenario"},
    "view.empty": {"vi": "Chọn ít nhất một kịch bản (hoặc giải một kịch bản mới ở cuối trang).",
                   "en": "Tick at least one scenario (or solve a new one at the bottom of the page)."},
    "view.failed": {"vi": "Không hiển thị được phần này.", "en": "This section cannot be shown."},
    "ticked.note": {"vi": "Đang so sánh {ticked} trong {total} kịch bản; {left} kịch bản chưa được chọn: tích ô ở "
                          "trên để thêm.",
                    "en": "Comparing {ticked} of {total} scenarios; {left} not ticked: tick them above to add them."},
    "skipped.lead": {"vi": "Bỏ qua thư mục kết quả không đọc được: <b>{folders}</b>. Các kịch bản khác vẫn hiển "
                           "thị. Chi tiết:",
                     "en": "Results folders that cannot be read were skipped: <b>{folders}</b>. The other scenarios "
                           "are shown. Details:"},
    "risk.missing": {"vi": "Chưa mô phỏng rủi ro (chỉ có số liệu trên giấy) cho: <b>{names}</b>. Chạy <code>ntm-sim "
                           "simulate</code> vào thư mục kết quả, hoặc giải lại với số lần thử mô phỏng lớn hơn 0.",
                     "en": "No risk simulation (figures on paper only) for: <b>{names}</b>. Run <code>ntm-sim "
                           "simulate</code> into the results folder, or solve again with more than 0 draws."},
    # new run: widgets
    "run.base": {"vi": "Kịch bản gốc", "en": "Base scenario"},
    "run.scale": {"vi": "Vốn so với kịch bản gốc", "en": "Money against the base scenario"},
    "run.name": {"vi": "Tên kết quả (có dấu được)", "en": "Result name"},
    "run.name_hint": {"vi": "vd. Giảm vốn 20%", "en": "e.g. Budget cut 20%"},
    "run.draws": {"vi": "Số lần thử mô phỏng", "en": "Simulation draws"},
    "run.limit": {"vi": "Thời gian giải tối đa (giây)", "en": "Solver time limit (seconds)"},
    "run.paper": {"vi": "Nhanh: phương án tối ưu trên giấy (không chọn theo mô phỏng)",
                  "en": "Quick: the optimum on paper (not chosen by simulation)"},
    "run.button": {"vi": "Giải và mô phỏng", "en": "Solve and simulate"},
    "run.stop": {"vi": "Dừng lượt chạy", "en": "Stop the run"},
    "run.no_files": {"vi": "Không có tệp kịch bản trong <code>{folder}</code>.",
                     "en": "No scenario files in <code>{folder}</code>."},
    "run.data_note": {"vi": "Dữ liệu của tỉnh (tuỳ chọn): tệp Excel theo mẫu <code>ntm-sim template</code>, tối đa "
                            "{limit} MB; bỏ trống để dùng dữ liệu của kịch bản gốc. Tệp lớn hơn khoảng 15 MB làm "
                            "trình duyệt mất kết nối với máy chủ (khi đó tải lại trang).",
                      "en": "The province's data (optional): an Excel workbook in the <code>ntm-sim template</code> "
                            "layout, at most {limit} MB; leave empty to use the base scenario's data. A file above "
                            "about 15 MB makes the browser lose the server (then reload the page)."},
    # new run: checks
    "check.base": {"vi": "Kịch bản gốc “{value}” không có trong thư mục kịch bản.",
                   "en": "Base scenario “{value}” is not in the scenarios folder."},
    "check.scale": {"vi": "Vốn so với kịch bản gốc phải từ {low}% đến {high}% (nhận được {value}).",
                    "en": "Money against the base scenario must be {low}% to {high}% (got {value})."},
    "check.draws": {"vi": "Số lần thử mô phỏng phải là số nguyên từ {low} đến {high} (nhận được {value}).",
                    "en": "Simulation draws must be a whole number from {low} to {high} (got {value})."},
    "check.limit": {"vi": "Thời gian giải tối đa phải từ {low} đến {high} giây (nhận được {value}).",
                    "en": "The solver time limit must be {low} to {high} seconds (got {value})."},
    "name.empty": {"vi": "Chưa có tên kết quả.", "en": "The result has no name."},
    "name.long": {"vi": "Tên kết quả dài {n} ký tự: tối đa {max} ký tự.",
                  "en": "The result name is {n} characters long: at most {max}."},
    "name.control": {"vi": "Tên kết quả có ký tự điều khiển ({shown}).",
                     "en": "The result name holds control characters ({shown})."},
    "name.no_letters": {"vi": "Tên kết quả cần ít nhất một chữ cái hoặc chữ số.",
                        "en": "The result name needs at least one letter or digit."},
    "upload.one": {"vi": "Chỉ tải lên một tệp.", "en": "Upload one file only."},
    "upload.big": {"vi": "Tệp nặng {size} MB, quá giới hạn {limit} MB: bỏ bớt các trang không cần rồi tải lên lại.",
                   "en": "The file is {size} MB, above the {limit} MB limit: remove the sheets not needed and "
                         "upload it again."},
    "upload.no_name": {"vi": "Tệp tải lên không có tên.", "en": "The uploaded file has no name."},
    # new run: refusals and outcomes
    "refuse.input": {"vi": "Không chạy được: thông tin nhập chưa hợp lệ.", "en": "Not run: the entries are not valid."},
    "refuse.upload": {"vi": "Không chạy được: tệp dữ liệu tải lên không dùng được.",
                      "en": "Not run: the uploaded data file cannot be used."},
    "refuse.unreadable": {"vi": "Không chạy được: không đọc được thư mục kết quả <code>{name}</code>.",
                          "en": "Not run: the results folder <code>{name}</code> cannot be read."},
    "refuse.exists": {"vi": "Đã có kết quả <code>{name}</code> (thư mục <code>{folder}</code>): chọn tên khác.",
                      "en": "A result <code>{name}</code> exists already (folder <code>{folder}</code>): choose "
                            "another name."},
    "refuse.base": {"vi": "Không chạy được: kịch bản gốc chưa dùng được.",
                    "en": "Not run: the base scenario cannot be used."},
    "refuse.running_here": {"vi": "Kết quả <code>{name}</code> đang được giải trong một phiên khác trên máy chủ này: "
                                  "chờ xong rồi tải lại trang để xem, hoặc chọn tên khác.",
                            "en": "The result <code>{name}</code> is being solved in another session on this server: "
                                  "wait until it is done and reload the page, or choose another name."},
    "refuse.running_elsewhere": {"vi": "Không chạy được: một lượt chạy khác (phiên khác hoặc dòng lệnh) đang ghi kết "
                                       "quả <code>{name}</code>. Chờ lượt đó xong rồi tải lại trang, hoặc chọn tên "
                                       "khác.",
                                 "en": "Not run: another run (another session or the command line) is writing the "
                                       "result <code>{name}</code>. Wait until it is done and reload the page, or "
                                       "choose another name."},
    "refuse.write": {"vi": "Không chạy được: không ghi được kết quả <code>{name}</code>. Chi tiết:",
                     "en": "Not run: the result <code>{name}</code> cannot be written. Details:"},
    "refuse.data": {"vi": "Không chạy được: dữ liệu chưa dùng được. Từng lỗi, kèm tệp, trang, dòng và cột:",
                    "en": "Not run: the data cannot be used. Each problem, with file, sheet, row and column:"},
    "run.progress": {"vi": "Đang chạy <code>{name}</code>: <b>{stage}</b>…", "en": "Running <code>{name}</code>: "
                                                                                 "<b>{stage}</b>…"},
    "run.elapsed": {"vi": "đã chạy {time}", "en": "running for {time}"},
    "run.stopping": {"vi": "Đang dừng lượt chạy…", "en": "Stopping the run…"},
    "run.cancelled": {"vi": "Đã dừng lượt chạy <code>{name}</code> sau {time}: không ghi kết quả nào.",
                      "en": "Stopped the run <code>{name}</code> after {time}: no result was written."},
    "run.unreadable": {"vi": "Đã ghi kết quả <code>{name}</code> nhưng không đọc lại được để so sánh:",
                       "en": "The result <code>{name}</code> was written but cannot be read back for the comparison:"},
    "run.done": {"vi": "Xong lúc {clock} (giờ Việt Nam): <code>{name}</code> đã được thêm vào so sánh (mất {time}).",
                 "en": "Done at {clock} (Vietnam time): <code>{name}</code> was added to the comparison (took "
                       "{time})."},
    "run.title": {"vi": "{base} – vốn {pct}%", "en": "{base} – money {pct}%"},
    "time.seconds": {"vi": "{s} giây", "en": "{s} s"},
    "time.minutes": {"vi": "{m} phút {s:02d} giây", "en": "{m} min {s:02d} s"},
    "stage.start": {"vi": "đang khởi động", "en": "starting"},
    "stage.data": {"vi": "đang đọc dữ liệu", "en": "reading the data"},
    "stage.weights": {"vi": "đang ước lượng khả năng thành công của từng xã",
                      "en": "estimating each commune's chance of success"},
    "stage.solve": {"vi": "đang giải mô hình tối ưu", "en": "solving the optimisation model"},
    "stage.train": {"vi": "đang chọn phương án bằng mô phỏng", "en": "choosing the plan by simulation"},
    "stage.judge": {"vi": "đang kiểm tra phương án trên các lần thử mới", "en": "judging the plan on fresh draws"},
    "stage.simulate": {"vi": "đang mô phỏng rủi ro", "en": "simulating the risks"},
    "stage.write": {"vi": "đang ghi kết quả", "en": "writing the results"},
    "error.unexpected": {"vi": "Không chạy được: lỗi không mong đợi (hãy báo lại kèm tệp đã dùng).",
                         "en": "Not run: an unexpected error (please report it with the file used)."},
    # scenario editor
    "edit.title": {"vi": "Sửa kịch bản: mục tiêu, khoá xã, vốn theo nguồn",
                   "en": "Edit the scenario: target, a commune lock, money by source"},
    "edit.target": {"vi": "Mục tiêu số xã đạt chuẩn NTM cuối kỳ", "en": "Target: communes NTM by the end"},
    "edit.commune": {"vi": "Khoá một xã", "en": "Lock a commune"},
    "edit.no_lock": {"vi": "(không khoá xã nào)", "en": "(no lock)"},
    "edit.action": {"vi": "Cách khoá", "en": "Lock"},
    "edit.force": {"vi": "bắt buộc đạt chuẩn", "en": "must reach NTM"},
    "edit.forbid": {"vi": "không cấp vốn", "en": "no money"},
    "edit.source": {"vi": "Nguồn vốn", "en": "Funding source"},
    "edit.no_source": {"vi": "(giữ mọi nguồn)", "en": "(every source as it is)"},
    "edit.source_pct": {"vi": "Vốn của nguồn này (%)", "en": "This source's money (%)"},
    "edit.check": {"vi": "Kiểm tra kịch bản", "en": "Check the scenario"},
    "edit.save": {"vi": "Tải kịch bản (YAML)", "en": "Download the scenario (YAML)"},
    "edit.display": {"vi": "kịch bản đã sửa", "en": "edited scenario"},
    "edit.valid": {"vi": "Kịch bản hợp lệ: tải về, hoặc giải và mô phỏng.",
                   "en": "The scenario is valid: download it, or solve and simulate it."},
    "edit.invalid": {"vi": "Kịch bản chưa hợp lệ:", "en": "The scenario is not valid:"},
    "edit.loading": {"vi": "Không đọc được dữ liệu của kịch bản gốc:", "en": "The base scenario's data cannot be "
                                                                          "read:"},
    # commune table
    "table.rank": {"vi": "Thứ tự", "en": "Rank"},
    "table.commune": {"vi": "Xã", "en": "Commune"},
    "table.district": {"vi": "Huyện", "en": "District"},
    "table.group": {"vi": "Nhóm xã", "en": "Commune group"},
    "table.met": {"vi": "Tiêu chí đầu kỳ", "en": "Criteria met at the start"},
    "table.money": {"vi": "Vốn cần (tỷ đồng)", "en": "Money needed (billion VND)"},
    "table.year": {"vi": "Năm đạt chuẩn", "en": "Year NTM"},
    "table.never": {"vi": "chưa đạt", "en": "not reached"},
    "table.chance": {"vi": "Khả năng đạt chuẩn đến {year} (%, mô phỏng)", "en": "Chance of NTM by {year} (%, "
                                                                              "simulated)"},
    "table.missing": {"vi": "Tiêu chí còn thiếu cuối kỳ", "en": "Criteria still missing at the end"},
    "table.reason": {"vi": "Lý do", "en": "Reason"},
    "table.all_districts": {"vi": "Tất cả các huyện", "en": "Every district"},
    "table.search": {"vi": "Tìm xã", "en": "Find a commune"},
    "table.search_hint": {"vi": "gõ tên xã, có dấu hoặc không", "en": "type a commune's name"},
    "table.download": {"vi": "Tải bảng (Excel)", "en": "Download the table (Excel)"},
    "table.file": {"vi": "uu_tien_theo_xa.xlsx", "en": "commune_priorities.xlsx"},
    "table.sheet": {"vi": "Ưu tiên theo xã", "en": "Commune priorities"},
    "table.decimal": {"vi": ",", "en": "."},
    "table.thousand": {"vi": ".", "en": ","},
    # problems
    "problem.file": {"vi": "tệp {0}", "en": "file {0}"},
    "problem.sheet": {"vi": "trang ‘{0}’", "en": "sheet ‘{0}’"},
    "problem.row": {"vi": "dòng {0}", "en": "row {0}"},
    "problem.rows": {"vi": "{n} dòng ({rows})", "en": "{n} rows ({rows})"},
    "problem.column": {"vi": "cột {0}", "en": "column {0}"},
    "problem.expected": {"vi": "cần {0}", "en": "expected {0}"},
    "problem.found": {"vi": "nhận được ‘{0}’", "en": "found ‘{0}’"},
    "problem.warning": {"vi": "cảnh báo", "en": "warning"},
    "problem.more": {"vi": "… và {n} lỗi khác (sửa các lỗi trên rồi tải lên lại để xem tiếp).",
                     "en": "… and {n} more (fix those above and upload again to see the rest)."},
}

# the readers' most common messages (English, see ntm_sim.io) in Vietnamese: pattern → template
PROBLEM_VI: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^unrecognised status for (\S+)$", "không hiểu trạng thái của {0}"),
    (r"^empty status for (\S+)$", "trạng thái của {0} để trống"),
    (r"^status for (\S+) is a formula whose result was never saved$",
     "trạng thái của {0} là công thức chưa được lưu kết quả (mở tệp trong Excel và lưu lại)"),
    (r"^another ntm-sim run is writing here now; nothing was written$",
     "một lượt chạy ntm-sim khác đang ghi vào đây; chưa ghi gì"),
    (r"^to wait until it has finished, or another output name$", "chờ lượt đó xong, hoặc chọn tên khác"),
    (r"^a run in progress$", "một lượt chạy đang diễn ra"),
    (r"^file type not accepted$", "loại tệp không được nhận"),
    (r"^an Excel workbook \(\.xlsx\) or a CSV$", "tệp Excel (.xlsx) hoặc CSV"),
    (r"^no extension$", "không có phần mở rộng"),
    (r"^cannot be opened as an Excel workbook \((.*)\)$", "không mở được như một tệp Excel ({0})"),
    (r"^an \.xlsx file saved by Excel or LibreOffice$", "tệp .xlsx lưu bằng Excel hoặc LibreOffice"),
    (r"^old \.xls format is not supported$", "định dạng .xls cũ không được hỗ trợ: lưu lại thành .xlsx"),
    (r"^header row not found(.*)$", "không tìm thấy dòng tiêu đề{0}"),
    (r"^no data rows$", "không có dòng dữ liệu"),
    (r"^the status table has no commune rows$", "bảng trạng thái không có dòng xã nào"),
    (r"^one row per commune below the header$", "mỗi xã một dòng, dưới dòng tiêu đề"),
    (r"^no commune column(?: found)?$", "không có cột xã"),
    (r"^column '(.*)' not found$", "không thấy cột ‘{0}’"),
    (r"^no column for (\S+) \((.*)\)$", "không có cột cho {0} ({1})"),
    (r"^commune (.+) appears twice(.*)$", "xã {0} xuất hiện hai lần{1}"),
    (r"^district (.+) is not in the (.+) list$", "huyện {0} không có trong danh sách {1}"),
    (r"^file not found$", "không tìm thấy tệp"),
    (r"^not valid JSON \((.*)\)$", "không phải JSON hợp lệ ({0})"),
    (r"^a results folder written by 'ntm-sim solve'$", "một thư mục kết quả do ‘ntm-sim solve’ ghi"),
    (r"^key '(.+)': Input should be greater than or equal to (.+)$", "khoá ‘{0}’: phải lớn hơn hoặc bằng {1}"),
    (r"^key '(.+)': (.+)$", "khoá ‘{0}’: {1}"),
    (r"^file is too large to read \((.*)\)$", "tệp quá lớn để đọc ({0})"),
    (r"^'Đạt' or 'Chưa đạt' \(also x, 1/0\)$", "‘Đạt’ hoặc ‘Chưa đạt’ (hoặc x, 1/0)"),
    (r"^scenario not valid: (.*)$", "kịch bản không hợp lệ: {0}"),
    (r"^the run ended unexpectedly \(exit code (-?\d+)\)$", "lượt chạy dừng bất thường (mã thoát {0})"),
    (r"^unexpected error: (.*)$", "lỗi không mong đợi: {0}"),
]]


def translate_problem_text(text: str) -> str:
    """A reader's message (or expected/found text) in Vietnamese when it is a known one, else as it is."""
    for pattern, template in PROBLEM_VI:
        m = pattern.match(text)
        if m:
            return template.format(*m.groups())
    return text


@dataclass(frozen=True)
class Catalogue:
    """The texts of one language: ``t("run.done", name=…)``.

    Parameters
    ----------
    lang
        ``vi`` (default) or ``en``; anything else is Vietnamese.
    """

    lang: Lang = "vi"

    @classmethod
    def of(cls, lang: object) -> Catalogue:
        """The catalogue of ``lang`` as a client sent it (unknown values: Vietnamese)."""
        return cls("en" if lang == "en" else "vi")

    def __call__(self, key: str, *args: object, **fields: object) -> str:
        """The text of ``key`` in this language, its fields filled in."""
        entry = MESSAGES[key]
        return entry.get(self.lang, entry["vi"]).format(*args, **fields)

    def number(self, value: float, decimals: int = 0) -> str:
        """A number in this language's format (Vietnamese: ``1.234,5``; English: ``1,234.5``)."""
        text = format_number_vi(value, decimals)
        if self.lang == "vi":
            return text
        return text.translate(str.maketrans({".": ",", ",": "."}))

    def duration(self, seconds: float) -> str:
        """Elapsed time: ``1 phút 05 giây`` / ``1 min 05 s``."""
        m, s = divmod(int(seconds), 60)
        return self("time.minutes", m=m, s=s) if m else self("time.seconds", s=s)

    def problem_text(self, text: str) -> str:
        """A reader's text in this language when it is a known one."""
        return translate_problem_text(text) if self.lang == "vi" else text

    def problem(self, p: Problem, rows: list[int] | None = None) -> str:
        """One problem in this language: where, what, what was expected and found.

        ``rows``: the rows of a group of problems with one message (shown as a count and
        the first and last rows).
        """
        where = [self("problem.file", p.file)]
        if p.sheet is not None:
            where.append(self("problem.sheet", p.sheet))
        if rows:
            span = self.number(rows[0]) if len(rows) == 1 else f"{self.number(rows[0])}–{self.number(rows[-1])}"
            where.append(self("problem.rows", n=self.number(len(rows)), rows=span))
        elif p.row is not None:
            where.append(self("problem.row", p.row))
        if p.column is not None:
            where.append(self("problem.column", p.column))
        text = f"{', '.join(where)}: {self.problem_text(p.message)}"
        if p.severity == "warning":
            text = f"{self('problem.warning')}: {text}"
        if p.expected is not None:
            text += "; " + self("problem.expected", self.problem_text(p.expected))
        if p.found is not None and not rows:
            text += "; " + self("problem.found", self.problem_text(p.found))
        return text

    def problems(self, problems: Iterable[Problem], limit: int = MAX_ITEMS) -> list[str]:
        """Problems as lines to list: one message repeated down a column is one line, at most ``limit`` lines."""
        groups: dict[tuple, list[Problem]] = {}
        for p in problems:
            key = (p.file, p.sheet, p.column, p.message, p.expected, p.severity)
            groups.setdefault(key, []).append(p)
        lines = []
        for found in groups.values():
            rows = sorted(p.row for p in found if p.row is not None)
            if len(found) >= GROUP_FROM and len(rows) == len(found):
                lines.append(self.problem(found[0], rows))
            else:
                lines += [self.problem(p) for p in found]
        if len(lines) > limit:
            return [*lines[:limit], self("problem.more", n=self.number(len(lines) - limit))]
        return lines


def vietnam_time(moment: datetime | None = None) -> datetime:
    """``moment`` (default: now) in Vietnam time, UTC+7."""
    return (moment or datetime.now(VIETNAM_TIME)).astimezone(VIETNAM_TIME)


def folder_name(label: str, limit: int = 64) -> str:
    """A safe results-folder name for a result named ``label`` (diacritics dropped, ``đ`` → ``d``).

    Letters and digits are kept, every other run of characters becomes ``_``; the name
    never starts with a dot, never is empty when ``label`` holds a letter or digit.
    """
    import unicodedata

    text = unicodedata.normalize("NFD", label.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^A-Za-z0-9.-]+", "_", unicodedata.normalize("NFC", text)).strip("_.-")
    return text[:limit].rstrip("_.-")
