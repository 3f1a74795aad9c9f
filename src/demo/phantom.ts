/**
 * Synthetic CT-like abdominal phantoms for the demo (and for trying `stunet train` without data): a body
 * in air with a subcutaneous fat layer, soft tissue with fat and gas pockets, and five labelled
 * structures of distinct attenuation and texture — liver, spleen, kidneys (cortex and medulla), aorta and
 * spine (vertebral bodies with a cortical rim and a spinous process, discs in between, unlabelled).
 * Shapes, sizes, positions, voxel spacing and noise vary per case; intensities get partial-volume blur,
 * a smooth texture field and Gaussian noise, and are stored as int16 HU like a real CT.
 *
 * Everything here is bytes-free and browser-safe: a case is arrays + geometry; `phantomNifti` makes the
 * NIfTI images and `phantomDatasetJson` the nnU-Net v2 dataset.json.
 */
import { gaussianFilter3d } from '../augmentation/intensity.js';
import { mat4, type Mat4 } from '../io/geometry.js';
import { createNifti } from '../io/nifti-volume.js';
import type { NiftiImage } from '../io/nifti.js';
import { Rng } from '../util/random.js';
import { map3, type Vec3 } from '../util/vec3.js';

/** Label values and names, in dataset.json order. */
export const PHANTOM_LABELS = ['background', 'liver', 'spleen', 'kidney', 'aorta', 'spine'] as const;

export interface PhantomCase {
  readonly id: string;
  /** NIfTI sizes (i, j, k) = (x, y, z); arrays are i-fastest. */
  readonly dims: readonly [number, number, number];
  /** Voxel size (mm) along i, j, k. */
  readonly spacing: readonly [number, number, number];
  /** HU, int16. */
  readonly image: Int16Array;
  /** 0 … 5, see PHANTOM_LABELS. */
  readonly label: Uint8Array;
  /** Voxel → mm (LPS-like: i and j run towards −x and −y as DICOM-derived CTs usually do). */
  readonly affine: Mat4;
}

/** Field of view (mm) along x (left–right), y (anterior–posterior), z (inferior–superior). */
const FOV_MM: Vec3 = [320, 260, 180];

interface Ellipsoid {
  readonly c: readonly [number, number, number];
  readonly r: readonly [number, number, number];
  /** Rotation about z (rad). */
  readonly angle: number;
}

/** Squared normalised distance: ≤ 1 inside. */
function ellipsoidQ(e: Ellipsoid, x: number, y: number, z: number): number {
  const dx = x - e.c[0];
  const dy = y - e.c[1];
  const cs = Math.cos(e.angle);
  const sn = Math.sin(e.angle);
  const u = (cs * dx + sn * dy) / e.r[0];
  const v = (-sn * dx + cs * dy) / e.r[1];
  const w = (z - e.c[2]) / e.r[2];
  return u * u + v * v + w * w;
}

interface Anatomy {
  readonly bodyA: number;
  readonly bodyB: number;
  readonly fat: number;
  readonly bodyWobble: number;
  readonly liver: Ellipsoid;
  readonly spleen: Ellipsoid;
  readonly kidneys: readonly Ellipsoid[];
  readonly aorta: { x: number; y: number; r: number };
  readonly spine: { y: number; r: number; period: number; disc: number; phase: number };
  readonly pockets: readonly (Ellipsoid & { hu: number })[];
  readonly hu: {
    soft: number;
    liver: number;
    spleen: number;
    cortex: number;
    medulla: number;
    aorta: number;
    bone: number;
  };
  readonly noise: number;
}

function drawAnatomy(rng: Rng): Anatomy {
  const u = (a: number, b: number): number => a + (b - a) * rng.next();
  const s = u(0.88, 1.12);
  const bodyA = 138 * s;
  const bodyB = 102 * s * u(0.92, 1.08);
  const fat = u(10, 26);
  const spineY = bodyB - fat - u(30, 40);
  const kz = u(-35, -10);
  const kidney = (side: number): Ellipsoid => ({
    c: [side * u(45, 58), spineY - u(0, 10), kz + u(-8, 8)],
    r: [u(19, 25), u(26, 34), u(40, 52)],
    angle: side * u(0.15, 0.45),
  });
  const pockets: (Ellipsoid & { hu: number })[] = [];
  const nPockets = 6 + Math.floor(rng.next() * 6);
  for (let i = 0; i < nPockets; i++) {
    pockets.push({
      c: [u(-70, 70), u(-bodyB + fat + 20, 0), u(-80, 80)],
      r: [u(6, 18), u(6, 18), u(8, 24)],
      angle: u(0, Math.PI),
      hu: rng.next() < 0.3 ? u(-700, -400) : u(-110, -60),
    });
  }
  return {
    bodyA,
    bodyB,
    fat,
    bodyWobble: u(0, Math.PI * 2),
    liver: {
      c: [-u(45, 70) * s, u(-25, 5), u(5, 35)],
      r: [u(62, 80) * s, u(52, 66) * s, u(60, 80)],
      angle: u(-0.3, 0.3),
    },
    spleen: {
      c: [u(65, 85) * s, u(20, 45), u(15, 45)],
      r: [u(27, 36), u(42, 56), u(45, 60)],
      angle: u(-0.7, -0.2),
    },
    kidneys: [kidney(-1), kidney(1)],
    aorta: { x: u(8, 22), y: spineY - u(34, 42), r: u(14, 18) },
    spine: { y: spineY, r: u(17, 21), period: u(28, 34), disc: u(5, 8), phase: u(0, 34) },
    pockets,
    hu: {
      soft: u(-5, 15),
      liver: u(100, 115),
      spleen: u(76, 86),
      cortex: u(165, 185),
      medulla: u(130, 145),
      aorta: u(240, 270),
      bone: u(400, 460),
    },
    noise: u(10, 18),
  };
}

