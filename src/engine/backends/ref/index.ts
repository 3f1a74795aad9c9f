import type { Backend } from '../../backend.js';
import {
  instanceNormBackwardRef,
  leakyReluBackwardRef,
  sgdUpdateRef,
  sliceRef,
  upsampleNearestBackwardRef,
} from './backward.js';
import { conv3dBackwardDataRef, conv3dBackwardWeightRef } from './conv3d-backward.js';
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
  conv3dBackwardData: conv3dBackwardDataRef,
  conv3dBackwardWeight: conv3dBackwardWeightRef,
  instanceNormBackward: instanceNormBackwardRef,
  leakyReluBackward: leakyReluBackwardRef,
  upsampleNearestBackward: upsampleNearestBackwardRef,
  slice: sliceRef,
  sgdUpdate: sgdUpdateRef,
};
