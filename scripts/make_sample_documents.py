"""Write the sample agendas' documents (agendas/docs/*.pdf): a few pages of real text each.

Run once by the developers; the PDFs are committed so `make run` needs nothing more.
Usage: .venv/bin/python scripts/make_sample_documents.py
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from server.paper.certificates.fonts import register_fonts

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, title: str, meeting: str, pages: int, font: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(title)
    width, height = A4
    for n in range(1, pages + 1):
        pdf.setFont(font, 11)
        pdf.drawString(60, height - 50, meeting)
        pdf.setFont(font, 18)
        pdf.drawCentredString(width / 2, height - 110, title)
        pdf.setFont(font, 12)
        y = height - 160
        for line in range(1, 30):
            pdf.drawString(
                70,
                y,
                f"第{n}页 · 第{line}条  本条内容为示例文本，供无纸化会议演示使用。 Sample text, page {n}, line {line}.",
            )
            y -= 22
        pdf.setFont(font, 9)
        pdf.drawCentredString(width / 2, 30, f"— {n} / {pages} —")
        pdf.showPage()
    pdf.save()


def main() -> None:
    font = register_fonts().text
    for agenda in sorted((ROOT / "agendas").glob("*.toml")):
        data = tomllib.loads(agenda.read_text(encoding="utf-8"))
        for item in data["items"]:
            for i, doc in enumerate(item.get("documents", [])):
                write(agenda.parent / doc["file"], doc["title"], data["meeting"]["title"], 2 + i % 3, font)
                print("wrote", doc["file"])


if __name__ == "__main__":
    main()
