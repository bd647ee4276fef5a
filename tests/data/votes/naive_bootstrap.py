#!/usr/bin/env python3
"""The judge bootstrap done naively, as an independent check of the votes
plugin's (tests/test_votes_scale.c): draw as many judges as there are, with
replacement; pool the drawn judges' battles; refit Bradley-Terry (a tie is
half a win each way) by the MM iteration; put the strengths on the Elo
scale (1000 + 400 log10(g / geometric mean)); take the 2.5% and 97.5%
points (NumPy's default rule).  Standard library only.

    python3 naive_bootstrap.py battles_3k.json 2000 > naive_bootstrap.json
"""
import json
import math
import random
import sys


def fit(models, wins):
    """wins[(i, j)]: doubled wins of i over j.  MM (Hunter 2004)."""
    k = len(models)
    g = [1.0 / k] * k
    total = [sum(wins.get((i, j), 0) for j in range(k)) for i in range(k)]
    for _ in range(100000):
        new = []
        for i in range(k):
            d = sum((wins.get((i, j), 0) + wins.get((j, i), 0)) / (g[i] + g[j]) for j in range(k) if j != i)
            new.append(total[i] / d)
        s = sum(new)
        new = [x / s for x in new]
        done = max(abs(a - b) / b for a, b in zip(new, g)) < 1e-13
        g = new
        if done:
            break
    mean = sum(math.log(x) for x in g) / k
    return [1000 + 400 * (math.log(x) - mean) / math.log(10) for x in g]


def quantile(xs, p):
    xs = sorted(xs)
    h = (len(xs) - 1) * p
    lo = int(h)
    return xs[lo] if lo + 1 >= len(xs) else xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def main():
    battles = json.load(open(sys.argv[1]))
    rounds = int(sys.argv[2])
    models = sorted({b["model_a"] for b in battles} | {b["model_b"] for b in battles})
    index = {m: i for i, m in enumerate(models)}
    by_judge = {}
    for b in battles:
        a, o = index[b["model_a"]], index[b["model_b"]]
        won = {"model_a": [(a, o, 2)], "model_b": [(o, a, 2)]}.get(b["winner"], [(a, o, 1), (o, a, 1)])
        by_judge.setdefault(b["judge"], []).extend(won)
    judges = list(by_judge)
    rng = random.Random(2026)
    elo = {m: [] for m in models}
    for _ in range(rounds):
        wins = {}
        for j in (rng.choice(judges) for _ in judges):
            for i, o, n in by_judge[j]:
                wins[(i, o)] = wins.get((i, o), 0) + n
        for m, e in zip(models, fit(models, wins)):
            elo[m].append(e)
    out = {m: {"elo_q025": quantile(v, 0.025), "elo_q975": quantile(v, 0.975)} for m, v in elo.items()}
    json.dump({"rounds": rounds, "judges": len(judges), "seed": 2026, "elo": out}, sys.stdout, indent=1)
    print()


main()
