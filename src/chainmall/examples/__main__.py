"""``python -m chainmall.examples``: list the examples; ``... <name>`` runs one."""

from __future__ import annotations

import argparse
import sys

from chainmall.examples import list_examples, run_example
from chainmall.exceptions import ChainmallError


def main(argv: list[str] | None = None) -> int:
    """List the examples, or run the one named; 2 and a one-line message on a bad name."""
    parser = argparse.ArgumentParser(
        prog="python -m chainmall.examples", description="List or run chainmall's examples."
    )
    parser.add_argument("name", nargs="?", help="the example to run; none: list them")
    args = parser.parse_args(argv)
    if args.name is None:
        examples = list_examples()
        width = max(map(len, examples), default=0)
        sys.stdout.write("".join(f"{n:<{width}}  {t}\n" for n, t in examples.items()))
        return 0
    try:
        run_example(args.name)
    except ChainmallError as exc:
        sys.stderr.write(f"chainmall.examples: error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
