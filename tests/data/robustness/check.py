#!/usr/bin/env python3
"""An independent computation of what `kaieval robustness` reports for the
rounds near.cfg and sure.cfg here, with the standard library only.

  check.py near N PCT C Monte Carlo: P(advance) of each team when the points
                        are perturbed in a +-PCT box (total kept), when their
                        shares are drawn from a Dirichlet of concentration C
                        around the configured shares, and when the panel is
                        resampled by expert (N replicates each)
  check.py near|sure flips [P1 P2 P3]
                        the smallest L2 and L-infinity change of the points
                        (total kept, none negative) that brings the eliminated
                        team level with each advancing one: closed form when
                        no bound is active, else a brute-force grid; the
                        points of the three criteria default to 30 20 50

Prints lines "KEY TEAM [AGAINST] VALUE [how]"."""
import csv
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEAMS = ["a", "b", "c", "d"]
POINTS = [30.0, 20.0, 50.0]
TRIM, TRIM_MIN, ITEM_MAX = 1, 5, 10.0


def table(name):
    with open(os.path.join(HERE, name)) as f:
        return {row["team"]: float(row["normalized"]) for row in csv.DictReader(f)}


def panel(kind):
    """scores[team] = list of (expert, total) in expert order."""
    scores = {t: [] for t in TEAMS}
    with open(os.path.join(HERE, "panel-%s.csv" % kind)) as f:
        for row in csv.DictReader(f):
            scores[row["team"]].append((row["expert"], float(row["score"])))
    return scores


def trimmed(values):
    """values: (total, expert); trimmed as the round says."""
    values = sorted(values)
    if len(values) >= TRIM_MIN:
        values = values[TRIM:len(values) - TRIM]
    return sum(v for v, _ in values) / len(values)


def normalized(kind, experts=None):
    b1, b2, sheet = table("bench1.csv"), table("bench2.csv"), panel(kind)
    out = {}
    for t in TEAMS:
        by = dict(sheet[t])
        names = sorted(by) if experts is None else experts
        out[t] = [b1[t], b2[t], trimmed([(by[e], e) for e in names]) / ITEM_MAX]
    return out


def advancing(x, w):
    """eliminate_lowest 1; teams tied at the bottom all stay."""
    totals = {t: sum(a * b for a, b in zip(x[t], w)) for t in TEAMS}
    low = min(totals.values())
    lowest = [t for t in TEAMS if totals[t] == low]
    return set(TEAMS) if len(lowest) > 1 else set(TEAMS) - set(lowest)


def monte_carlo(kind, n, pct, conc):
    rng = random.Random(20260101)
    x = normalized(kind)
    experts = sorted(dict(panel(kind)["a"]))
    box = {t: 0 for t in TEAMS}
    dirichlet = {t: 0 for t in TEAMS}
    boot = {t: 0 for t in TEAMS}
    total = sum(POINTS)
    for _ in range(n):
        w = [p * (1 + pct / 100 * rng.uniform(-1, 1)) for p in POINTS]
        w = [v * total / sum(w) for v in w]
        for t in advancing(x, w):
            box[t] += 1
        g = [rng.gammavariate(conc * p / total, 1.0) for p in POINTS]
        for t in advancing(x, [v * total / sum(g) for v in g]):
            dirichlet[t] += 1
        drawn = [rng.choice(experts) for _ in experts]
        for t in advancing(normalized(kind, drawn), POINTS):
            boot[t] += 1
    for t in TEAMS:
        print("p_box %s %.6f" % (t, box[t] / n))
        print("p_dirichlet %s %.6f" % (t, dirichlet[t] / n))
        print("p_expert %s %.6f" % (t, boot[t] / n))


def closed_form(d, m):
    """L2 without bounds: delta = -m P d / |P d|^2, P = I - 11'/K."""
    mean = sum(d) / len(d)
    pd = [v - mean for v in d]
    norm2 = sum(v * v for v in pd)
    return [-m * v / norm2 for v in pd]


def grid(d, step=0.25):
    """Every points vector on a grid (total kept, none negative) that brings
    the teams level; the least L2 and L-infinity distances."""
    total = sum(POINTS)
    best2 = bestinf = math.inf
    n = int(round(total / step))
    for i in range(n + 1):
        for j in range(n + 1 - i):
            w = [i * step, j * step, total - (i + j) * step]
            if sum(a * b for a, b in zip(w, d)) > 1e-12:
                continue
            diff = [a - b for a, b in zip(w, POINTS)]
            best2 = min(best2, math.sqrt(sum(v * v for v in diff)))
            bestinf = min(bestinf, max(abs(v) for v in diff))
    return best2, bestinf


def flips(kind):
    x = normalized(kind)
    loser = "c"
    for t in ["a", "b", "d"]:
        d = [p - q for p, q in zip(x[t], x[loser])]
        m = sum(a * b for a, b in zip(POINTS, d))
        if all(v >= 0 for v in d):
            print("flip %s %s none" % (loser, t))
            continue
        l2, linf = grid(d)
        delta = closed_form(d, m)
        if all(w + v >= 0 for w, v in zip(POINTS, delta)):
            print("flip %s %s l2 %.9f closed" % (loser, t, math.sqrt(sum(v * v for v in delta))))
        else:
            print("flip %s %s l2 %.9f grid" % (loser, t, l2))
        print("flip %s %s linf %.9f grid" % (loser, t, linf))


if __name__ == "__main__":
    if sys.argv[2] == "flips":
        if len(sys.argv) == 6:
            POINTS[:] = [float(v) for v in sys.argv[3:6]]
        flips(sys.argv[1])
    else:
        monte_carlo(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
