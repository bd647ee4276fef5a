#!/usr/bin/env python3
"""Construct the input data of the archived 2026-08 stage-2 round.

Per-team raw data of stage 2 were never published.  This script builds raw
inputs (AAII component scores, NIA area scores, the expert form with the
independence box, the expert users' and the public's ratings, cost facts)
from the per-team targets below, so that the plugins' own computations land
on every published figure.  The targets are the only hand-made choice;
everything else follows from them and a fixed seed, so rerunning the script
gives the same bytes.  At the end it recomputes the published figures from
the files it wrote (an independent re-implementation of the formulas, in
exact fractions) and stops if any is off.

Usage (from anywhere):  python3 examples/2026-08-stage2/tools/generate.py
Standard library only.
"""
import json
import os
import random
import sys
from fractions import Fraction as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
TEAMS = ["motif", "upstage", "skt", "lg"]   # the release's order (가나다)

# --- the hand-made choice -----------------------------------------------------
# Published (MSIT 2026-08-18 and 2026-08-20): AAII top 11.9 (Motif), average
# 9.48; NIA top 13.4 (SKT), average 13.05; benchmarks average 22.5, 1st-4th gap
# 4.0; experts top 29.5 (LG), average 28.75, gap 2.4; expert users top 11.6
# (SKT), average 10.53; public top 7.6 (LG), average 7.03; users average 17.6,
# gap 5.0.  Reported: totals SKT 70.6, Upstage 69.9, LG 69.0, Motif 65.8;
# Motif benchmarks 24.6 = AAII 11.9 + NIA 12.7, experts 27.1, users 14.1.
AAII = {"motif": 476, "upstage": 377, "skt": 354, "lg": 310}      # index x 10
NIA = {"motif": 846, "upstage": 883, "skt": 894, "lg": 857}       # NIA /100, x 10
EXPERT_MID = {"motif": 2168, "upstage": 2334, "skt": 2338, "lg": 2360}  # 8 middle totals, tenths
EXPERT_USERS = {"motif": 141, "upstage": 172, "skt": 190, "lg": 185}    # sum of 49 ratings
PUBLIC = {"motif": 508, "upstage": 697, "skt": 693, "lg": 703}          # sum of 185 ratings


