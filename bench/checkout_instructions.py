"""Checkout start's in-process cost as a count of machine instructions, which, unlike CPU time, does not
change with what else the machine is doing (valgrind's callgrind counts them).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<filled bench db> .venv/bin/python bench/checkout_instructions.py

Runs bench/profile_checkout.py's checkout start (production settings, the Django test client, PostgreSQL, the
Stripe test double in its own process) under callgrind twice, with 5 and with 25 checkouts after the same warm-up,
and prints the difference divided by 20: the instructions one checkout start costs this process, without the start
up. Takes about two minutes (callgrind runs Python some 50 times slower). Needs valgrind (Debian's package).
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = r'''
import os, sys, time
sys.argv = ["profile_checkout", "--rounds", "1", "--n", "1", "--only", "post"]
sys.path[:0] = [os.path.join(os.getcwd(), "bench"), os.getcwd()]
import profile_checkout as pc
from urllib.parse import urlencode
from django.test import Client
client, n, tag = Client(), int(os.environ["CHECKOUTS"]), os.environ["RUN_TAG"]
register = f"/workshops/{pc.SLUG}/register/"
for i in range(8 + n):  # 8 to warm up, then the ones counted
    data = pc.form(i)
    data["buyer_email"] = f"count{tag}.{i}@school.example"
    response = client.post(register, urlencode(data), content_type=pc.FORM)
    assert response.status_code == 302, response.status_code
'''


def instructions(checkouts: int) -> int:
    env = {**os.environ, "CHECKOUTS": str(checkouts), "RUN_TAG": f"{time.time_ns()}", "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", ONE_RUN],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a database bench/fill_rush.py filled")
    few, many = instructions(5), instructions(25)
    print(f"checkout start: {(many - few) / 20 / 1e6:.2f} M instructions per request (callgrind, 25 minus 5 checkouts)")


if __name__ == "__main__":
    main()
