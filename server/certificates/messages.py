"""Every text a person reads on a printed certificate or record, in zh-CN and en.

Labels live here and nowhere else, so a translation or a wording change made for one
legislature's practice (e.g. 未按 vs 未表决) reaches every paper at once. Values that the
catalogue does not know (a new kind's field or option) fall back to a readable form of
the key rather than failing, so new ballot kinds print without code changes.
"""
from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo

LANGUAGES = ("zh-CN", "en")

_ZH: Mapping[str, str] = MappingProxyType({
    "certificate.title": "表决结果单",
    "record.title": "会议记录",
    "annex.title": "附件：记名表决情况",
    "meeting": "会议", "body": "机关", "term": "届次", "session": "会次", "date": "日期",
    "item": "议题", "ballot": "表决事项", "kind": "表决方式", "rule": "通过规则", "run": "表决轮次",
    "run.value": "第{run}次", "run.rerun": "第{run}次（重新表决）",
    "opened": "开始时间", "closed": "结束时间", "status": "状态",
    "named": "记名", "secret": "无记名",
    "secret.note": "本次为无记名表决：只公布票数，不记录、不显示任何人的表决内容。",
    "urn": "选票集合摘要（排序后 SHA-256）",
    "log.position": "记录位置", "log.position.value": "第 {seq} 条", "log.digest": "记录摘要（SHA-256）",
    "qr.caption": "扫描二维码，可与会议记录核对",
    "seated": "应到", "present": "实到", "voted": "已表决", "not_voted": "未按", "invalid": "无效",
    "lines.label": "事项", "result": "表决结果",
    "sign.chair": "主持人（签字）", "sign.clerk": "工作人员（签字）", "sign.date": "日期",
    "seat": "席位", "name": "姓名", "choice": "表决情况", "no_choice": "未按",
    "page": "第 {page} 页 / 共 {total} 页",
    "voided": "本轮表决已作废，结果不计入（已重新表决）",
    "attendance": "出席情况", "attendance.present": "出席", "attendance.leave": "请假",
    "attendance.absent": "缺席", "attendance.count": "{label}（{n}人）", "attendance.none": "无",
    "ballots": "表决情况", "key": "核验信息", "key.fingerprint": "服务器签名公钥指纹（SHA-256）",
    "key.public": "服务器签名公钥（Ed25519，PEM）", "log.head": "记录末条",
    "generated": "生成时间",
    "datetime": "{y}年{m}月{d}日 {H:02d}:{M:02d}:{S:02d}",
    "yes": "是", "no": "否", "list.sep": "、", "pair.sep": "：",
})

_EN: Mapping[str, str] = MappingProxyType({
    "certificate.title": "Tally certificate",
    "record.title": "Sitting record",
    "annex.title": "Annex: named vote",
    "meeting": "Meeting", "body": "Body", "term": "Term", "session": "Session", "date": "Date",
    "item": "Agenda item", "ballot": "Ballot", "kind": "Kind", "rule": "Rule", "run": "Run",
    "run.value": "{run}", "run.rerun": "{run} (re-run)",
    "opened": "Opened", "closed": "Closed", "status": "Status",
    "named": "named", "secret": "secret",
    "secret.note": "Secret ballot: only the counts are published; nobody's choice is recorded or shown.",
    "urn": "Ballot set digest (sorted, SHA-256)",
    "log.position": "Log position", "log.position.value": "entry {seq}", "log.digest": "Log entry digest (SHA-256)",
    "qr.caption": "Scan to check against the record",
    "seated": "Seated", "present": "Present", "voted": "Voted", "not_voted": "Not voted", "invalid": "Invalid",
    "lines.label": "Question", "result": "Result",
    "sign.chair": "Chair (signature)", "sign.clerk": "Clerk (signature)", "sign.date": "Date",
    "seat": "Seat", "name": "Name", "choice": "Vote", "no_choice": "not voted",
    "page": "Page {page} of {total}",
    "voided": "This run was voided and does not count (the ballot was re-run)",
    "attendance": "Attendance", "attendance.present": "Present", "attendance.leave": "On leave",
    "attendance.absent": "Absent", "attendance.count": "{label} ({n})", "attendance.none": "none",
    "ballots": "Ballots", "key": "Verification", "key.fingerprint": "Server signing key fingerprint (SHA-256)",
    "key.public": "Server signing public key (Ed25519, PEM)", "log.head": "Last log entry",
    "generated": "Generated",
    "datetime": "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}",
    "yes": "yes", "no": "no", "list.sep": ", ", "pair.sep": ": ",
})

