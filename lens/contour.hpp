// lens/contour.hpp — magnification of a uniform source disk by adaptive contour integration of its
// images (host and device; fixed-capacity workspace, no heap allocation, no recursion).
//
// Method (after Gould & Gaucherel 1997, Dominik 1998, Bozza 2010):
//  1. Sample the source boundary ζ(θ) = ζ0 + ρ e^{iθ} at n0 equally spaced angles; at each sample
//     solve for the 5 polynomial roots and keep the true images (3 or 5) with their parities.
//  2. Each interval [θ_k, θ_{k+1}] is handled on its own: images of equal parity at both ends are
//     matched (least summed link_cost, by exhaustive search over ≤ 3! permutations; where the
//     counts differ, the merging pair is chosen jointly with the matching), each matched pair adds parity × (area under the piece) by Green's theorem
//     with the cubic-Hermite correction of contour_segment.hpp; images left unmatched on one side
//     are pairs (one of each parity) that merge on the critical curve inside the interval, closed by
//     fold_piece_area. Negative-parity contours run clockwise, hence the parity sign. The pieces of
//     all intervals form the closed image contours, so the sum is the total image area, and the
//     magnification is that area over πρ².
//  3. Every interval carries an error estimate (the sum of its pieces' spread between arc models,
//     contour_segment.hpp). The interval of largest error is bisected (a binary max-heap of
//     intervals) until the summed error is below kContourErrGoal·max(tol_abs, tol_rel·A)·πρ² or
//     the sample budget is spent.
//  4. A caustic can slip between two samples that both see the same number of images. Each sample
//     carries a rough estimate of its distance to the nearest caustic (its roots projected onto
//     the critical curve and mapped back, caustic_distance with thorough = false); an interval
//     whose chord is longer than that distance is flagged and bisected first, whatever its error.
//  5. Next to a critical curve the polynomial roots lose half their digits and binary_images can
//     reject a real image pair; recover_critical_pair Newton-polishes the rejected pair and keeps it
//     when both converge to distinct opposite-parity solutions.
// Work bound: at most max_samples root solves (≤ kContourMaxSamples), each a warm-started Aberth
// iteration on the degree-5 polynomial (≤ 100 sweeps) plus ≤ 4 Newton polishing steps per image
// (≤ 12 more for a recovered pair).
#pragma once
#include <cmath>

#include "lens/binary_lens.hpp"
#include "lens/contour_segment.hpp"

#ifndef LENSFLOW_FS_MAX_SAMPLES
#define LENSFLOW_FS_MAX_SAMPLES 1536
#endif

