"""Page rendering: Chinese PDFs and images become cached WebP pages with strong ETags."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from server.documents import BlobStore, DocumentError, Renderer, RenderSettings, etag_for, ingest
from tests.fixtures.documents import make_image, make_pdf


@pytest.fixture(scope="module")
def pdf4() -> bytes:
    return make_pdf(4)


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path)


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP"
    return im.convert("RGB")


def dark_fraction(im: Image.Image) -> float:
    hist = im.convert("L").histogram()
    return sum(hist[:128]) / (im.width * im.height)


def test_pdf_page_rendered_at_tablet_width(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    page = Renderer(store).render_page(sha, 0)
    im = decode(page.data)
    assert im.width == 1600
    assert im.height == pytest.approx(1600 * 297 / 210, abs=2)  # A4 proportions kept
    assert page.media_type == "image/webp"
    assert 0.005 < dark_fraction(im) < 0.5  # the Chinese text is drawn, and on a white page


def test_each_page_is_its_own_image(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    r = Renderer(store)
    first, last = decode(r.render_page(sha, 0).data), decode(r.render_page(sha, 3).data)
    assert ImageChops.difference(first, last).getbbox() is not None
    assert r.render_page(sha, 0).etag != r.render_page(sha, 3).etag


def test_configured_widths(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    r = Renderer(store, RenderSettings(default_width=1200, widths=(800, 1200)))
    assert decode(r.render_page(sha, 1).data).width == 1200
    assert decode(r.render_page(sha, 1, 800).data).width == 800
    with pytest.raises(DocumentError) as info:
        r.render_page(sha, 1, 1234)
    assert info.value.code == "bad_width"


def test_cache_hit_returns_same_bytes_and_etag(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    first = Renderer(store).render_page(sha, 2)
    cached = list(store.page_cache_dir(sha).iterdir())
    assert len(cached) == 1
    again = Renderer(store).render_page(sha, 2)  # a fresh renderer, as after a restart
    assert (again.data, again.etag) == (first.data, first.etag)
    assert list(store.page_cache_dir(sha).iterdir()) == cached


def test_etag_is_strong_and_known_without_rendering(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    r = Renderer(store)
    predicted = r.etag(sha, 1)
    assert not store.page_cache_dir(sha).exists()  # nothing rendered to compute it
    page = r.render_page(sha, 1)
    assert page.etag == predicted == etag_for(sha, 1, 1600)
    assert page.etag.startswith('"') and not page.etag.startswith("W/")
    assert r.etag(sha, 1, 800) != predicted
    assert "immutable" in page.cache_control


def test_page_out_of_range(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    for bad in (4, -1):
        with pytest.raises(DocumentError) as info:
            Renderer(store).render_page(sha, bad)
        assert info.value.code == "page_out_of_range"


def test_unknown_blob_is_not_found(store: BlobStore) -> None:
    with pytest.raises(DocumentError) as info:
        Renderer(store).render_page("f" * 64, 0)
    assert info.value.code == "not_found"


def test_image_document_is_one_resized_page(store: BlobStore) -> None:
    doc = ingest(store, make_image("JPEG", (3200, 2400)), title="现场照片", item_id="item1", filename="photo.jpg")
    im = decode(Renderer(store).render_page(doc.sha256, 0).data)
    assert im.size == (1600, 1200)
    with pytest.raises(DocumentError) as info:
        Renderer(store).render_page(doc.sha256, 1)
    assert info.value.code == "page_out_of_range"


def test_small_image_is_not_upscaled(store: BlobStore) -> None:
    sha = store.put(make_image("PNG", (640, 480)))
    assert decode(Renderer(store).render_page(sha, 0).data).size == (640, 480)


def test_transparent_png_shows_on_white(store: BlobStore) -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (100, 100), (0, 0, 0, 0)).save(buf, "PNG")
    im = decode(Renderer(store).render_page(store.put(buf.getvalue()), 0).data)
    assert im.getpixel((50, 50)) == (255, 255, 255)


def test_phone_photo_is_shown_upright(store: BlobStore) -> None:
    im = Image.new("RGB", (400, 300), "white")
    exif = im.getexif()
    exif[0x0112] = 6  # Orientation: the camera was turned; display rotated 90° clockwise
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    assert decode(Renderer(store).render_page(store.put(buf.getvalue()), 0).data).size == (300, 400)


def test_concurrent_rendering_from_a_thread_pool(store: BlobStore, pdf4: bytes) -> None:
    sha = store.put(pdf4)
    other = store.put(make_pdf(2))
    jobs = [(s, p) for s, n in ((sha, 4), (other, 2)) for p in range(n)] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: Renderer(store).render_page(*job), jobs))
    reference = {job: Renderer(store).render_page(*job) for job in set(jobs)}
    for job, got in zip(jobs, results):
        assert decode(got.data).tobytes() == decode(reference[job].data).tobytes()
        assert got.etag == reference[job].etag


def test_strip_shaped_page_is_scaled_to_bounded_memory(store: BlobStore) -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(100, 10_000))  # 1600 px wide would be 160,000 px tall
    c.drawString(10, 5000, "strip")
    c.showPage()
    c.save()
    sha = store.put(buf.getvalue())
    im = decode(Renderer(store, RenderSettings(max_pixels=1_000_000)).render_page(sha, 0).data)
    assert im.width * im.height <= 1_000_000 * 1.01
    assert im.height > 50 * im.width  # still the whole strip, proportions kept


def test_many_readers_of_one_uncached_page_cause_one_rendering(
    store: BlobStore, pdf4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = store.put(pdf4)
    renderer = Renderer(store)
    calls: list[int] = []
    real = Renderer._rasterize

    def counting(self: Renderer, sha256: str, page: int, width: int) -> Image.Image:
        calls.append(page)
        return real(self, sha256, page, width)

    monkeypatch.setattr(Renderer, "_rasterize", counting)
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda _: renderer.render_page(sha, 0).data, range(16)))
    assert calls == [0]  # one rendering served all sixteen readers
    assert len(set(pages)) == 1
