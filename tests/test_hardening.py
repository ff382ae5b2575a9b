"""Hardening: nothing is fetched, an interrupted build leaves the last good edition, and a
build is reproducible byte for byte."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURE_BOOK, MINIMAL_BOOK, ROOT, run_build

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


@pytest.fixture()
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on the loopback address that records every connection it gets."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1)
                try:
                    seen.append(conn.recv(1024) or b"(connected)")
                except OSError:
                    seen.append(b"(connected)")
                conn.sendall(b"HTTP/1.0 404 Not Found\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


@pytest.mark.parametrize("edition", ["html", "pdf", "epub"])
def test_no_address_is_ever_fetched(tmp_path: Path, listener: tuple[int, list[bytes]],
                                    edition: str) -> None:
    port, seen = listener
    book = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    with (book / "two.md").open("a", encoding="utf-8") as chapter:
        chapter.write(f"\n![remote](http://127.0.0.1:{port}/figure.png)\n\n"
                      f'<a href="http://127.0.0.1:{port}/">a link is fine</a>\n\n'
                      f'<img src="http://127.0.0.1:{port}/img.png">\n\n'
                      f"```{{raw}} html\n:url: http://127.0.0.1:{port}/raw\n```\n")
    result = run_build(book, tmp_path / "out", edition)
    assert result.returncode == 1
    assert "never fetches" in result.stderr and "raw HTML refused" in result.stderr
    time.sleep(0.3)
    assert seen == [], f"the build connected to the listener: {seen}"


def test_print_renderer_refuses_files_and_addresses(tmp_path: Path,
                                                     listener: tuple[int, list[bytes]]) -> None:
    """WeasyPrint's URL fetcher: only files under the allowed roots, never an address."""
    from scripts.pdf import BookURLFetcher

    port, seen = listener
    fetcher = BookURLFetcher([tmp_path])
    (tmp_path / "ok.css").write_text("p {}", encoding="utf-8")
    fetcher.check((tmp_path / "ok.css").as_uri())
    for url in (f"http://127.0.0.1:{port}/x.png", "file:///etc/passwd",
                (tmp_path / ".." / "escape.css").as_uri(), "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError):
            fetcher.check(url)
    assert seen == []


def test_an_interrupted_pdf_build_leaves_the_previous_pdf(tmp_path: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, book)
    out = tmp_path / "out"
    assert run_build(book, out, "pdf").returncode == 0
    (pdf,) = (out / "pdf").glob("*.pdf")
    good = pdf.read_bytes()

    with (book / "two.md").open("a", encoding="utf-8") as chapter:
        chapter.write("\nA new paragraph, so that the PDF would change.\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.build", "pdf", "--book", str(book), "--build", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    # wait until the print HTML exists, i.e. the build is rendering, then kill it
    deadline = time.monotonic() + 60
    stage_html = out / ".stage" / "printhtml" / "book.html"
    while time.monotonic() < deadline and proc.poll() is None:
        if stage_html.exists() and stage_html.stat().st_mtime > pdf.stat().st_mtime:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert pdf.read_bytes() == good
    assert sorted(p.name for p in (out / "pdf").glob("*.pdf")) == [pdf.name]

    # the next build cleans up and publishes the new edition
    assert run_build(book, out, "pdf").returncode == 0
    assert pdf.read_bytes() != good
    assert [p.name for p in (out / "pdf").iterdir() if p.name.endswith(".part")] == []


def test_two_clean_builds_are_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        book = tmp_path / name / "book"  # another path, too: nothing may depend on it
        shutil.copytree(FIXTURE_BOOK, book)
        result = run_build(book, tmp_path / name / "out", "pdf", "epub", env=EPOCH)
        assert result.returncode == 0, result.stderr
        outputs.append({p.relative_to(tmp_path / name / "out"): p.read_bytes()
                        for p in (tmp_path / name / "out").glob("*/*.*")
                        if p.suffix in (".pdf", ".epub")})
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) == 2
    for key in outputs[0]:
        assert outputs[0][key] == outputs[1][key], f"{key} differs between two builds"


def test_a_second_build_into_the_same_dir_waits_for_the_first(tmp_path: Path) -> None:
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build in progress
        proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.build", "html", "--book", str(FIXTURE_BOOK),
             "--build", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        time.sleep(3)
        assert proc.poll() is None, "the second build did not wait"
        assert not (out / "html").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert proc.wait(timeout=120) == 0
    assert "waiting: another build is writing to" in proc.stderr.read()
    assert (out / "html" / "index.html").is_file()


def test_without_edition_arguments_all_three_are_built(tmp_path: Path) -> None:
    result = run_build(MINIMAL_BOOK, tmp_path)
    assert result.returncode == 0, result.stderr
    for edition, suffix in (("html", "index.html"), ("pdf", "*.pdf"), ("epub", "*.epub")):
        assert list((tmp_path / edition).glob(suffix)), edition
