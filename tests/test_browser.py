#!/usr/bin/python3
"""The report of every archived round, read by an HTML5 parser and rendered
by headless Chromium: valid HTML, every team, criterion and decision in the
page, nothing requested, screenshots not blank, clean A4 pages in print.

Needs chromium, fonts-noto-cjk, poppler-utils and python3-html5lib (tools/setup
installs them, for the Debian python3 named above); a missing one fails the
test, it is never skipped."""
import glob, json, os, re, shutil, struct, subprocess, sys, tempfile, zlib

SRC = os.environ.get("KAIEVAL_SRCDIR", ".")
BIN = os.environ.get("KAIEVAL_BIN", "./kaieval")
KEEP = os.environ.get("KAIEVAL_SCREENSHOTS")  # a folder: keep the stage-1 screenshots there
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer", "--hide-scrollbars"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def need(tool):
    if shutil.which(tool) is None:
        sys.exit("test_browser: %s not installed (run tools/setup)" % tool)


def chromium(args, tmp):
    profile = tempfile.mkdtemp(dir=tmp)
    out = subprocess.run(["chromium"] + FLAGS + ["--user-data-dir=" + profile] + args,
                         capture_output=True, timeout=180, env=dict(os.environ, HOME=profile))
    if out.returncode != 0:
        sys.exit("chromium failed: %s" % out.stderr.decode(errors="replace")[-2000:])
    return out.stdout.decode()


def png_not_blank(path):
    """True when the PNG's pixel rows hold more than a few distinct bytes."""
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat))) > 16


def hostile_round(tmp):
    """The hand-recorded stage 1 with Hangul, markup and RTL in team names."""
    cfg = open(os.path.join(SRC, "conf/rounds/2026-01-stage1-table.cfg"), encoding="utf-8").read()
    data = os.path.relpath(os.path.join(SRC, "examples/2026-01-stage1-table"), tmp)
    cfg = cfg.replace('"../../examples/2026-01-stage1-table"', json.dumps(data))
    cfg = cfg.replace('"LG AI Research"', '"LG AI연구원"')
    cfg = cfg.replace('"NC AI"', '"엔씨 <script>alert(\\"x\\")</script> & \'q\' \u202eabc"')
    path = os.path.join(tmp, "hostile.cfg")
    open(path, "w", encoding="utf-8").write(cfg)
    return path


def build(cfg, tmp, name):
    rec, html = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".html")
    subprocess.run([BIN, "run", cfg, "-o", rec, "--report", html], check=True, capture_output=True)
    return json.load(open(rec, encoding="utf-8")), html


def words(rec):
    """Team ids and names, criterion ids and each decision, as the page says them."""
    out = []
    for t in rec["teams"]:
        out += [t["id"], t["name"], "%.2f" % t["total"]]
        out.append("advance (rank %d)" % t["rank"] if t["status"] == "advance" else "eliminated")
    out += [c["id"] for c in rec["criteria"]]
    return out


def attrs(tag):
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))


def unescape(v):
    return v.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")


def check_charts(name, rec, dom, rob=None):
    """Every bar, histogram bin and heatmap cell of the rendered page carries
    the record's (or the robustness file's) number."""
    teams = {t["id"]: t for t in rec["teams"]}
    crit = [c["id"] for c in rec["criteria"]]
    bars = 0
    for g in re.finditer(r'<g data-team="([^"]*)"[^>]*>(.*?)</g>', dom, re.S):
        team = teams.get(unescape(g.group(1)))
        for tag in re.findall(r"<rect [^>]*data-criterion=[^>]*>", g.group(2)):
            a = attrs(tag)
            want = team["criteria"][unescape(a["data-criterion"])]["points"]
            check(float(a["data-value"]) == want, "%s: bar %s %s" % (name, g.group(1), a["data-criterion"]))
            bars += 1
    check(bars >= len(rec["teams"]), "%s: %d bars" % (name, bars))
    for fig in re.finditer(r'<figcaption id="histogram-(\d+)">.*?</svg>', dom, re.S):
        c = crit[int(fig.group(1))]
        for g in re.finditer(r'<g data-team="([^"]*)" data-group="([^"]*)">(.*?)</g>', fig.group(0), re.S):
            ev = teams[unescape(g.group(1))]["criteria"][c]["evidence"]
            for tag in re.findall(r"<rect [^>]*data-bin=[^>]*>", g.group(3)):
                a = attrs(tag)
                key = "histogram.%s.%s" % (unescape(g.group(2)), a["data-bin"].split("–")[0])
                check(float(a["data-value"]) == ev[key], "%s: histogram %s %s" % (name, g.group(1), key))
    if rob:
        probs = {t["id"]: t["rank_probabilities"] for t in rob["teams"]}
        fig = re.search(r'<figcaption id="rank-probabilities">.*?</svg>', dom, re.S)
        check(fig is not None, name + ": no rank heatmap")
        cells = re.findall(r"<rect [^>]*data-row=[^>]*>", fig.group(0) if fig else "")
        for tag in cells:
            a = attrs(tag)
            rank = int(a["data-col"].split()[1])
            check(float(a["data-value"]) == probs[unescape(a["data-row"])][rank - 1],
                  "%s: rank heatmap %s %s" % (name, a["data-row"], a["data-col"]))
        check(len(cells) == sum(len(p) for p in probs.values()), name + ": rank heatmap cells")


