#!/usr/bin/python3
"""Turns one man-style Markdown page (docs/api/*.md, docs/man/*.md) into
troff for man(1), without pandoc.

The pages use a small subset of Markdown: a first line "# name(section)",
"## SECTION" and "### Subsection" headings, paragraphs, "- " lists (a
continuation line is indented), fenced code blocks, and `code`, **bold**
and *italic* inline.

    md2man.py PAGE.md VERSION > name.section
"""

import re
import sys


def escape(text: str) -> str:
    """Escapes troff's special characters in running text."""
    text = text.replace("\\", "\\e")
    return text.replace("-", "\\-") if text.startswith("-") else text


def inline(text: str) -> str:
    text = escape(text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*", r"\\fI\1\\fR", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    return text


def line_out(text: str) -> str:
    """A line of output text: one starting with . or ' is protected."""
    return "\\&" + text if text[:1] in (".", "'") else text


def title(first: str, version: str) -> str:
    m = re.match(r"#\s+(\S+)\((\w+)\)", first)
    if not m:
        raise SystemExit("the first line must be '# name(section)'")
    name, section = m.groups()
    return '.TH "%s" "%s" "" "relaymail %s" "relaymail manual"' % (
        name.upper(), section, version)


def convert(lines, version: str):
    out = [title(lines[0], version), ".ad l", ".nh"]
    in_code = False
    for raw in lines[1:]:
        line = raw.rstrip("\n")
        if line.startswith("```"):
            out += [".RS 4", ".nf"] if not in_code else [".fi", ".RE"]
            in_code = not in_code
        elif in_code:
            out.append(line_out(escape(line)) if line else "")
        elif line.startswith("### "):
            out.append('.SS "%s"' % line[4:].strip())
        elif line.startswith("## "):
            out.append('.SH "%s"' % line[3:].strip().upper())
        elif not line.strip():
            out.append(".PP")
        elif line.startswith("- "):
            out += [".IP \\(bu 2", line_out(inline(line[2:]))]
        else:
            out.append(line_out(inline(line.strip())))
    return tidy(out)


def tidy(out):
    """Drops paragraph marks that would give empty paragraphs."""
    result = []
    for item in out:
        if item == ".PP" and result and (result[-1].startswith(".S")
                                         or result[-1] == ".PP"):
            continue
        result.append(item)
    return result


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.readlines()
    version = sys.argv[2] if len(sys.argv) > 2 else ""
    sys.stdout.write("\n".join(convert(lines, version)) + "\n")


if __name__ == "__main__":
    main()
