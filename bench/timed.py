#!/usr/bin/env python3
"""Runs a command and writes "WALL_S CPU_S" (user + system of it and its children) to a file.

Usage: timed.py OUT_FILE COMMAND [ARGS...]; exits with the command's status.
"""
import resource
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
status = subprocess.call(cmd)
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    f.write(f"{wall:.3f} {ru.ru_utime + ru.ru_stime:.3f}\n")
sys.exit(status)
