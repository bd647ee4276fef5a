#!/usr/bin/env python3
"""Construct the input data of the archived 2026-01 stage-1 round.

Per-team raw data of stage 1 were never published.  This script builds raw
inputs (manifests, NIA scores, lm-eval result files, team-specific benchmark
runs and targets, the expert sheet, the expert users' ratings, cost facts)
from the per-team POINTS below, so that the plugins' own computations land
on every published figure.  The TARGETS table is the only hand-made choice;
everything else follows from it and a fixed seed, so rerunning the script
gives the same bytes.  At the end it recomputes the published figures from
the files it wrote (an independent re-implementation of the formulas) and
stops if any is off.

Usage (from anywhere):  python3 examples/2026-01-stage1/tools/generate.py
Standard library only.
"""
import hashlib
import json
import math
import os
import random
import struct
import sys
from fractions import Fraction as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
TEAMS = ["lg", "skt", "upstage", "naver", "nc"]

# --- the hand-made choice: points per team and criterion ------------------
# Published (MSIT, 2026-01-15): LG 9.2 / 14.4 / 10.0 / 31.6 / 25.0, total 90.2;
# SKT also 9.2 on NIA; Upstage also 10.0 on the team-specific benchmarks;
# averages over the five teams: benchmarks 30.4, experts 28.56, users 20.76,
# total 79.7.  Everything else here is constructed (see README.md).
NIA = {"lg": 92.0, "skt": 92.0, "upstage": 84.0, "naver": 82.0, "nc": 80.0}   # NIA /100
GLOBAL = {"lg": 7203, "skt": 6600, "upstage": 6100, "naver": 5800, "nc": 5600}  # mean x 1e4
EXPERT = {"lg": 316, "skt": 284, "upstage": 283, "naver": 273, "nc": 272}     # trimmed mean x 10
USER_SUM = {"lg": 224, "skt": 189, "upstage": 188, "naver": 166, "nc": 163}   # sum of 49 ratings


