#!/usr/bin/env python3
"""Construct the expert sheet of the archived 2026-02 repechage.

Published (MSIT, 2026-02-20): Motif Technologies and Trillion Labs applied;
after a deep review (written review and presentation) both showed strong
capability; Motif was selected, Trillion Labs missed "by a narrow score
gap".  The call required a majority of the expert panel and allowed the
ministry to pick nobody.  Nothing else was published: the panel's size, the
rubric and every score here are constructed (see README.md).

The sheet holds, per expert and team, an approval (0/1) and three rubric
items.  Both teams win a majority, so the narrow score gap decides, as the
release says.  Rerunning the script gives the same bytes; it recomputes the
outcome from the file it wrote and stops if it differs.

Usage:  python3 examples/2026-02-repechage/tools/generate.py
Standard library only.
"""
import os
import random
import sys
from fractions import Fraction as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
TEAMS = ["motif", "trillion"]
EXPERTS = ["r%d" % i for i in range(1, 10)]              # nine experts (constructed)
# rubric, 100 points (constructed from the call's conditions), max in tenths
ITEMS = [("capability", 400), ("target", 300), ("ecosystem", 300)]
MID_SUM = {"motif": 5908, "trillion": 5852}               # 7 middle totals, tenths: means 84.4 and 83.6
APPROVALS = {"motif": 7, "trillion": 6}                   # of nine: both a strict majority


def write(rel, text):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def tenths(v):
    return "%d.%d" % (v // 10, v % 10)


def panel_totals(rng, mid_sum, bias):
    """Nine totals (tenths); the seven left after trimming sum to mid_sum."""
    target = mid_sum // 7
    while True:
        raw = [target + bias[e] + rng.randint(-30, 30) for e in EXPERTS]
        order = sorted(range(9), key=lambda i: (raw[i], i))
        lo, hi, mid = order[0], order[-1], order[1:-1]
        need = mid_sum - sum(raw[i] for i in mid)
        for k in range(abs(need)):
            raw[mid[k % 7]] += 1 if need > 0 else -1
        mids = [raw[i] for i in mid]
        if raw[lo] < min(mids) and raw[hi] > max(mids) and max(raw) <= 1000:
            return raw


def split_total(rng, total):
    while True:
        shares = [m * (1 + rng.uniform(-0.06, 0.06)) for _, m in ITEMS]
        s = sum(shares)
        v = [int(total * x / s) for x in shares]
        v[0] += total - sum(v)
        if all(0 <= x <= m for x, (_, m) in zip(v, ITEMS)):
            return v


def sheet(rng):
    bias = {e: rng.randint(-25, 25) for e in EXPERTS}
    rows = ["expert,team,item,score"]
    for team in TEAMS:
        totals = panel_totals(rng, MID_SUM[team], bias)
        # the experts who approve are those who scored the team highest
        ranked = sorted(range(9), key=lambda i: (-totals[i], i))
        approve = set(ranked[:APPROVALS[team]])
        for i, e in enumerate(EXPERTS):
            rows.append("%s,%s,approve,%d" % (e, team, 1 if i in approve else 0))
            for (item, _), v in zip(ITEMS, split_total(rng, totals[i])):
                rows.append("%s,%s,%s,%s" % (e, team, item, tenths(v)))
    write("sheet.csv", "\n".join(rows) + "\n")


def check():
    with open(os.path.join(OUT, "sheet.csv"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    rows = [dict(zip(lines[0].split(","), ln.split(","))) for ln in lines[1:]]
    score, approvals = {}, {}
    for t in TEAMS:
        tot = {}
        for r in rows:
            if r["team"] != t:
                continue
            if r["item"] == "approve":
                approvals[t] = approvals.get(t, 0) + int(r["score"])
            else:
                tot[r["expert"]] = tot.get(r["expert"], 0) + F(r["score"])
        s = sorted(tot.values())
        score[t] = sum(s[1:-1]) / len(s[1:-1])
        print("%-8s approvals %d of 9, trimmed mean %.3f of 100" % (t, approvals[t], float(score[t])))
    if not (approvals["motif"] >= 5 and approvals["trillion"] >= 5 and
            F(0) < score["motif"] - score["trillion"] < F(2)):
        sys.exit("the constructed outcome is not: both a majority, Motif ahead by a narrow gap")
    print("Motif selected over Trillion Labs by a narrow score gap")


def main():
    rng = random.Random(20260220)
    sheet(rng)
    check()


if __name__ == "__main__":
    main()
