#!/usr/bin/env python3
"""Prints one closing line for the whole test run:
'N passed, N failed, N skipped', counted over every test program and
script that the automake harness ran (each .trs file is one test)."""
import glob
import os
import sys


def main():
    build = sys.argv[2] if len(sys.argv) > 2 else "."
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0, "XFAIL": 0, "XPASS": 0,
              "ERROR": 0}
    failed = []
    for trs in sorted(glob.glob(os.path.join(build, "**", "*.trs"),
                                recursive=True)):
        with open(trs) as f:
            for line in f:
                if line.startswith(":test-result:"):
                    res = line.split(":", 2)[2].strip()
                    counts[res] = counts.get(res, 0) + 1
                    if res in ("FAIL", "ERROR", "XPASS"):
                        failed.append(os.path.relpath(trs, build))
    for name in failed:
        print("failed: %s (see %s)" % (name[:-4], name[:-4] + ".log"))
    print("%d passed, %d failed, %d skipped" % (
        counts["PASS"] + counts["XFAIL"],
        counts["FAIL"] + counts["ERROR"] + counts["XPASS"],
        counts["SKIP"]))


if __name__ == "__main__":
    main()
