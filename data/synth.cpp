#include "data/synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/rng.h"

namespace radius {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr float kFar = 1e9f;  // "beyond the image" along a bone axis

float radians(float degrees) { return degrees * kPi / 180.0f; }

// Random draws are always separate statements: the order in which C++ evaluates function
// arguments or the operands of `*` is unspecified, and the stream must be consumed in one
// fixed order for images to be identical across compilers.
float random_sign(Rng& rng) { return rng.uniform() < 0.5f ? -1.0f : 1.0f; }

float smoothstep(float e0, float e1, float x) {
  const float t = std::clamp((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

// Independent Philox streams per image, so that adding a fracture (which draws its own
// numbers) leaves the anatomy, the exposure and the noise of the same index unchanged.
enum Stream : uint64_t { kScene = 0, kFracture = 1, kNoise = 2, kTexture = 3, kCast = 4, kSite = 5, kStreams = 8 };
uint64_t stream_of(uint64_t index, Stream s) { return index * kStreams + s; }

// A line in the image with its own coordinates: u along the direction, v across it.
struct Frame {
  float cx, cy, ux, uy;
  static Frame through(float cx, float cy, float angle) { return {cx, cy, std::cos(angle), std::sin(angle)}; }
  float u(float x, float y) const { return (x - cx) * ux + (y - cy) * uy; }
  float v(float x, float y) const { return -(x - cx) * uy + (y - cy) * ux; }
  float x(float u, float v) const { return cx + u * ux - v * uy; }
  float y(float u, float v) const { return cy + u * uy + v * ux; }
};

// Smooth random texture: values in [-1, 1] on a grid, bilinearly interpolated.
struct ValueNoise {
  int gw = 0, gh = 0;
  float inv_spacing = 1;
  std::vector<float> grid;
  ValueNoise(int w, int h, float spacing, Rng& rng)
      : gw(int(w / spacing) + 2), gh(int(h / spacing) + 2), inv_spacing(1 / spacing), grid(size_t(gw) * gh) {
    for (float& g : grid) g = rng.uniform(-1, 1);
  }
  float at(float x, float y) const {  // 0 <= x < w, 0 <= y < h
    const float gx = x * inv_spacing, gy = y * inv_spacing;
    const int ix = int(gx), iy = int(gy);
    const float fx = gx - ix, fy = gy - iy;
    const float* r0 = &grid[size_t(iy) * gw + ix];
    const float* r1 = r0 + gw;
    return (r0[0] + (r0[1] - r0[0]) * fx) * (1 - fy) + (r1[0] + (r1[1] - r1[0]) * fx) * fy;
  }
};

// A dark band across a bone in bone coordinates: centred on u = u0 + slope * v (+ a wave),
// limited to v in [v_min, v_max]. Fracture lines, growth plates and nutrient canals.
struct Cut {
  float u0, slope, half_width, depth;
  float v_min = -kFar, v_max = kFar;
  float wave_amp = 0, wave_freq = 0, wave_phase = 0;
  float cos_a() const { return 1.0f / std::sqrt(1.0f + slope * slope); }
};

// A tubular long bone. Beyond a fracture line the distal fragment is shifted by `shift`
// across the axis and tilted by `tilt` (du/dv slope).
struct Bone {
  Frame f;
  float r0, ratio, flare, flare_len;  // outer radius, canal/outer radius, end widening, its length
  float cap_depth;                    // axial half-length of the end cap, relative to its radius
  float u_lo = -kFar, u_hi = kFar;    // extent along the axis
  bool cap_lo = false, cap_hi = false;  // rounded joint ends (inside the image)
  float mu_cortex, mu_medulla;        // attenuation per pixel of path
  std::vector<Cut> cuts;
  bool shaft = true;  // a long bone of the main limb (not a joint partner, not a crossing one)
  bool displaced = false;
  float break_u0 = 0, break_slope = 0, shift = 0, tilt = 0;

  float r_end() const { return r0 * (1 + flare); }
  float r_max() const { return r_end() + 1; }
};

// Soft tissue: a cylinder around the bones, grey on the film. A swelling widens it (and
// thickens it a little) around u = swell_u, fading to nothing at |u - swell_u| = swell_len.
struct Limb {
  Frame f;
  float radius, peak;  // peak: attenuation along the central chord
  float swell_u = 0, swell_len = 1, swell_amp = 0;

  float swelling(float u) const {
    return swell_amp == 0 ? 0 : swell_amp * smoothstep(swell_len, 0, std::fabs(u - swell_u));
  }
  float reach() const { return radius * 1.07f * (1 + swell_amp); }  // farthest tissue from the axis
};

// A plaster or fibreglass cast (or a splint) around a stretch of the main limb: a dense
// cylindrical shell, so it projects brightest along its edges, like a bone's cortex.
struct Cast {
  Frame f;                 // along the limb's axis
  float r_in, r_out;       // the shell, across the axis
  float u_lo, u_hi;        // its extent along the axis
  float mu;                // attenuation per pixel of path

  float attenuation(float x, float y) const {
    const float u = f.u(x, y), v = std::fabs(f.v(x, y));
    if (v >= r_out || u < u_lo || u > u_hi) return 0;
    const float inner = v < r_in ? std::sqrt(r_in * r_in - v * v) : 0;
    const float ends = smoothstep(0, r_out - r_in, std::min(u - u_lo, u_hi - u));  // tapered rims
    return mu * 2 * (std::sqrt(r_out * r_out - v * v) - inner) * ends;
  }
};

struct Scene {
  int w = 0, h = 0;
  float s = 1;  // native pixels per model pixel
  std::vector<Limb> limbs;
  std::vector<Cast> casts;
  std::vector<Bone> bones;
  float background, gain, gamma, lo, hi, heel, heel_x, heel_y, blur_sigma, noise0, noise1;
};

// The attenuation of one bone at a pixel, with its cuts and displacement.
float bone_attenuation(const Bone& b, float x, float y, const ValueNoise& grain) {
  const float u0 = b.f.u(x, y), v0 = b.f.v(x, y);
  float u = u0, v = v0;
  if (b.displaced && u0 > b.break_u0 + b.break_slope * v0) v = v0 - b.shift - (u0 - b.break_u0) * b.tilt;
  if (std::fabs(v) >= b.r_max() || u < b.u_lo || u > b.u_hi) return 0;

  // Near a joint end the bone widens (metaphysis) and closes in a flattened half-ellipsoid.
  const float cap = b.r_end() * b.cap_depth;
  float d2 = v * v, ramp = 0;
  if (b.cap_hi) {
    const float t = u - (b.u_hi - cap);
    if (t > 0) d2 += t * t / (b.cap_depth * b.cap_depth);
    ramp = std::max(ramp, smoothstep(-b.flare_len, 0, t));
  }
  if (b.cap_lo) {
    const float t = (b.u_lo + cap) - u;
    if (t > 0) d2 += t * t / (b.cap_depth * b.cap_depth);
    ramp = std::max(ramp, smoothstep(-b.flare_len, 0, t));
  }
  const float r = b.r0 * (1 + b.flare * ramp);
  if (d2 >= r * r) return 0;
  const float texture = grain.at(x, y);
  // Projected path lengths through the tube (outer) and the canal (inner): the cortex is
  // brightest at the edges, where the ray runs along the shell, the canal darker.
  const float ri = r * (b.ratio + (0.85f - b.ratio) * ramp);  // thin cortex near the ends
  const float outer = 2 * std::sqrt(r * r - d2);
  const float inner = d2 < ri * ri ? 2 * std::sqrt(ri * ri - d2) : 0;
  // Ends are filled with trabecular bone: denser, textured marrow.
  const float medulla = b.mu_medulla * (1 + 2.2f * ramp) * (1 + 0.35f * (0.3f + ramp) * texture);
  float a = b.mu_cortex * (outer - inner) * (1 + 0.04f * texture) + medulla * inner;

  for (const Cut& c : b.cuts) {
    if (v0 < c.v_min || v0 > c.v_max) continue;
    float du = u0 - c.u0 - c.slope * v0;
    if (std::fabs(du) > (c.half_width + c.wave_amp) * 2 + 4) continue;  // far from the band
    if (c.wave_amp != 0) du -= c.wave_amp * std::sin(c.wave_freq * v0 + c.wave_phase);
    const float across = std::fabs(du) * c.cos_a();  // distance perpendicular to the band
    a *= 1 - c.depth * smoothstep(c.half_width + 0.6f, c.half_width - 0.6f, across);
  }
  return a;
}

// Parameter interval of an axis inside the box [x0, x1] x [y0, y1] (slab method).
bool axis_in_box(const Frame& f, float x0, float y0, float x1, float y1, float& t0, float& t1) {
  t0 = -kFar;
  t1 = kFar;
  const float o[2] = {f.cx, f.cy}, d[2] = {f.ux, f.uy}, lo[2] = {x0, y0}, hi[2] = {x1, y1};
  for (int k = 0; k < 2; ++k) {
    if (std::fabs(d[k]) < 1e-6f) {
      if (o[k] < lo[k] || o[k] > hi[k]) return false;
      continue;
    }
    float a = (lo[k] - o[k]) / d[k], b = (hi[k] - o[k]) / d[k];
    if (a > b) std::swap(a, b);
    t0 = std::max(t0, a);
    t1 = std::min(t1, b);
  }
  return t0 < t1;
}

// The pixels [x0, x1) of row py whose centres lie within `reach` of the axis: v is linear
// in x along a row, so everything outside this span can be skipped.
void row_span(const Frame& f, float py, float reach, int w, int& x0, int& x1) {
  const float a = f.cx * f.uy + (py - f.cy) * f.ux, b = -f.uy;  // v(px) = a + b * px
  if (std::fabs(b) < 1e-6f) {
    x0 = 0;
    x1 = std::fabs(a) < reach ? w : 0;
    return;
  }
  float lo = (-reach - a) / b, hi = (reach - a) / b;
  if (lo > hi) std::swap(lo, hi);
  x0 = int(std::clamp(std::floor(lo - 0.5f), 0.0f, float(w)));
  x1 = int(std::clamp(std::ceil(hi - 0.5f) + 1, 0.0f, float(w)));
}

Bone make_bone(const Frame& f, float r0, Rng& rng) {
  Bone b{};
  b.f = f;
  b.r0 = r0;
  b.ratio = rng.uniform(0.5f, 0.7f);
  b.flare = rng.uniform(0.35f, 0.7f);
  b.flare_len = r0 * rng.uniform(2.0f, 3.5f);
  b.cap_depth = rng.uniform(0.55f, 0.85f);
  // Normalised so the brightest cortex chord (tangent to the canal) has attenuation ~0.9-1.5.
  const float chord = 2 * r0 * std::sqrt(1 - b.ratio * b.ratio);
  b.mu_cortex = rng.uniform(0.9f, 1.5f) / chord;
  b.mu_medulla = b.mu_cortex * rng.uniform(0.08f, 0.16f);
  return b;
}

Scene make_scene(const SynthParams& p, uint64_t seed, uint64_t index, SynthInfo& info) {
  Rng rng(seed, stream_of(index, kScene));
  Scene sc;
  sc.w = p.min_side + int(rng.below(uint32_t(p.max_side - p.min_side + 1)));
  sc.h = p.min_side + int(rng.below(uint32_t(p.max_side - p.min_side + 1)));
  sc.s = std::max(1.0f, float(std::max(sc.w, sc.h)) / float(p.model_side));
  const float side = float(std::min(sc.w, sc.h));

  // Main limb through the middle. Radiographers position the limb along the detector's long
  // or short side, so most limbs lie within a few tens of degrees of an image axis.
  const float axis_angle = rng.uniform() < 0.5f ? 0 : kPi / 2;
  const float angle = rng.uniform() < p.aligned_fraction ? axis_angle + radians(rng.uniform(-25, 25))
                                                          : rng.uniform(0, kPi);
  info.limb_angle = std::fmod(angle * 180 / kPi + 360, 180.0f);
  Frame axis = Frame::through(sc.w * 0.5f, sc.h * 0.5f, angle);
  const float r0 = side * rng.uniform(0.065f, 0.105f);
  const float along = rng.uniform(-0.15f, 0.15f) * side, across = rng.uniform(-0.08f, 0.08f) * side;
  axis = Frame{axis.x(along, across), axis.y(along, across), axis.ux, axis.uy};
  Bone main = make_bone(axis, r0, rng);
  float tissue_lo = -r0, tissue_hi = r0;  // extent of the bones across the limb axis

  // A second, thinner bone alongside (forearm, lower leg), sometimes.
  const float u_roll = rng.uniform();
  const bool joint = rng.uniform() < p.joint_fraction;
  if (u_roll < 0.5f) {
    const float r2 = r0 * rng.uniform(0.45f, 0.75f);
    const float sign = random_sign(rng);
    const float off = sign * (r0 * (1 + main.flare * 0.3f) + r2 + r0 * rng.uniform(0.1f, 0.6f));
    const float tilt = radians(rng.uniform(-4, 4));
    Frame f2 = Frame::through(axis.x(0, off), axis.y(0, off), angle + tilt);
    sc.bones.push_back(make_bone(f2, r2, rng));
    tissue_lo = std::min(tissue_lo, off - r2);
    tissue_hi = std::max(tissue_hi, off + r2);
  }

  // A joint: the main bone ends in the image, the next bone starts across a joint space.
  if (joint) {
    info.joint = true;
    const float j = rng.uniform(0.1f, 0.35f) * side;
    main.u_hi = j;
    main.cap_hi = true;
    const float gap = r0 * rng.uniform(0.15f, 0.4f);
    const float bend = radians(rng.uniform(-20, 20));
    Frame fj = Frame::through(axis.x(j + gap, 0), axis.y(j + gap, 0), angle + bend);
    Bone next = make_bone(fj, r0 * rng.uniform(0.85f, 1.1f), rng);
    next.u_lo = 0;
    next.cap_lo = true;
    next.shaft = false;
    for (Bone& b : sc.bones) {  // the thin partner bone ends near the joint too
      b.u_hi = j + r0 * rng.uniform(-0.8f, 0.3f);
      b.cap_hi = true;
    }
    if (rng.uniform() < p.growth_plate_fraction) {  // an open growth plate: a wavy dark band near the end
      info.growth_plate = true;
      const float re = main.r_end();
      Cut plate{};
      plate.u0 = main.u_hi - re * main.cap_depth - re * rng.uniform(0.0f, 0.3f);
      plate.slope = rng.uniform(-0.15f, 0.15f);
      plate.half_width = 0.5f * sc.s * rng.uniform(1.2f, 2.2f);
      plate.depth = rng.uniform(0.35f, 0.6f);
      plate.wave_amp = sc.s * rng.uniform(0.5f, 1.5f);
      plate.wave_freq = 2 * kPi * rng.uniform(0.5f, 1.5f) / (2 * re);
      plate.wave_phase = rng.uniform(0, 2 * kPi);
      main.cuts.push_back(plate);
    }
    sc.bones.push_back(next);
  }
  sc.bones.insert(sc.bones.begin(), main);  // the main bone first: fractures go there

  // A nutrient canal: a thin oblique line inside one cortex wall, never reaching the surface.
  if (rng.uniform() < p.nutrient_fraction) {
    info.nutrient_canal = true;
    Bone& b = sc.bones[0];
    const float sign = random_sign(rng);
    const float ri = b.r0 * b.ratio, wall = b.r0 - ri;
    const float va = ri + 0.05f * wall, vb = ri + 0.6f * wall;
    Cut canal{};
    canal.u0 = rng.uniform(-0.25f, 0.25f) * side;
    canal.slope = random_sign(rng);
    canal.slope *= rng.uniform(2.5f, 4.5f);  // nearly along the axis: it runs inside the wall
    canal.half_width = 0.5f * sc.s * rng.uniform(0.8f, 1.3f);
    canal.depth = rng.uniform(0.3f, 0.5f);
    canal.v_min = sign > 0 ? va : -vb;
    canal.v_max = sign > 0 ? vb : -va;
    b.cuts.push_back(canal);
  }

  const float margin = r0 * rng.uniform(1.4f, 2.8f), mid = 0.5f * (tissue_lo + tissue_hi);
  const float tissue_peak = rng.uniform(0.3f, 0.6f);
  sc.limbs.push_back({Frame{axis.x(0, mid), axis.y(0, mid), axis.ux, axis.uy}, 0.5f * (tissue_hi - tissue_lo) + margin,
                      tissue_peak});

  // Two limbs crossing (legs, overlapping digits): bone edges cross bone edges without a fracture.
  if (rng.uniform() < p.crossing_fraction) {
    info.crossing_bones = true;
    const float turn_sign = random_sign(rng);
    const float turn = turn_sign * radians(rng.uniform(35, 75));
    const float cx = sc.w * 0.5f + rng.uniform(-0.15f, 0.15f) * side;
    const float cy = sc.h * 0.5f + rng.uniform(-0.15f, 0.15f) * side;
    const Frame f2 = Frame::through(cx, cy, angle + turn);
    const float rc = r0 * rng.uniform(0.6f, 1.0f);
    sc.bones.push_back(make_bone(f2, rc, rng));
    sc.bones.back().shaft = false;
    const float radius = rc + r0 * rng.uniform(0.9f, 1.6f), peak = rng.uniform(0.25f, 0.5f);
    sc.limbs.push_back({f2, radius, peak});
  }

  // Exposure and detector.
  sc.background = rng.uniform(0.02f, 0.1f);
  sc.gain = rng.uniform(0.8f, 1.25f);
  sc.gamma = rng.uniform(0.8f, 1.3f);
  sc.lo = rng.uniform(0.0f, 0.06f);
  sc.hi = rng.uniform(0.88f, 1.0f);
  sc.heel = rng.uniform(-0.15f, 0.15f);  // anode heel effect: exposure falls off to one side
  const float heel_angle = rng.uniform(0, 2 * kPi);
  sc.heel_x = std::cos(heel_angle) / side;
  sc.heel_y = std::sin(heel_angle) / side;
  sc.blur_sigma = rng.uniform(0.5f, 1.1f);
  sc.noise0 = rng.uniform(0.004f, 0.015f);
  sc.noise1 = rng.uniform(0.005f, 0.02f);
  return sc;
}

// The site of the injury: where a fracture goes in a fractured image, and the same place in
// the intact image of the same index (its own stream, drawn for both classes alike), so that
// where the anatomy sits in the film says nothing about the label.
struct Site {
  size_t bone = 0;  // usually the main bone; in a two-bone limb sometimes the thin one
  float u = 0;      // along that bone's axis
};

// Moves everything in the scene by (dx, dy) pixels.
void translate(Scene& sc, float dx, float dy) {
  auto move = [&](Frame& f) {
    f.cx += dx;
    f.cy += dy;
  };
  for (Limb& l : sc.limbs) move(l.f);
  for (Cast& c : sc.casts) move(c.f);
  for (Bone& b : sc.bones) move(b.f);
}

Site choose_site(Scene& sc, const SynthParams& p, uint64_t seed, uint64_t index) {
  Rng rng(seed, stream_of(index, kSite));
  Site site;
  site.bone = sc.bones.size() > 1 && sc.bones[1].shaft && rng.uniform() < 0.25f ? 1 : 0;
  const Bone& b = sc.bones[site.bone];

  // Inside the central part of the image, clear of the rounded caps, and not under another
  // bone or a crossing limb (where the summed density would hide a fracture). If the centre
  // offers no such place, look closer to the edges; failing that, take the least covered
  // place seen.
  auto coverage = [&](float u) {
    int n = 0;
    for (float v : {-b.r0, 0.0f, b.r0}) {
      const float x = b.f.x(u, v), y = b.f.y(u, v);
      for (const Bone& o : sc.bones) n += &o != &b && std::fabs(o.f.v(x, y)) < o.r_max() + b.r0;
      for (size_t l = 1; l < sc.limbs.size(); ++l)  // limbs[0] holds the shaft bones
        n += std::fabs(sc.limbs[l].f.v(x, y)) < sc.limbs[l].radius;
    }
    return n;
  };
  const float side = float(std::min(sc.w, sc.h));
  site.u = b.f.u(sc.w / 2.f, sc.h / 2.f);
  int best = 1 << 30;
  for (float margin : {0.2f * side, 0.08f * side}) {
    float t0, t1;
    if (!axis_in_box(b.f, margin, margin, sc.w - margin, sc.h - margin, t0, t1)) continue;
    if (b.cap_hi) t1 = std::min(t1, b.u_hi - b.r_end() - 0.3f * b.r0);
    if (b.cap_lo) t0 = std::max(t0, b.u_lo + b.r_end() + 0.3f * b.r0);
    for (int attempt = 0; attempt < 16 && t0 < t1 && best > 0; ++attempt) {
      const float u = rng.uniform(t0, t1);
      const int c = coverage(u);
      if (c < best) {
        best = c;
        site.u = u;
      }
    }
  }

  // A film centred on the painful site, as radiographers centre the beam: the whole scene
  // moves so that the site lies within 0.05 of the image side of the centre.
  if (rng.uniform() < p.centred_fraction) {
    const float jx = rng.uniform(-0.05f, 0.05f) * side;
    const float jy = rng.uniform(-0.05f, 0.05f) * side;
    translate(sc, 0.5f * sc.w + jx - b.f.x(site.u, 0), 0.5f * sc.h + jy - b.f.y(site.u, 0));
  }
  return site;
}

void add_fracture(Scene& sc, const SynthParams& p, const Site& site, uint64_t seed, uint64_t index,
                  SynthInfo& info) {
  Rng rng(seed, stream_of(index, kFracture));
  Bone& b = sc.bones[site.bone];
  const float u0 = site.u;

  const bool subtle = rng.uniform() < p.subtle_fraction;
  const float roll = rng.uniform();
  const FractureKind kind = roll < 0.4f ? FractureKind::transverse
                            : roll < 0.75f || subtle ? FractureKind::oblique
                                                     : FractureKind::comminuted;
  // Widths in model pixels: a hairline, or a clear gap between the fragments.
  const float width = subtle ? rng.uniform(1.4f, 2.0f) : rng.uniform(2.2f, 4.5f);
  // (At hairline_contrast 1 the product is exact: the default data do not change.)
  const float depth = subtle ? float(p.hairline_contrast * rng.uniform(0.45f, 0.65f))
                             : rng.uniform(0.75f, 0.98f);
  float alpha = 0;
  if (kind == FractureKind::transverse) {
    alpha = radians(rng.uniform(-12, 12));
  } else {
    alpha = random_sign(rng);
    alpha *= radians(rng.uniform(25, 55));
  }
  Cut line{u0, std::tan(alpha), 0.5f * width * sc.s, depth};
  line.wave_amp = sc.s * rng.uniform(0.2f, 0.6f);  // fracture edges are jagged
  line.wave_freq = 2 * kPi / (b.r0 * rng.uniform(0.4f, 0.9f));
  line.wave_phase = rng.uniform(0, 2 * kPi);
  b.cuts.push_back(line);

  if (kind == FractureKind::comminuted) {
    // A butterfly fragment: two lines from a point on the main line out to one cortex.
    const float sign = random_sign(rng);
    const float vp = sign * b.r0 * rng.uniform(0.0f, 0.4f), up = u0 + line.slope * vp;
    for (float dir : {-1.0f, 1.0f}) {
      Cut piece = line;
      piece.slope = dir * std::tan(radians(rng.uniform(30, 55)));
      piece.u0 = up - piece.slope * vp;
      piece.v_min = sign > 0 ? vp : -kFar;
      piece.v_max = sign > 0 ? kFar : vp;
      piece.wave_phase = rng.uniform(0, 2 * kPi);
      b.cuts.push_back(piece);
    }
  }

  info.displaced = !subtle && rng.uniform() < p.displaced_fraction;
  if (info.displaced) {
    b.displaced = true;
    b.break_u0 = u0;
    b.break_slope = line.slope;
    b.shift = random_sign(rng);
    b.shift *= b.r0 * rng.uniform(0.25f, 0.8f);
    b.tilt = random_sign(rng);
    b.tilt *= radians(rng.uniform(2, 12));  // angulation
  }

  // Swelling of the soft tissue around the site; hairlines swell less.
  info.swelling = rng.uniform() < p.swelling_fraction;
  if (info.swelling) {
    Limb& limb = sc.limbs[0];  // the main limb, around the shaft bones
    limb.swell_u = limb.f.u(b.f.x(u0, 0), b.f.y(u0, 0));
    limb.swell_len = b.r0 * rng.uniform(1.8f, 3.2f);
    limb.swell_amp = (subtle ? 0.5f : 1.0f) * rng.uniform(0.12f, 0.35f);
  }
  info.fracture = kind;
  info.subtle = subtle;
  info.fracture_x = b.f.x(u0, 0);
  info.fracture_y = b.f.y(u0, 0);
}

// Follow-up films of a fracture are often taken through a cast, and a sprain may be splinted:
// a cast around the main limb, centred on the fracture if there is one. Its own stream, so
// the anatomy and the fracture of an image do not depend on it.
void add_cast(Scene& sc, const SynthParams& p, uint64_t seed, uint64_t index, bool fractured, SynthInfo& info) {
  Rng rng(seed, stream_of(index, kCast));
  if (rng.uniform() >= (fractured ? p.cast_fraction : p.intact_cast_fraction)) return;
  const Limb& limb = sc.limbs[0];
  const float side = float(std::min(sc.w, sc.h));
  const float centre = fractured ? limb.f.u(info.fracture_x, info.fracture_y) : rng.uniform(-0.2f, 0.2f) * side;
  const float half_len = side * rng.uniform(0.3f, 0.6f);
  const float r_in = limb.reach() * rng.uniform(1.0f, 1.1f);
  const float r_out = r_in + limb.radius * rng.uniform(0.12f, 0.3f);
  // A peak projected attenuation (the chord tangent to the inner surface) of about 0.5-1.
  const float chord = 2 * std::sqrt(r_out * r_out - r_in * r_in);
  sc.casts.push_back({limb.f, r_in, r_out, centre - half_len, centre + half_len, rng.uniform(0.5f, 1.0f) / chord});
  info.cast = true;
}

// Separable Gaussian blur (the detector's unsharpness), edges clamped.
void blur(std::vector<float>& img, int w, int h, float sigma) {
  constexpr int kMaxRadius = 3;
  const int radius = std::min(kMaxRadius, int(std::ceil(2.5f * sigma)));
  std::array<float, 2 * kMaxRadius + 1> k{};
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) sum += k[size_t(i + radius)] = std::exp(-0.5f * i * i / (sigma * sigma));
  for (float& v : k) v /= sum;
  auto tap = [&](int t) { return k[size_t(t + radius)]; };
  std::vector<float> tmp(img.size(), 0.0f);
  // Along rows: interior loops run over x with a fixed tap, so they vectorise.
  for (int y = 0; y < h; ++y) {
    const float* in = img.data() + size_t(y) * w;
    float* out = tmp.data() + size_t(y) * w;
    for (int t = -radius; t <= radius; ++t)
      for (int x = radius; x < w - radius; ++x) out[x] += tap(t) * in[x + t];
    for (int x = 0; x < w; ++x) {
      if (x >= radius && x < w - radius) continue;
      for (int t = -radius; t <= radius; ++t) out[x] += tap(t) * in[std::clamp(x + t, 0, w - 1)];
    }
  }
  // Along columns: whole rows at a time.
  std::fill(img.begin(), img.end(), 0.0f);
  for (int y = 0; y < h; ++y) {
    float* out = img.data() + size_t(y) * w;
    for (int t = -radius; t <= radius; ++t) {
      const float* in = tmp.data() + size_t(std::clamp(y + t, 0, h - 1)) * w;
      for (int x = 0; x < w; ++x) out[x] += tap(t) * in[x];
    }
  }
}

}  // namespace

Image render_radiograph(const SynthParams& p, uint64_t seed, uint64_t index, bool fractured, SynthInfo* info_out) {
  if (p.min_side < 32 || p.max_side < p.min_side || p.max_side > 4096 || p.model_side < 8)
    throw std::invalid_argument("render_radiograph: need 32 <= min_side <= max_side <= 4096 and model_side >= 8, got " +
                                std::to_string(p.min_side) + ", " + std::to_string(p.max_side) + ", " +
                                std::to_string(p.model_side));
  if (!(p.hairline_contrast >= 0 && p.hairline_contrast <= 1))
    throw std::invalid_argument("render_radiograph: hairline_contrast must be in [0, 1], got " +
                                std::to_string(p.hairline_contrast));
  SynthInfo info;
  Scene sc = make_scene(p, seed, index, info);
  const Site site = choose_site(sc, p, seed, index);
  if (fractured) add_fracture(sc, p, site, seed, index, info);
  add_cast(sc, p, seed, index, fractured, info);
  const int w = sc.w, h = sc.h;

  Rng texture_rng(seed, stream_of(index, kTexture));
  const ValueNoise fine(w, h, 3.0f, texture_rng);
  const ValueNoise coarse(w, h, 0.25f * float(std::min(w, h)), texture_rng);

  // Attenuation -> film density D = 1 - exp(-gain * A): saturates like a real detector.
  // Tabulated (A rarely exceeds 6; beyond 12 D is 1 to float precision).
  constexpr int kExpTable = 2048;
  constexpr float kMaxA = 12.0f;
  std::array<float, kExpTable + 2> film;
  for (int i = 0; i <= kExpTable + 1; ++i) film[size_t(i)] = 1 - std::exp(-sc.gain * kMaxA * float(i) / kExpTable);
  std::vector<float> density(size_t(w) * h);
  const float diagonal = std::hypot(float(w), float(h));
  for (int y = 0; y < h; ++y) {
    const float py = y + 0.5f;
    float* a = density.data() + size_t(y) * w;  // attenuation first, density at the end
    std::fill(a, a + w, sc.background);
    int x0, x1;
    for (const Limb& l : sc.limbs) {
      row_span(l.f, py, l.reach(), w, x0, x1);
      for (int x = x0; x < x1; ++x) {
        const float px = x + 0.5f, v = l.f.v(px, py);
        const float swell = l.swelling(l.f.u(px, py));
        const float lumpy = coarse.at(px, py), r = l.radius * (1 + 0.06f * lumpy) * (1 + swell);
        if (std::fabs(v) < r)
          a[x] += l.peak * (1 + 0.5f * swell) * std::sqrt(1 - (v / r) * (v / r)) * (1 + 0.1f * lumpy);
      }
    }
    for (const Cast& c : sc.casts) {
      row_span(c.f, py, c.r_out, w, x0, x1);
      for (int x = x0; x < x1; ++x) a[x] += c.attenuation(x + 0.5f, py) * (1 + 0.05f * coarse.at(x + 0.5f, py));
    }
    for (const Bone& b : sc.bones) {
      const float reach = b.r_max() + (b.displaced ? std::fabs(b.shift) + std::fabs(b.tilt) * 2 * diagonal : 0);
      row_span(b.f, py, reach, w, x0, x1);
      for (int x = x0; x < x1; ++x) a[x] += bone_attenuation(b, x + 0.5f, py, fine);
    }
    for (int x = 0; x < w; ++x) {
      const float heel = 1 + sc.heel * ((x + 0.5f - 0.5f * w) * sc.heel_x + (py - 0.5f * h) * sc.heel_y);
      const float t = std::clamp(a[x] * heel, 0.0f, kMaxA) * (kExpTable / kMaxA);
      const int i = int(t);
      a[x] = film[size_t(i)] + (film[size_t(i) + 1] - film[size_t(i)]) * (t - float(i));
    }
  }
  blur(density, w, h, sc.blur_sigma);

  // Display curve via a table (pow per pixel is slow), then quantum noise, larger where
  // more photons arrive (dark areas), from a counter-based stream: pixel i's noise is fixed.
  constexpr int kLut = 4096;
  std::array<float, kLut + 1> curve;
  for (int i = 0; i <= kLut; ++i) curve[size_t(i)] = 255 * (sc.lo + (sc.hi - sc.lo) * std::pow(float(i) / kLut, sc.gamma));
  Image img(w, h, 1);
  const uint64_t noise_stream = stream_of(index, kNoise);
  for (size_t i = 0; i < density.size(); i += 4) {
    // One Philox block serves four pixels: each gets two 16-bit uniforms, whose sum is a
    // triangular distribution, close enough to Gaussian for film grain (unit variance * sqrt(6)).
    const Philox4x32 r = philox_at(seed, noise_stream, i / 4);
    for (size_t j = i; j < std::min(i + 4, density.size()); ++j) {
      const uint32_t bits = r.v[j - i];
      const float g = (float(bits >> 16) + float(bits & 0xFFFF) + 1.0f) * (1.0f / 65536.0f) - 1.0f;
      const float d = std::clamp(density[j], 0.0f, 1.0f);
      const float sd = 255 * (sc.noise0 + sc.noise1 * std::sqrt(1 - d));
      img.pixels[j] = uint8_t(std::clamp(curve[size_t(d * kLut)] + sd * 2.4494897f * g + 0.5f, 0.0f, 255.0f));
    }
  }
  if (info_out) *info_out = info;
  return img;
}

}  // namespace radius
