#!/usr/bin/python3
"""gitleaks2redact.py - convert a gitleaks TOML config into a libredact rule file.

Usage:
  tools/gitleaks2redact.py IN.toml OUT_DIR_OR_FILE [--family NAME] [--default on|off]

OUT_DIR_OR_FILE: a path ending in .yaml/.yml (or an existing file) is written as
is; anything else is a directory (created if needed) that receives
`<family>.yaml`.  The format is the one described in patterns/README.md.

Mapping (gitleaks -> libredact):
  id, description, regex, keywords, entropy   -> same names
  secretGroup                                 -> secret_group
  tags                                        -> tags
  [[rules.allowlists]] (and the older [rules.allowlist]):
    regexes, stopwords                        -> same names
    regexTarget (secret|match|line)           -> target
    condition (OR|AND)                        -> condition (or|and)
    paths, commits                            -> dropped (a stream has no file path or commit);
                                                 an AND allowlist that needs a path can never
                                                 apply and is dropped whole
  [allowlist] / [[allowlists]] (global)       -> global_allowlist (regexes, stopwords; paths dropped)
  rules with only `path` (no regex)           -> skipped (files, not text)
  rules with `path` and `regex`               -> kept without the path condition (broader)
Every dropped item is recorded in a YAML comment next to where it was.

Two rewrites keep gitleaks' results under libredact's keyword windows
(patterns/README.md, "Where a regex runs"); --verbatim turns them off:
  * gitleaks runs a rule's regex over the whole text once a keyword occurs
    anywhere; libredact only tries match starts from prefix_max bytes before a
    keyword occurrence up to the occurrence itself.  A rule whose match need not
    contain its keyword (facebook-access-token: keyword `facebook`, regex a bare
    `\d{15,16}\|...` token) would never find a token written AFTER the keyword.
    Such rules (a keyword that does not occur literally in the regex) get a
    leading optional group `(?:(?i:KEYWORDS)[\s\S]{0,AFTER}?)?` so a match may
    also start at the keyword and reach a token up to --after bytes later.
  * libredact strips a leading lazy `[\w.-]{0,N}?` (it only moves the start of
    the match), but an allowlist with regexTarget = "match" looks at that start
    (generic-api-key's `random[_.-]?access`, `pub(?:lic)?[_.-]?key`, ...).  For
    rules with such an allowlist the prefix is written as `(?:[\w.-]{0,N}?)`,
    which the loader keeps.

Output is written by hand (no YAML library): every string is a YAML
single-quoted scalar, where only ' is special (written twice), so regexes reach
PCRE2 byte for byte.  Strings holding control characters would need another
scalar style; they are written double-quoted with escapes.
Converted rules carry no examples (`redact check-rules` reports that; load the
file with REDACT_PATTERNS or evaluate it with tools/corpus_eval.py --rules).
Only the Python standard library is used (tomllib, Python >= 3.11).
"""
import argparse
import os
import re
import sys
import tomllib

CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def q(s):
    """A YAML scalar for s: single-quoted, or double-quoted if it holds control characters."""
    s = str(s)
    if CTRL.search(s):
        out = []
        for ch in s:
            o = ord(ch)
            if ch == "\\":
                out.append("\\\\")
            elif ch == '"':
                out.append('\\"')
            elif o < 0x20 or o == 0x7F:
                out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, "\\x%02x" % o))
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    return "'" + s.replace("'", "''") + "'"


def qlist(items):
    return "[" + ", ".join(q(x) for x in items) + "]"


def num(x):
    if isinstance(x, bool):
        raise ValueError("boolean where a number was expected")
    return repr(float(x)) if isinstance(x, float) else str(int(x))


def comment(text, indent):
    return ["%s# %s" % (" " * indent, line) for line in text.splitlines()]


