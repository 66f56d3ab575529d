"""Loading the C library: what the ImportError says when it cannot."""

import pytest

from relaymail import _lib


def test_load_failure_names_each_path_once(tmp_path, monkeypatch):
    missing = str(tmp_path / "no" / "librelaymail.so.0")
    not_ours = str(tmp_path / "libother.so")
    open(not_ours, "wb").close()
    monkeypatch.setattr(_lib, "_candidates",
                        lambda: [missing, not_ours, "librelaymail.so.99"])
    with pytest.raises(ImportError) as info:
        _lib._load()
    text = str(info.value)
    assert text.startswith("relaymail: cannot load the C library")
    for path in (missing, not_ours, "librelaymail.so.99"):
        assert text.count(path) == 1, text
