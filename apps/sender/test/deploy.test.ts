import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '@shoal/service'
import { describe, expect, it } from 'vitest'
import { resolveSenderConfig, senderFlags } from '../src/config.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const read = (path: string) => readFileSync(here(path), 'utf8')

/**
 * The Dockerfile and the systemd unit are not run here (no Docker engine on the build machine; a
 * unit needs the real host), but they must agree with the code: these tests fail when they drift.
 * The bundle itself is run from outside the workspace in cli.test.ts.
 */
describe('deploy files', () => {
  it('the example config parses, every key a sender flag', () => {
    // eth1 is the example's sensor interface; this host may not have one, so a flag replaces it.
    const outcome = parseConfig(senderFlags, {
      argv: ['--config', here('../deploy/send.yaml'), '--interface', '127.0.0.1'],
      env: {},
    })
    if (outcome.action !== 'run') throw new Error(outcome.action)
    expect(resolveSenderConfig(outcome.values, outcome)).toMatchObject({
      destination: { mode: 'multicast', group: '239.255.0.1' },
      port: 7400,
      ttl: 1,
      sourceId: 'rover-3',
      source: {
        kind: 'sensors',
        sensors: ['imu', 'gps', 'temperature'],
        rates: { imu: 200, gps: 10, temperature: 1 },
      },
      http: 9464,
    })
  })

  it('the systemd unit runs the bundle with the example config and is valid for systemd', () => {
    const unit = read('../deploy/shoal-send.service')
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-send\.js --config \/etc\/shoal\/send\.yaml$/m,
    )
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
    // Listing interfaces (os.networkInterfaces) needs netlink; sending needs IPv4/IPv6.
    expect(unit).toMatch(/^RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX$/m)
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m) // V8's JIT
    const analyze = spawnSync('systemd-analyze', ['--version'])
    if (analyze.error !== undefined) {
      console.warn(`systemd-analyze not found (${analyze.error.message}): unit syntax not checked`)
      return
    }
    const dir = mkdtempSync(join(tmpdir(), 'shoal-send-unit-'))
    try {
      // With this host's node, so that verify does not stop at a missing /usr/bin/node.
      const file = join(dir, 'shoal-send.service')
      writeFileSync(file, unit.replace('/usr/bin/node', process.execPath))
      const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 })
      expect(verify.stderr).toBe('')
      expect(verify.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the Dockerfile prunes, builds and copies the bundle this package builds, with the workspace’s turbo and Node', () => {
    const dockerfile = read('../Dockerfile')
    const pkg = JSON.parse(read('../package.json')) as {
      scripts: { build: string }
      engines: { node: string }
    }
    const outfile = /--outfile=(\S+)/.exec(pkg.scripts.build)?.[1]
    expect(outfile).toBe('dist/shoal-send.js')
    expect(dockerfile).toContain(`COPY --from=build /repo/apps/sender/${outfile} /app/shoal-send.js`)
    const turbo = JSON.parse(read('../../../node_modules/turbo/package.json')) as { version: string }
    expect(dockerfile).toMatch(
      new RegExp(
        `^RUN npx --yes turbo@${turbo.version.replaceAll('.', '\\.')} prune @shoal/sender --docker$`,
        'm',
      ),
    )
    expect(dockerfile).toMatch(/^RUN pnpm turbo run build --filter=@shoal\/sender\.\.\.$/m)
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile$/m)
    expect(pkg.engines.node).toBe('>=20')
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m)
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/shoal-send\.js"\]$/m)
    expect(read('../Dockerfile.dockerignore')).toMatch(/^\*\*\/node_modules$/m)
  })
})
