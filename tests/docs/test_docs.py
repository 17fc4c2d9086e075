"""The documentation against the repository and the tools it describes.

README.md and docs/*.md:
- every relative Markdown link (inline links and images) names an existing file, and its #anchor a heading of
  the target page (GitHub's slugs); a bare #anchor a heading of the page itself;
- every `propnet <command> ... --flag` in code (fenced blocks and inline code) names a flag that
  `propnet <command> --help` lists (the binary: $PROPNET; skipped when unset);
- every `scripts/lab <subcommand> ... --flag` names a flag that `scripts/lab <subcommand> --help` lists (run through
  the scripts/lab wrapper, i.e. with /usr/bin/python3 unless $LAB_PYTHON says otherwise).
A command ends at `|`, `;`, `&&`, a ` #` comment or a backtick; flags after a bare `--` belong to another program
and are not checked. Global flags (--version, --help, -h) are always fine.

Run: PROPNET=build/apps/propnet /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/docs/test_docs.py
"""
import functools
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))

PROPNET_COMMANDS = ("info", "data", "train", "search", "eval", "bench")
LAB_SUBCOMMANDS = ("reproduce", "pareto", "sweep", "status", "report", "bench")
GLOBAL_FLAGS = {"--version", "--help", "-h"}

FENCE = re.compile(r"^ {0,3}(```|~~~)")


def rel(page):
    return page.relative_to(ROOT).as_posix()


# --------------------------------------------------------------------------------------------- Markdown


def split_markdown(text):
    """(prose, code blocks): the page's prose with fenced blocks blanked out (line numbers kept), and the
    fenced blocks as lists of (line number, line)."""
    prose, blocks, block, fence = [], [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if block is None and m:
            block, fence = [], m.group(1)
            prose.append("")
        elif block is not None and line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
            blocks.append(block)
            block = None
            prose.append("")
        elif block is not None:
            block.append((number, line))
            prose.append("")
        else:
            prose.append(line)
    if block is not None:
        blocks.append(block)
    return "\n".join(prose), blocks


# A code span: a run of backticks, text that does not cross a blank line, the same run again.
INLINE_CODE = re.compile(r"(`+)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.S)


def inline_code(prose):
    """(line number, code) of every inline code span; a span may run over a line break."""
    for m in INLINE_CODE.finditer(prose):
        yield prose.count("\n", 0, m.start()) + 1, " ".join(m.group(2).split())


def without_inline_code(prose):
    """The prose with inline code spans blanked (links inside code are not links)."""
    return INLINE_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), prose)


# A link or image: [text](target) or [text](target "title"); text may hold one level of brackets (images in
# links, `[x]` in text).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(page):
    prose, _ = split_markdown(page.read_text(encoding="utf-8"))
    prose = without_inline_code(prose)
    for m in LINK.finditer(prose):
        yield prose.count("\n", 0, m.start()) + 1, m.group(1)


