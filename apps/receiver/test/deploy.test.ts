import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '@shoal/service'
import { describe, expect, it } from 'vitest'
import { receiverFlags, resolveReceiverConfig } from '../src/config.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const read = (path: string) => readFileSync(here(path), 'utf8')

/**
 * The deploy files (Dockerfile, systemd unit, example config) are not run here — there is no
 * Docker engine on the build machine, and installing a unit needs the real host — but they must
 * agree with the code: these tests fail when they drift.
 */
describe('deploy files', () => {
  it('the example config parses, every key a receiver flag', () => {
    // eth1 is the example's sensor interface; this host may not have one, so a flag replaces it.
    const outcome = parseConfig(receiverFlags, {
      argv: ['--config', here('../deploy/recv.yaml'), '--interface', '127.0.0.1'],
      env: {},
    })
    if (outcome.action !== 'run') throw new Error(outcome.action)
    expect(resolveReceiverConfig(outcome.values, outcome)).toMatchObject({
      listen: { mode: 'multicast', groups: ['239.255.0.1'] },
      record: '/var/lib/shoal-recv/frames.rec',
      recordMaxSize: 256 * 1024 ** 2,
      ack: true,
      name: 'rx-1',
      http: 9464,
    })
  })

  it('the systemd unit runs the bundle with the example config and is valid for systemd', () => {
    const unit = read('../deploy/shoal-recv.service')
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-recv\.js --config \/etc\/shoal\/recv\.yaml$/m,
    )
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
    const analyze = spawnSync('systemd-analyze', ['--version'])
    if (analyze.error !== undefined) {
      console.warn(`systemd-analyze not found (${analyze.error.message}): unit syntax not checked`)
      return
    }
    const dir = mkdtempSync(join(tmpdir(), 'shoal-recv-unit-'))
    try {
      // With this host's node, so that verify does not stop at a missing /usr/bin/node.
      const file = join(dir, 'shoal-recv.service')
      writeFileSync(file, unit.replace('/usr/bin/node', process.execPath))
      const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 30_000 })
      expect(verify.stderr).toBe('')
      expect(verify.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the Dockerfile copies the bundle the build writes, with the workspace’s turbo and Node', () => {
    const dockerfile = read('../Dockerfile')
    const pkg = JSON.parse(read('../package.json')) as {
      scripts: { build: string }
      engines: { node: string }
    }
    const outfile = /--outfile=(\S+)/.exec(pkg.scripts.build)?.[1]
    expect(outfile).toBe('dist/shoal-recv.js')
    expect(dockerfile).toContain(`COPY --from=build /repo/apps/receiver/${outfile} /app/shoal-recv.js`)
    expect(dockerfile).toMatch(/turbo@\S+ prune @shoal\/receiver --docker$/m)
    // The workspace root's turbo (a devDependency of the root package.json).
    const turbo = JSON.parse(read('../../../node_modules/turbo/package.json')) as { version: string }
    expect(dockerfile).toContain(`turbo@${turbo.version} prune`)
    expect(pkg.engines.node).toBe('>=20')
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m)
  })
})
