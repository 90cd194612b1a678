"""The no-objection certificate (公示无异议证明) of a publicity notice, as a one-page A4 PDF.

Chinese text uses reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): the PDF names the font and the
reader supplies the glyphs, so no font file ships with the application. The certificate carries its code
and the address of the public verification page, where anyone can check it without logging in.
"""

from io import BytesIO

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from listings.models import Publicity, PublicityStatus
from listings.presentation import yuan
from marketplace.taxonomy import ListingType

FONT = "STSong-Light"
_registered = False


def _register_font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


def verification_url(code: str) -> str:
    """The absolute address of the verification page, without a language prefix (the default language)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("publicity_verify_code", kwargs={"code": code})
    return f"{settings.SITE_URL}{path}"


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` points; CJK text has no spaces, so break anywhere."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, FONT, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    if line:
        lines.append(line)
    return lines or [""]


def _date(value) -> str:
    return timezone.localtime(value).strftime("%Y年%m月%d日")


def certificate_pdf(publicity: Publicity) -> bytes:
    """Render the certificate of a certified publicity notice. The wording is the binding Chinese one."""
    if publicity.status != PublicityStatus.CERTIFIED or not publicity.certificate_code:
        raise ValueError("Only a certified publicity notice has a certificate.")
    _register_font()
    deal = publicity.deal
    listing = deal.listing
    with translation.override("zh-hans"):
        listing_type = str(dict(ListingType.choices).get(listing.listing_type, listing.listing_type))
        platform = str(settings.PLATFORM_NAME)
    code = publicity.certificate_code
    url = verification_url(code)

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"公示无异议证明 {code}")
    pdf.setAuthor(platform)
    pdf.setSubject(listing.title)
    width, height = A4
    left, right = 25 * mm, width - 25 * mm

    pdf.setLineWidth(1.2)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    pdf.setFont(FONT, 24)
    pdf.drawCentredString(width / 2, height - 45 * mm, "科技成果转化公示无异议证明")
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(width / 2, height - 54 * mm, f"证明编号：{code}")

    intro = (
        f"下列职务科技成果转化事项已于{_date(publicity.starts_at)}至{_date(publicity.ends_at)}在{platform}"
        "进行公示。公示期内未收到异议，或所收到的异议经平台审查未予支持。特此证明。"
    )
    y = height - 72 * mm
    pdf.setFont(FONT, 12)
    for line in _wrap(intro, right - left, 12):
        pdf.drawString(left, y, line)
        y -= 7 * mm

    rows = [
        ("成果名称", listing.title),
        ("成果类型", listing_type),
        ("专利号/登记号", listing.patent_number or "—"),
        ("转让方（成果完成单位）", listing.owner.name),
        ("受让方", deal.buyer.name),
        ("成交价格", f"人民币 {yuan(deal.price)} 元".replace("¥", "")),
        ("成交日期", _date(deal.concluded_at)),
        ("公示期", f"{_date(publicity.starts_at)} 至 {_date(publicity.ends_at)}"),
        ("出具日期", _date(publicity.certified_at or timezone.now())),
    ]
    y -= 6 * mm
    label_width = 48 * mm
    for label, value in rows:
        pdf.setFont(FONT, 11)
        pdf.drawString(left, y, f"{label}：")
        value_lines = _wrap(str(value), right - left - label_width, 11)
        for line in value_lines:
            pdf.drawString(left + label_width, y, line)
            y -= 6.5 * mm
        y -= 2.5 * mm

    y -= 8 * mm
    pdf.setFont(FONT, 10)
    for line in _wrap(
        f"本证明可在线核验：{url}　（或在核验页面输入证明编号 {code}）。核验结果与本证明不一致的，以核验结果为准。",
        right - left,
        10,
    ):
        pdf.drawString(left, y, line)
        y -= 5.5 * mm

    pdf.setFont(FONT, 12)
    pdf.drawRightString(right, 40 * mm, platform)
    pdf.drawRightString(right, 33 * mm, _date(publicity.certified_at or timezone.now()))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
