"""Per-reader watermarks: visible, repeated, readable in Chinese, different for every reader,
never cached."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from server.documents import BlobStore, DocumentError, Reader, Renderer, Watermarker, find_cjk_font
from tests.fixtures.documents import make_pdf

AT = datetime(2026, 11, 25, 14, 30)
WANG = Reader(id="m01", name="王建国", seat="S001")
LI = Reader(id="m02", name="李秀英", seat="S002")


@pytest.fixture(scope="module")
def watermarker() -> Watermarker:
    return Watermarker(secret=b"test-secret")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[BlobStore, Renderer, str]:
    store = BlobStore(tmp_path)
    return store, Renderer(store), store.put(make_pdf(2))


def pixels(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def changed_fraction(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    diff = ImageChops.difference(a, b).convert("L")
    if box:
        diff = diff.crop(box)
    hist = diff.histogram()
    return 1 - hist[0] / (diff.width * diff.height)


def test_two_readers_get_different_pixels(watermarker: Watermarker, setup) -> None:
    _, renderer, sha = setup
    wang = pixels(watermarker.watermark_page(renderer, sha, 0, WANG, AT).data)
    li = pixels(watermarker.watermark_page(renderer, sha, 0, LI, AT).data)
    assert wang.size == li.size == (1600, 2263)
    assert changed_fraction(wang, li) > 0.02


def test_watermark_is_visible_and_repeated_over_the_whole_page(watermarker: Watermarker, setup) -> None:
    _, renderer, sha = setup
    clean = pixels(renderer.render_page(sha, 0).data)
    stamped = pixels(watermarker.watermark_page(renderer, sha, 0, WANG, AT).data)
    w, h = clean.size
    quadrants = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h), (w // 2, h // 2, w, h)]
    for box in quadrants:  # cropping any quarter of the page still leaves the name on it
        assert changed_fraction(clean, stamped, box) > 0.01
    # Visible: somewhere on white paper the mark is clearly grey, not a faint tint.
    before, after = clean.convert("L").tobytes(), stamped.convert("L").tobytes()
    assert max(b - a for b, a in zip(before, after) if b == 255) >= 40
    # Yet the document stays readable: its black text stays black under the mark.
    text = [a for b, a in zip(before, after) if b < 64]
    assert text and sum(a < 100 for a in text) / len(text) > 0.95


def test_chinese_names_render_as_glyphs_not_boxes(watermarker: Watermarker) -> None:
    # Same seat, same time, same fingerprint key: only the name's characters differ. With a
    # font lacking CJK glyphs both names would be identical rows of "tofu" boxes.
    page = Image.new("RGB", (1600, 1200), "white")
    a = watermarker.apply(page, Reader(id="x", name="王建国", seat="S001"), AT)
    b = watermarker.apply(page, Reader(id="x", name="李秀英", seat="S001"), AT)
    assert changed_fraction(a, b) > 0.005


def test_seat_and_time_are_part_of_the_mark(watermarker: Watermarker) -> None:
    page = Image.new("RGB", (800, 600), "white")
    base = watermarker.apply(page, WANG, AT)
    moved = watermarker.apply(page, Reader(id=WANG.id, name=WANG.name, seat="S099"), AT)
    later = watermarker.apply(page, WANG, datetime(2026, 11, 25, 16, 5))
    assert changed_fraction(base, moved) > 0.001 and changed_fraction(base, later) > 0.001
    assert Watermarker.label(WANG, AT) == "王建国  S001  2026-11-25 14:30"


def test_faint_pattern_alone_identifies_the_reader(watermarker: Watermarker) -> None:
    # Two readers with the same name, seat and time differ only by the per-reader pattern,
    # which is faint: at most a few grey levels anywhere.
    page = Image.new("RGB", (800, 600), "white")
    a = watermarker.apply(page, Reader(id="m01", name="张伟", seat="S010"), AT)
    b = watermarker.apply(page, Reader(id="m77", name="张伟", seat="S010"), AT)
    diff = ImageChops.difference(a, b).convert("L")
    assert diff.getbbox() is not None
    assert diff.getextrema()[1] <= watermarker.pattern_strength + 1
    assert watermarker.fingerprint(WANG) != Watermarker(secret=b"other").fingerprint(WANG)


def test_watermarking_is_deterministic_for_one_reader_and_moment(watermarker: Watermarker, setup) -> None:
    _, renderer, sha = setup
    one = watermarker.watermark_page(renderer, sha, 1, WANG, AT)
    two = watermarker.watermark_page(renderer, sha, 1, WANG, AT)
    assert one.data == two.data and one.etag == two.etag


def test_watermarked_pages_are_not_cached(watermarker: Watermarker, setup) -> None:
    store, renderer, sha = setup
    renderer.render_page(sha, 0)
    before = sorted(p for p in store.root.rglob("*") if p.is_file())
    page = watermarker.watermark_page(renderer, sha, 0, WANG, AT)
    watermarker.watermark_page(renderer, sha, 0, LI, AT)
    assert sorted(p for p in store.root.rglob("*") if p.is_file()) == before
    assert page.cache_control == "private, no-store"
    assert page.etag != renderer.render_page(sha, 0).etag


def test_font_is_found_in_standard_directories() -> None:
    path, index = find_cjk_font()
    assert path.is_file() and index >= 0


def test_missing_cjk_font_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "DejaVuSans.ttf").write_bytes(b"not a CJK font")
    with pytest.raises(DocumentError) as info:
        Watermarker(search_dirs=(str(tmp_path),))
    assert info.value.code == "no_cjk_font"
    assert "fonts-wqy-zenhei" in info.value.message
    with pytest.raises(DocumentError) as info:
        Watermarker(font_path=tmp_path / "missing.ttc")
    assert info.value.code == "no_cjk_font"
    with pytest.raises(DocumentError) as info:
        Watermarker(font_path=tmp_path / "DejaVuSans.ttf")  # exists, but is not a font at all
    assert info.value.code == "no_cjk_font"
