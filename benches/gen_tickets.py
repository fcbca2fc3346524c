#!/usr/bin/env python3
"""A git fast-import stream of N tickets in exactly the form ipr writes, for
the benchmarks (not part of `cargo test`).

    gen_tickets.py import N    one commit: an admin's `ipr import` of N tickets
                               (createdAt spread over six months)
    gen_tickets.py creates N   N commits: each one `ipr create` by a devops
                               engineer, authored at its createdAt, spread
                               over eleven months

Both continue refs/heads/main of the repository they are imported into.
"""
import datetime
import sys

DEVOPS = "pierre.durand@example.com"
ADMIN = "ops-lead@example.com"


def ticket(i, stamp):
    tid = f"PR-2026-{i:04d}"
    return tid, f"""apiVersion: gostoa.dev/v1
kind: PromotionRequest
metadata:
  id: {tid}
  createdAt: {stamp}
  createdBy: {DEVOPS}
  tenant: tenant-finance
spec:
  target:
    type: api
    name: service-{i % 97}
    version: 1.{i % 13}.0
    sourceEnvironment: staging
    targetEnvironment: prod
  request:
    justification: Generated request number {i} for the benchmark
    releaseNotes: null
    impactAssessment: low
    rollbackPlan: Revert to the previous version
    scheduledDate: null
  preChecks:
    stagingTestsPassed: true
    securityScanPassed: true
    performanceTestsPassed: false
    testEvidenceUrl: https://ci.example.com/pipeline/{i}
status:
  state: pending
  history:
  - action: created
    at: {stamp}
    by: {DEVOPS}
  approvedBy: null
  approvedAt: null
  deployedAt: null
  rejectedBy: null
  rejectedAt: null
  rejectionReason: null
"""


def commit(out, who, ts, msg, first):
    name = who.split("@")[0]
    out.write("commit refs/heads/main\n")
    out.write(f"author {name} <{who}> {ts} +0000\n")
    out.write(f"committer {name} <{who}> {ts} +0000\n")
    out.write(f"data {len(msg)}\n{msg}")
    if first:
        out.write("from refs/heads/main^0\n")


def put(out, path, body):
    out.write(f"M 100644 inline {path}\n")
    out.write(f"data {len(body)}\n{body}\n")  # ASCII: bytes == chars


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    if mode == "import":
        msg = f"ipr: import {n} tickets\n\nIpr-Action: import\nIpr-Actor: {ADMIN}\n"
        commit(out, ADMIN, 1767225600, msg, True)
        for i in range(1, n + 1):
            month = (i * 6 // (n + 1)) + 1
            tid, body = ticket(i, f"2026-{month:02d}-01T10:00:00Z")
            put(out, f"requests/prod/2026/{month:02d}/{tid}.yaml", body)
    elif mode == "creates":
        utc = datetime.timezone.utc
        t0 = int(datetime.datetime(2026, 1, 1, 8, tzinfo=utc).timestamp())
        step = max(60, 330 * 86400 // n)  # spread over eleven months
        for i in range(1, n + 1):
            ts = t0 + i * step
            at = datetime.datetime.fromtimestamp(ts, utc)
            tid, body = ticket(i, at.strftime("%Y-%m-%dT%H:%M:%SZ"))
            msg = f"ipr: create {tid}\n\nIpr-Action: create\nIpr-Request: {tid}\nIpr-Actor: {DEVOPS}\n"
            commit(out, DEVOPS, ts, msg, i == 1)
            put(out, f"requests/prod/2026/{at.month:02d}/{tid}.yaml", body)
    else:
        sys.exit(f"usage: {sys.argv[0]} import|creates N")


main()