def slug(heading):
    """GitHub's anchor for a heading: lowercase, markup and punctuation removed, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # links: their text
    text = text.replace("`", "").lower().strip()
    text = re.sub(r"[^\w\- ]", "", text)                          # keeps letters, digits, _, -, spaces
    return text.replace(" ", "-")


@functools.lru_cache(maxsize=None)
def anchors(page):
    prose, _ = split_markdown(page.read_text(encoding="utf-8"))
    seen, result = {}, set()
    for line in prose.splitlines():
        m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.add(base if n == 0 else f"{base}-{n}")
    return frozenset(result)


def test_pages_exist():
    assert (ROOT / "README.md").is_file()
    assert len(PAGES) > 1, "no docs/*.md pages"


def test_slug():
    assert slug("CUDA builds (LibTorch 2.x)") == "cuda-builds-libtorch-2x"
    assert slug("Comparing masks: `scripts/lab pareto`") == "comparing-masks-scriptslab-pareto"
    assert slug("ReLU sites: network masks, selectors and mask files") == \
        "relu-sites-network-masks-selectors-and-mask-files"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_links_resolve(page):
    problems = []
    for line, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):     # http:, https:, mailto:, ...
            if not re.match(r"^(https?|mailto):", target, re.I):
                problems.append(f"{rel(page)}:{line}: unexpected scheme in {target}")
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            problems.append(f"{rel(page)}:{line}: {target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
            continue
        if anchor:
            if dest.is_dir() or dest.suffix.lower() != ".md":
                problems.append(f"{rel(page)}:{line}: {target}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(dest):
                problems.append(f"{rel(page)}:{line}: {target}: {rel(dest)} has no heading #{anchor} "
                                f"(it has: {', '.join(sorted(anchors(dest)))})")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------------------- commands


def code_snippets(page):
    """(line number, one command line) from fenced blocks (backslash continuations joined) and inline code."""
    prose, blocks = split_markdown(page.read_text(encoding="utf-8"))
    for block in blocks:
        pending, start = "", None
        for number, line in block:
            if start is None:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            yield start, pending + line
            pending, start = "", None
        if pending:
            yield start, pending
    yield from inline_code(prose)


# The end of one command: a pipe, a list separator, a comment, a backtick (a command quoted in a comment).
COMMAND_END = re.compile(r"\||;|&&|(?:^|\s)#|`")
FLAG = re.compile(r"(?<![\w./=-])(--?[A-Za-z][A-Za-z0-9-]*)")


def command_flags(snippet, program, commands):
    """(command, [flags]) of every `<program> <command> ...` in one command line: the flags up to the end of
    the command, none after a bare `--` (those go to another program)."""
    pattern = re.compile(r"(?<![\w.-])" + program + r"\)?\s+(" + "|".join(commands) + r")(?![\w-])")
    for m in pattern.finditer(snippet):
        rest = snippet[m.end():]
        end = COMMAND_END.search(rest)
        if end:
            rest = rest[:end.start()]
        flags = []
        for token in rest.split():
            if token == "--":
                break
            flags += FLAG.findall(token)
        yield m.group(1), flags


def help_flags(help_text):
    """The flags a --help lists: on each option line (cxxopts' and argparse's layout: an indented line that
    starts with a dash), the names before the description."""
    flags = set()
    for line in help_text.splitlines():
        m = re.match(r"^ {1,8}(-.*)$", line)
        if not m:
            continue
        spec = re.split(r"\s{2,}", m.group(1).strip())[0]
        flags.update(re.findall(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)", spec))
    return flags


def documented(program, commands):
    """command -> [(page, line, flag)] for every flag written after `<program> <command>` in the pages (flag
    None: the command written without flags)."""
    found = {}
    for page in PAGES:
        for line, snippet in code_snippets(page):
            for command, flags in command_flags(snippet, program, commands):
                found.setdefault(command, [])
                found[command] += [(rel(page), line, flag) for flag in flags or [None]]
    return found


def check_flags(found, listed):
    problems = []
    for command, uses in sorted(found.items()):
        try:
            known = listed(command) | GLOBAL_FLAGS
        except HelpFailed as e:
            places = sorted({(p, l) for p, l, _ in uses})
            problems.append(f"{command}: {e} (written at {', '.join(f'{p}:{l}' for p, l in places)})")
            continue
        problems += [f"{page}:{line}: {command} {flag}: not in its --help"
                     for page, line, flag in uses if flag is not None and flag not in known]
    return problems


class HelpFailed(Exception):
    pass


def run_help(argv, env=None):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise HelpFailed(f"`{' '.join(argv)}` exited {done.returncode}: {last[0]}")
    return done.stdout + done.stderr


def test_inline_code():
    prose = "a `propnet data --bench\n[--steps N]` b ``x ` y`` c\n\nstray ` here\n\nand `z`"
    assert list(inline_code(prose)) == [(1, "propnet data --bench [--steps N]"), (2, "x ` y"), (6, "z")]


def test_command_parsing():
    line = "propnet train --net plain --seeds 0-4 --channels-last=off | tee x.log # --not-this"
    assert list(command_flags(line, "propnet", PROPNET_COMMANDS)) == \
        [("train", ["--net", "--seeds", "--channels-last"])]
    line = "scripts/lab pareto --net x --dry-run -- --device cuda && build/apps/propnet info [--json]"
    assert list(command_flags(line, r"scripts/lab", LAB_SUBCOMMANDS)) == [("pareto", ["--net", "--dry-run"])]
    assert list(command_flags(line, "propnet", PROPNET_COMMANDS)) == [("info", ["--json"])]
    assert help_flags("  -q, --quiet   only warnings\n      --channels-last [=arg(=on)]\n"
                      "                 the bare --flag\n  -P N, --parallel N  at most N\n") == \
        {"-q", "--quiet", "--channels-last", "-P", "--parallel"}


def test_readme_puts_propnet_on_path_before_using_it():
    """The README's commands say `propnet`; after the two setup commands the binary is build/apps/propnet, so the
    README must put that folder on PATH before its first `propnet ...` command, or the commands fail as written."""
    readme = ROOT / "README.md"
    first_use = next((n for n, line in code_snippets(readme) if re.match(r"\s*propnet\s", line)), None)
    path_line = next((n for n, line in code_snippets(readme)
                      if re.search(r"export PATH=.*build/apps", line)), None)
    assert first_use is not None, "README.md runs no propnet command"
    assert path_line is not None and path_line < first_use, \
        f"README.md:{first_use}: `propnet` is used before build/apps is put on PATH (export PATH=...)"


def test_propnet_flags():
    binary = os.environ.get("PROPNET")
    if not binary:
        pytest.skip("PROPNET is unset: set it to the propnet binary (e.g. PROPNET=build/apps/propnet)")
    binary = str((ROOT / binary).resolve()) if not os.path.isabs(binary) else binary
    assert os.access(binary, os.X_OK), f"PROPNET={binary} is not an executable"
    found = documented("propnet", PROPNET_COMMANDS)
    assert found, "no propnet command found in the docs"
    listed = functools.lru_cache(maxsize=None)(lambda c: help_flags(run_help([binary, c, "--help"])))
    problems = check_flags(found, listed)
    assert not problems, "\n".join(problems)


def test_lab_flags():
    lab = ROOT / "scripts" / "lab"
    assert lab.is_file(), "scripts/lab is missing"
    found = documented(r"scripts/lab", LAB_SUBCOMMANDS)
    assert found, "no scripts/lab command found in the docs"
    # The wrapper runs the package with $LAB_PYTHON, by default Debian's /usr/bin/python3 (the one with
    # scipy and statsmodels); where that does not exist, the interpreter running this test.
    env = dict(os.environ)
    if not env.get("LAB_PYTHON") and not os.path.exists("/usr/bin/python3"):
        env["LAB_PYTHON"] = sys.executable
    listed = functools.lru_cache(maxsize=None)(
        lambda c: help_flags(run_help(["sh", str(lab), c, "--help"], env=env)))
    problems = check_flags(found, listed)
    assert not problems, "\n".join(problems)
