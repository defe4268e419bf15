/**
 * The deploy files stay in step with the package: the unit and the image run the bundle the build
 * writes, the example config is one the relay accepts, and systemd accepts the unit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig } from '@shoal/service'
import { hasSystemdAnalyze, verifySystemdUnit } from '@shoal/service/testing'
import { afterAll, describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import { relayFlags, resolveRelayConfig } from '../src/config.js'

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8')
const bundle = pkg.bin['shoal-relay'].replace(/^\.\//, '') // dist/shoal-relay.js
const scratch = mkdtempSync(join(tmpdir(), 'shoal-relay-deploy-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')

  it('prunes the workspace to this package and builds it', () => {
    expect(dockerfile).toContain(`turbo prune ${pkg.name} --docker`)
    expect(dockerfile).toContain(`pnpm turbo run build --filter=${pkg.name}...`)
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m)
  })

  it('runs the bundle the build writes, from a runtime stage that holds nothing else', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
    const copy = /^COPY --from=build \/repo\/(\S+) (\S+)$/m.exec(runtime)
    expect(copy?.[1]).toBe(`apps/relay/${bundle}`)
    expect(runtime).toContain(`ENTRYPOINT ["node", "${copy?.[2]}"]`)
    expect(runtime).not.toMatch(/pnpm|npm install/)
    expect(runtime).toMatch(/^USER node$/m)
  })

  it('serves /metrics and /healthz on 127.0.0.1 only, as the README says, and checks health there', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'))
    expect(runtime).toMatch(/^\s+SHOAL_HTTP_HOST=127\.0\.0\.1$/m)
    expect(runtime).toContain("fetch('http://127.0.0.1:' + process.env.SHOAL_HTTP + '/healthz')")
    expect(runtime).not.toContain('0.0.0.0')
    expect(read('README.md')).toContain('**What `/metrics` and `/healthz` expose.**')
  })
})

describe('systemd unit', () => {
  const unit = read('deploy/shoal-relay.service')

  it('runs the bundle with the example config, and does not restart after a config error (exit 2)', () => {
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/shoal\/shoal-relay\.js --config \/etc\/shoal\/relay\.yaml$/m,
    )
    expect(bundle).toBe('dist/shoal-relay.js')
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m)
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m)
  })

  it.skipIf(!hasSystemdAnalyze())(
    'systemd-analyze verify accepts it (skipped where systemd-analyze is missing)',
    () => {
      expect(verifySystemdUnit(unit, 'shoal-relay.service')).toEqual({ status: 0, stderr: '' })
    },
  )
})

describe('example config', () => {
  it('is a configuration the relay accepts', () => {
    // eth0 may not exist where the tests run; lo always does
    const file = join(scratch, 'relay.yaml')
    writeFileSync(file, read('deploy/relay.example.yaml').replaceAll('interface=eth0', 'interface=lo'))
    const outcome = parseConfig(relayFlags, { argv: ['--config', file], env: {} })
    if (outcome.action !== 'run') throw new Error(outcome.action)
    const config = resolveRelayConfig(outcome.values)
    expect(config.inputs).toMatchObject([{ scheme: 'multicast', host: '239.1.1.1', port: 7400 }])
    expect(config.outputs).toMatchObject([{ scheme: 'unicast', host: 'relay-b.example', port: 7500, ttl: 8 }])
    expect(outcome.values).toMatchObject({ maxHops: 8, http: 9464 })
  })
})
