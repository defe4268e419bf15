import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configHarness, dockerfileHttp, hasSystemdAnalyze, verifySystemdUnit } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import { receiverFlags, resolveReceiverConfig } from '../src/config.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const read = (path: string) => readFileSync(here(path), 'utf8')
const { resolve } = configHarness(receiverFlags, resolveReceiverConfig)

/**
 * The deploy files (Dockerfile, systemd unit, example config) are not run here — there is no
 * Docker engine on the build machine, and installing a unit needs the real host — but they must
 * agree with the code: these tests fail when they drift.
 */
describe('deploy files', () => {
  it('the example config parses, every key a receiver flag', () => {
    // eth1 is the example's sensor interface; this host may not have one, so a flag replaces it.
    expect(resolve(['--config', here('../deploy/recv.yaml'), '--interface', '127.0.0.1'])).toMatchObject({
      listen: { mode: 'multicast', groups: ['239.255.0.1'] },
      record: '/var/lib/shoal-recv/frames.rec',
      recordMaxSize: 256 * 1024 ** 2,
      ack: true,
      name: 'rx-1',
      http: 9464,
    })
  })

  it('the systemd unit runs the bundle with the example config', () => {
    const unit = read('../deploy/shoal-recv.service')
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-recv\.js --config \/etc\/shoal\/recv\.yaml$/m,
    )
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
  })

  it.skipIf(!hasSystemdAnalyze())(
    'systemd-analyze verify accepts the unit (skipped where systemd-analyze is missing)',
    () => {
      const unit = read('../deploy/shoal-recv.service')
      expect(verifySystemdUnit(unit, 'shoal-recv.service')).toEqual({ status: 0, stderr: '' })
    },
  )

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

  it('the image serves /metrics and /healthz on 127.0.0.1 only, as the README says, and its health check reads them there', () => {
    expect(dockerfileHttp(read('../Dockerfile'))).toEqual({
      host: '127.0.0.1',
      healthCheckOnLoopback: true,
      namesEveryInterface: false,
    })
    const readme = read('../README.md')
    expect(readme).not.toMatch(/docker run.*--http-host 0\.0\.0\.0/)
    expect(readme).toContain('**What they expose.**')
  })
})
