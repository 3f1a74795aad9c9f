/**
 * The memory this process can still take, for the checks that refuse work before it starts (a NIfTI
 * whose header declares more than fits, `stunet doctor`).
 */
import { freemem, totalmem } from 'node:os';

/**
 * The OS's available memory (os.freemem(): MemAvailable on Linux, which counts reclaimable page cache),
 * capped by a cgroup (container) limit, when there is one, less what this process holds already.
 */
export function availableMemoryBytes(): number {
  const limit = memoryLimitBytes();
  const free = freemem();
  return limit === null ? free : Math.max(0, Math.min(free, limit - process.memoryUsage.rss()));
}

/** A cgroup (container) memory limit below the machine's memory, or null. */
export function memoryLimitBytes(): number | null {
  const limit = process.constrainedMemory();
  return limit > 0 && limit < totalmem() ? limit : null;
}
