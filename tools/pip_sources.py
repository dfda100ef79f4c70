"""uv's flags for the package sources pip is configured with (``pip config``), one per line.

``make install`` installs with uv (seconds instead of a minute) from the same wheels and indexes
pip would use; uv does not read pip's configuration itself.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

FLAGS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}


def main() -> None:
    """Print the flags."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    flags: list[str] = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        flag = FLAGS.get(key.rsplit(".", 1)[-1])
        if flag is None:
            continue
        for source in shlex.split(value.strip("'\"")):
            if [flag, source] != flags[-2:] and source not in flags:
                flags += [flag, source]
    print(" ".join(shlex.quote(f) for f in flags))


if __name__ == "__main__":
    main()
