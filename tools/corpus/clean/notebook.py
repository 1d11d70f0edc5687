#!/usr/bin/python3
"""notebook.py TARGET_BYTES - base64 images the way notebooks and web UIs print them.

Part of build_clean_corpus.sh.  Renders real PNG (and some JPEG/SVG) plots of
seeded training curves with matplotlib (python3-matplotlib, Agg backend) and
prints them as Jupyter nbformat-4 JSON cell outputs ("image/png": "iVBORw0KGgo..."),
as data: URIs, as <img> HTML and as the wrapped-76-column base64 that MIME and
old nbformat use.  Falls back to hand-written PNG heatmaps (zlib) without
matplotlib.  Long base64 runs are the false-positive risk this file probes.
"""
import base64
import io
import json
import random
import struct
import sys
import zlib

r = random.Random(3)


def png_by_hand(w=96, h=64):
    rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, r.randrange(256)))
                    for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def figures():
    try:
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "corpus"  # stable SVG element ids
        import matplotlib.pyplot as plt
    except ImportError:
        while True:
            yield "image/png", png_by_hand()
    n = 0
    while True:
        n += 1
        fig, ax = plt.subplots(figsize=(r.choice((4, 5, 6)), r.choice((3, 4))), dpi=r.choice((60, 72, 80)))
        steps = list(range(0, 200 * r.randrange(1, 6), r.choice((5, 10))))
        loss = [2.5 * 0.99 ** s + r.random() * 0.15 for s in steps]
        ax.plot(steps, loss, label="train/loss")
        ax.plot(steps, [x + 0.1 + r.random() * 0.05 for x in loss], label="eval/loss")
        ax.set_xlabel("step"), ax.set_ylabel("loss"), ax.legend(), ax.set_title("run %d" % n)
        if n % 5 == 0:
            ax.imshow([[r.random() for _ in range(24)] for _ in range(24)], cmap="viridis", extent=(0, max(steps), 0, 2.5), aspect="auto")
        buf = io.BytesIO()
        fmt = "jpeg" if n % 9 == 0 else ("svg" if n % 13 == 0 else "png")
        meta = {"png": {"metadata": {"Software": None}}, "svg": {"metadata": {"Date": None}}}.get(fmt, {})
        fig.savefig(buf, format=fmt, **meta)  # no version/date stamps: same seed, same bytes
        plt.close(fig)
        yield {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}[fmt], buf.getvalue()


def main():
    target, out, n = int(sys.argv[1]), sys.stdout, 0
    for mime, data in figures():
        if out.tell() >= target:
            break
        n += 1
        b64 = base64.b64encode(data).decode()
        k = n % 4
        if mime == "image/svg+xml":
            out.write(json.dumps({"output_type": "display_data", "data": {mime: data.decode().splitlines(True)}, "metadata": {}}, indent=1) + "\n")
        elif k == 0:  # nbformat 4 as written by Jupyter: one string per mimetype, indent=1
            cell = {"cell_type": "code", "execution_count": n, "id": "%08x" % r.getrandbits(32), "metadata": {},
                    "outputs": [{"data": {mime: b64 + "\n", "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                                 "metadata": {"needs_background": "light"}, "output_type": "display_data"}],
                    "source": ["plt.plot(history['loss'])\n", "plt.show()"]}
            out.write(json.dumps(cell, indent=1) + ",\n")
        elif k == 1:
            out.write("data:%s;base64,%s\n" % (mime, b64))
        elif k == 2:
            out.write('<img src="data:%s;base64,%s" alt="loss curve" width="480"/>\n' % (mime, b64))
        else:  # MIME / old nbformat: wrapped at 76 columns
            out.write("Content-Type: %s\nContent-Transfer-Encoding: base64\n\n%s\n\n" % (mime, "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))))


if __name__ == "__main__":
    main()
