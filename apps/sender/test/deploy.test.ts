import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configHarness, dockerfileHttp, hasSystemdAnalyze, verifySystemdUnit } from '@shoal/service/testing'
import { describe, expect, it } from 'vitest'
import { resolveSenderConfig, senderFlags } from '../src/config.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const read = (path: string) => readFileSync(here(path), 'utf8')
const { resolve } = configHarness(senderFlags, resolveSenderConfig)

/**
 * The Dockerfile and the systemd unit are not run here (no Docker engine on the build machine; a
 * unit needs the real host), but they must agree with the code: these tests fail when they drift.
 * The bundle itself is run from outside the workspace in cli.test.ts.
 */
describe('deploy files', () => {
  it('the example config parses, every key a sender flag', () => {
    // eth1 is the example's sensor interface; this host may not have one, so a flag replaces it.
    expect(resolve(['--config', here('../deploy/send.yaml'), '--interface', '127.0.0.1'])).toMatchObject({
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

  it('the systemd unit runs the bundle with the example config', () => {
    const unit = read('../deploy/shoal-send.service')
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-send\.js --config \/etc\/shoal\/send\.yaml$/m,
    )
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
    // Listing interfaces (os.networkInterfaces) needs netlink; sending needs IPv4/IPv6.
    expect(unit).toMatch(/^RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX$/m)
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m) // V8's JIT
  })

  it.skipIf(!hasSystemdAnalyze())(
    'systemd-analyze verify accepts the unit (skipped where systemd-analyze is missing)',
    () => {
      const unit = read('../deploy/shoal-send.service')
      expect(verifySystemdUnit(unit, 'shoal-send.service')).toEqual({ status: 0, stderr: '' })
    },
  )

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