def check_page(name, rec, html, tmp, rob=None):
    import html5lib
    text = open(html, encoding="utf-8").read()
    try:
        html5lib.HTMLParser(strict=True).parse(text)
    except Exception as e:  # html5lib raises ParseError on the first error
        check(False, "%s: not valid HTML5: %s" % (name, e))
    check(re.search(r"(https?:|//|\bsrc=|\bhref=|url\()", text) is None, name + ": a URL in the page")
    dom = chromium(["--dump-dom", "file://" + html], tmp)
    check(dom.count("<script") == 1 and "<script>alert" not in dom, name + ": a script element from the data")
    unescaped = dom.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    for w in words(rec):
        check(w in unescaped, "%s: %r not in the DOM" % (name, w))
    check_charts(name, rec, dom, rob)
    pdf = os.path.join(tmp, name + ".pdf")
    chromium(["--print-to-pdf=" + pdf, "file://" + html], tmp)
    pdftext = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, check=True).stdout.decode()
    flat = re.sub(r"\s+", " ", pdftext)
    for t in rec["teams"]:
        check(t["name"] in flat or t["name"].split()[0] in flat, "%s: %r not in the PDF" % (name, t["name"]))
        for hangul in re.findall("[\uac00-\ud7a3]+", t["name"]):
            check(hangul in flat, "%s: %r (Hangul) not in the PDF" % (name, hangul))
        check("%.2f" % t["total"] in flat, "%s: total %.2f not in the PDF" % (name, t["total"]))
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, check=True).stdout.decode()
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    check(abs(float(size.group(1)) - 595.3) < 2 and abs(float(size.group(2)) - 841.9) < 2, name + ": not A4")
    # A title page's worth of rules and ranking, charts, then about two pages a team at most.
    check(2 <= pages <= 6 + 3 * len(rec["teams"]), "%s: %d pages" % (name, pages))
    for p in range(1, pages + 1):  # no blank page
        page = subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), pdf, "-"], capture_output=True,
                              check=True).stdout.decode()
        check(page.strip() != "", "%s: page %d of the PDF is blank" % (name, p))
    return pages


def main():
    for tool in ("chromium", "pdftotext", "pdfinfo"):
        need(tool)
    try:
        import html5lib  # noqa: F401
    except ImportError:
        sys.exit("test_browser: python3-html5lib not installed (run tools/setup)")
    if subprocess.run(["fc-list", ":lang=ko"], capture_output=True).stdout.strip() == b"":
        sys.exit("test_browser: no font with Hangul (fonts-noto-cjk; run tools/setup)")
    tmp = tempfile.mkdtemp(prefix="kaieval-browser-")
    try:
        rounds = sorted(glob.glob(os.path.join(SRC, "conf/rounds/*.cfg")))
        for cfg in rounds + [hostile_round(tmp)]:
            name = os.path.basename(cfg)[:-4]
            rec, html = build(cfg, tmp, name)
            pages = check_page(name, rec, html, tmp)
            print("%s: %d pages" % (name, pages))
        stage1 = os.path.join(tmp, "2026-01-stage1.html")
        # With the robustness file: its rank heatmap reads the file's numbers.
        robfile, robhtml = os.path.join(tmp, "rob.json"), os.path.join(tmp, "stage1-robust.html")
        cfg = os.path.join(SRC, "conf/rounds/2026-01-stage1.cfg")
        subprocess.run([BIN, "robustness", cfg, "--replicates", "200", "-o", robfile], check=True, capture_output=True)
        subprocess.run([BIN, "report", os.path.join(tmp, "2026-01-stage1.json"), "--robustness", robfile,
                        "-o", robhtml], check=True, capture_output=True)
        rec = json.load(open(os.path.join(tmp, "2026-01-stage1.json"), encoding="utf-8"))
        pages = check_page("stage1-robust", rec, robhtml, tmp, json.load(open(robfile, encoding="utf-8")))
        print("stage1-robust: %d pages" % pages)
        for width, height in ((1280, 1600), (390, 1600)):
            png = os.path.join(tmp, "report-%d.png" % width)
            chromium(["--window-size=%d,%d" % (width, height), "--screenshot=" + png, "file://" + stage1], tmp)
            check(png_not_blank(png), "screenshot at %d px is blank" % width)
            if KEEP:
                shutil.copy(png, os.path.join(KEEP, "report-stage1-%d.png" % width))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
