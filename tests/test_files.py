"""The one atomic write (loaders.files)."""

from __future__ import annotations

import os

import pytest

from loaders.files import UnsafeTarget, write_atomic


def test_write_replaces_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    write_atomic(target, b"first")
    write_atomic(target, b"second version")
    assert target.read_bytes() == b"second version"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    write_atomic(target, b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_symlinks_and_fifos_are_refused(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with pytest.raises(UnsafeTarget, match="symbolische koppeling"):
        write_atomic(link, b"x")
    assert link.is_symlink() and real.read_text() == "keep"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeTarget, match="geen gewoon bestand"):
        write_atomic(fifo, b"x")
    with pytest.raises(UnsafeTarget):
        write_atomic("/dev/null", b"x")