def write(rel, text):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_bytes(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


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


# --- independence: manifests and stand-in weight files ----------------------

def safetensors(seed):
    """A tiny valid safetensors file (one 2x2 F32 tensor) standing in for a shard."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}},
                        separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    rng = random.Random(seed)
    data = struct.pack("<4f", *[rng.choice([-1.0, -0.5, 0.25, 0.5, 1.0, 2.0]) for _ in range(4)])
    return struct.pack("<Q", len(header)) + header + data


def weight(team, name):
    rel = "weights/%s/%s" % (team, name)
    data = safetensors(team + "/" + name)
    write_bytes(rel, data)
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest()}


def own(name, role, license, weights=None, seed=None):
    c = {"name": name, "role": role, "origin": "own", "init": "scratch", "frozen": False,
         "license": license}
    if weights:
        c["weights"] = weights
    if seed is not None:
        c["init_seed"] = seed
    return c


def manifests():
    lgl, upl, nvl = ("LicenseRef-K-EXAONE-AI-Model-License", "LicenseRef-Upstage-Solar-License",
                     "LicenseRef-HyperCLOVA-X-SEED-Model-License")
    m = {}
    m["lg"] = {
        "model": {"name": "K-EXAONE-236B-A23B", "license": lgl,
                  "parameters_total": 236000000000, "parameters_active": 23000000000},
        "components": [
            own("text-backbone", "text-backbone", lgl,
                [weight("lg", "model-00001-of-00002.safetensors"),
                 weight("lg", "model-00002-of-00002.safetensors")], 20250804),
            own("tokenizer", "tokenizer", lgl)],
        "attributions": []}
    m["skt"] = {
        "model": {"name": "A.X K1", "license": "Apache-2.0",
                  "parameters_total": 519000000000, "parameters_active": 33000000000},
        "components": [
            own("text-backbone", "text-backbone", "Apache-2.0",
                [weight("skt", "model-00001-of-00002.safetensors"),
                 weight("skt", "model-00002-of-00002.safetensors")], 20250901),
            own("tokenizer", "tokenizer", "Apache-2.0"),
            {"name": "inference-code", "role": "inference-code", "origin": "third-party",
             "source": "deepseek-ai/DeepSeek-V3 (MLA and MoE inference code)",
             "init": "scratch", "frozen": False, "license": "MIT"}],
        "attributions": [
            {"component": "inference-code", "license": "MIT",
             "notice": "Parts of the attention (MLA) and MoE inference code follow "
                       "deepseek-ai/DeepSeek-V3, MIT License; every weight was randomly "
                       "initialized and trained by the team."}]}
    m["upstage"] = {
        "model": {"name": "Solar-Open-100B", "license": upl,
                  "parameters_total": 102600000000, "parameters_active": 12000000000},
        "components": [
            own("text-backbone", "text-backbone", upl,
                [weight("upstage", "model.safetensors")], 20250811),
            own("tokenizer", "tokenizer", upl),
            {"name": "inference-code", "role": "inference-code", "origin": "third-party",
             "source": "zai-org/GLM-4.5 (modeling and inference code)",
             "init": "scratch", "frozen": False, "license": "Apache-2.0"}],
        "attributions": [
            {"component": "inference-code", "license": "Apache-2.0",
             "notice": "Parts of the modeling and inference code are derived from "
                       "zai-org/GLM-4.5, Copyright Zhipu AI, licensed under the Apache "
                       "License 2.0; the original notices are kept in the files."}]}
    m["naver"] = {
        "model": {"name": "HyperCLOVA X SEED 32B Think", "license": nvl,
                  "parameters_total": 32000000000, "parameters_active": 32000000000},
        "components": [
            own("text-backbone", "text-backbone", nvl,
                [weight("naver", "model.safetensors")], 20250815),
            own("tokenizer", "tokenizer", nvl),
            {"name": "vision-encoder", "role": "vision-encoder", "origin": "third-party",
             "source": "Qwen2.5-VL vision encoder (pretrained weights, used frozen)",
             "init": "pretrained", "frozen": True, "license": "Apache-2.0",
             "weights": [weight("naver", "vision-encoder.safetensors")]}],
        "attributions": [
            {"component": "vision-encoder", "license": "Apache-2.0",
             "notice": "The vision encoder is the pretrained Qwen2.5-VL vision encoder "
                       "(Alibaba Cloud, Apache License 2.0), used without re-initialization."}]}
    m["nc"] = {
        "model": {"name": "VAETKI-100B-A10B", "license": "MIT",
                  "parameters_total": 112200000000, "parameters_active": 10100000000},
        "components": [
            own("text-backbone", "text-backbone", "MIT",
                [weight("nc", "model.safetensors")], 20250820),
            own("tokenizer", "tokenizer", "MIT")],
        "attributions": []}
    for team in TEAMS:
        write("manifests/%s.json" % team, json.dumps(m[team], indent=2) + "\n")


# --- NIA benchmark: five areas scored 0-100 by NIA, one run --------------------

NIA_AREAS = ["math", "knowledge", "long_context", "reliability", "safety"]
NIA_SHAPE = [+3.0, +1.0, -2.0, +0.5, -2.5]   # area difficulty, tenths added below


def nia(rng):
    rows = ["team,benchmark,run,score"]
    for team in TEAMS:
        # tenths of a point, summing exactly to 5 x the team's NIA score
        shape = [round((NIA[team] + s) * 10) + rng.randint(-8, 8) for s in NIA_SHAPE]
        shape[-1] += round(NIA[team] * 10) * 5 - sum(shape)
        for area, v in zip(NIA_AREAS, shape):
            rows.append("%s,%s,1,%d.%d" % (team, area, v // 10, v % 10))
    write("benchmarks/nia.csv", "\n".join(rows) + "\n")


# --- the 13 common global benchmarks: lm-eval results files, 5 runs per team --

# name, lm-eval task, metric, typical level of a late-2025 open model (x 1e4)
COMMON = [
    ("mmlu_pro", "mmlu_pro", "exact_match,custom-extract", 8000),
    ("kmmlu_pro", "kmmlu_pro", "exact_match,custom-extract", 7000),
    ("gpqa_diamond", "gpqa_diamond_cot_zeroshot", "exact_match,flexible-extract", 7400),
    ("hle", "hle", "exact_match,none", 1400),
    ("aime25", "aime25", "exact_match,none", 8300),
    ("hrm8k", "hrm8k", "exact_match,none", 8400),
    ("livecodebench", "livecodebench_v6", "pass@1,none", 6800),
    ("ifeval", "ifeval", "prompt_level_strict_acc,none", 8700),
    ("ifbench", "ifbench", "prompt_level_strict_acc,none", 4300),
    ("tau2_bench", "tau2_bench", "pass@1,none", 6000),
    ("bfcl_v3", "bfcl_v3", "acc,none", 6500),
    ("kobalt", "kobalt", "acc,none", 5000),
    ("click", "click", "acc,none", 7900),
]
# LG reported being first on 10 of the 13 (self-report, 2026-01-11): the other
# three are led by these teams.
NOT_LG = {"aime25": "skt", "hrm8k": "skt", "ifeval": "upstage"}


# Where a team is relatively strong or weak (x 1e4), so that the leaders fall
# as NOT_LG says.
STRENGTH = {("skt", "aime25"): 900, ("skt", "hrm8k"): 900, ("upstage", "ifeval"): 1000,
            ("lg", "ifeval"): -200}


def common_means(rng):
    """Per team and benchmark the mean of the runs (x 1e4); each team's mean
    over the 13 is exactly its GLOBAL value (the residual is spread evenly so
    that the leaders stay where STRENGTH put them)."""
    level = sum(b[3] for b in COMMON) // len(COMMON)
    means = {}
    for team in TEAMS:
        off = GLOBAL[team] - level
        v = [b[3] + off + STRENGTH.get((team, b[0]), 0) + rng.randint(-150, 150) for b in COMMON]
        rest = GLOBAL[team] * len(COMMON) - sum(v)
        for i in range(len(v)):
            v[i] += rest // len(v) + (1 if i < rest % len(v) else 0)
        means[team] = v
    return means


def leaders_ok(means):
    for i, b in enumerate(COMMON):
        top = max(TEAMS, key=lambda t: means[t][i])
        if top != NOT_LG.get(b[0], "lg"):
            return False
    return True


def lm_eval_file(team, run, scores, date):
    results, hib, nsamp, versions, nshot = {}, {}, {}, {}, {}
    for (name, task, metric, _), s in zip(COMMON, scores):
        m, filt = metric.split(",")
        stderr = round(math.sqrt(s / 1e4 * (1 - s / 1e4) / 1000), 4)
        results[task] = {"alias": task, metric: s / 1e4, "%s_stderr,%s" % (m, filt): stderr}
        hib[task] = {m: True}
        nsamp[task] = {"original": 1000, "effective": 1000}
        versions[task] = 1.0
        nshot[task] = 0
    doc = {
        "results": results,
        "group_subtasks": {t: [] for t in results},
        "versions": versions,
        "n-shot": nshot,
        "higher_is_better": hib,
        "n-samples": nsamp,
        "config": {"model": "local-chat-completions",
                   "model_args": "model=%s,base_url=http://localhost:8000/v1" % team,
                   "batch_size": 1, "limit": None, "random_seed": run,
                   "numpy_seed": 1234, "torch_seed": 1234, "fewshot_seed": 1234},
        "lm_eval_version": "0.4.9",
        "model_name": team,
        "date": date,
        "note": "constructed example data (examples/2026-01-stage1/README.md)",
    }
    return json.dumps(doc, indent=2) + "\n"


def common(rng):
    for _ in range(100):
        means = common_means(rng)
        if leaders_ok(means):
            break
    else:
        sys.exit("could not place the benchmark leaders")
    runs = {}
    for team in TEAMS:
        runs[team] = []
        for m in means[team]:
            # five runs, x 1e4, summing to 5 x the mean
            r = [m + rng.randint(-60, 60) for _ in range(4)]
            r.append(5 * m - sum(r))
            runs[team].append(r)
        for k in range(5):
            scores = [runs[team][i][k] for i in range(len(COMMON))]
            date = 1767225600.0 + 86400 * k + 3600 * TEAMS.index(team)
            write("benchmarks/lm-eval/%s/results_2026-01-0%dT09-00-00.json" % (team, k + 1),
                  lm_eval_file(team, k + 1, scores, date))
    # TTA re-ran two benchmarks per team at random; reproduced within 0.01
    rows = ["team,benchmark,score"]
    for team in TEAMS:
        for i in sorted(rng.sample(range(len(COMMON)), 2)):
            mean = sum(runs[team][i]) / 5
            rows.append("%s,%s,%.4f" % (team, COMMON[i][0], (mean + rng.randint(-50, 50)) / 1e4))
    write("benchmarks/tta.csv", "\n".join(rows) + "\n")
    return runs


# --- team-specific benchmarks: B / A against each team's target model --------

# team: target model, then (benchmark, A = target's score, B = team's mean);
# the first two benchmarks were chosen by the team, the last three by MSIT.
INDIVIDUAL = {
    "lg": ("target-model-lg", [("aime25", 85.0, 88.6), ("tau2_bench", 62.0, 64.5),
                               ("ko_longbench", 70.0, 71.4), ("mmlu_redux", 90.0, 91.2),
                               ("livebench", 70.0, 70.7)]),
    "skt": ("target-model-skt", [("hrm8k", 90.0, 81.0), ("kmmlu_redux", 80.0, 67.2),
                                 ("ko_longbench", 70.0, 61.6), ("mmlu_redux", 90.0, 73.8),
                                 ("livebench", 70.0, 60.2)]),
    "upstage": ("target-model-upstage", [("ifbench", 45.0, 46.2), ("kmmlu_redux", 80.0, 81.6),
                                         ("ko_longbench", 70.0, 70.0), ("mmlu_redux", 90.0, 90.9),
                                         ("livebench", 70.0, 71.4)]),
    "naver": ("target-model-naver", [("textvqa", 84.0, 84.8), ("docvqa", 80.0, 72.0),
                                     ("ko_longbench", 60.0, 57.0), ("mmlu_redux", 85.0, 74.8),
                                     ("livebench", 70.0, 60.9)]),
    "nc": ("target-model-nc", [("kmmlu_redux", 80.0, 72.0), ("ifeval", 90.0, 75.6),
                               ("ko_longbench", 70.0, 61.6), ("mmlu_redux", 90.0, 75.6),
                               ("livebench", 70.0, 58.8)]),
}


def individual(rng):
    rows, trows = ["team,benchmark,run,score"], ["team,benchmark,target_model,score"]
    for team in TEAMS:
        model, marks = INDIVIDUAL[team]
        for bench, a, b in marks:
            tenths = [round(b * 10) + rng.randint(-6, 6) for _ in range(4)]
            tenths.append(round(b * 10) * 5 - sum(tenths))
            for k, v in enumerate(tenths):
                rows.append("%s,%s,%d,%d.%d" % (team, bench, k + 1, v // 10, v % 10))
            trows.append("%s,%s,%s,%.1f" % (team, bench, model, a))
    write("benchmarks/individual.csv", "\n".join(rows) + "\n")
    write("benchmarks/targets.csv", "\n".join(trows) + "\n")


# --- the expert panel: 10 experts, rubric 10 / 15 / 10, trimmed mean ---------

ITEMS = [("strategy", 100), ("results", 150), ("ripple", 100)]   # max, in tenths
EXPERTS = ["e%02d" % i for i in range(1, 11)]


def panel_totals(rng, target10, bias):
    """Ten totals (tenths) whose mean after dropping the highest and lowest is target10/10."""
    while True:
        raw = [target10 + bias[e] + rng.randint(-12, 12) for e in EXPERTS]
        order = sorted(range(10), key=lambda i: (raw[i], i))
        lo, hi, mid = order[0], order[-1], order[1:-1]
        need = 8 * target10 - sum(raw[i] for i in mid)
        for k in range(abs(need)):
            raw[mid[k % 8]] += 1 if need > 0 else -1
        mids = [raw[i] for i in mid]
        if raw[lo] < min(mids) and raw[hi] > max(mids) and max(raw) <= 350:
            return raw


def split_total(rng, total):
    """A total (tenths) into the three items, each within [0, max]."""
    while True:
        shares = [m * (1 + rng.uniform(-0.05, 0.05)) for _, m in ITEMS]
        s = sum(shares)
        v = [int(total * x / s) for x in shares]
        v[1] += total - sum(v)
        if all(0 <= x <= m for x, (_, m) in zip(v, ITEMS)):
            return v


def experts(rng):
    bias = {e: rng.randint(-10, 10) for e in EXPERTS}
    comment = {"naver": "vision encoder reused from a third-party model: independence in doubt"}
    rows = ["expert,team,item,score,comment"]
    for team in TEAMS:
        for e, total in zip(EXPERTS, panel_totals(rng, EXPERT[team], bias)):
            for (item, _), v in zip(ITEMS, split_total(rng, total)):
                note = comment.get(team, "") if item == "strategy" and e in ("e02", "e07") else ""
                rows.append("%s,%s,%s,%d.%d,%s" % (e, team, item, v // 10, v % 10, note))
    write("experts.csv", "\n".join(rows) + "\n")


# --- expert users: 49 raters score each team 1-5 ------------------------------

def users(rng):
    raters = ["u%02d" % i for i in range(1, 50)]
    scores = {t: spread(rng, USER_SUM[t], 49, 1, 5, 1) for t in TEAMS}
    rows = ["rater,group,team,score,seconds,position"]
    for i, r in enumerate(raters):
        order = TEAMS[:]
        rng.shuffle(order)   # the website showed the models in random order
        for pos, t in enumerate(order):
            rows.append("%s,expert,%s,%d,%d,%d" % (r, t, scores[t][i], rng.randint(190, 1500), pos + 1))
    write("users.csv", "\n".join(rows) + "\n")


# --- cost facts: published sizes (copied from examples/cost-facts/stage1) -----

COST = {
    "lg": ("K-EXAONE (K-EXAONE-236B-A23B), MoE: 236B total, 23B active, published",
           236000000000, 23000000000),
    "skt": ("A.X K1, MoE: 519B total, 33B active, published", 519000000000, 33000000000),
    "upstage": ("Solar Open 100B, MoE (top-8 of 128 routed + 1 shared): 102.6B total, "
                "12B active, published", 102600000000, 12000000000),
    "naver": ("HyperCLOVA X SEED 32B Think: 32B published; active = total is constructed "
              "(taken as dense)", 32000000000, 32000000000),
    "nc": ("VAETKI (VAETKI-100B-A10B), MoE 128 experts, 8 active: 112.2B total, 10.1B "
           "active, reported", 112200000000, 10100000000),
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


def check():
    pts = {t: {} for t in TEAMS}
    for t in TEAMS:
        nia_s = [F(r["score"]) for r in read_csv("benchmarks/nia.csv") if r["team"] == t]
        pts[t]["nia"] = sum(nia_s) / len(nia_s) / 100 * 10
        means = []
        for name, task, metric, _ in COMMON:
            runs = []
            d = os.path.join(OUT, "benchmarks/lm-eval", t)
            for fn in sorted(os.listdir(d)):
                with open(os.path.join(d, fn)) as f:
                    runs.append(F(str(json.load(f)["results"][task][metric])))
            means.append(sum(runs) / len(runs))
        pts[t]["global"] = sum(means) / len(means) * 20
        tg = {r["benchmark"]: F(r["score"]) for r in read_csv("benchmarks/targets.csv") if r["team"] == t}
        ratios = []
        for b, a in tg.items():
            runs = [F(r["score"]) for r in read_csv("benchmarks/individual.csv")
                    if r["team"] == t and r["benchmark"] == b]
            ratios.append(min(F(1), sum(runs) / len(runs) / a))
        pts[t]["target"] = sum(ratios) / len(ratios) * 10
        totals = {}
        for r in read_csv("experts.csv"):
            if r["team"] == t:
                totals[r["expert"]] = totals.get(r["expert"], 0) + F(r["score"])
        s = sorted(totals.values())
        pts[t]["experts"] = sum(s[1:-1]) / len(s[1:-1])
        pts[t]["user_sum"] = sum(int(r["score"]) for r in read_csv("users.csv") if r["team"] == t)
    best = max(pts[t]["user_sum"] for t in TEAMS)
    for t in TEAMS:
        p = pts[t]
        p["users"] = F(p["user_sum"], best) * 25
        p["benchmarks"] = p["nia"] + p["global"] + p["target"]
        p["total"] = p["benchmarks"] + p["experts"] + p["users"]

    def fmt(x, d):
        return "%.*f" % (d, float(x))

    def top(item, d):
        best_v = max(pts[t][item] for t in TEAMS)
        teams = [t for t in TEAMS if fmt(pts[t][item], d) == fmt(best_v, d)]
        return fmt(best_v, d), sorted(teams)

    def avg(item, d):
        return fmt(sum(pts[t][item] for t in TEAMS) / len(TEAMS), d)

    # The official table (MSIT press release of 2026-01-15).
    official = [
        (top("nia", 1), ("9.2", ["lg", "skt"])),
        (top("global", 1), ("14.4", ["lg"])),
        (top("target", 1), ("10.0", ["lg", "upstage"])),
        (top("benchmarks", 1), ("33.6", ["lg"])),
        (top("experts", 1), ("31.6", ["lg"])),
        (top("users", 1), ("25.0", ["lg"])),
        (top("total", 1), ("90.2", ["lg"])),
        (avg("benchmarks", 1), "30.4"),
        (avg("experts", 2), "28.56"),
        (avg("users", 2), "20.76"),
        (avg("total", 1), "79.7"),
    ]
    bad = [(got, want) for got, want in official if got != want]
    order = sorted(TEAMS, key=lambda t: -pts[t]["total"])
    print("team      nia  global target bench  experts users  total")
    for t in order:
        p = pts[t]
        print("%-8s %5.2f %6.3f %6.3f %6.3f %7.3f %6.3f %7.3f" % (
            t, p["nia"], p["global"], p["target"], p["benchmarks"], p["experts"], p["users"], p["total"]))
    if order != ["lg", "skt", "upstage", "naver", "nc"]:
        bad.append((order, "LG, SKT, Upstage, Naver (4th), NC AI (5th)"))
    if bad:
        sys.exit("published figures missed: %r" % bad)
    print("every published figure matches")


def main():
    rng = random.Random(20260115)
    manifests()
    nia(rng)
    common(rng)
    individual(rng)
    experts(rng)
    users(rng)
    cost()
    check()


if __name__ == "__main__":
    main()