def write(rel, text):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def spread(rng, total, n, lo, hi, jitter):
    """n integers in [lo, hi] summing to total, scattered by about jitter."""
    assert n * lo <= total <= n * hi
    base = [total // n + (1 if i < total % n else 0) for i in range(n)]
    for _ in range(n * jitter):
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j and base[i] < hi and base[j] > lo:
            base[i] += 1
            base[j] -= 1
    rng.shuffle(base)
    return base


def tenths(v):
    return "%d.%d" % (v // 10, v % 10)


# --- AAII: nine benchmarks with the published weights --------------------------

# name, weight (%, MSIT 2026-08-20), typical level in tenths of a point
AAII_BENCH = [
    ("gdpval_aa_v2", 20, 450), ("tau3_banking", 14, 480),
    ("terminal_bench_v2_1", 16, 380), ("scicode", 8, 400),
    ("aa_lcr", 6, 600), ("aa_omniscience", 12, 200),
    ("hle", 12, 180), ("gpqa_diamond", 6, 700), ("critpt", 6, 60),
]
# Motif 3 is agent-specialised; K-EXAONE 2.0 hallucinates little (9th on
# AA-Omniscience non-hallucination).
AAII_STRENGTH = {("motif", "gdpval_aa_v2"): 60, ("motif", "tau3_banking"): 60,
                 ("motif", "terminal_bench_v2_1"): 50, ("lg", "aa_omniscience"): 60}


def aaii(rng):
    """Component scores (tenths) whose weighted mean is the team's index."""
    level = sum(w * v for _, w, v in AAII_BENCH) / 100
    rows = ["team,benchmark,run,score"]
    for team in TEAMS:
        scale = AAII[team] / level
        v = [max(0, round(b * scale) + AAII_STRENGTH.get((team, n), 0) + rng.randint(-25, 25))
             for n, _, b in AAII_BENCH]
        # sum of weight x score must be 100 x the index: move single tenths on
        # random components until close, then fix the rest through weights 6
        # (aa_lcr) and 8 (scicode); every weight is even, and so is the rest
        rest = 100 * AAII[team] - sum(w * x for (_, w, _), x in zip(AAII_BENCH, v))
        while abs(rest) >= 20:
            i = rng.randrange(len(v))
            d = 1 if rest > 0 else -1
            v[i] += d
            rest -= d * AAII_BENCH[i][1]
        a, b = next((a, b) for a in range(-4, 5) for b in range(-4, 5) if 6 * a + 8 * b == rest)
        v[4] += a
        v[3] += b
        assert sum(w * x for (_, w, _), x in zip(AAII_BENCH, v)) == 100 * AAII[team]
        assert all(0 <= x <= 1000 for x in v), (team, v)
        for (n, _, _), x in zip(AAII_BENCH, v):
            rows.append("%s,%s,1,%s" % (team, n, tenths(x)))
    write("benchmarks/aaii.csv", "\n".join(rows) + "\n")


# --- NIA: seven areas, 0-100 ----------------------------------------------------

NIA_AREAS = [("math", 30), ("knowledge", 10), ("long_context", -20), ("safety", -15),
             ("reliability", 5), ("korean", 15), ("instruction_following", -25)]


def nia(rng):
    rows = ["team,benchmark,run,score"]
    for team in TEAMS:
        v = [NIA[team] + s + rng.randint(-8, 8) for _, s in NIA_AREAS]
        v[-1] += 7 * NIA[team] - sum(v)
        for (area, _), x in zip(NIA_AREAS, v):
            rows.append("%s,%s,1,%s" % (team, area, tenths(x)))
    write("benchmarks/nia.csv", "\n".join(rows) + "\n")


# --- the expert form: rubric 10 / 10 / 15 and the independence box -------------

ITEMS = [("strategy", 100), ("results", 100), ("ripple", 150)]     # max, in tenths
# industry 3, academia 5, research 2 (MSIT 2026-08-20)
EXPERTS = ["ind1", "ind2", "ind3", "aca1", "aca2", "aca3", "aca4", "aca5", "res1", "res2"]


def panel_totals(rng, mid_sum, bias):
    """Ten totals (tenths): the eight left after dropping the highest and
    the lowest sum to mid_sum."""
    target = mid_sum // 8
    while True:
        raw = [target + bias[e] + rng.randint(-12, 12) for e in EXPERTS]
        order = sorted(range(10), key=lambda i: (raw[i], i))
        lo, hi, mid = order[0], order[-1], order[1:-1]
        need = mid_sum - sum(raw[i] for i in mid)
        for k in range(abs(need)):
            raw[mid[k % 8]] += 1 if need > 0 else -1
        mids = [raw[i] for i in mid]
        if raw[lo] < min(mids) and raw[hi] > max(mids) and max(raw) <= 350:
            return raw


def split_total(rng, total):
    while True:
        shares = [m * (1 + rng.uniform(-0.05, 0.05)) for _, m in ITEMS]
        s = sum(shares)
        v = [int(total * x / s) for x in shares]
        v[2] += total - sum(v)
        if all(0 <= x <= m for x, (_, m) in zip(v, ITEMS)):
            return v


def form(rng):
    bias = {e: rng.randint(-10, 10) for e in EXPERTS}
    rows = ["expert,team,item,score"]
    for team in TEAMS:
        for e, total in zip(EXPERTS, panel_totals(rng, EXPERT_MID[team], bias)):
            for (item, _), v in zip(ITEMS, split_total(rng, total)):
                rows.append("%s,%s,%s,%s" % (e, team, item, tenths(v)))
            # independence minimum standard: checked = fails; nobody checked it
            rows.append("%s,%s,independence,0" % (e, team))
    write("form.csv", "\n".join(rows) + "\n")


# --- users: 49 expert users and 185 members of the public, one file -----------

def ratings(rng):
    rows = ["rater,group,team,score,seconds,position"]
    for group, prefix, n, sums in (("expert", "x", 49, EXPERT_USERS), ("public", "p", 185, PUBLIC)):
        scores = {t: spread(rng, sums[t], n, 1, 5, 1) for t in TEAMS}
        for i in range(n):
            order = TEAMS[:]
            rng.shuffle(order)   # model order randomized on the website
            for pos, t in enumerate(order):
                rows.append("%s%03d,%s,%s,%d,%d,%d" % (prefix, i + 1, group, t, scores[t][i],
                                                      rng.randint(185, 1500), pos + 1))
    write("ratings.csv", "\n".join(rows) + "\n")


# --- cost facts: published sizes (copied from examples/cost-facts/stage2) -----

COST = {
    "motif": ("Motif 3: 314B-A13B, published", 314000000000, 13000000000),
    "upstage": ("Solar Open2: 250B-A15B, published", 250000000000, 15000000000),
    "skt": ("A.X K2: 688B-A33B, published", 688000000000, 33000000000),
    "lg": ("K-EXAONE 2.0: 750B-A37B, published", 750000000000, 37000000000),
}


def cost():
    for t, (note, total, active) in COST.items():
        write("cost/%s.json" % t, json.dumps({"note": note, "parameters_total": total,
                                              "parameters_active": active}, indent=2) + "\n")


# --- check: recompute the published figures from the files written -----------

def read_csv(rel):
    with open(os.path.join(OUT, rel), encoding="utf-8") as f:
        lines = f.read().splitlines()
    head = lines[0].split(",")
    return [dict(zip(head, line.split(","))) for line in lines[1:]]


def points():
    weight = {n: w for n, w, _ in AAII_BENCH}
    pts = {t: {} for t in TEAMS}
    rat = read_csv("ratings.csv")
    for t in TEAMS:
        p = pts[t]
        a = [r for r in read_csv("benchmarks/aaii.csv") if r["team"] == t]
        p["aaii"] = sum(weight[r["benchmark"]] * F(r["score"]) for r in a) / 100 * F(25, 100)
        n = [F(r["score"]) for r in read_csv("benchmarks/nia.csv") if r["team"] == t]
        p["nia"] = sum(n) / len(n) * F(15, 100)
        totals = {}
        for r in read_csv("form.csv"):
            if r["team"] == t and r["item"] != "independence":
                totals[r["expert"]] = totals.get(r["expert"], 0) + F(r["score"])
        s = sorted(totals.values())
        p["experts"] = sum(s[1:-1]) / 8
        for group, item, pts_max in (("expert", "expert_users", 15), ("public", "public", 10)):
            sc = [int(r["score"]) for r in rat if r["team"] == t and r["group"] == group]
            p[item] = F(sum(sc), len(sc)) * F(pts_max, 5)
        p["benchmarks"] = p["aaii"] + p["nia"]
        p["users"] = p["expert_users"] + p["public"]
        p["total"] = p["benchmarks"] + p["experts"] + p["users"]
    return pts


def check():
    pts = points()

    def fmt(x, d):
        return "%.*f" % (d, float(x))

    def top(item):
        best = max(pts[t][item] for t in TEAMS)
        return fmt(best, 1), sorted(t for t in TEAMS if fmt(pts[t][item], 1) == fmt(best, 1))

    def avg(item, d):
        return fmt(sum(pts[t][item] for t in TEAMS) / 4, d)

    def gap(item):
        v = [pts[t][item] for t in TEAMS]
        return fmt(max(v) - min(v), 1)

    official = [  # MSIT 2026-08-18 (P3) and 2026-08-20 (P4)
        (top("aaii"), ("11.9", ["motif"])), (avg("aaii", 2), "9.48"),
        (top("nia"), ("13.4", ["skt"])), (avg("nia", 2), "13.05"),
        (avg("benchmarks", 1), "22.5"), (gap("benchmarks"), "4.0"),
        (top("experts"), ("29.5", ["lg"])), (avg("experts", 2), "28.75"),
        (avg("experts", 1), "28.8"), (gap("experts"), "2.4"),
        (top("expert_users"), ("11.6", ["skt"])), (avg("expert_users", 2), "10.53"),
        (top("public"), ("7.6", ["lg"])), (avg("public", 2), "7.03"),
        (avg("users", 1), "17.6"), (gap("users"), "5.0"),
    ]
    reported = [  # newspim 2026-08-27; edaily via digest (Motif's breakdown)
        (fmt(pts["skt"]["total"], 1), "70.6"), (fmt(pts["upstage"]["total"], 1), "69.9"),
        (fmt(pts["lg"]["total"], 1), "69.0"), (fmt(pts["motif"]["total"], 1), "65.8"),
        (fmt(pts["motif"]["benchmarks"], 1), "24.6"), (fmt(pts["motif"]["aaii"], 1), "11.9"),
        (fmt(pts["motif"]["nia"], 1), "12.7"), (fmt(pts["motif"]["experts"], 1), "27.1"),
        (fmt(pts["motif"]["users"], 1), "14.1"),
    ]
    bad = [(got, want) for got, want in official + reported if got != want]
    print("team     aaii    nia     bench   experts  x_users public  users   total")
    for t in sorted(TEAMS, key=lambda t: -pts[t]["total"]):
        p = pts[t]
        print("%-7s %6.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f" % (
            t, p["aaii"], p["nia"], p["benchmarks"], p["experts"], p["expert_users"],
            p["public"], p["users"], p["total"]))
    if bad:
        sys.exit("published figures missed: %r" % bad)
    print("every published and reported figure matches")


def main():
    rng = random.Random(20260818)
    aaii(rng)
    nia(rng)
    form(rng)
    ratings(rng)
    cost()
    check()


if __name__ == "__main__":
    main()