def convert_allowlist(al, indent, where, notes):
    """Lines for one allowlist (as a list item at `indent`), or [] when nothing applies to a stream."""
    regexes = list(al.get("regexes") or [])
    stopwords = list(al.get("stopwords") or [])
    paths = list(al.get("paths") or [])
    commits = list(al.get("commits") or [])
    cond = str(al.get("condition") or "OR").upper()
    target = al.get("regexTarget") or "secret"
    pad = " " * indent
    dropped = []
    if paths:
        dropped.append("%d path regex(es)" % len(paths))
    if commits:
        dropped.append("%d commit(s)" % len(commits))
    if cond == "AND" and (paths or commits):
        notes.append("%s: an AND allowlist that needs a path or commit was dropped (never applies to a stream)"
                     % where)
        return comment("allowlist dropped: condition AND with %s, which a stream cannot match" %
                       " and ".join(dropped), indent)
    if not regexes and not stopwords:
        if dropped:
            notes.append("%s: a path/commit-only allowlist was dropped" % where)
            return comment("allowlist dropped: only %s (not applicable to a stream)" % " and ".join(dropped),
                           indent)
        return []
    if target not in ("secret", "match", "line"):
        raise SystemExit("gitleaks2redact: %s: unknown regexTarget %r" % (where, target))
    lines = []
    if dropped:
        lines += comment("%s of this allowlist dropped (not applicable to a stream)" % " and ".join(dropped), indent)
    first = True

    def item(key, value):
        nonlocal first
        lines.append("%s%s%s: %s" % (pad, "- " if first else "  ", key, value))
        first = False

    if al.get("description"):
        item("description", q(al["description"]))
    if target != "secret":
        item("target", target)
    if cond == "AND" and regexes and stopwords:
        item("condition", "and")
    if regexes:
        item("regexes", qlist(regexes))
    if stopwords:
        item("stopwords", qlist(stopwords))
    return lines


LAZY = r"\[\\w(?:\.-|-\.|\.\\-|\\-\.)\]\{0,\d+\}\?"
LEAD_FLAGS = re.compile(r"^(?:\(\?[A-Za-z-]*\))*")


def split_lazy_prefix(regex):
    """(head, lazy, rest): the leading option settings, the lazy [\\w.-]{0,N}? prefix
    (possibly doubled inside (?i: ...), as libredact's loader recognises it) and the rest."""
    head = LEAD_FLAGS.match(regex).group(0)
    rest = regex[len(head):]
    m = re.match(LAZY, rest)
    lazy = ""
    if m:
        lazy = m.group(0)
        rest = rest[m.end():]
    if rest.startswith("(?i:"):
        m2 = re.match(LAZY, rest[4:])
        if m2:
            rest = "(?i:" + rest[4 + m2.end():]
            lazy = lazy or m2.group(0)
    return head, lazy, rest


def literal_text(regex):
    """The regex with escapes of punctuation removed, lower-cased (for a keyword-is-literal test)."""
    return re.sub(r"\\([^A-Za-z0-9])", r"\1", regex).lower()


def rewrite_regex(r, after, notes):
    """gitleaks regex -> regex with the same findings under libredact's keyword windows."""
    regex = r["regex"]
    rid = r["id"]
    needs_match = any((al.get("regexTarget") or "secret") == "match" and al.get("regexes")
                      for al in rule_allowlists(r))
    head, lazy, rest = split_lazy_prefix(regex)
    outside = [k for k in r.get("keywords") or [] if k.lower() not in literal_text(regex)]
    changed = False
    if lazy and needs_match:
        # keep the match start where gitleaks has it: an allowlist looks at the match
        regex = head + "(?:" + lazy + ")" + rest
        notes.append("%s: lazy prefix kept as a group (an allowlist targets the match)" % rid)
        changed = True
    if outside and after > 0:
        if lazy and not needs_match:
            regex = head + rest  # what the loader would strip; it cannot once a group precedes it
        alt = "|".join(re.escape(k).replace("\\ ", " ") for k in outside)
        regex = "(?:(?i:%s)[\\s\\S]{0,%d}?)?%s" % (alt, after, regex)
        notes.append("%s: may also match after keyword(s) %s" % (rid, ", ".join(outside)))
        changed = True
    return regex, changed


def rule_allowlists(r):
    out = list(r.get("allowlists") or [])
    if isinstance(r.get("allowlist"), dict):  # gitleaks < 8.21
        out.insert(0, r["allowlist"])
    return out