# Option names, verdicts and other values a result may carry.
_VALUES_ZH: Mapping[str, str] = MappingProxyType({
    "for": "赞成", "against": "反对", "abstain": "弃权", "not_voted": "未按",
    "satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
    "write_in": "另选他人", "passed": "通过", "failed": "未通过", "elected": "当选",
    "not_elected": "未当选", "tie": "票数相等", "further_round": "需再次投票",
    "appoint": "任命", "remove": "免职", "selected": "入选", "not_selected": "未入选",
    "motion": "表决", "appointment": "人事任免", "election": "选举", "selection": "评选",
    "evaluation": "满意度测评", "score": "测评打分", "voided": "已作废", "closed": "已结束",
    "further_round_needed": "需再次投票", "tie_at_last_seat": "末位票数相等", "mixed": "见各项结果",
    "decided": "已确定", "scored": "已评分", "invalid": "无效",
})
_VALUES_EN: Mapping[str, str] = MappingProxyType({
    "for": "For", "against": "Against", "abstain": "Abstain", "not_voted": "Not voted",
    "satisfied": "Satisfied", "basically_satisfied": "Basically satisfied", "dissatisfied": "Dissatisfied",
    "write_in": "Write-in", "passed": "Passed", "failed": "Not passed", "elected": "Elected",
    "not_elected": "Not elected", "tie": "Tie", "further_round": "Further round needed",
    "appoint": "Appoint", "remove": "Remove", "selected": "Selected", "not_selected": "Not selected",
    "motion": "Motion vote", "appointment": "Appointment vote", "election": "Election",
    "selection": "Selection", "evaluation": "Satisfaction evaluation", "score": "Scoring",
    "voided": "voided", "closed": "closed",
    "further_round_needed": "Further round needed", "tie_at_last_seat": "Tie at the last seat",
    "mixed": "See each line", "decided": "Decided", "scored": "Scored", "invalid": "Invalid",
})

# Column headings for the per-line fields kinds add to the result form.
_FIELDS_ZH: Mapping[str, str] = MappingProxyType({
    "verdict": "结果", "elected": "是否当选", "rank": "名次", "percent": "百分比", "mean": "平均分",
    "median": "中位数", "trimmed_mean": "去掉最高最低分后平均分", "further_round": "需再次投票",
    "needed": "通过所需票数", "base_value": "计算基数", "post": "职务", "action": "任免",
    "votes": "得票", "selected": "是否入选", "total": "合计", "grade": "等次",
    "write_in": "另选他人", "unmarked": "未标记", "passed": "是否通过", "tied": "票数相等",
    "eligible": "达到最低票数", "not_voted": "未按", "invalid": "无效", "unscored": "未评分",
    "min": "最低分值", "max": "最高分值", "count": "有效评分数", "sum": "总分", "lowest": "最低分",
    "highest": "最高分", "trimmed_count": "去掉最高最低后评分数", "note": "备注",
})
_FIELDS_EN: Mapping[str, str] = MappingProxyType({
    "verdict": "Verdict", "elected": "Elected", "rank": "Rank", "percent": "Percent", "mean": "Mean",
    "median": "Median", "trimmed_mean": "Trimmed mean", "further_round": "Further round",
    "needed": "Needed", "base_value": "Base", "post": "Post", "action": "Action",
    "votes": "Votes", "selected": "Selected", "total": "Total", "grade": "Grade",
    "write_in": "Write-in", "unmarked": "Unmarked", "passed": "Passed", "tied": "Tied",
    "eligible": "Eligible", "not_voted": "Not voted", "invalid": "Invalid", "unscored": "Unscored",
    "min": "Scale min", "max": "Scale max", "count": "Scores", "sum": "Sum", "lowest": "Lowest",
    "highest": "Highest", "trimmed_count": "Trimmed count", "note": "Note",
})

