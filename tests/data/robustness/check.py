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

  check.py rated N       Monte Carlo on rated.cfg (N replicates): P(advance)
                        when the raters are drawn again within their group,
                        and when raters and experts are drawn together
  check.py rated loo    which decisions change without each rater
  check.py judged N     Monte Carlo on judged.cfg: P(advance) when the
                        judges are drawn again (all of a drawn judge's
                        ballots), Bradley-Terry refitted by Newton's method
  check.py judged loo   which decisions change without each judge, most
                        ballots first (ties: first appearance in the file)

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


def advancing_by(totals):
    """eliminate_lowest 1; totals within 1e-9 of the lowest all stay."""
    low = min(totals.values())
    lowest = [t for t in TEAMS if totals[t] - low <= 1e-9]
    return set(TEAMS) if len(lowest) > 1 else set(TEAMS) - set(lowest)


def decisions_changed(real, totals):
    now = advancing_by(totals)
    return sorted(t for t in TEAMS if (t in real) != (t in now))


# --- rated.cfg: tables, the expert panel and ratings by rater group ---------

RATED_POINTS = [25.0, 15.0, 30.0, 30.0]
SCALE_MAX = 5.0


def ratings():
    """[(rater, group, {team: score})] in order of first appearance."""
    out, index = [], {}
    with open(os.path.join(HERE, "ratings.csv")) as f:
        for row in csv.DictReader(f):
            if row["rater"] not in index:
                index[row["rater"]] = len(out)
                out.append((row["rater"], row["group"], {}))
            out[index[row["rater"]]][2][row["team"]] = float(row["score"])
    return out


def users_scores(drawn):
    """mean / scale_max per team over the drawn raters (repeats count
    again); None when a team is left without a rating."""
    out = {}
    for t in TEAMS:
        got = [r[2][t] for r in drawn if t in r[2]]
        if not got:
            return None
        out[t] = sum(got) / len(got) / SCALE_MAX
    return out


def rated_totals(panel_norm, users):
    b1, b2 = table("bench1.csv"), table("bench2.csv")
    return {t: RATED_POINTS[0] * b1[t] + RATED_POINTS[1] * b2[t] + RATED_POINTS[2] * panel_norm[t]
            + RATED_POINTS[3] * users[t] for t in TEAMS}


def panel_norm(experts=None):
    return {t: v[2] for t, v in normalized("near", experts).items()}


def draw_raters(rng, raters):
    groups = {}
    for r in raters:
        groups.setdefault(r[1], []).append(r)
    drawn = []
    for members in groups.values():
        drawn += [rng.choice(members) for _ in members]
    return drawn


def rated_monte_carlo(n):
    rng = random.Random(20260102)
    raters, experts = ratings(), sorted(dict(panel("near")["a"]))
    real_users, real_panel = users_scores(raters), panel_norm()
    by_rater = {t: 0 for t in TEAMS}
    joint = {t: 0 for t in TEAMS}
    for _ in range(n):
        users = users_scores(draw_raters(rng, raters)) or real_users
        for t in advancing_by(rated_totals(real_panel, users)):
            by_rater[t] += 1
        users = users_scores(draw_raters(rng, raters)) or real_users
        drawn = [rng.choice(experts) for _ in experts]
        for t in advancing_by(rated_totals(panel_norm(drawn), users)):
            joint[t] += 1
    for t in TEAMS:
        print("p_rater %s %.6f" % (t, by_rater[t] / n))
        print("p_all %s %.6f" % (t, joint[t] / n))


def rated_leave_one_out():
    raters, pn = ratings(), panel_norm()
    real = advancing_by(rated_totals(pn, users_scores(raters)))
    for r in raters:
        users = users_scores([x for x in raters if x is not r])
        print("loo users %s changed %s" % (r[0], " ".join(decisions_changed(real, rated_totals(pn, users)))))


# --- judged.cfg: a table and pairwise battles (Bradley-Terry) ---------------

