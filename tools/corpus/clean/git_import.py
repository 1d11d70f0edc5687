#!/usr/bin/python3
"""git_import.py MAX_COMMITS - `git fast-import` stream built from Debian changelogs.

Part of build_clean_corpus.sh: gives `git log` / `git show` real, offline history
to print.  Each entry of /usr/share/doc/*/changelog.Debian.gz becomes one commit
(author, date and message from the entry) that updates PKG/debian/changelog and
PKG/VERSION; entries are replayed oldest first across all packages.  Every ~25
commits a short topic branch is merged back, and each package's newest version
gets a tag, so merges, decorations and `git describe` appear too.  Fixed dates
and content make the SHAs stable for the same Debian package set.
"""
import email.utils
import glob
import gzip
import os
import re
import sys

HEAD = re.compile(r"^(\S+) \(([^)]+)\) ([^;]+);")
TRAIL = re.compile(r"^ -- (.+?) <([^>]+)>  (.+)$")


def entries(path):
    pkg_dir = os.path.basename(os.path.dirname(path))
    try:
        text = gzip.open(path, "rt", errors="replace").read()
    except OSError:
        return []
    out, cur = [], None
    for line in text.splitlines(keepends=True):
        if HEAD.match(line):
            cur = {"pkg": pkg_dir, "version": HEAD.match(line).group(2), "lines": [line], "body": []}
        elif cur is not None:
            cur["lines"].append(line)
            t = TRAIL.match(line.rstrip("\n"))
            if t:
                try:
                    when = email.utils.parsedate_tz(t.group(3))
                    ts = email.utils.mktime_tz(when)
                except (TypeError, ValueError, OverflowError):
                    cur = None
                    continue
                tz = when[9] or 0
                cur.update(name=t.group(1), mail=t.group(2), ts=ts, tz="%+03d%02d" % (tz // 3600, abs(tz) % 3600 // 60))
                out.append(cur)
                cur = None
            elif line.startswith("  ") and line.strip():
                cur["body"].append(line.strip())
    return out


def data(s):
    b = s.encode()
    return b"data %d\n%s\n" % (len(b), b)


def main():
    limit = int(sys.argv[1])
    all_e, seen = [], set()
    for path in sorted(glob.glob("/usr/share/doc/*/changelog.Debian.gz")):
        es = entries(path)
        if not es or es[0]["lines"][0] in seen:  # binary packages of one source share a changelog
            continue
        seen.add(es[0]["lines"][0])
        for i, e in enumerate(es):  # changelog as of this entry: it and older ones (capped at ~12 KB)
            e["text"] = "".join(l for x in es[i:i + 12] for l in x["lines"])[:12000]
        all_e += es
    all_e.sort(key=lambda e: (e["ts"], e["pkg"], e["version"]))
    all_e = all_e[-limit:]
    w = sys.stdout.buffer
    mark, main_mark, newest = 0, None, {}
    for n, e in enumerate(all_e):
        mark += 1
        branch = "refs/heads/topic/%s" % re.sub(r"[^A-Za-z0-9._-]", "-", e["pkg"]) if n % 25 in (21, 22, 23) else "refs/heads/main"
        body = [b.lstrip("*- ") for b in e["body"] if not b.startswith("[")] or ["New upstream release"]
        msg = "%s: %s\n\n%s\n\nDebian-Version: %s\n" % (e["pkg"], body[0][:68], "\n".join(body[1:12]), e["version"])
        who = "%s <%s> %d %s" % (e["name"], e["mail"], e["ts"], e["tz"])
        w.write(b"commit %s\nmark :%d\n" % (branch.encode(), mark))
        w.write(("author %s\ncommitter %s\n" % (who, who)).encode() + data(msg))
        if branch != "refs/heads/main" and n % 25 == 21 and main_mark:
            w.write(b"from :%d\n" % main_mark)
        w.write(b"M 100644 inline %s/debian/changelog\n" % e["pkg"].encode() + data(e["text"]))
        w.write(b"M 100644 inline %s/VERSION\n" % e["pkg"].encode() + data(e["version"] + "\n"))
        w.write(b"\n")
        if branch == "refs/heads/main":
            main_mark = mark
        elif n % 25 == 23:  # merge the topic branch back into main
            mark += 1
            w.write(b"commit refs/heads/main\nmark :%d\n" % mark)
            w.write(("author %s\ncommitter %s\n" % (who, who)).encode() + data("Merge branch '%s'\n" % branch[11:]))
            w.write(b"from :%d\nmerge :%d\n\n" % (main_mark, mark - 1))
            main_mark = mark
        newest[e["pkg"]] = (e["version"], mark if branch == "refs/heads/main" else main_mark)
    for pkg, (ver, m) in sorted(newest.items()):
        tag = re.sub(r"[^A-Za-z0-9._-]", "_", "%s/%s" % (pkg, ver.split(":")[-1]))
        w.write(b"reset refs/tags/%s\nfrom :%d\n\n" % (tag.encode(), m))


if __name__ == "__main__":
    main()
