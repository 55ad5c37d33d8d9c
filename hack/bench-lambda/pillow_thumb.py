"""Time the original Lambda's thumbnail path: Pillow Image.open, thumbnail((200, 200)), save at q85.

usage: pillow_thumb.py ITERS OUTDIR FILE...

Prints, per file: name, median milliseconds, thumbnail width and height, and
median CPU milliseconds of the process (time.process_time). The
file is read into memory first (the Lambda gets the object's bytes from S3),
and the thumbnail is saved to memory in the source's format, then written to
OUTDIR once for the PSNR step, with a lossless copy of the thumbnail
before encoding (NAME.raw.png).
"""
import io
import os
import sys
import time

from PIL import Image


def main():
    iters, outdir, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        times, cpu = [], []
        for _ in range(iters):
            c0, t0 = time.process_time(), time.perf_counter()
            im = Image.open(io.BytesIO(data))
            fmt = im.format
            im.thumbnail((200, 200))
            out = io.BytesIO()
            im.save(out, format=fmt, quality=85)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        cpu.sort()
        print("%s\t%.1f\t%d\t%d\t%.1f" % (os.path.basename(path), times[len(times) // 2], im.size[0], im.size[1], cpu[len(cpu) // 2]))
        with open(os.path.join(outdir, os.path.basename(path) + ".thumb"), "wb") as f:
            f.write(out.getvalue())
        # The thumbnail before encoding, for the resampling-quality PSNR.
        im.save(os.path.join(outdir, os.path.basename(path) + ".raw.png"))


if __name__ == "__main__":
    main()
