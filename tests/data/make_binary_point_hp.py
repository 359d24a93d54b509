#!/usr/bin/env python3
"""Writes binary_point_hp.csv: the point-source magnification of every row of binary_uniform.csv
at 40 significant digits (mpmath), independently of lensflow's solver. The Witt & Mao polynomial is
built by exact polynomial arithmetic from the lens equation, solved with mpmath.polyroots, and the
roots that satisfy the lens equation to 1e-25 are the images. Columns: row, A_point_hp, n_images.
Usage: python3 make_binary_point_hp.py binary_uniform.csv > binary_point_hp.csv  (~10 min)."""
import csv
import sys

import mpmath as mp

mp.mp.dps = 40


def pmul(a, b):
    r = [mp.mpc(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            r[i + j] += x * y
    return r


def padd(a, b):
    n = max(len(a), len(b))
    a = a + [0] * (n - len(a))
    b = b + [0] * (n - len(b))
    return [x + y for x, y in zip(a, b)]


def point_mag(s, q, y1, y2):
    s, q, y1, y2 = map(mp.mpf, (s, q, y1, y2))
    m1, m2 = 1 / (1 + q), q / (1 + q)
    z1, z2 = -s * q / (1 + q), s / (1 + q)
    zeta = mp.mpc(y1, y2)
    zb = mp.conj(zeta)
    a, b = [-z1, 1], [-z2, 1]
    ab = pmul(a, b)
    lin = padd(pmul([m1], b), pmul([m2], a))
    n1 = padd(pmul([zb - z1], ab), lin)
    n2 = padd(pmul([zb - z2], ab), lin)
    p = padd(pmul([-zeta, 1], pmul(n1, n2)), [-x for x in pmul(ab, padd(pmul([m1], n2), pmul([m2], n1)))])
    A, n = mp.mpf(0), 0
    for z in mp.polyroots(p[::-1], maxsteps=200, extraprec=200):
        f = z - m1 / (mp.conj(z) - z1) - m2 / (mp.conj(z) - z2) - zeta
        if abs(f) < mp.mpf(10) ** -25:
            E = m1 / (mp.conj(z) - z1) ** 2 + m2 / (mp.conj(z) - z2) ** 2
            A += 1 / abs(1 - abs(E) ** 2)
            n += 1
    return A, n


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    print("row,A_point_hp,n_images")
    for i, r in enumerate(rows):
        A, n = point_mag(r["s"], r["q"], r["y1"], r["y2"])
        print("%d,%s,%d" % (i, mp.nstr(A, 18), n))


if __name__ == "__main__":
    main()