/**
 * The tissue and label at one point (mm). Later structures win where they overlap (spine > aorta >
 * kidney > spleen > liver), and organs stay inside the muscle wall.
 */
function tissueAt(a: Anatomy, x: number, y: number, z: number): { hu: number; label: number } {
  const wobble = 1 + 0.04 * Math.sin(z / 45 + a.bodyWobble);
  const A = a.bodyA * wobble;
  const B = a.bodyB * wobble;
  const outer = (x / A) ** 2 + (y / B) ** 2;
  if (outer > 1) return { hu: -1000, label: 0 };
  const inner = (x / (A - a.fat)) ** 2 + (y / (B - a.fat)) ** 2;
  if (inner > 1) return { hu: -100, label: 0 };
  let hu = a.hu.soft;
  let label = 0;
  for (const p of a.pockets) if (ellipsoidQ(p, x, y, z) <= 1) hu = p.hu;
  const wall = inner <= 0.86; // organs keep off the abdominal wall
  if (wall && ellipsoidQ(a.liver, x, y, z) <= 1) [hu, label] = [a.hu.liver, 1];
  if (wall && ellipsoidQ(a.spleen, x, y, z) <= 1) [hu, label] = [a.hu.spleen, 2];
  for (const k of a.kidneys) {
    const q = ellipsoidQ(k, x, y, z);
    if (q <= 1) [hu, label] = [q < 0.35 ? a.hu.medulla : a.hu.cortex, 3];
  }
  const sp = a.spine;
  if ((x - a.aorta.x) ** 2 + (y - a.aorta.y) ** 2 <= a.aorta.r ** 2) [hu, label] = [a.hu.aorta, 4];
  const zIn = (((z + sp.phase) % sp.period) + sp.period) % sp.period;
  const isDisc = zIn < sp.disc;
  const rr = Math.sqrt(x * x + (y - sp.y) ** 2);
  const process = Math.abs(x) < 6 && y > sp.y && y < sp.y + sp.r + 28; // spinous process
  if (rr <= sp.r || process) {
    if (isDisc) {
      if (rr <= sp.r) [hu, label] = [85, 0];
    } else {
      const cortical = rr > sp.r - 2.5 || (process && Math.abs(x) > 3.5);
      [hu, label] = [cortical ? 750 : a.hu.bone, 5];
    }
  }
  return { hu, label };
}

/** One phantom case, fully determined by `seed`. */
export function generatePhantom(id: string, seed: number): PhantomCase {
  const rng = new Rng(seed);
  const a = drawAnatomy(rng);
  const inPlane = 3.3 + 0.6 * rng.next();
  const spacing: Vec3 = [inPlane, inPlane, 4 + rng.next()];
  const dims = map3(FOV_MM, (f, d) => Math.round(f / spacing[d]));
  const [ni, nj, nk] = dims;
  const n = ni * nj * nk;
  const hu = new Float32Array(n);
  const label = new Uint8Array(n);
  // Voxel centres in mm: i runs towards −x, j towards −y (LPS-like storage), k towards +z.
  for (let k = 0; k < nk; k++) {
    const z = (k + 0.5 - nk / 2) * spacing[2];
    for (let j = 0; j < nj; j++) {
      const y = -(j + 0.5 - nj / 2) * spacing[1];
      for (let i = 0; i < ni; i++) {
        const x = -(i + 0.5 - ni / 2) * spacing[0];
        const t = tissueAt(a, x, y, z);
        const v = i + ni * (j + nj * k);
        hu[v] = t.hu;
        label[v] = t.label;
      }
    }
  }
  const shapeZYX = [nk, nj, ni] as const;
  gaussianFilter3d(hu, shapeZYX, 0.7); // partial-volume blur
  const texture = new Float32Array(n);
  for (let v = 0; v < n; v++) texture[v] = rng.normal();
  gaussianFilter3d(texture, shapeZYX, 2.5); // smooth tissue texture (σ of the field ≈ 0.04)
  const image = new Int16Array(n);
  for (let v = 0; v < n; v++) {
    const h = hu[v] as number;
    const body = h > -900;
    const value = h + (body ? 200 * (texture[v] as number) : 0) + a.noise * rng.normal();
    image[v] = Math.max(-1024, Math.min(3071, Math.round(value)));
  }
  const affine = mat4([
    [-spacing[0], 0, 0, (ni / 2) * spacing[0]],
    [0, -spacing[1], 0, (nj / 2) * spacing[1]],
    [0, 0, spacing[2], (-nk / 2) * spacing[2]],
    [0, 0, 0, 1],
  ]);
  return { id, dims, spacing, image, label, affine };
}

/** The case as NIfTI images: the CT (int16 HU) and its label map (uint8), same geometry. */
export function phantomNifti(c: PhantomCase): { image: NiftiImage; label: NiftiImage } {
  return {
    image: createNifti({ raw: c.image, dims: c.dims, affine: c.affine }),
    label: createNifti({ raw: c.label, dims: c.dims, affine: c.affine }),
  };
}

/** nnU-Net v2 dataset.json for `numTraining` phantoms (channel 0 is CT, so planning picks CT normalization). */
export function phantomDatasetJson(numTraining: number, numTest: number): string {
  const json = {
    name: 'StunetPhantoms',
    description:
      'Synthetic CT-like abdominal phantoms generated by stunet (liver, spleen, kidneys, aorta, spine).',
    channel_names: { '0': 'CT' },
    labels: Object.fromEntries(PHANTOM_LABELS.map((name, i) => [name, i])),
    numTraining,
    numTest,
    file_ending: '.nii.gz',
    licence: 'CC0 (generated)',
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