def convert(cfg, family, default, src_name, after=512, verbatim=False):
    notes = []
    lines = [
        "# Converted from %s by tools/gitleaks2redact.py; edit the source config, not this file." % src_name,
        "# gitleaks' rules are MIT-licensed (https://github.com/gitleaks/gitleaks).",
        "# File paths and commits do not exist for a stream of output: path allowlists are dropped,",
        "# path-only rules are skipped, and rules with a path condition match everywhere.",
        "family: %s" % q(family),
        "description: %s" % q(cfg.get("title") or "converted gitleaks rules"),
    ]
    if default == "off":
        lines.append("default: off")
    if cfg.get("extend"):
        lines += comment("the source config extends another one (%r); only its own rules are converted"
                         % (cfg["extend"],), 0)
        notes.append("[extend] ignored")
    globals_ = []
    if isinstance(cfg.get("allowlist"), dict):
        globals_.append(("[allowlist]", cfg["allowlist"]))
    for i, al in enumerate(cfg.get("allowlists") or []):
        globals_.append(("[[allowlists]] #%d" % (i + 1), al))
    gl = []
    for where, al in globals_:
        al = dict(al)
        if al.get("targetRules"):
            notes.append("%s: targetRules not supported, allowlist applied to every rule" % where)
        gl += convert_allowlist(al, 2, "global " + where, notes)
    if gl:
        lines.append("global_allowlist:")
        lines += gl
    lines.append("rules:")
    nrules = skipped = 0
    for r in cfg.get("rules") or []:
        rid = r.get("id")
        if not rid:
            raise SystemExit("gitleaks2redact: a rule has no id")
        if not r.get("regex"):
            what = "path-only rule" if r.get("path") else "rule without regex"
            lines += comment("rule %s skipped: %s (a stream has no file names)" % (rid, what), 2)
            notes.append("%s: %s skipped" % (rid, what))
            skipped += 1
            continue
        kws = [k for k in (r.get("keywords") or [])]
        if not kws:
            lines += comment("rule %s skipped: no keywords (libredact runs a regex only where a keyword occurs)"
                             % rid, 2)
            notes.append("%s: no keywords, skipped" % rid)
            skipped += 1
            continue
        short = [k for k in kws if len(k.encode()) < 2]
        if short:
            lines += comment("rule %s skipped: keyword(s) shorter than 2 bytes: %s" % (rid, short), 2)
            notes.append("%s: keyword shorter than 2 bytes, skipped" % rid)
            skipped += 1
            continue
        nrules += 1
        lines.append("  - id: %s" % q(rid))
        lines.append("    description: %s" % q(r.get("description") or rid))
        if r.get("path"):
            lines += comment("path condition %s dropped: the rule applies to every stream" % q(r["path"]), 4)
            notes.append("%s: path condition dropped" % rid)
        regex, changed = (r["regex"], False) if verbatim else rewrite_regex(r, after, notes)
        if changed:
            lines += comment("regex rewritten for keyword windows (see tools/gitleaks2redact.py); gitleaks': %s"
                             % q(r["regex"]), 4)
        lines.append("    regex: %s" % q(regex))
        lines.append("    keywords: %s" % qlist(kws))
        if r.get("secretGroup"):
            lines.append("    secret_group: %s" % num(r["secretGroup"]))
        if r.get("entropy"):
            lines.append("    entropy: %s" % num(r["entropy"]))
        if r.get("tags"):
            lines.append("    tags: %s" % qlist(r["tags"]))
        al_lines = []
        for i, al in enumerate(rule_allowlists(r)):
            al_lines += convert_allowlist(al, 6, "%s allowlist #%d" % (rid, i + 1), notes)
        if any(not l.lstrip().startswith("#") for l in al_lines):
            lines.append("    allowlists:")
            lines += al_lines
        elif al_lines:
            lines += al_lines
    return "\n".join(lines) + "\n", nrules, skipped, notes


def main():
    ap = argparse.ArgumentParser(description="Convert a gitleaks config (TOML) into a libredact rule file (YAML).")
    ap.add_argument("input", help="gitleaks config, e.g. gitleaks.toml")
    ap.add_argument("output", help="output .yaml file, or a directory that receives FAMILY.yaml")
    ap.add_argument("--family", default="gitleaks", help="family name of the converted rules (default: %(default)s)")
    ap.add_argument("--default", choices=("on", "off"), default="on", help="whether the family is on by default")
    ap.add_argument("--after", type=int, default=512,
                    help="bytes after a keyword in which a rule whose match need not contain the keyword may "
                         "find its token (default: %(default)s)")
    ap.add_argument("--verbatim", action="store_true", help="copy regexes unchanged (no keyword-window rewrites)")
    a = ap.parse_args()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,31}", a.family):
        raise SystemExit("gitleaks2redact: family must be 1-31 characters of [A-Za-z0-9._-]")
    with open(a.input, "rb") as f:
        try:
            cfg = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise SystemExit("gitleaks2redact: %s: %s" % (a.input, e))
    text, n, skipped, notes = convert(cfg, a.family, a.default, os.path.basename(a.input), a.after,
                                        a.verbatim)
    out = a.output
    if not (out.endswith((".yaml", ".yml")) or os.path.isfile(out)):
        os.makedirs(out, exist_ok=True)
        out = os.path.join(out, a.family + ".yaml")
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print("gitleaks2redact: %s: %d rules written, %d skipped" % (out, n, skipped), file=sys.stderr)
    for note in notes:
        print("  note: " + note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
