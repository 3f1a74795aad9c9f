import type { Backend } from '../../backend.js';
import { conv3dRef } from './conv3d.js';
import { addRef, concatRef, instanceNormRef, leakyReluRef, upsampleNearestRef } from './elementwise.js';

/** The plain-TypeScript backend: the executable specification every faster backend is tested against. */
export const refBackend: Backend = {
  name: 'ref',
  conv3d: conv3dRef,
  instanceNorm: instanceNormRef,
  leakyRelu: leakyReluRef,
  add: addRef,
  concat: concatRef,
  upsampleNearest: upsampleNearestRef,
};
