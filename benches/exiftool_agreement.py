"""FieldProof's photo metadata against exiftool's reading, file by file and field by field.

    python3 benches/exiftool_agreement.py [FIELDPROOF_BINARY]

The files: the real phone and camera photos in fixtures/photos, kamadak-exif's own test files
(from cargo's registry), and copies of the fixtures as tools and phones leave them, made here
with exiftool itself or byte by byte: a ModifyDate rewritten (a transfer app), an IPTC keyword
added, EXIF removed and capture time / GPS / make written only in XMP, GPS retyped to
SRATIONAL, extraneous bytes before a marker, 300 bytes lost at the end, the file cut in half.

For each file: exiftool -json -n (ImageWidth/Height, DateTimeOriginal, OffsetTimeOriginal,
GPSLatitude/Longitude, Make, Model) against `fieldproof check-photo --json`; whether libjpeg's
djpeg decodes it (exit 0 clean, 2 with warnings) against whether FieldProof refuses it; and the
edit signs FieldProof saw (strong → photo_edited, weak → photo_possibly_edited). Prints Markdown.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/fieldproof")


def segments(b):
    out, pos = [], 2
    while pos + 4 <= len(b) and b[pos] == 0xFF and b[pos + 1] != 0xDA:
        length = struct.unpack(">H", b[pos + 2:pos + 4])[0]
        out.append((b[pos + 1], pos, pos + 2 + length))
        pos += 2 + length
    return out


def gps_as_srational(b):
    b = bytearray(b)
    _, start, _ = next(s for s in segments(b) if s[0] == 0xE1 and b[s[1] + 4:s[1] + 10] == b"Exif\0\0")
    base = start + 10
    end = "<" if b[base:base + 2] == b"II" else ">"
    u16 = lambda at: struct.unpack(end + "H", b[base + at:base + at + 2])[0]
    u32 = lambda at: struct.unpack(end + "I", b[base + at:base + at + 4])[0]
    def find(ifd, tag):
        for i in range(u16(ifd)):
            e = ifd + 2 + 12 * i
            if u16(e) == tag:
                return e
    gps = u32(find(u32(4), 0x8825) + 8)
    for tag in (2, 4):
        e = find(gps, tag)
        b[base + e + 2:base + e + 4] = struct.pack(end + "H", 10)
    return bytes(b)


def junk_before_dqt(b):
    _, start, _ = next(s for s in segments(b) if s[0] == 0xDB)
    return b[:start] + b"\x00\x17\x2a\x00" + b[start:]


def exiftool(path, *args):
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, path], check=True)


def make_variants(tmp):
    fx = lambda n: os.path.join(ROOT, "fixtures/photos", n)
    out = []
    def copy(src, name):
        dst = os.path.join(tmp, name)
        shutil.copy(fx(src), dst)
        out.append(dst)
        return dst
    exiftool(copy("samsung-galaxy-s7-edge.jpg", "samsung-modifydate-rewritten.jpg"), "-ModifyDate=2017:03:01 10:00:00")
    exiftool(copy("iphone-6.jpg", "iphone-6-iptc-keyword.jpg"), "-Keywords=kunjungan")
    exiftool(copy("oppo-r7-plus.jpg", "oppo-iptc-caption.jpg"), "-Caption-Abstract=Toko Maju Jaya")
    xmp = copy("samsung-galaxy-s7-edge.jpg", "samsung-xmp-only.jpg")
    exiftool(xmp, "-all=")
    exiftool(xmp, "-XMP-exif:DateTimeOriginal=2017:02:09 19:51:38", "-XMP-exif:GPSLatitude=48.8925", "-XMP-exif:GPSLongitude=2.2363889",
             "-XMP-tiff:Make=samsung", "-XMP-tiff:Model=SM-G935F")
    for name, change in [("samsung-gps-srational.jpg", gps_as_srational), ("samsung-junk-before-marker.jpg", junk_before_dqt),
                         ("iphone-6-300-bytes-lost.jpg", lambda b: b[:-300]), ("htc-cut-in-half.jpg", lambda b: b[:len(b) // 2])]:
        src = {"samsung": "samsung-galaxy-s7-edge.jpg", "iphone": "iphone-6.jpg", "htc": "htc-one-m8-no-gps.jpg"}[name.split("-")[0]]
        path = os.path.join(tmp, name)
        open(path, "wb").write(change(open(fx(src), "rb").read()))
        out.append(path)
    return out


def ours(path):
    r = subprocess.run([BIN, "check-photo", "--json", "--kind", "product", path], capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def theirs(path):
    r = subprocess.run(["exiftool", "-json", "-n", "-ImageWidth", "-ImageHeight", "-DateTimeOriginal", "-OffsetTimeOriginal", "-GPSLatitude",
                        "-GPSLongitude", "-Make", "-Model", path], capture_output=True, text=True)
    return json.loads(r.stdout)[0]


def libjpeg(path):
    if not path.lower().endswith((".jpg", ".jpeg")):
        return "-"
    code = subprocess.run(["djpeg", "-outfile", os.devnull, path], capture_output=True).returncode
    return {0: "decodes", 2: "decodes, warns"}.get(code, "refuses")


def main():
    files = sorted(glob.glob(os.path.join(ROOT, "fixtures/photos/*.jpg")) + glob.glob(os.path.join(ROOT, "fixtures/photos/*.heic")))
    files += sorted(p for p in glob.glob(os.path.expanduser("~/.cargo/registry/src/*/kamadak-exif-*/tests/exif.*")) if not p.endswith(".tif"))
    tmp = tempfile.mkdtemp()
    files += make_variants(tmp)
    fields = ["size", "time", "offset", "gps", "make/model"]
    agree = {f: [0, 0] for f in fields}
    print("| file | size | time | offset | GPS | make/model | libjpeg | FieldProof | edit signs (strong*, weak) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in files:
        o, t = ours(path), theirs(path)
        name = os.path.basename(path)
        if "error" in o:
            print(f"| {name} | | | | | | {libjpeg(path)} | refused: `{o['error']}` | |")
            continue
        cells = {}
        cells["size"] = (o["width"], o["height"]) == (t.get("ImageWidth"), t.get("ImageHeight"))
        dto = t.get("DateTimeOriginal")
        ours_time = o["taken_at"].replace("-", ":", 2).replace("T", " ")[:19] if o["taken_at"] else None
        cells["time"] = (str(dto)[:19] if dto else None) == ours_time
        off = t.get("OffsetTimeOriginal")
        ours_off = o["taken_at"][19:] if o["taken_at"] and len(o["taken_at"]) > 19 else None
        if off is None and dto and len(str(dto)) > 19:  # XMP dates carry their offset
            off = str(dto)[19:]
        cells["offset"] = (off or None) == (ours_off or None)
        tg = (t.get("GPSLatitude"), t.get("GPSLongitude"))
        og = (o["gps"]["lat"], o["gps"]["lon"]) if o["gps"] else (None, None)
        cells["gps"] = (tg == (None, None) and og == (None, None)) or (None not in tg and None not in og and
                                                                       abs(tg[0] - og[0]) < 1e-6 and abs(tg[1] - og[1]) < 1e-6)
        cells["make/model"] = (t.get("Make"), t.get("Model")) == (o["make"], o["model"]) or \
            (str(t.get("Make")), str(t.get("Model"))) == (str(o["make"]), str(o["model"]))
        for f in fields:
            agree[f][0] += int(cells[f])
            agree[f][1] += 1
        signs = []
        for f in o["findings"]:
            if f["code"] in ("photo_edited", "photo_possibly_edited"):
                signs += [s["sign"] + ("*" if s["strong"] else "") for s in f["evidence"]["signs"]]
        mark = lambda ok: "✓" if ok else "✗"
        src = o.get("sources") or {}
        time_cell = mark(cells["time"]) + (" (xmp)" if src.get("time") == "xmp" else "")
        gps_cell = mark(cells["gps"]) + (" (xmp)" if src.get("gps") == "xmp" else "")
        warn = " (warned)" if o.get("decode_warnings") else ""
        print(f"| {name} | {mark(cells['size'])} | {time_cell} | {mark(cells['offset'])} | {gps_cell} | {mark(cells['make/model'])} | "
              f"{libjpeg(path)} | judged{warn} | {', '.join(signs) or '-'} |")
    print()
    print("| field | agrees with exiftool |")
    print("|---|---|")
    for f in fields:
        a, n = agree[f]
        print(f"| {f} | {a}/{n} |")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
