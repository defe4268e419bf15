/**
 * Running tshark with the generated dissector on a capture, and reading its JSON: what the test
 * suites share. Only the built shoal.lua (what users load) and the schema's .proto files are used.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MIN_WIRESHARK } from '../src/generate.js'

/** The dissector users load: written by `pnpm build`. */
export const DISSECTOR = fileURLToPath(new URL('../shoal.lua', import.meta.url))
/** The schema's .proto root, found as an installed @shoal/schema would be. */
export const PROTO_DIR = join(
  dirname(createRequire(import.meta.url).resolve('@shoal/schema/package.json')),
  'proto',
)
/** The longest any one tshark run may take before it is killed. */
export const TSHARK_TIMEOUT_MS = 30_000
/** Largest JSON tshark may print before the run fails (a camera capture is mostly hex). */
const TSHARK_MAX_OUTPUT_BYTES = 256 * 1024 * 1024

export interface TsharkCapability {
  readonly ok: boolean
  readonly version?: string
  readonly reason?: string
}

let cached: TsharkCapability | undefined

/** Are tshark (at least {@link MIN_WIRESHARK}) and dumpcap on the PATH? (The tests report the version.) */
export function tsharkCapability(): TsharkCapability {
  cached ??= probe()
  return cached
}

function probe(): TsharkCapability {
  const run = spawnSync('tshark', ['--version'], { encoding: 'utf8', timeout: TSHARK_TIMEOUT_MS })
  if (run.error || run.status !== 0)
    return { ok: false, reason: 'tshark is not installed (apt-get install tshark)' }
  const match = /TShark \(Wireshark\) (\d+)\.(\d+)\.(\d+)/.exec(run.stdout)
  if (!match)
    return { ok: false, reason: `cannot read the tshark version from: ${run.stdout.split('\n')[0]}` }
  const [major, minor] = [Number(match[1]), Number(match[2])]
  const version = `${match[1]}.${match[2]}.${match[3]}`
  const [needMajor, needMinor] = MIN_WIRESHARK
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    return { ok: false, version, reason: `tshark ${version} is older than ${MIN_WIRESHARK.join('.')}` }
  }
  const dumpcap = spawnSync('dumpcap', ['--version'], { encoding: 'utf8', timeout: TSHARK_TIMEOUT_MS })
  if (dumpcap.error || dumpcap.status !== 0) {
    return {
      ok: false,
      version,
      reason: 'dumpcap is not installed (it comes with tshark: apt-get install tshark)',
    }
  }
  return { ok: true, version }
}

let warned = false

/**
 * For `describe.skipIf(requireTshark().skip)`: under CI=true a missing tshark is an error (./dev
 * setup installs it), elsewhere the suite is skipped with the reason on stderr.
 */
export function requireTshark(env: NodeJS.ProcessEnv = process.env): { skip: boolean; reason?: string } {
  const capability = tsharkCapability()
  if (capability.ok) return { skip: false }
  const reason = capability.reason ?? 'tshark is unavailable'
  if (env.CI === 'true')
    throw new Error(`the tshark tests cannot run and CI=true forbids skipping them: ${reason}`)
  if (!warned) process.stderr.write(`[@shoal/wireshark] skipping tshark tests: ${reason}\n`)
  warned = true
  return { skip: true, reason }
}

/** tshark's options that add `dir` to the Protobuf dissector's search paths (each adds a row). */
export function searchPath(dir: string): string[] {
  return ['-o', `uat:protobuf_search_paths:"${dir}","TRUE"`]
}

/** tshark's options for Shoal: the dissector, and the Protobuf dissector's search path and fields. */
export function shoalOptions(): string[] {
  return ['-X', `lua_script:${DISSECTOR}`, ...searchPath(PROTO_DIR), '-o', 'protobuf.pbf_as_hf:TRUE']
}

/** One dissected packet: tshark's `layers` object. */
export type Layers = Record<string, unknown>

/**
 * Dissects `pcap` in two passes (as Wireshark's GUI does: the second pass shows what the first
 * learnt, such as where a message was reassembled) and returns every packet's layers. Fails on any
 * Lua error, so a dissector that does not load cannot pass.
 */
export function dissect(pcap: string, extra: readonly string[] = []): Layers[] {
  const run = spawnSync(
    'tshark',
    ['-n', '-2', '-r', pcap, ...shoalOptions(), '-T', 'json', '--no-duplicate-keys', ...extra],
    { encoding: 'utf8', timeout: TSHARK_TIMEOUT_MS, maxBuffer: TSHARK_MAX_OUTPUT_BYTES },
  )
  if (run.error) throw run.error
  const complaints = run.stderr
    .split('\n')
    .filter((line) => /lua/i.test(line) || /error/i.test(line))
    .join('\n')
  if (run.status !== 0 || complaints !== '') {
    throw new Error(`tshark exited with ${run.status}:\n${run.stderr}`)
  }
  // An error inside the dissector does not stop tshark: it shows in the packet's tree.
  const luaError = /Lua Error[^"]*/.exec(run.stdout)
  if (luaError) throw new Error(`the dissector failed: ${luaError[0]}`)
  const packets = JSON.parse(run.stdout) as Array<{ _source: { layers: Layers } }>
  return packets.map((packet) => packet._source.layers)
}

/** Every value of `key` anywhere under `node` (tshark nests subtrees as `<field>_tree`), in order. */
export function all(node: unknown, key: string): unknown[] {
  const found: unknown[] = []
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item)
      return
    }
    if (value === null || typeof value !== 'object') return
    for (const [k, v] of Object.entries(value)) {
      if (k === key) {
        if (Array.isArray(v)) found.push(...v)
        else found.push(v)
      }
      visit(v)
    }
  }
  visit(node)
  return found
}

/** The one value of `key` under `node`; throws when there is none or several. */
export function one(node: unknown, key: string): string {
  const values = all(node, key)
  if (values.length !== 1)
    throw new Error(`expected one ${key}, found ${values.length}: ${JSON.stringify(values)}`)
  return String(values[0])
}

/** The Shoal layer of a packet, or undefined when the dissector did not take it. */
export function shoalLayer(layers: Layers): Record<string, unknown> | undefined {
  return layers.shoal as Record<string, unknown> | undefined
}

/** A u32 as tshark prints a base.HEX field: `0x` and 8 lower-case digits. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`
}

/** tshark's one-line summary of every packet (its last column is Info), in two passes. */
export function summaries(pcap: string): string[] {
  const run = spawnSync('tshark', ['-n', '-2', '-r', pcap, ...shoalOptions()], {
    encoding: 'utf8',
    timeout: TSHARK_TIMEOUT_MS,
    maxBuffer: TSHARK_MAX_OUTPUT_BYTES,
  })
  if (run.error) throw run.error
  if (run.status !== 0) throw new Error(`tshark exited with ${run.status}:\n${run.stderr}`)
  return run.stdout.split('\n').filter((line) => line.trim() !== '')
}
