#!/usr/bin/env python3
"""Pin the scoring of a round: read a kaieval record (result.json) and print,
per team in record order, every number and decision that scoring produced:
rank, status, reason, total, group subtotals, and each criterion's value,
normalized score, points and pass.  Doubles are written as exact hex floats
(float.hex), so a pin holds the bits, not a rounding of them.

Usage: make_pins.py RESULT.json > ROUND.pin
"""
import json
import sys


def scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return float(v).hex()
    return v


def lines(record):
    for team in record["teams"]:
        tid = team["id"]
        for key in ("rank", "status", "reason", "total"):
            yield tid, key, scalar(team.get(key))
        for group, points in team["groups"].items():
            yield tid, "groups." + group, scalar(points)
        for crit, out in team["criteria"].items():
            for key in ("value", "normalized", "points", "pass"):
                if key in out:
                    yield tid, "criteria.%s.%s" % (crit, key), scalar(out[key])


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        record = json.load(f)
    for row in lines(record):
        print("\t".join(row))


if __name__ == "__main__":
    main()