JUDGED_POINTS = [40.0, 60.0]
PRIOR = 0.5


def battles():
    """[(judge, [(winner index, loser index, tie)])] in order of first
    appearance; every battle here is a ballot of its own."""
    import json
    out, index = [], {}
    with open(os.path.join(HERE, "battles.jsonl")) as f:
        for line in f:
            b = json.loads(line)
            if b["judge"] not in index:
                index[b["judge"]] = len(out)
                out.append((b["judge"], []))
            x, y = TEAMS.index(b["model_a"]), TEAMS.index(b["model_b"])
            if b["winner"] == "model_b":
                x, y = y, x
            out[index[b["judge"]]][1].append((x, y, b["winner"] == "tie"))
    return out


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b."""
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            for k in range(c, n + 1):
                m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def winrates(ballots):
    """Bradley-Terry by Newton's method on log-strengths (the last held at
    0): doubled wins w[i][j] = 2 per win + 1 per tie each way + the prior;
    then each team's mean predicted win probability against the others."""
    k = len(TEAMS)
    w = [[0.0 if i == j else PRIOR for j in range(k)] for i in range(k)]
    for x, y, tie in ballots:
        if tie:
            w[x][y] += 1
            w[y][x] += 1
        else:
            w[x][y] += 2
    theta = [0.0] * k
    for _ in range(100):
        p = [[1 / (1 + math.exp(theta[j] - theta[i])) for j in range(k)] for i in range(k)]
        grad = [sum(w[i][j] - (w[i][j] + w[j][i]) * p[i][j] for j in range(k) if j != i) for i in range(k)]
        h = [[0.0] * k for _ in range(k)]
        for i in range(k):
            for j in range(k):
                if i != j:
                    v = (w[i][j] + w[j][i]) * p[i][j] * p[j][i]
                    h[i][i] += v
                    h[i][j] -= v
        step = solve([row[:k - 1] for row in h[:k - 1]], grad[:k - 1])
        for i in range(k - 1):
            theta[i] += step[i]
        if max(abs(v) for v in step) < 1e-14:
            break
    g = [math.exp(v) for v in theta]
    return {TEAMS[i]: sum(g[i] / (g[i] + g[j]) for j in range(k) if j != i) / (k - 1) for i in range(k)}


def judged_totals(judges):
    b1, wr = table("bench1.csv"), winrates([x for j in judges for x in j[1]])
    return {t: JUDGED_POINTS[0] * b1[t] + JUDGED_POINTS[1] * wr[t] for t in TEAMS}


def judged_monte_carlo(n):
    rng = random.Random(20260103)
    judges = battles()
    count = {t: 0 for t in TEAMS}
    for _ in range(n):
        for t in advancing_by(judged_totals([rng.choice(judges) for _ in judges])):
            count[t] += 1
    for t in TEAMS:
        print("p_judge %s %.6f" % (t, count[t] / n))
    for t, v in judged_totals(judges).items():
        print("total %s %.9f" % (t, v))


def judged_leave_one_out():
    judges = battles()
    real = advancing_by(judged_totals(judges))
    order = sorted(range(len(judges)), key=lambda i: (-len(judges[i][1]), i))
    for i in order[:100]:
        rest = [j for n, j in enumerate(judges) if n != i]
        print("loo duel %s changed %s" % (judges[i][0], " ".join(decisions_changed(real, judged_totals(rest)))))


if __name__ == "__main__":
    if sys.argv[1] in ("rated", "judged"):
        loo = {"rated": rated_leave_one_out, "judged": judged_leave_one_out}[sys.argv[1]]
        mc = {"rated": rated_monte_carlo, "judged": judged_monte_carlo}[sys.argv[1]]
        if sys.argv[2] == "loo":
            loo()
        else:
            mc(int(sys.argv[2]))
    elif sys.argv[2] == "flips":
        if len(sys.argv) == 6:
            POINTS[:] = [float(v) for v in sys.argv[3:6]]
        flips(sys.argv[1])
    else:
        monte_carlo(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
