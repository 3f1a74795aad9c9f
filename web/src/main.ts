/**
 * The page: picks the image and the model, starts the predict worker, shows its progress (tiles done of
 * the total, with an ETA) and the one error a failed run has, then the result: downloads, the class list
 * and the NiiVue view. Cancel terminates the worker at once; the next run starts a new one.
 */
import { listModels, removeModel } from './cache.js';
import type { CachedModel, NamedBytes, RunRequest, WebBackend, WorkerMessage } from './protocol.js';
import { showClasses, showDownloads } from './results.js';
import { Viewer, type ViewLayout } from './viewer.js';

function element(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e;
}

const ui = {
  image: element('image') as HTMLInputElement,
  imageFolder: element('image-folder') as HTMLInputElement,
  model: element('model') as HTMLInputElement,
  keep: element('keep') as HTMLInputElement,
  cached: element('cached') as HTMLSelectElement,
  cachedList: element('cached-list') as HTMLUListElement,
  removeCached: element('remove-cached') as HTMLButtonElement,
  backend: element('backend') as HTMLSelectElement,
  tta: element('tta') as HTMLInputElement,
  run: element('run') as HTMLButtonElement,
  cancel: element('cancel') as HTMLButtonElement,
  runtime: element('runtime'),
  memory: element('memory'),
  status: element('status'),
  progress: element('progress') as HTMLProgressElement,
  eta: element('eta'),
  error: element('error'),
  results: element('results'),
  downloads: element('downloads'),
  classes: element('classes').querySelector('tbody') as HTMLElement,
  hover: element('hover'),
  opacity: element('opacity') as HTMLInputElement,
  canvas: element('viewer') as HTMLCanvasElement,
};

let worker: Worker | null = null;
let viewer: Viewer | null = null;
let stageStart = { stage: '', at: 0 };

const threads = (): number => (crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1);

function setState(state: 'idle' | 'running' | 'done' | 'error' | 'cancelled'): void {
  document.body.dataset['state'] = state;
  ui.run.disabled = state === 'running';
  ui.cancel.disabled = state !== 'running';
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
  showDownloads(ui.downloads, []);
  ui.results.hidden = true;
  setState('error');
}

async function readFiles(list: FileList | null): Promise<NamedBytes[]> {
  return Promise.all(
    [...(list ?? [])].map(async (f) => ({
      name: f.webkitRelativePath || f.name,
      bytes: new Uint8Array(await f.arrayBuffer()),
    })),
  );
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '…';
  return s < 90 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function onProgress(stage: string, done: number, total: number): void {
  const now = performance.now();
  if (stage !== stageStart.stage || done === 0) stageStart = { stage, at: now };
  ui.progress.max = Math.max(total, 1);
  ui.progress.value = done;
  const elapsed = (now - stageStart.at) / 1000;
  const eta = done > 0 ? (elapsed / done) * (total - done) : NaN;
  const what = stage === 'sliding-window' ? 'tiles' : stage;
  ui.eta.textContent = `${what} ${done} of ${total}${done < total ? `, ETA ${formatSeconds(eta)}` : ''}`;
}

async function onDone(m: Extract<WorkerMessage, { type: 'done' }>): Promise<void> {
  ui.status.textContent = `done in ${formatSeconds(m.seconds)}`;
  showDownloads(ui.downloads, m.outputs);
  ui.results.hidden = false;
  viewer ??= await Viewer.create(ui.canvas);
  viewer.onHover = (name) => (ui.hover.textContent = name || '—');
  const v = viewer;
  showClasses(ui.classes, m.classes, (label, visible) => {
    v.setVisible(label, visible);
  });
  const labels = m.outputs.find((o) => o.name === m.labelFile);
  if (labels !== undefined) await v.show({ image: m.image, labels, labelNames: m.labelNames });
  v.setOpacity(Number(ui.opacity.value));
  setState('done');
}

function onMessage(m: WorkerMessage): void {
  if (m.type === 'status') ui.status.textContent = m.text;
  else if (m.type === 'memory') ui.memory.textContent = m.text;
  else if (m.type === 'device') ui.runtime.textContent = m.text;
  else if (m.type === 'progress') onProgress(m.stage, m.done, m.total);
  else if (m.type === 'cached') void refreshCache();
  else if (m.type === 'error') showError(m.message);
  else
    onDone(m).catch((e: unknown) => {
      showError(`the viewer failed: ${e instanceof Error ? e.message : String(e)}`);
    });
}

async function start(): Promise<void> {
  const image = await readFiles(ui.imageFolder.files?.length ? ui.imageFolder.files : ui.image.files);
  const modelFiles = await readFiles(ui.model.files);
  if (image.length === 0) {
    showError('give an image: a NIfTI (.nii, .nii.gz), a DICOM zip or a DICOM folder');
    return;
  }
  if (modelFiles.length === 0 && ui.cached.value === '') {
    showError('give a model: its files, or one kept in this browser');
    return;
  }
  const request: RunRequest = {
    type: 'run',
    image,
    model:
      modelFiles.length > 0
        ? { kind: 'files', files: modelFiles, keep: ui.keep.checked }
        : { kind: 'cached', id: ui.cached.value },
    backend: ui.backend.value as WebBackend,
    tta: ui.tta.checked,
    threads: threads(),
  };
  worker?.terminate();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'stunet-predict' });
  worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
    onMessage(e.data);
  };
  worker.onerror = (e) => {
    showError(`the predict worker failed: ${e.message}`);
  };
  const transfer = [...image, ...modelFiles].map((f) => f.bytes.buffer as ArrayBuffer);
  worker.postMessage(request, transfer);
}

