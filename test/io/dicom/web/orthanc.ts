/**
 * A real Orthanc (Debian packages orthanc + orthanc-dicomweb; scripts/system-deps.sh installs them) for
 * the DICOMweb tests: a free loopback port, no DICOM server, a temporary storage folder, the DICOMweb
 * plugin at /dicom-web/, optionally Basic auth users.
 *
 * Not Orthanc's own HTTPS ("SslEnabled"): Debian bookworm's Orthanc 1.10.1 serves it through civetweb
 * 1.15, which looks up SSL_get_peer_certificate in libssl at run time; OpenSSL 3 no longer exports it
 * (a macro for SSL_get1_peer_certificate), and the first HTTPS request calls a null pointer (SIGSEGV in
 * a civetweb-worker thread, seen with gdb). The HTTPS tests put a Node TLS front (`selfSignedCert`,
 * local-server.ts) before it instead.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORTHANC = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancOptions {
  /** Basic auth users (name → password); none: authentication off. */
  readonly users?: Readonly<Record<string, string>>;
}

export interface Orthanc {
  /** The DICOMweb service root, e.g. http://127.0.0.1:40123/dicom-web. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** Orthanc's output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now (and a closed one, for the unreachable-server tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        if (a !== null && typeof a === 'object') resolve(a.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI (Debian package
 * openssl) in `dir`: the key and certificate (PEM) for a server, and the certificate's file, which is
 * what a client trusts (`caFile`).
 */
export function selfSignedCert(dir: string): { key: string; cert: string; certFile: string } {
  const has = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
  assert.ok(has, 'openssl is not installed (Debian package openssl): the HTTPS tests need it');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  // prettier-ignore
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile,
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl req failed: ${r.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** GET `url` once: its status, or undefined when nothing answers yet. */
function ping(url: string, authorization: string | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = httpRequest(
      url,
      { agent: false, headers: authorization === undefined ? {} : { authorization } },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('error', () => {
      resolve(undefined);
    });
    req.setTimeout(1000, () => req.destroy());
    req.end();
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      resolve(false);
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts Orthanc and waits until /system answers 200 (at most 30 s). */
export async function startOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  for (const f of [ORTHANC, DICOMWEB_PLUGIN])
    assert.ok(
      existsSync(f),
      `${f} is missing: run scripts/system-deps.sh (Debian orthanc, orthanc-dicomweb)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'stunet-orthanc-'));
  const port = await freePort();
  const users = options.users ?? {};
  const config = {
    Name: 'stunet-test',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    HttpPort: port,
    DicomServerEnabled: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Object.keys(users).length > 0,
    RegisteredUsers: users,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
    StorageCompression: false,
    SaveJobs: false,
    HttpThreadsCount: 8,
  };
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 1));
  const child = spawn(ORTHANC, [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const origin = `http://127.0.0.1:${port}`;
  const [user, password] = Object.entries(users)[0] ?? [];
  const auth =
    user === undefined ? undefined : `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    if (!(await exited(child, 5000))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      assert.fail(`Orthanc did not start on ${origin} (exit ${child.exitCode}):\n${output.slice(-2000)}`);
    }
    if ((await ping(`${origin}/system`, auth)) === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${origin}/dicom-web`,
    origin,
    port,
    log: () => output,
    stop,
  };
}
