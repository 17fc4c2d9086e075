"""Rewrites a LibTorch archive (checkpoint.pt, model.pt) as if its tensors had been saved on another
device, e.g. cuda:0, so that a machine without that device can test reading a GPU-written file.

    relocate_archive.py SRC DST DEVICE

The archive is a zip of pickles whose tensor storages name their device as the string "cpu"; each
such string becomes DEVICE. Standard library only.
"""
import os
import sys
import zipfile


def pickled_string(text):
    data = text.encode()
    return b"X" + len(data).to_bytes(4, "little") + data  # BINUNICODE, as TorchScript's pickler writes it


def main():
    src, dst, device = sys.argv[1:4]
    old, new = pickled_string("cpu"), pickled_string(device)
    replaced = 0
    temp = dst + ".tmp"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".pkl"):
                replaced += data.count(old)
                data = data.replace(old, new)
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time), data)
    if replaced == 0:
        os.remove(temp)
        sys.exit(f"relocate_archive.py: no CPU storage in {src}")
    os.replace(temp, dst)


if __name__ == "__main__":
    main()
