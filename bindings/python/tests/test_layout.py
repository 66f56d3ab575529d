"""The ctypes mirrors of the C structs have the C layout: a C program
built against include/relaymail.h prints each struct's size and field
offsets, and they must equal what ctypes computes."""

import ctypes
import shutil
import subprocess

import pytest

from relaymail import _lib

from conftest import ROOT

STRUCTS = ["rm_error", "rm_attachment_opts", "rm_transport_opts",
           "rm_recipient_status", "rm_attempt", "rm_check_info"]


def c_program() -> str:
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             "#include <relaymail.h>", "int main(void) {"]
    for name in STRUCTS:
        lines.append('printf("%s size %%zu\\n", sizeof(%s));'
                     % (name, name))
        for field, _ in getattr(_lib, name)._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));'
                         % (name, field, name, field))
    lines += ["return 0;", "}"]
    return "\n".join(lines) + "\n"


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_structs_match_the_header(tmp_path):
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text(c_program())
    subprocess.run(["cc", "-std=c11", "-I", str(ROOT / "include"),
                    "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True,
                         text=True).stdout
    want = {}
    for line in out.splitlines():
        name, field, value = line.split()
        want[(name, field)] = int(value)
    for name in STRUCTS:
        cls = getattr(_lib, name)
        assert ctypes.sizeof(cls) == want[(name, "size")], name
        for field, _ in cls._fields_:
            assert getattr(cls, field).offset == want[(name, field)], \
                (name, field)
