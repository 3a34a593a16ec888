#!/usr/bin/env python3
"""age_tamper.py SRC DST KIND: a copy of the age file SRC, changed one way.

The payload starts after the header's MAC line ("--- ...") and the 16-byte
nonce; its chunks are 64 KiB of plaintext plus a 16-byte tag, the last one
shorter. KIND:
  header        a byte of the version line flipped
  stanza        the first X25519 stanza's share replaced by another valid
                share (canonical base64), which opens for no identity
  mac           a byte of the header MAC flipped
  middle, last  a byte flipped in a middle chunk, in the last chunk
  cut-boundary  truncated where the last chunk starts
  cut-inside    truncated inside the third chunk
  swap          chunks 1 and 2 swapped
The file needs at least four chunks."""
import base64
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, dst, kind = sys.argv[1:]
    b = bytearray(open(src, "rb").read())
    mac = b.index(b"\n---") + 1
    payload = b.index(b"\n", mac) + 1 + 16
    size = 65536 + 16
    n = (len(b) - payload + size - 1) // size
    if n < 4:
        sys.exit(f"{src}: {n} chunks, at least 4 are needed")

    def chunk(i):
        return payload + i * size

    if kind == "header":
        b[len("age-encryption.org/v") + 1] ^= 1
    elif kind == "stanza":
        at = len("age-encryption.org/v1\n-> X25519 ")
        share = bytearray(base64.b64decode(bytes(b[at:at + 43]) + b"="))
        share[3] ^= 1
        b[at:at + 43] = base64.b64encode(bytes(share)).rstrip(b"=")
    elif kind == "mac":
        b[mac + 6] ^= 1
    elif kind == "middle":
        b[chunk(n // 2) + 100] ^= 1
    elif kind == "last":
        b[len(b) - 5] ^= 1
    elif kind == "cut-boundary":
        b = b[:chunk(n - 1)]
    elif kind == "cut-inside":
        b = b[:chunk(2) + 1000]
    elif kind == "swap":
        b = b[:chunk(1)] + b[chunk(2):chunk(3)] + b[chunk(1):chunk(2)] + b[chunk(3):]
    else:
        sys.exit(f"unknown kind {kind}")
    open(dst, "wb").write(b)


main()
