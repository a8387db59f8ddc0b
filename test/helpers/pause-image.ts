import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The sandbox image the tests' containerd runs: nothing comes from a registry. */
export const PAUSE_IMAGE = 'cni-ts.test/pause:1';

// what a pod sandbox's process does: hold the namespaces, reap, leave on SIGTERM or SIGINT
const PAUSE_C = `#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void leave(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGTERM, leave);
  signal(SIGINT, leave);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * An OCI image layout archive holding one static `pause` binary (compiled here with gcc), named
 * PAUSE_IMAGE for `ctr images import`; built once into `cacheDir`.
 */
export function pauseImage(cacheDir: string): string {
  const archive = join(cacheDir, 'pause-image.tar');
  if (existsSync(archive)) return archive;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'cni-ts-pause-'));
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    writeFileSync(join(work, 'pause.c'), PAUSE_C);
    execFileSync('gcc', ['-static', '-O2', '-o', join(rootfs, 'pause'), join(work, 'pause.c')]);
    execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-cf', join(work, 'layer.tar'), '-C', rootfs, 'pause']);
    const layer = readFileSync(join(work, 'layer.tar'));
    const config = Buffer.from(
      JSON.stringify({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/pause'] },
        rootfs: { type: 'layers', diff_ids: [sha(layer)] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length }],
      }),
    );
    const layout = join(work, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    for (const blob of [layer, config, manifest]) writeFileSync(join(layout, 'blobs', 'sha256', sha(blob).slice(7)), blob);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: sha(manifest),
            size: manifest.length,
            annotations: { 'io.containerd.image.name': PAUSE_IMAGE, 'org.opencontainers.image.ref.name': '1' },
          },
        ],
      }),
    );
    execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-cf', `${archive}.tmp`, '-C', layout, '.']);
    renameSync(`${archive}.tmp`, archive);
    return archive;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
