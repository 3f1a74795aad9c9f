// Test-side re-exports so each test imports one module.
export * from '../../src/evaluation/index.js';
export { numpySum as numpySumForTest } from '../../src/evaluation/numpy-sum.js';
