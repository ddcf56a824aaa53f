#!/usr/bin/env python3
"""Write a deterministic, source-checkout-like file tree for the benchmarks.

The same arguments always give the same tree, byte for byte (names, sizes, contents):

  benchmarks/make_tree.py --out /tmp/tree --files 100000 --seed 42

File sizes are lognormal around --median-kib with spread --sigma (a few large files, many
small ones, like a real checkout), capped at --max-mib. Files go --per-dir to a directory;
each new directory hangs under a randomly chosen earlier one, no deeper than --max-depth.
Contents are slices of one seeded pool of source-like text, so they compress and hash like
code and (almost) no two files are equal. An existing --out is refused unless it is empty,
so a half-written tree is never mistaken for a finished one: the tree is written to
OUT.partial and renamed to OUT at the end.
"""
import argparse
import math
import os
import random
import shutil
import sys

EXTENSIONS = (".cc", ".h", ".cpp", ".hpp", ".py", ".rs", ".txt", ".json", ".md")
# Byte -> character map for the text pool: mostly letters, some spaces, punctuation, newlines.
ALPHABET = (b"abcdefghijklmnopqrstuvwxyz" * 5 + b"ABCDEFGHIJKLMNOPQRSTUVWXYZ" + b"0123456789"
            + b" " * 40 + b"\n" * 8 + b"(){};,.=<>:_*&+-/\"'#")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to create (must not exist yet)")
    ap.add_argument("--files", type=positive_int, default=10_000, help="number of files")
    ap.add_argument("--seed", type=int, default=42, help="random seed (same seed, same tree)")
    ap.add_argument("--median-kib", type=float, default=4.0, help="median file size in KiB")
    ap.add_argument("--sigma", type=float, default=1.5, help="lognormal spread of file sizes")
    ap.add_argument("--max-mib", type=float, default=32.0, help="largest file in MiB")
    ap.add_argument("--per-dir", type=positive_int, default=24, help="files per directory")
    ap.add_argument("--max-depth", type=positive_int, default=6, help="deepest directory level")
    return ap.parse_args(argv)


def make_pool(rng: random.Random, size: int) -> bytes:
    table = bytes(ALPHABET[b % len(ALPHABET)] for b in range(256))
    return rng.randbytes(size).translate(table)


def write_file(path: str, data: memoryview) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        print(f"make_tree: {out} already exists and is not an empty directory; "
              "remove it or pick another --out", file=sys.stderr)
        return 2
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)

    rng = random.Random(args.seed)
    max_size = int(args.max_mib * 1024 * 1024)
    pool = memoryview(make_pool(rng, max_size + 8 * 1024 * 1024))
    mu = math.log(args.median_kib * 1024)

    dirs = [("", 0)]  # (relative path, depth); the root holds the first batch of files
    current = ""
    total = 0
    for i in range(args.files):
        if i % args.per_dir == 0 and i > 0:
            parent, depth = rng.choice(dirs)
            if depth >= args.max_depth:
                parent, depth = "", 0
            current = os.path.join(parent, f"mod{len(dirs):05d}")
            os.mkdir(os.path.join(partial, current))
            dirs.append((current, depth + 1))
        size = min(int(rng.lognormvariate(mu, args.sigma)), max_size)
        start = rng.randrange(0, len(pool) - size)
        name = f"file{i:07d}{rng.choice(EXTENSIONS)}"
        write_file(os.path.join(partial, current, name), pool[start:start + size])
        total += size

    if os.path.isdir(out):
        os.rmdir(out)  # empty, checked above
    os.rename(partial, out)
    print(f"make_tree: {args.files} files, {total} bytes, {len(dirs)} directories in {out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