function run(): void {
  ui.error.hidden = true;
  ui.results.hidden = true;
  ui.status.textContent = 'reading the files';
  ui.runtime.textContent = '';
  ui.memory.textContent = '';
  ui.eta.textContent = '';
  ui.progress.value = 0;
  showDownloads(ui.downloads, []);
  setState('running');
  start().catch((e: unknown) => {
    showError(e instanceof Error ? e.message : String(e));
  });
}

function cancel(): void {
  worker?.terminate();
  worker = null;
  ui.status.textContent = 'cancelled';
  ui.eta.textContent = '';
  setState('cancelled');
}

async function refreshCache(): Promise<void> {
  let models: CachedModel[] = [];
  try {
    models = await listModels();
  } catch {
    // no OPFS here: nothing kept, nothing to list
  }
  const chosen = ui.cached.value;
  ui.cached.replaceChildren(
    new Option('—', ''),
    ...models.map((m) => new Option(`${m.name} (${m.scale})`, m.id)),
  );
  ui.cached.value = models.some((m) => m.id === chosen) ? chosen : '';
  ui.cachedList.replaceChildren(
    ...models.map((m) => {
      const li = document.createElement('li');
      li.textContent = `${m.name}: ${m.scale}, ${m.classes} classes, ${(m.bytes / 2 ** 20).toFixed(1)} MiB, sha256 ${m.sha256}`;
      return li;
    }),
  );
}

function describeEnvironment(): string {
  const gpu = 'gpu' in navigator ? 'WebGPU API present' : 'no WebGPU API';
  const iso = crossOriginIsolated
    ? `cross-origin isolated: WASM threads (${threads()})`
    : 'not cross-origin isolated: one WASM thread';
  return `${iso}; ${gpu}; ${navigator.hardwareConcurrency} cores`;
}

element('environment').textContent = describeEnvironment();
ui.run.addEventListener('click', run);
ui.cancel.addEventListener('click', cancel);
ui.removeCached.addEventListener('click', () => {
  if (ui.cached.value !== '') void removeModel(ui.cached.value).then(refreshCache);
});
ui.opacity.addEventListener('input', () => viewer?.setOpacity(Number(ui.opacity.value)));
for (const b of document.querySelectorAll<HTMLButtonElement>('#view-controls button'))
  b.addEventListener('click', () => viewer?.layout(b.dataset['view'] as ViewLayout));
void refreshCache();
