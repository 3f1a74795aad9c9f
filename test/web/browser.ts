/**
 * The browser app under headless Debian chromium (playwright-core): built with vite into a temporary
 * folder, served by `stunet web`'s server (COOP/COEP: cross-origin isolated), driven through its file
 * inputs as a user would. Shared by test/web and bench/web.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { serveWebApp, type WebServer } from '../../src/cli/web.js';
import { ROOT } from '../architecture/graph.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium, or an error that says how to install it. */
export function chromiumPath(): string {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the browser tests drive Debian's chromium; install it with \`sh scripts/system-deps.sh\``,
    );
  return CHROMIUM;
}

/** Builds web/ (vite, the config of `npm run build:web`) into `outDir`. */
export async function buildApp(outDir: string): Promise<void> {
  await build({
    configFile: join(ROOT, 'web', 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true },
  });
}

export interface AppSession {
  readonly browser: Browser;
  readonly server: WebServer;
  readonly page: Page;
  close(): Promise<void>;
}

/** Builds the app, serves it on a free loopback port and opens it in headless chromium. */
export async function openApp(): Promise<AppSession> {
  const executablePath = chromiumPath();
  const dir = mkdtempSync(join(tmpdir(), 'stunet-web-'));
  try {
    await buildApp(dir);
    const server = await serveWebApp(dir, 0);
    // SwiftShader gives headless chromium WebGL 2 (NiiVue) without a GPU.
    const browser = await chromium.launch({ executablePath, args: ['--enable-unsafe-swiftshader'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    await page.goto(server.url);
    return {
      browser,
      server,
      page,
      close: async () => {
        await browser.close();
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RunOptions {
  readonly image: string;
  /** `image` is a DICOM folder (the folder picker). */
  readonly folder?: boolean;
  readonly model: readonly string[];
  readonly backend?: 'auto' | 'wasm' | 'webgpu' | 'engine';
  readonly tta?: boolean;
  readonly timeoutMs?: number;
}

/** Gives the page an image and a model, runs it and waits for the end: 'done' or 'error'. */
export async function runApp(page: Page, o: RunOptions): Promise<'done' | 'error'> {
  await page.setInputFiles(o.folder === true ? '#image-folder' : '#image', o.image);
  if (o.model.length > 0) await page.setInputFiles('#model', [...o.model]);
  await page.selectOption('#backend', o.backend ?? 'wasm');
  await page.setChecked('#tta', o.tta ?? false);
  await page.click('#run');
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', {
    timeout: o.timeoutMs ?? 120_000,
  });
  return (await page.getAttribute('body', 'data-state')) as 'done' | 'error';
}

/** Downloads the output whose name ends with `suffix` through its link, as a user would. */
export async function download(page: Page, suffix: string): Promise<Uint8Array> {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`#downloads a[download$="${suffix}"]`),
  ]);
  const path = await dl.path();
  return new Uint8Array(readFileSync(path));
}
