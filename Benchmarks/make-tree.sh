#!/bin/sh
# Generates a deterministic benchmark tree (>= 500 MB, >= 30 000 files) in DIR:
# many small text and binary files in nested directories, plus a few big files
# (compressible logs, random data, a mostly-zero image). Same bytes on every run.
set -eu
DIR=${1:?usage: make-tree.sh DIR}
mkdir -p "$DIR"
exec python3 - "$DIR" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(20240601)
words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))) for _ in range(4000)]
def text_block(n):
    out, size = [], 0
    while size < n:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + f" {rng.randint(0, 99999)}\n"
        out.append(line); size += len(line)
    return "".join(out).encode()[:n]
corpus = text_block(4 << 20)
def text(n):
    off = rng.randrange(0, len(corpus) - n) if n < len(corpus) else 0
    return corpus[off:off + n] if n <= len(corpus) else (corpus * (n // len(corpus) + 1))[:n]
count = 0
for d in range(320):
    sub = os.path.join(root, f"pkg{d:03d}", f"mod{d % 17:02d}")
    os.makedirs(sub, exist_ok=True)
    for f in range(100):
        size = int(rng.paretovariate(1.2) * 900) % 60000 + 64
        if f % 10 < 7:
            data, name = text(size), f"file{f:03d}.txt"
        else:
            data, name = rng.randbytes(size), f"blob{f:03d}.bin"
        with open(os.path.join(sub, name), "wb") as fh:
            fh.write(data)
        count += 1
big = os.path.join(root, "big")
os.makedirs(big, exist_ok=True)
for i in range(12):
    with open(os.path.join(big, f"log{i:02d}.txt"), "wb") as fh:
        for _ in range(16):
            fh.write(text(1 << 20))
for i in range(6):
    with open(os.path.join(big, f"random{i:02d}.bin"), "wb") as fh:
        fh.write(rng.randbytes(16 << 20))
with open(os.path.join(big, "disk.img"), "wb") as fh:
    for i in range(64):
        fh.write(rng.randbytes(64 << 10) if i % 8 == 0 else bytes(1 << 20))
print(f"{count + 19} files in {root}")
PY
