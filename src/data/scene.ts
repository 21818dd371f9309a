import type { Rng } from '../util/rng.js';
import type { ImageSource } from './sources.js';

/**
 * Scenes of digits on planes, seen by a pinhole camera: the geometry and the renderer of the built-in
 * dense set (dense-digits.ts). Camera coordinates: x right, y down, z forward (depth); the camera sits
 * at the origin with focal length = the image side in pixels, so pixel (r, c) looks along
 * ((c + ½ − S/2)/S, (r + ½ − S/2)/S, 1). Each digit is a sticker cut out along its strokes (texture
 * value ≥ STROKE) on its own tilted plane; the background is one more plane behind them. At every pixel the
 * nearest surface wins, so nearer digits occlude farther ones (docs/design.md §8).
 */
export type Vec3 = [number, number, number];

export interface Plane {
  /** unit normal, facing the camera (n·point < 0) */
  normal: Vec3;
  /** a point on the plane */
  point: Vec3;
}

export interface Sticker {
  plane: Plane;
  /** orthonormal in-plane axes: the digit image's columns run along e1, its rows along e2 */
  e1: Vec3;
  e2: Vec3;
  /** side of the digit's 28×28 square in scene units; the square is centred on plane.point */
  size: number;
  /** index of the digit in its ImageSource */
  source: number;
}

export interface Scene {
  background: Plane;
  digits: Sticker[];
}

/** One rendered sample: image S×S (grey), class S×S, depth S×S, normal S×S×3. */
export interface SceneArrays {
  x: Float32Array;
  seg: Int32Array;
  depth: Float32Array;
  normal: Float32Array;
}

/** The class of background pixels (digits are 0..9). */
export const BACKGROUND_CLASS = 10;
/** Texture value from which a digit's pixel is part of its sticker (0.3: strokes a little thicker than half-intensity, so that more than a fifth of the pixels are digits). */
const STROKE = 0.3;
const BACKGROUND_ALBEDO = 0.35;

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const normalize = (a: Vec3): Vec3 => scale(a, 1 / Math.hypot(a[0], a[1], a[2]));

/** The unit normal tilted by `tilt` radians away from the camera axis, towards the image direction `azimuth`. */
export function tiltedNormal(tilt: number, azimuth: number): Vec3 {
  return [Math.sin(tilt) * Math.cos(azimuth), Math.sin(tilt) * Math.sin(azimuth), -Math.cos(tilt)];
}

/** A sticker on the plane of `normal` through `centre`, its digit turned by `roll` radians within the plane. */
export function sticker(normal: Vec3, centre: Vec3, size: number, roll: number, source: number): Sticker {
  // e1: the image x axis projected onto the plane, e2 completes it so the digit is not mirrored
  const e1 = normalize([1 - normal[0] * normal[0], -normal[0] * normal[1], -normal[0] * normal[2]]);
  const e2 = cross(e1, normal);
  const c = Math.cos(roll);
  const s = Math.sin(roll);
  return {
    plane: { normal, point: centre },
    e1: [c * e1[0] + s * e2[0], c * e1[1] + s * e2[1], c * e1[2] + s * e2[2]],
    e2: [c * e2[0] - s * e1[0], c * e2[1] - s * e1[1], c * e2[2] - s * e1[2]],
    size,
    source,
  };
}

/**
 * A random scene: 2 or 3 digits drawn from `pool` (distinct), each at depth 3–6 tilted up to 40°, its
 * square 24–30 px on screen, centred within the middle half of the image; a background plane at depth
 * 10–13 tilted up to 20° (so it covers the whole view at a positive depth).
 */
export function drawScene(rng: Rng, pool: Int32Array, side: number): Scene {
  const bg = tiltedNormal((20 * Math.PI / 180) * rng.next(), 2 * Math.PI * rng.next());
  const background: Plane = { normal: bg, point: [0, 0, 10 + 3 * rng.next()] };
  const k = 2 + rng.int(2);
  const digits: Sticker[] = [];
  const used = new Set<number>();
  for (let i = 0; i < k; i++) {
    let source = pool[rng.int(pool.length)];
    while (used.has(source) && pool.length > k) source = pool[rng.int(pool.length)];
    used.add(source);
    const z = 3 + 3 * rng.next();
    const u = (0.25 + 0.5 * rng.next() - 0.5) * side;
    const v = (0.25 + 0.5 * rng.next() - 0.5) * side;
    const normal = tiltedNormal((40 * Math.PI / 180) * rng.next(), 2 * Math.PI * rng.next());
    const px = 24 + 6 * rng.next();
    const roll = (20 * Math.PI / 180) * (2 * rng.next() - 1);
    digits.push(sticker(normal, [(u / side) * z, (v / side) * z, z], (px * z) / side, roll, source));
  }
  return { background, digits };
}

/** Bilinear texture value in [0, 1] of a 28×28 byte digit at (row, col) in pixel units, 0 outside. */
function texture(src: ImageSource, i: number, row: number, col: number): number {
  const s = src.side;
  const r0 = Math.floor(row);
  const c0 = Math.floor(col);
  const fr = row - r0;
  const fc = col - c0;
  const at = (r: number, c: number) => (r < 0 || c < 0 || r >= s || c >= s ? 0 : src.images[i * s * s + r * s + c]);
  return ((1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)) + fr * ((1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1))) / 255;
}

/** Distance along the ray d (d_z = 1, so this is the depth z) to the plane, or Infinity when it is behind or parallel. */
function hit(p: Plane, d: Vec3): number {
  const nd = dot(p.normal, d);
  if (nd === 0) return Infinity;
  const t = dot(p.normal, p.point) / nd;
  return t > 0 ? t : Infinity;
}

/**
 * Render a scene into sample `i` of `out` (S = side). The grey image is Lambertian under a light at
 * the camera, with a soft fall-off in depth: albedo · (0.3 + 0.7 cos θ) · √(4/z), clipped to 1. So the
 * image carries both the normal (through cos θ) and the depth (through the fall-off).
 */
export function renderScene(scene: Scene, src: ImageSource, side: number, out: SceneArrays, i: number): void {
  const S2 = side * side;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const d: Vec3 = [(c + 0.5 - side / 2) / side, (r + 0.5 - side / 2) / side, 1];
      let best = hit(scene.background, d);
      let plane = scene.background;
      let cls = BACKGROUND_CLASS;
      let albedo = BACKGROUND_ALBEDO;
      for (const s of scene.digits) {
        const t = hit(s.plane, d);
        if (!(t < best)) continue;
        const rel: Vec3 = [t * d[0] - s.plane.point[0], t * d[1] - s.plane.point[1], t * d[2] - s.plane.point[2]];
        const col = (dot(rel, s.e1) / s.size + 0.5) * src.side - 0.5;
        const row = (dot(rel, s.e2) / s.size + 0.5) * src.side - 0.5;
        const a = texture(src, s.source, row, col);
        if (a < STROKE) continue;
        best = t;
        plane = s.plane;
        cls = src.labels[s.source];
        albedo = 0.6 + 0.4 * a;
      }
      const p = i * S2 + r * side + c;
      const n = plane.normal;
      const cos = -dot(n, d) / Math.hypot(d[0], d[1], d[2]);
      out.x[p] = Math.min(1, albedo * (0.3 + 0.7 * cos) * Math.sqrt(4 / best));
      out.seg[p] = cls;
      out.depth[p] = best;
      out.normal[3 * p] = n[0];
      out.normal[3 * p + 1] = n[1];
      out.normal[3 * p + 2] = n[2];
    }
  }
}