namespace lensflow::lens {

// Compile-time capacity of the contour sample store (source-boundary samples per contour).
constexpr int kContourMaxSamples = LENSFLOW_FS_MAX_SAMPLES;

// One boundary sample and the interval that starts at it (up to the next sample in angle).
struct ContourSample {
  cplx z[5];           // all 5 polynomial roots (warm start for neighbours)
  double theta;        // boundary angle
  double dcaus;        // estimated distance from ζ(θ) to the nearest caustic
  double area;         // signed image area contributed by the interval [theta, next)
  double err;          // error estimate of `area`
  int next;            // index of the next sample in angle (circular)
  unsigned char img;   // bit i: root i is a true image
  unsigned char pos;   // bit i: root i has positive parity (det J > 0)
};

// Scratch memory of one contour integration: kContourMaxSamples × (sizeof(ContourSample) + 4)
// bytes (~ 190 kB at the default 1536). Reused across calls and across the radii of a limb-darkened
// source.
struct ContourWorkspace {
  ContourSample s[kContourMaxSamples];
  int heap[kContourMaxSamples];  // interval (sample) indices, max-heap on err
};

struct ContourResult {
  double A;    // magnification of the uniform disk
  double err;  // estimated absolute error of A
  int n;       // samples used
  bool converged;
};

namespace contour {

constexpr double kTwoPi = 6.283185307179586;

LENSFLOW_HD int count_bits(unsigned v) {
  int c = 0;
  for (; v; v &= v - 1u) ++c;
  return c;
}

namespace detail_caustic {

// Newton step of z towards det J = 0 along the gradient; also returns the gradient direction.
LENSFLOW_HD cplx project_critical(const BinaryLens& L, cplx z, cplx& grad) {
  const cplx zb = conj(z);
  const cplx a = detail::fast_inv(zb - L.z1), b = detail::fast_inv(zb - L.z2);
  const cplx a2 = a * a, b2 = b * b;
  const cplx E = L.m1 * a2 + L.m2 * b2;
  const cplx dE = -2.0 * (L.m1 * (a2 * a) + L.m2 * (b2 * b));
  const double J = 1.0 - norm2(E);
  grad = -2.0 * (conj(E) * dE);
  const double g2 = norm2(grad);
  if (!(g2 > 0.0)) return z;
  return z - (J / g2) * grad;
}

}  // namespace detail_caustic

// Distance from ζ to a nearby caustic, estimated from the roots (cf. the ghost-image test of
// Bozza et al. 2018): images and spurious roots of a source near a fold or cusp lie close to the
// critical curve there (the spurious pair is what a cusp outside the disk leaves behind). Each root
// is projected onto the critical curve (Newton on det J = 0 along its gradient, det J = 1 − |E|²,
// ∇ det J = −2·conj(E)·∂E/∂z̄), then slid along it (Gauss–Newton on |ζ(z_c) − ζ|², the caustic
// tangent being t + E·t̄ for a critical-curve tangent t) towards the caustic point nearest ζ.
// Returns the smallest distance over the 5 roots, before and after sliding. An estimate, not a
// bound: on the reference set it exceeds the true distance by > 2ρ on ~4% of caustic crossings,
// which is why the expansions it gates also check their own terms and image counts.
// thorough = false (used per contour sample, where only the missed-caustic flag needs it): the plain
// projections only, at a quarter of the cost.
LENSFLOW_HD double caustic_distance(const BinaryLens& L, cplx zeta, const cplx z[5], bool thorough = true) {
  double best = 1e300;
  for (int i = 0; i < 5; ++i) {
    cplx grad;
    cplx zc = detail_caustic::project_critical(L, z[i], grad);
    zc = detail_caustic::project_critical(L, zc, grad);
    const double d0 = abs(lens_map(L, zc) - zeta);
    if (d0 < best) best = d0;
    for (int it = 0; it < 3 && thorough; ++it) {
      const double gn = abs(grad);
      if (!(gn > 0.0)) break;
      const cplx t = cplx(-grad.im, grad.re) / gn;       // critical-curve tangent
      const cplx dz = t + lens_shear(L, zc) * conj(t);   // caustic tangent (per unit length of t)
      const double n2 = norm2(dz);
      if (!(n2 > 0.0)) break;
      const cplx r = lens_map(L, zc) - zeta;
      const double step = -(r.re * dz.re + r.im * dz.im) / n2;
      zc = zc + step * t;
      zc = detail_caustic::project_critical(L, zc, grad);
    }
    const double d = abs(lens_map(L, zc) - zeta);
    if (d < best) best = d;
  }
  return best;
}

// Image-plane velocity dz/dθ of an image z of the boundary point with dζ/dθ = dzeta:
// dζ = dz + E dz̄  ⇒  dz = (dζ − E dζ̄)/(1 − |E|²).
LENSFLOW_HD cplx image_velocity(const BinaryLens& L, cplx z, cplx dzeta) {
  const cplx E = lens_shear(L, z);
  return (dzeta - E * conj(dzeta)) * (1.0 / (1.0 - norm2(E)));
}

struct Setup {
  BinaryLens L;
  cplx zeta0;
  double rho;
};

// Error charged to an interval whose image pieces cannot be closed (parities do not balance, which
// happens only when an image was misclassified): forces its bisection.
constexpr double kUnclosed = 1e30;

LENSFLOW_HD cplx boundary_point(const Setup& S, double theta) {
  return S.zeta0 + cplx(S.rho * cos(theta), S.rho * sin(theta));
}

// binary_images judges a root by the Newton distance to the nearest lens-equation solution, which
// near a critical curve (det J → 0, where the polynomial roots lose half their digits) can reject a
// real image pair. When 3 images were found, try to Newton-polish the two rejected roots: if both
// converge to distinct solutions of the lens equation with opposite parities, they are images.
LENSFLOW_HD void recover_critical_pair(const BinaryLens& L, cplx zeta, cplx z[5], bool is_img[5]) {
  cplx w[2];
  int idx[2], k = 0;
  for (int i = 0; i < 5; ++i)
    if (!is_img[i] && k < 2) idx[k++] = i;
  if (k != 2) return;
  const double scale = 1.0 + abs(zeta);
  for (int j = 0; j < 2; ++j) {
    cplx zz = z[idx[j]];
    double resid;
    cplx step = lens::detail::lens_newton_step(L, zz, zeta, resid);
    if (!(resid < 1e-6 * scale)) return;  // a genuine spurious root: far from any solution
    for (int it = 0; it < 12 && resid > 1e-15 * scale; ++it) {
      const cplx zn = zz + step;
      double rn;
      const cplx sn = lens::detail::lens_newton_step(L, zn, zeta, rn);
      if (!(rn < resid)) break;
      zz = zn;
      resid = rn;
      step = sn;
    }
    if (!(resid <= 1e-13 * scale)) return;
    w[j] = zz;
  }
  if (abs(w[0] - w[1]) < 1e-9 * scale) return;  // collapsed onto one solution
  for (int i = 0; i < 5; ++i)
    if (is_img[i] && (abs(z[i] - w[0]) < 1e-9 * scale || abs(z[i] - w[1]) < 1e-9 * scale)) return;
  if ((jacobian_det(L, w[0]) > 0.0) == (jacobian_det(L, w[1]) > 0.0)) return;
  for (int j = 0; j < 2; ++j) {
    z[idx[j]] = w[j];
    is_img[idx[j]] = true;
  }
}

// Solves the images at angle theta (warm-started from `warm` when non-null) into sample s.
LENSFLOW_HD void solve_sample(const Setup& S, double theta, const cplx* warm, ContourSample& s) {
  const cplx zeta = boundary_point(S, theta);
  bool is_img[5];
  if (warm)
    for (int i = 0; i < 5; ++i) s.z[i] = warm[i];
  const int n_img = binary_images(S.L, zeta, s.z, is_img, warm != nullptr);
  if (n_img == 3) recover_critical_pair(S.L, zeta, s.z, is_img);
  s.theta = theta;
  s.img = 0;
  s.pos = 0;
  for (int i = 0; i < 5; ++i)
    if (is_img[i]) {
      s.img |= (unsigned char)(1u << i);
      if (jacobian_det(S.L, s.z[i]) > 0.0) s.pos |= (unsigned char)(1u << i);
    }
  s.dcaus = caustic_distance(S.L, zeta, s.z, false);
}

// Best injective matching of the m items of `small` into the n >= m items of `large` (m, n <= 3),
// minimising the summed cost[small][large]. Writes match[k] = index into large for small[k].
LENSFLOW_HD void best_matching(const double cost[3][3], int m, int n, int match[3]) {
  double best = 1e308;
  // Enumerate all injective maps by nested loops (n <= 3).
  for (int a = 0; a < (m > 0 ? n : 1); ++a)
    for (int b = 0; b < (m > 1 ? n : 1); ++b) {
      if (m > 1 && b == a) continue;
      for (int c = 0; c < (m > 2 ? n : 1); ++c) {
        if (m > 2 && (c == a || c == b)) continue;
        double t = 0.0;
        if (m > 0) t += cost[0][a];
        if (m > 1) t += cost[1][b];
        if (m > 2) t += cost[2][c];
        if (t < best) {
          best = t;
          match[0] = a;
          match[1] = b;
          match[2] = c;
        }
      }
    }
}

// The images of one parity at one sample, with their θ-velocities.
struct ParityImages {
  int n;
  cplx z[3], v[3];
};

LENSFLOW_HD void collect_images(const Setup& S, const ContourSample& s, int parity, ParityImages& out) {
  const cplx dzeta(-S.rho * sin(s.theta), S.rho * cos(s.theta));
  out.n = 0;
  for (int i = 0; i < 5 && out.n < 3; ++i)
    if (((s.img >> i) & 1u) && (((s.pos >> i) & 1u) == (unsigned)parity)) {
      out.z[out.n] = s.z[i];
      out.v[out.n++] = image_velocity(S.L, s.z[i], dzeta);
    }
}

// Cost of linking image (z_a, v_a) at θ_a with (z_b, v_b) at θ_b = θ_a + h: the smaller of the
// plain displacement and the tangent-predicted mismatch (the prediction separates images that are
// close together when h is large; the plain distance stays right when velocities blow up next to a
// critical curve as h → 0).
LENSFLOW_HD double link_cost(cplx za, cplx va, cplx zb, cplx vb, double h) {
  const cplx d = zb - za;
  const double pred = 0.5 * (abs(d - h * va) + abs(d - h * vb));
  const double plain = abs(d);
  return pred < plain ? pred : plain;
}

// Matches the images of one parity at a (ia) and b (ib), skipping index skip_a of ia and skip_b of
// ib (−1: none). Returns the summed cost and the matching b-index for each a-index in match_ab
// (−1: unmatched).
LENSFLOW_HD double match_parity(const ParityImages& ia, const ParityImages& ib, int skip_a, int skip_b, double h,
                                int match_ab[3]) {
  int ka[3], kb[3], na = 0, nb = 0;
  for (int k = 0; k < ia.n; ++k)
    if (k != skip_a) ka[na++] = k;
  for (int k = 0; k < ib.n; ++k)
    if (k != skip_b) kb[nb++] = k;
  match_ab[0] = match_ab[1] = match_ab[2] = -1;
  const bool a_small = na <= nb;
  const int m = a_small ? na : nb, n = a_small ? nb : na;
  double cost[3][3];
  for (int k = 0; k < m; ++k)
    for (int l = 0; l < n; ++l) {
      const int xa = ka[a_small ? k : l], xb = kb[a_small ? l : k];
      cost[k][l] = link_cost(ia.z[xa], ia.v[xa], ib.z[xb], ib.v[xb], h);
    }
  int match[3] = {0, 1, 2};
  best_matching(cost, m, n, match);
  double total = 0.0;
  for (int k = 0; k < m; ++k) {
    const int xa = ka[a_small ? k : match[k]], xb = kb[a_small ? match[k] : k];
    match_ab[xa] = xb;
    total += cost[k][match[k]];
  }
  return total;
}

// Area contribution and error of the interval from sample a to sample b (angle step h > 0).
// Images of each parity are matched across the interval; where a has two images more than b (a pair
// merges after θ_a) or fewer (a pair is born before θ_b), the merging pair (one of each parity on
// the larger side) is chosen jointly with the matching, minimising the matching cost plus the pair's
// separation (which vanishes as the samples close in on the crossing).
LENSFLOW_HD void interval_area(const Setup& S, const ContourSample& a, const ContourSample& b, double h,
                               double& area, double& err) {
  area = 0.0;
  err = 0.0;
  ParityImages ia[2], ib[2];  // [0]: negative parity, [1]: positive
  for (int parity = 0; parity < 2; ++parity) {
    collect_images(S, a, parity, ia[parity]);
    collect_images(S, b, parity, ib[parity]);
  }
  // Which side holds the extra pair: 0 = a (merger after θ_a), 1 = b (birth before θ_b), −1 none.
  int side = -1;
  if (ia[1].n == ib[1].n + 1 && ia[0].n == ib[0].n + 1) side = 0;
  if (ib[1].n == ia[1].n + 1 && ib[0].n == ia[0].n + 1) side = 1;
  int best_p = -1, best_n = -1;
  int match[2][3];
  if (side < 0) {
    for (int parity = 0; parity < 2; ++parity) match_parity(ia[parity], ib[parity], -1, -1, h, match[parity]);
    if (ia[0].n != ib[0].n || ia[1].n != ib[1].n) err += kUnclosed;  // unbalanced: misclassified image
  } else {
    const ParityImages* big = side == 0 ? ia : ib;
    double best = 1e308;
    for (int p = 0; p < big[1].n; ++p)
      for (int n = 0; n < big[0].n; ++n) {
        int m0[3], m1[3];
        const double c = abs(big[1].z[p] - big[0].z[n]) +
                         match_parity(ia[1], ib[1], side == 0 ? p : -1, side == 1 ? p : -1, h, m1) +
                         match_parity(ia[0], ib[0], side == 0 ? n : -1, side == 1 ? n : -1, h, m0);
        if (c < best) {
          best = c;
          best_p = p;
          best_n = n;
        }
      }
    match_parity(ia[1], ib[1], side == 0 ? best_p : -1, side == 1 ? best_p : -1, h, match[1]);
    match_parity(ia[0], ib[0], side == 0 ? best_n : -1, side == 1 ? best_n : -1, h, match[0]);
  }
  for (int parity = 0; parity < 2; ++parity) {
    const double sign = parity == 1 ? 1.0 : -1.0;
    for (int k = 0; k < ia[parity].n; ++k) {
      const int l = match[parity][k];
      if (l < 0) continue;
      const PieceArea p = piece_area(ia[parity].z[k], ib[parity].z[l], h * ia[parity].v[k], h * ib[parity].v[l]);
      area += sign * p.area;
      err += p.err;
    }
  }
  if (side >= 0) {
    // At a the pair merges after θ_a (positive → negative); at b it was born before θ_b
    // (negative → positive).
    const ParityImages* big = side == 0 ? ia : ib;
    const cplx zp = big[1].z[best_p], vp = big[1].v[best_p], zn = big[0].z[best_n], vn = big[0].v[best_n];
    const PieceArea f = side == 0 ? fold_piece_area(zp, vp, zn, vn, h, true) : fold_piece_area(zn, vn, zp, vp, h, false);
    area += f.area;
    err += f.err;
  }
  // A caustic may hide between two samples with the same image count: flag long chords.
  if (count_bits(a.img) == count_bits(b.img)) {
    const double chord = 2.0 * S.rho * sin(0.5 * h);
    const double dmin = a.dcaus < b.dcaus ? a.dcaus : b.dcaus;
    if (dmin < chord) {
      const double flag = chord * S.rho;  // far above any area tolerance until the chord is tiny
      if (err < flag) err = flag;
    }
  }
}

LENSFLOW_HD void heap_push(ContourWorkspace& w, int& size, int idx) {
  int k = size++;
  w.heap[k] = idx;
  while (k > 0) {
    const int p = (k - 1) / 2;
    if (w.s[w.heap[p]].err >= w.s[w.heap[k]].err) break;
    const int t = w.heap[p];
    w.heap[p] = w.heap[k];
    w.heap[k] = t;
    k = p;
  }
}

LENSFLOW_HD int heap_pop(ContourWorkspace& w, int& size) {
  const int top = w.heap[0];
  w.heap[0] = w.heap[--size];
  int k = 0;
  for (;;) {
    const int l = 2 * k + 1, r = l + 1;
    int m = k;
    if (l < size && w.s[w.heap[l]].err > w.s[w.heap[m]].err) m = l;
    if (r < size && w.s[w.heap[r]].err > w.s[w.heap[m]].err) m = r;
    if (m == k) break;
    const int t = w.heap[m];
    w.heap[m] = w.heap[k];
    w.heap[k] = t;
    k = m;
  }
  return top;
}

LENSFLOW_HD double interval_step(const ContourSample& a, const ContourSample& b) {
  double h = b.theta - a.theta;
  if (h <= 0.0) h += kTwoPi;
  return h;
}

}  // namespace contour

// Fraction of the tolerance the summed error estimate must reach: the per-piece estimates are
// local and can undershoot by a few where the boundary crosses a caustic at a grazing angle.
constexpr double kContourErrGoal = 0.5;

// Magnification of the uniform disk of radius rho centred on zeta0, by adaptive contour
// integration (see the file comment). n0 initial samples (≥ 4), at most max_samples in all.
LENSFLOW_HD_NOINLINE ContourResult contour_mag_uniform(const BinaryLens& L, cplx zeta0, double rho, double tol_abs,
                                              double tol_rel, int n0, int max_samples, ContourWorkspace& w) {
  using namespace contour;
  if (max_samples > kContourMaxSamples) max_samples = kContourMaxSamples;
  if (n0 > max_samples) n0 = max_samples;
  if (n0 < 4) n0 = 4;
  const Setup S{L, zeta0, rho};
  const double pir2 = 0.5 * kTwoPi * rho * rho;
  // Initial samples, each warm-started from its predecessor.
  const double theta0 = 0.0;
  for (int k = 0; k < n0; ++k) {
    solve_sample(S, theta0 + kTwoPi * k / n0, k > 0 ? w.s[k - 1].z : nullptr, w.s[k]);
    w.s[k].next = (k + 1) % n0;
  }
  int n = n0, hsize = 0;
  double area = 0.0, err = 0.0;
  for (int k = 0; k < n0; ++k) {
    ContourSample& a = w.s[k];
    interval_area(S, a, w.s[a.next], interval_step(a, w.s[a.next]), a.area, a.err);
    area += a.area;
    err += a.err;
    heap_push(w, hsize, k);
  }
  constexpr double kMinStep = 1e-11;  // an interval shorter than this is not split further
  double frozen_err = 0.0;            // summed error of such intervals (kept out of the heap order)
  bool converged = false;
  for (;;) {
    if (err <= kContourErrGoal * fmax(tol_abs, tol_rel * fabs(area) / pir2) * pir2) {
      // Re-sum to shed the round-off of the running sums before accepting.
      area = 0.0;
      err = frozen_err;
      for (int k = 0; k < hsize; ++k) {
        area += w.s[w.heap[k]].area;
        err += w.s[w.heap[k]].err;
      }
      if (err <= kContourErrGoal * fmax(tol_abs, tol_rel * fabs(area) / pir2) * pir2) {
        converged = true;
        break;
      }
    }
    if (n >= max_samples || hsize == 0 || !(w.s[w.heap[0]].err > 0.0)) break;
    const int i = heap_pop(w, hsize);
    ContourSample& a = w.s[i];
    const int j = a.next;
    const double h = interval_step(a, w.s[j]);
    if (h < kMinStep) {
      frozen_err += a.err;
      a.err = 0.0;
      heap_push(w, hsize, i);
      continue;
    }
    area -= a.area;
    err -= a.err;
    const int m = n++;
    ContourSample& mid = w.s[m];
    double tm = a.theta + 0.5 * h;
    if (tm >= kTwoPi) tm -= kTwoPi;
    solve_sample(S, tm, a.z, mid);
    mid.next = j;
    a.next = m;
    interval_area(S, a, mid, 0.5 * h, a.area, a.err);
    interval_area(S, mid, w.s[j], 0.5 * h, mid.area, mid.err);
    area += a.area + mid.area;
    err += a.err + mid.err;
    heap_push(w, hsize, i);
    heap_push(w, hsize, m);
  }
  if (!converged) {
    area = 0.0;
    err = frozen_err;
    for (int k = 0; k < hsize; ++k) {
      area += w.s[w.heap[k]].area;
      err += w.s[w.heap[k]].err;
    }
  }
  ContourResult r;
  r.A = area / pir2;
  r.err = err / pir2;
  r.n = n;
  r.converged = converged;
  return r;
}

}  // namespace lensflow::lens