# Fields whose true/false reads better as a word of their own.
_BOOL_WORDS = MappingProxyType({
    "elected": ("elected", "not_elected"),
    "selected": ("selected", "not_selected"),
})

_RULE_ZH = MappingProxyType({
    ">": "超过", ">=": "达到",
    "seated": "全体组成人员", "present": "出席人员", "cast": "投票总数", "cast_excluding_abstain": "投票总数（不含弃权）",
})
_RULE_EN = MappingProxyType({
    ">": "more than", ">=": "at least",
    "seated": "all seated members", "present": "the members present", "cast": "the votes cast",
    "cast_excluding_abstain": "the votes cast excluding abstentions",
})

_CATALOGUE = MappingProxyType({
    "zh-CN": (_ZH, _VALUES_ZH, _FIELDS_ZH, _RULE_ZH),
    "en": (_EN, _VALUES_EN, _FIELDS_EN, _RULE_EN),
})

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """0..9999 in Chinese numerals as used in rules: 2 → 二, 10 → 十, 105 → 一百零五."""
    if not 0 <= n <= 9999:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = (n // value) % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (digit == 1 and unit == "十" and not out) else _DIGITS[digit]) + unit
    return out


class Messages:
    """Look-ups in one language, with readable fallbacks for keys the catalogue lacks."""

    def __init__(self, language: str) -> None:
        if language not in _CATALOGUE:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        self.language = language
        self._text, self._values, self._fields, self._rule = _CATALOGUE[language]

    def __call__(self, key: str, **kw: Any) -> str:
        return self._text[key].format(**kw) if kw else self._text[key]

    def value(self, key: Any) -> str:
        """An option, verdict or kind name; unknown values print as themselves."""
        text = str(key)
        return self._values.get(text, text)

    def field(self, key: str) -> str:
        return self._fields.get(key, key.replace("_", " ").capitalize())

    def boolean(self, field: str, flag: bool) -> str:
        words = _BOOL_WORDS.get(field)
        if words:
            return self.value(words[0] if flag else words[1])
        return self("yes") if flag else self("no")

    def datetime(self, epoch: float | None, tz: str | None = None) -> str:
        """Epoch seconds as local wall-clock text (the meeting's zone if given)."""
        if epoch is None:
            return "—"
        zone = ZoneInfo(tz) if tz else None
        t = datetime.fromtimestamp(epoch, zone) if zone else datetime.fromtimestamp(epoch).astimezone()
        return self("datetime", y=t.year, m=t.month, d=t.day, H=t.hour, M=t.minute, S=t.second)

    def rule(self, rule: Mapping[str, Any]) -> str:
        """The threshold in words, e.g. 赞成票超过全体组成人员的二分之一."""
        frac = Fraction(str(rule.get("fraction", "1/2")))
        cmp = self._rule.get(str(rule.get("cmp", ">")), str(rule.get("cmp")))
        base = self._rule.get(str(rule.get("base", "seated")), str(rule.get("base")))
        option = self.value(rule.get("option", "for"))
        constant = int(rule.get("constant", 0) or 0)
        if self.language == "zh-CN":
            if frac == 0:
                return f"{option}票{cmp}{constant}票"
            share = "全部" if frac == 1 else f"{chinese_number(frac.denominator)}分之{chinese_number(frac.numerator)}"
            text = f"{option}票{cmp}{base}的{share}"
            if constant:
                text += f"{'加' if constant > 0 else '减'}{abs(constant)}票"
            return text
        if frac == 0:
            return f"{option} votes {cmp} {constant}"
        share = "all" if frac == 1 else f"{frac.numerator}/{frac.denominator} of"
        text = f"{option} votes {cmp} {share} {base}"
        if constant:
            text += f" {'plus' if constant > 0 else 'minus'} {abs(constant)}"
        return text
